"""A real SMTP server on 127.0.0.1 for the e-mail tests (aiosmtpd, in a thread).

``serve_smtp`` (the ``smtp_server`` fixture) starts it on a free port and points Django's SMTP
backend at it. The handler
keeps what it received and can be told to answer the next RCPT commands with a temporary
(4xx) or permanent (5xx) refusal, or the server can be stopped and started again to play a
relay that cannot be reached."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: Message

    @property
    def text(self) -> str:
        body = self.message.get_payload(decode=True)
        assert isinstance(body, bytes)
        return f"{self.message['Subject']}\n{body.decode()}"


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # answers for the next RCPT commands
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        with self.lock:
            if self.refusals:
                return self.refusals.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    message_from_bytes(envelope.original_content or envelope.content),
                )
            )
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        self.handler = Handler()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received


def serve_smtp(settings: Any) -> Iterator[SmtpServer]:
    """Start the server and point Django's SMTP backend at it (body of the ``smtp_server``
    fixture)."""
    server = SmtpServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "dcc@chu.test"
    settings.SITE_URL = "https://dcc.chu.test"
    try:
        yield server
    finally:
        server.stop()
