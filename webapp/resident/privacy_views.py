"""The resident's own "delete my contact details" on *My requests*."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _

from webapp.domain.lifecycle import retention
from webapp.plumbing.access import public
from webapp.plumbing.extensions import db
from webapp.plumbing.sessions import current_account, current_device
from webapp.resident.blueprint import bp


@bp.post("/my/contact-details/delete")
@public
def delete_my_contact_details():
    """Remove the caller's name, e-mail and phone from every request they made."""
    removed = retention.forget_my_contact_details(current_account(), current_device())
    db.session.commit()
    if removed.requests or removed.device_addresses or removed.contacts or removed.chats:
        flash(_("Your contact details were deleted from your requests. "
                "You can still follow them here and with notifications."))
    else:
        flash(_("There were no contact details to delete."))
    return redirect(url_for("resident.my_requests") + "#my-contact-details")
