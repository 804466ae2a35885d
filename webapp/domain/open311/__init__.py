"""Open311 both ways: the status mapping, updates from a client or a city CRM, forwarding
requests to the city's CRM, and remote media.

May import: the shared domain modules, ``lifecycle`` (to record a change that came from
outside) and ``geo``.
"""
