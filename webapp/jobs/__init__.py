"""Jobs that run after commit: the one runner (``runner``) and the job kinds registered
to it, each with the worker command production runs it with.

Kinds: ``push`` and ``email`` (the notification outbox; ``flask notify-worker``),
``email-digests`` (area alert digests; ``flask mail-digests``), ``forward`` (the city's
CRM; ``flask forward-worker``), ``mail-intake`` (the 311 mailbox; ``flask mail-intake``)
and ``geocode`` (addresses of new reports; ``flask geocode-pending``).

May import: the domain's rules (a job calls them), plumbing and the models. Nothing in
the domain imports a job.
"""
