"""The front door: the staff desk (phone and walk-in reports), e-mail intake, the answers
residents read before reporting, the contacts log, and routing rules that choose a
department.

May import: the shared domain modules, ``lifecycle`` (to submit a request), ``geo``,
``people`` and ``notifications`` (the e-mail address book).
"""
