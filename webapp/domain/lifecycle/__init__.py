"""The request's life: submit, transition, note, assign, move, re-categorise, merge, reopen,
follow and support, the survey, *My requests*, the staff queue's reads, and the photos that
come with a report (the pipeline and its storage).

May import: the shared domain modules (``errors``, ``input_rules``, ``glossary``,
``events``), ``geo`` (the boundary and neighborhoods) and ``people``. Never a channel:
notifications, forwarding, area alerts and routing hear about a change through
``webapp.domain.events``.
"""
