"""The public open-data downloads: bounded, so none can stall the site.

The full download and the daily and monthly change files are files the export job
published (``flask export-open-data``), sent with their Content-Length and row count.
A pull narrowed with ``updated_after`` or ``service_code`` is computed on the spot only
when it is small: it is counted first, up to ``EXPORT_MAX_ROWS`` and no further, and a
bigger one is refused with the addresses of the published files. Those on-the-spot pulls
are rate-limited per address, and hold one of the process's permits for downloads
computed on the spot (``plumbing.spot_downloads``, shared with the staff export): others
are asked to come back in a few seconds, so a crowd of pullers from many addresses still
leaves the threads free for everyone else. The published files are not limited (they cost a file read).

Only public fields of public services; the staff export with contact details lives in
the staff console.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import Response, abort, current_app, request, send_file, url_for
from flask_babel import format_number
from flask_babel import gettext as _

from webapp.api.envelope import error_response
from webapp.domain.figures import exports
from webapp.models import Service
from webapp.opendata.blueprint import bp
from webapp.plumbing import limits, spot_downloads
from webapp.plumbing.access import public
from webapp.plumbing.errors import negotiated_error
from webapp.plumbing.extensions import limiter
from webapp.plumbing.inputs import column_length, text_arg

MIMETYPES = {"csv": "text/csv", "geojson": "application/geo+json"}
# A refused whole-city pull may be tried again once the nightly job has run.
NOT_PUBLISHED_RETRY_AFTER = "3600"


def export_dir() -> Path:
    """Where the export job publishes its files."""
    configured = current_app.config.get("EXPORT_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "exports"


def _updated_after() -> datetime | None:
    raw = request.args.get("updated_after")
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        abort(400, _("updated_after must be an ISO 8601 date and time."))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _served_from_files() -> bool:
    """A plain full download is the published file: it costs no query and no limit."""
    return not (request.args.get("service_code") or request.args.get("updated_after"))


def _send_published(path: Path, entry: dict, kind: str, filename: str) -> Response:
    """A published file with its Content-Length, row count and time of publication."""
    response = send_file(path, mimetype=MIMETYPES[kind], conditional=True, etag=True)
    response.headers["X-Export-Rows"] = str(entry["rows"])
    response.headers["X-Export-Generated"] = entry["generated_at"]
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def published_files() -> dict:
    """Where the published files are, for a caller whose pull was refused."""
    return {
        "manifest": url_for("opendata.export_manifest", _external=True),
        "full": {
            kind: url_for("opendata.export", kind=kind, _external=True)
            for kind in exports.PUBLISHED_KINDS
            if exports.published(export_dir(), kind) is not None
        },
        "changes": [
            {
                "period": entry["period"],
                "from": entry["from"],
                "to": entry["to"],
                **{
                    kind: url_for(
                        "opendata.export_changes",
                        period=entry["period"],
                        kind=kind,
                        _external=True,
                    )
                    for kind in exports.PUBLISHED_KINDS
                },
            }
            for entry in exports.published_changes(export_dir())
        ],
    }


def _refuse(code: int, message: str, details: dict, headers: dict | None = None) -> Response:
    """The refusal as JSON (with the files' addresses) for programs, a page for browsers."""
    accept = request.accept_mimetypes
    if accept["text/html"] > accept["application/json"]:
        return negotiated_error(code, message, headers=headers)
    response = error_response(code, message, details)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _too_big(cap: int, narrowed: bool) -> Response:
    """Refuse a pull too big to compute on the spot, pointing to the published files."""
    details = {"max_rows": cap, "published": published_files()}
    if narrowed:
        message = _(
            "This download is too large to prepare on the spot (more than %(cap)s requests). "
            "Use the published files instead: %(manifest)s lists the full download and the "
            "daily and monthly change files.",
            cap=format_number(cap),
            manifest=details["published"]["manifest"],
        )
        return _refuse(422, message, details)
    message = _(
        "The full download has not been published yet. Please try again later, or ask for "
        "a smaller part with updated_after or service_code."
    )
    return _refuse(503, message, details, {"Retry-After": NOT_PUBLISHED_RETRY_AFTER})


def _busy() -> Response:
    """Refuse an on-the-spot pull while this process computes as many as it may."""
    message = _(
        "Other downloads are being prepared right now. Please try again in a few seconds, "
        "or use the published files."
    )
    details = {"published": published_files()}
    return _refuse(503, message, details, {"Retry-After": spot_downloads.BUSY_RETRY_AFTER})


@bp.get("/export/requests.<any(csv, geojson):kind>")
@public
@limiter.limit(
    limits.export_limit, key_func=limits.export_address_key, exempt_when=_served_from_files
)
def export(kind: str):
    """The public export: the published full file, or a small pull computed on the spot.

    ``updated_after`` and ``service_code`` pulls are counted first; beyond
    ``EXPORT_MAX_ROWS`` they are refused (422) with the published files' addresses, and
    while this process already computes ``EXPORT_CONCURRENCY`` of them, 503 with
    ``Retry-After``.
    """
    service_code = text_arg(
        request.args, "service_code", max_length=column_length(Service.service_code)
    )
    updated_after = _updated_after()
    narrowed = bool(service_code or updated_after)
    if not narrowed:
        found = exports.published(export_dir(), kind)
        if found is not None:
            return _send_published(*found, kind, f"requests.{kind}")
    cap = current_app.config["EXPORT_MAX_ROWS"]
    if exports.count_at_most(cap, service_code=service_code, updated_after=updated_after) > cap:
        return _too_big(cap, narrowed)

    def body():
        rows = exports.requests(False, service_code=service_code, updated_after=updated_after)
        return exports.to_csv(rows, False) if kind == "csv" else exports.to_geojson(rows)

    response = spot_downloads.stream_with_permit(body, MIMETYPES[kind])
    if response is None:
        return _busy()
    response.headers["Content-Disposition"] = f'attachment; filename="requests.{kind}"'
    return response


@bp.get("/export/changes/requests-<period>.<any(csv, geojson):kind>")
@public
def export_changes(period: str, kind: str):
    """A published change file: the requests last updated on one day or in one month."""
    found = exports.published_change(export_dir(), period, kind)
    if found is None:
        abort(404)
    return _send_published(*found, kind, f"requests-{period}.{kind}")


@bp.get("/export/requests-manifest.json")
@public
def export_manifest():
    """Row counts, sizes and checksums of the published export files (404 before the job)."""
    path = export_dir() / exports.MANIFEST
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="application/json", conditional=True, etag=True)
