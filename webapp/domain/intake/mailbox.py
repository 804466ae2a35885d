"""The city's 311 mailbox, read over IMAP (imap-tools): one poll, and its state for admins.

Headers and sizes come first, so automatic mail and messages over the limit are decided
without downloading their bodies; each message is handled (``mail_handling``) and then
marked read. Off unless ``IMAP_HOST`` is set. An IMAP outage is recorded (admins see
the last successful poll) and retried at the next poll.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from webapp.domain.intake import mail_service_choice
from webapp.domain.intake.mail_handling import handle_message
from webapp.domain.intake.mail_outcomes import IGNORED, Outcome
from webapp.domain.intake.mail_reading import MAX_MESSAGE_BYTES, automatic_reason, message_id_of
from webapp.models import InboundMail, MailboxPoll, utcnow
from webapp.plumbing.extensions import db


@dataclass
class PollResult:
    """One poll of the mailbox."""

    ok: bool
    outcomes: list[Outcome] = field(default_factory=list)
    error: str | None = None


def is_configured(config) -> bool:
    """E-mail intake runs only when an IMAP host is set."""
    return bool(config.get("IMAP_HOST"))


def _poll_state() -> MailboxPoll:
    state = db.session.get(MailboxPoll, 1)
    if state is None:
        state = MailboxPoll(id=1, failures=0)
        db.session.add(state)
    return state


def poll(config=None) -> PollResult:
    """Read every unread message once, handle it, then mark it read. Records the poll."""
    from imap_tools import AND, MailBox, MailBoxUnencrypted, MailMessageFlags

    config = config or current_app.config
    if not is_configured(config):
        return PollResult(ok=True)
    state = _poll_state()
    state.last_attempt_at = utcnow()
    db.session.commit()
    result = PollResult(ok=True)
    box_class = MailBox if config.get("IMAP_SSL", True) else MailBoxUnencrypted
    try:
        with box_class(config["IMAP_HOST"], int(config.get("IMAP_PORT") or 993), timeout=30).login(
            config.get("IMAP_USER") or "",
            config.get("IMAP_PASSWORD") or "",
            initial_folder=config.get("IMAP_FOLDER") or "INBOX",
        ) as box:
            vocabulary = None  # the services' words, built once per poll when needed
            # Headers and the server's size first (IMAP RFC822.SIZE): automatic mail and
            # messages over the limit are decided without downloading their bodies.
            for head in box.fetch(AND(seen=False), mark_seen=False, bulk=False, headers_only=True):
                size = head.size_rfc822
                if size > MAX_MESSAGE_BYTES or _known(head, size) or automatic_reason(head):
                    outcome = handle_message(head, raw_size=size, downloaded=False)
                else:
                    whole = next(
                        iter(box.fetch(AND(uid=head.uid), mark_seen=False, bulk=False)), None
                    )
                    if vocabulary is None:
                        vocabulary = mail_service_choice.vocabulary()
                    outcome = (
                        handle_message(whole, raw_size=size, vocabulary=vocabulary)
                        if whole is not None
                        else handle_message(head, raw_size=size, downloaded=False)
                    )
                result.outcomes.append(outcome)
                box.flag([head.uid], MailMessageFlags.SEEN, True)
    except Exception as error:  # noqa: BLE001 - any outage: record it and retry next poll
        db.session.rollback()
        state = _poll_state()
        state.failures = (state.failures or 0) + 1
        state.last_error = f"{type(error).__name__}: {error}"[:1000]
        db.session.commit()
        return PollResult(ok=False, outcomes=result.outcomes, error=state.last_error)
    state = _poll_state()
    state.last_success_at = utcnow()
    state.last_error = None
    state.failures = 0
    db.session.commit()
    return result


def _known(message, size: int) -> bool:
    """Whether this Message-ID was handled before (no need to download it again)."""
    message_id = message_id_of(message, size)
    return (
        db.session.scalars(
            select(InboundMail.id).where(InboundMail.message_id == message_id)
        ).first()
        is not None
    )


def status() -> MailboxPoll | None:
    """The intake's last poll, for the admin page."""
    return db.session.get(MailboxPoll, 1)


def ignored_recently(limit: int = 50) -> list[InboundMail]:
    """Automatic messages recorded and not answered (out-of-office, bounces, lists, our
    own mail), newest first, for the admin page."""
    return list(
        db.session.scalars(
            select(InboundMail)
            .where(InboundMail.outcome == IGNORED)
            .order_by(InboundMail.received_at.desc(), InboundMail.id.desc())
            .limit(limit)
        )
    )


def waiting_for_triage(limit: int = 100) -> list[InboundMail]:
    """Messages staff still have to look at, oldest first."""
    return list(
        db.session.scalars(
            select(InboundMail)
            .where(InboundMail.triaged.is_(False))
            .order_by(InboundMail.received_at)
            .limit(limit)
        )
    )
