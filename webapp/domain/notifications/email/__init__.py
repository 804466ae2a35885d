"""The e-mail channel: who gets a mail about what (``mail_queue``), what we know of an
address (``addresses``: bounced, unsubscribed), composing a row's message when it is sent
(``mail_compose``), SMTP connections reused in parallel (``smtp_sending``), and the channel
the outbox's one loop drives (``email_channel``: claimed rows, compose, send, outcome).

May import: ``notifications.outbox``, ``claims``, ``notify`` (who hears a change, its
words), ``mail_caps`` and ``mail_loops``, ``people`` (signed links) and the shared domain
modules. Never ``lifecycle``: it learns of a change from the event its subscription hears.
"""
