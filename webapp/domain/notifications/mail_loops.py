"""Mail that no person wrote to us, which the intake records and never answers.

Answering an automatic message starts a mail loop: an out-of-office reply answers our
auto-reply, which answers it again, forever (RFC 3834, "Recommendations for Automatic
Responses to Electronic Mail"). So a message is automatic, and gets no request and no
reply, when:

- it says so: ``Auto-Submitted`` other than ``no`` (RFC 3834 §5), ``X-Autoreply`` /
  ``X-Autorespond`` (older responders), or ``Precedence: bulk | auto_reply | list | junk``;
- it is a report about mail (a bounce or read receipt): ``Content-Type: multipart/report``
  (RFC 6522), or it comes from the null sender (``Return-Path: <>``) or from
  ``MAILER-DAEMON`` / ``postmaster`` / a list robot (``owner-…``, ``…-request``);
- it comes from a mailing list (``List-Id``, ``List-Unsubscribe``): a newsletter is not
  a report, and an auto-reply to a list reaches every member;
- it is our own: from the city's own sending address (``MAIL_DEFAULT_SENDER`` and any in
  ``MAIL_INTAKE_OWN_ADDRESSES``), or carrying one of our own Message-IDs.

Only headers are read, so the check runs before a message is downloaded.
"""

from __future__ import annotations

import re
from email.utils import getaddresses, parseaddr

AUTOMATIC_PRECEDENCE = {"bulk", "auto_reply", "list", "junk"}
# The shape of ``email.utils.make_msgid`` (what every message we send carries).
OUR_MESSAGE_ID = re.compile(r"^\d+\.\d+\.\d+(?:\.[^@]+)?@(?P<domain>[^@]+)$")
ROBOT_LOCAL_PART = re.compile(
    r"^(?:mailer-daemon|postmaster|listserv|majordomo|owner-.+|.+-request|.+-owner)$",
    re.IGNORECASE,
)


def _first(headers, name: str) -> str:
    values = headers.get(name) or ()
    return str(values[0]).strip() if values else ""


def own_addresses(config) -> set[str]:
    """The city's own addresses: the sender of every message we send, and any extra
    ones an operator lists (comma-separated ``MAIL_INTAKE_OWN_ADDRESSES``)."""
    found = {parseaddr(config.get("MAIL_DEFAULT_SENDER") or "")[1]}
    extra = config.get("MAIL_INTAKE_OWN_ADDRESSES") or ""
    found |= {address for _name, address in getaddresses([extra])}
    imap_user = config.get("IMAP_USER") or ""
    if "@" in imap_user:
        found.add(imap_user)
    return {address.strip().lower() for address in found if "@" in address}


def automatic_reason(headers, sender: str, *, own: set[str], our_domains: set[str]) -> str | None:
    """Why the message (its lower-cased ``headers`` as imap-tools gives them and its
    ``sender`` address) must not be answered, or None for mail a person wrote."""
    sender = (sender or "").strip().lower()
    if sender and sender in own:
        return "It comes from the city's own address."
    ours = OUR_MESSAGE_ID.match(_first(headers, "message-id").strip().strip("<>").lower())
    if ours and ours.group("domain") in our_domains:
        return "It is one of our own messages."
    auto_submitted = _first(headers, "auto-submitted").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Automatic mail (Auto-Submitted: {auto_submitted})."
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder"):
        if _first(headers, name):
            return f"Automatic mail ({name})."
    precedence = _first(headers, "precedence").lower()
    if precedence in AUTOMATIC_PRECEDENCE:
        return f"Automatic mail (Precedence: {precedence})."
    content_type = _first(headers, "content-type").lower()
    if content_type.startswith("multipart/report"):
        return "A delivery or read report about a message (multipart/report)."
    return_path = _first(headers, "return-path")
    if return_path and not parseaddr(return_path)[1] and "<>" in return_path.replace(" ", ""):
        return "A message from the null sender (a bounce)."
    if not sender:
        return None
    if ROBOT_LOCAL_PART.match(sender.partition("@")[0]):
        return f"A message from a mail robot ({sender.partition('@')[0]})."
    if _first(headers, "list-id") or _first(headers, "list-unsubscribe"):
        return "A message from a mailing list."
    return None
