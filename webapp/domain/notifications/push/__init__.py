"""The Web Push channel: the app's VAPID key pair (``vapid``), sending with pywebpush over
pooled sessions and a few threads (``push_sender``), and the channel the outbox's one loop
drives (``push_channel``: claimed rows with their subscriptions, what an answer means).

Who hears a change and the push rows' payloads are ``notifications.notify``'s; the
subscriptions and their endpoints' rules are in ``notify`` and ``push_endpoints``.
May import: ``notifications.outbox``, ``claims``, ``notify``, ``push_endpoints`` and the
shared domain modules.
"""
