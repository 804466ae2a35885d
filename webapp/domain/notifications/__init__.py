"""Telling people: who hears about a change (``notify``), and each channel behind it: Web
Push (``push``, ``push_endpoints``), e-mail (``mail``, ``email_actions``) and area alerts
(``alerts``). Every channel writes outbox rows inside the change's transaction; the job
runner sends them after commit.

May import: the shared domain modules, ``people`` (signed links, devices) and ``geo``.
Never ``lifecycle``: a channel learns of a change from the event it subscribed to.
"""
