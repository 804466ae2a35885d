"""A real SMTP server in the test process (aiosmtpd), standing in for the city's mail
relay. It keeps every message it accepts and can be told to answer like a relay in
trouble: ``refuse("bad@example.net", "550 5.1.1 No such user")`` refuses one recipient
for good; ``fail_next(2, "451 4.3.0 Try again later")`` (or ``421 …``) answers the next
DATA commands with a temporary error; ``connections`` counts SMTP sessions.

Messages are parsed with the standard ``email`` package::

    smtp_server.messages[0]["Subject"]; smtp_server.messages[0].get_body(("html",))

``wait_for(n)`` fails the test when fewer than ``n`` messages arrive in time;
``inbox.wait_for(n, timeout=…)`` just returns what arrived (to check that no more
came), and ``inbox.envelopes`` are the (sender, recipients) pairs.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A port nothing listens on right now (aiosmtpd's start-up check needs a real one)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    """One accepted message: envelope and raw bytes."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        """The message parsed with the standard library's modern policy."""
        return email.message_from_bytes(self.content, policy=email.policy.default)


@dataclass
class FakeRelay:
    """The handler: records messages and plays the failures it was told to."""

    received: list[Received] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        """Count sessions (each connection says EHLO once)."""
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        """Refuse the recipients we were told to refuse."""
        answer = self.refused.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        """Keep the message, or answer with the next planned failure."""
        with self.lock:
            failure = self.failures.pop(0) if self.failures else None
            if failure is None:
                self.received.append(
                    Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
                )
        return failure or "250 OK: queued"


class Inbox:
    """What the relay accepted, for tests that count messages without failing."""

    def __init__(self, relay: FakeRelay):
        self.relay = relay

    @property
    def messages(self) -> list[EmailMessage]:
        """Every accepted message, parsed, oldest first."""
        with self.relay.lock:
            return [item.message for item in self.relay.received]

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        """The envelope sender and recipients of every accepted message."""
        with self.relay.lock:
            return [(item.mail_from, list(item.rcpt_tos)) for item in self.relay.received]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Wait until ``count`` messages arrived or ``timeout`` passed; return them all."""
        deadline = time.monotonic() + timeout
        while len(self.relay.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


class SMTPServer:
    """An aiosmtpd ``Controller`` on 127.0.0.1 with a ``FakeRelay`` handler."""

    def __init__(self):
        self.relay = FakeRelay()
        self.inbox = Inbox(self.relay)
        self.port = free_port()
        self.host = "127.0.0.1"
        self.controller: Controller | None = None

    def start(self) -> SMTPServer:
        """Start listening (again, after ``stop``) on the same port."""
        self.controller = Controller(self.relay, hostname=self.host, port=self.port, timeout=30)
        self.controller.start()
        return self

    def stop(self) -> None:
        """Stop listening (the relay keeps what it received; ``start`` again to resume)."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        """Every accepted message, parsed, oldest first."""
        return self.inbox.messages

    @property
    def connections(self) -> int:
        """How many SMTP sessions were opened."""
        return self.relay.connections

    def refuse(self, address: str, answer: str = "550 5.1.1 No such user here") -> None:
        """Refuse ``address`` at RCPT with ``answer`` from now on."""
        self.relay.refused[address.lower()] = answer

    def fail_next(self, count: int, answer: str = "451 4.3.0 Try again later") -> None:
        """Answer the next ``count`` DATA commands with ``answer``."""
        with self.relay.lock:
            self.relay.failures.extend([answer] * count)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Wait until at least ``count`` messages arrived; returns them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.relay.received) >= count:
                return self.messages
            time.sleep(0.05)
        raise AssertionError(f"expected {count} e-mails, got {len(self.relay.received)}")

    def settings(self) -> dict:
        """App settings that point Flask-Mailman at this server (plain SMTP)."""
        return {"MAIL_SERVER": self.host, "MAIL_PORT": self.port, "MAIL_USE_TLS": False}
