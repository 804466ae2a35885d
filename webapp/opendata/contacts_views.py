"""The public contacts export: every contact with its channel, no personal data."""

from __future__ import annotations

from flask import Response, stream_with_context

from webapp.domain.figures import channel_stats
from webapp.opendata.blueprint import bp
from webapp.plumbing.access import public


@bp.get("/export/contacts.csv")
@public
def contacts_export():
    """contacts.csv without personal data (who, how to reach them, notes)."""
    response = Response(
        stream_with_context(channel_stats.contacts_csv(private=False)),
        mimetype="text/csv",
    )
    response.headers["Content-Disposition"] = 'attachment; filename="contacts.csv"'
    return response
