"""Who calls: accounts and passwords, anonymous devices and their hand-over, Open311 API
keys, signed one-use links, and what admins manage (services, departments,
neighborhoods, accounts).

May import: the shared domain modules and ``geo``.
"""
