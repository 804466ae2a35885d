"""Telling people: who hears about a change (``notify``), the outbox every channel shares
(``outbox``: one claim → compose → send → record loop and the ``Channel`` interface;
``claims``: the leases), and each channel behind that interface: Web Push (``push/``),
e-mail (``email/``, with ``mail_caps``, ``mail_loops`` and ``email_actions``), plus area
alerts (``alerts``), staff alerts and a pack's welcome mail, which queue e-mail or push
rows. Every channel writes outbox rows inside the change's transaction; the job runner
sends them after commit.

May import: the shared domain modules, ``people`` (signed links, devices) and ``geo``.
Never ``lifecycle``: a channel learns of a change from the event it subscribed to.
"""
