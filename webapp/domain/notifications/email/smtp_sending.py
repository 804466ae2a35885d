"""Sending composed e-mail: a few SMTP connections in parallel, each reused for its share.

No database work happens here, so it runs on sending threads; each answer comes back
as soon as the server gave it, and a connection sends its next message only once the
last answer was recorded (at most one message per connection is ever in doubt). A
dropped connection (421, disconnect) is reopened. Without ``MAIL_SERVER`` the ``.eml``
file backend writes each message in turn.
"""

from __future__ import annotations

import contextlib
import queue
import smtplib
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from flask import current_app
from flask_mailman import EmailMultiAlternatives
from flask_mailman.backends.smtp import EmailBackend as SMTPBackend
from flask_mailman.message import sanitize_address

from webapp.plumbing.extensions import mail as mailman

SEND_CONNECTIONS = 4  # SMTP connections in parallel per worker, each reused for its share

MIN_PER_CONNECTION = 10  # a batch smaller than this goes over one connection


def _broken(error: Exception) -> bool:
    """After these the SMTP connection cannot be reused."""
    if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code == 421:
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _text in error.recipients.values())
    return isinstance(error, (smtplib.SMTPServerDisconnected, OSError))


Outgoing = tuple[str, list[str], bytes]


Answer = tuple[int, Exception | None]


def _raw(message: EmailMultiAlternatives) -> Outgoing:
    """Envelope sender, recipients and the bytes on the wire (built with the app context,
    so sending threads need none)."""
    encoding = message.encoding or current_app.extensions["mailman"].default_charset
    return (
        sanitize_address(message.from_email, encoding),
        [sanitize_address(a, encoding) for a in message.recipients()],
        message.message().as_bytes(linesep="\r\n"),
    )


def _open(connection: SMTPBackend) -> None:
    """Open the connection with Nagle's algorithm off: SMTP is a conversation of small
    writes, and on a reused connection Nagle plus delayed ACKs stall every message."""
    connection.open()
    sock = getattr(connection.connection, "sock", None)
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _reconnect(connection: SMTPBackend) -> None:
    with contextlib.suppress(OSError, smtplib.SMTPException):
        connection.close()
    with contextlib.suppress(OSError, smtplib.SMTPException):
        _open(connection)


def _send_share(
    connection: SMTPBackend,
    share: list[tuple[int, Outgoing]],
    report: Callable[[Answer], None],
    turn: threading.Event,
    stop: threading.Event,
) -> None:
    """Send a share of a batch over ONE connection (runs on a sending thread; no database
    work), reporting ``(index, error)`` for each message as soon as the server answered
    it (error None when the server took it).

    Each message waits for ``turn``, given back once the previous answer was recorded,
    so at most one message per connection is sent but not yet recorded (the ones a
    crash leaves in doubt). ``stop`` (the recording thread is gone) sends no more.
    """
    try:
        _open(connection)
    except (OSError, smtplib.SMTPException) as error:
        for index, _outgoing in share:
            report((index, error))
        return
    done = 0
    try:
        for index, (sender, recipients, data) in share:
            turn.wait()
            if stop.is_set():
                return
            turn.clear()
            error: Exception | None = None
            try:
                if connection.connection is None:
                    raise smtplib.SMTPServerDisconnected("the mail server closed the connection")
                connection.connection.sendmail(sender, recipients, data)
            except (OSError, smtplib.SMTPException) as failure:
                error = failure
            report((index, error))
            done += 1
            if error is not None and _broken(error):
                _reconnect(connection)
    except Exception as failure:  # never leave the recording thread waiting for an answer
        for index, _outgoing in share[done:]:
            report((index, failure))
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.close()


def _shares(count: int, connections: int) -> list[range]:
    """Split ``count`` messages into at most ``connections`` runs of at least
    ``MIN_PER_CONNECTION`` each (a small batch goes over one connection)."""
    wanted = max(1, min(connections, count // MIN_PER_CONNECTION))
    size = -(-count // wanted)
    return [range(start, min(count, start + size)) for start in range(0, count, size)]


def send_all(
    messages: list[EmailMultiAlternatives], connections: int | None
) -> Iterator[Answer]:
    """Send ``messages`` and yield each one's ``(index, error)`` as its answer arrives.

    Over SMTP: at most ``connections`` connections in parallel on the sending threads,
    each reused for its whole share; the answers come back through a queue, so this
    (database) thread records each one while the others are still being sent, and a
    connection sends its next message only once its last answer was recorded. The
    ``.eml`` files of the embedded default are written here, one by one.
    """
    backend = mailman.get_connection()
    if not isinstance(backend, SMTPBackend):
        for index, message in enumerate(messages):
            try:
                backend.send_messages([message])
                yield index, None
            except OSError as error:
                yield index, error
        return
    outgoing = [_raw(message) for message in messages]
    shares = _shares(len(outgoing), connections or SEND_CONNECTIONS)
    backends = [backend] + [mailman.get_connection() for _ in shares[1:]]
    answers: queue.SimpleQueue[Answer] = queue.SimpleQueue()
    stop = threading.Event()
    turns: dict[int, threading.Event] = {}
    pool = sending_pool()
    for connection, share in zip(backends, shares, strict=True):
        turn = threading.Event()
        turn.set()
        for index in share:
            turns[index] = turn
        pool.submit(
            _send_share, connection, [(i, outgoing[i]) for i in share], answers.put, turn, stop
        )
    try:
        for _message in outgoing:
            index, error = answers.get()
            yield index, error
            turns[index].set()  # recorded: that connection may send its next message
    finally:
        stop.set()
        for turn in turns.values():
            turn.set()


_POOL: ThreadPoolExecutor | None = None

_POOL_LOCK = threading.Lock()


def sending_pool() -> ThreadPoolExecutor:
    """The shared threads that hold the parallel SMTP connections."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(
                max_workers=SEND_CONNECTIONS, thread_name_prefix="civic311-mail"
            )
        return _POOL
