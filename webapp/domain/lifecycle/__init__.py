"""The request's life: submit, transition, note, assign, move, re-categorise, merge, reopen,
follow and support, the survey, *My requests*, the staff queue's reads, and the photos that
come with a report (the pipeline and its storage).

One job per module. ``submission`` stores a new report exactly once; ``timeline`` writes
every change as an entry and publishes its event; ``workflow`` (status moves and notes),
``assignment``, ``location`` and ``merging`` are what staff do; ``after_closure`` is the
requester's word once it is closed (fixed, reopen, rating); ``following`` and
``supporters`` are neighbors who care; ``requests`` finds a request and says whose it is.

May import: the shared domain modules (``errors``, ``input_rules``, ``glossary``,
``events``), ``geo`` (the boundary and neighborhoods) and ``people``. Never a channel:
notifications, forwarding, area alerts and routing hear about a change through
``webapp.domain.events``.
"""
