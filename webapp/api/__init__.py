"""The JSON API at /api/v1: one envelope, one error shape, documented by OpenAPI.

Browser sessions make API writes with ``fetch``. Instead of a form token, every
state-changing API call must carry the ``X-Requested-With: civic311`` header: a
cross-site page cannot add a custom header without a CORS preflight, which this API
never grants, so a forged cross-site request is refused with 400 before it acts.
"""

from flask import request
from flask_babel import gettext as _

from webapp.api.blueprint import bp

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_HEADER = "X-Requested-With"
CSRF_HEADER_VALUE = "civic311"


@bp.before_request
def require_custom_header_on_writes():
    """Refuse state-changing calls that lack the anti-forgery header."""
    if request.method in SAFE_METHODS:
        return None
    if request.headers.get(CSRF_HEADER, "").lower() != CSRF_HEADER_VALUE:
        from webapp.domain.errors import DomainError

        raise DomainError(
            _(
                "State-changing API calls must send the header %(csrf_header)s: %(csrf_header_value)s.",
                csrf_header=CSRF_HEADER,
                csrf_header_value=CSRF_HEADER_VALUE,
            ),
            status=400,
            field=CSRF_HEADER,
        )
    return None


from webapp.api import (  # noqa: E402,F401
    answers_views,
    desk_views,
    openapi,
    places_views,
    push_views,
    requests_views,
    services_views,
    staff_views,
)
