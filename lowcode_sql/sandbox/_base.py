"""Sandbox framework: the machinery every platform emulator shares.

INTERFACE CONTRACT (implementation to be completed; the names below are fixed):

* ``Request``/``Response``: plain values. A platform's ``handle()`` is synchronous and pure
  over its in-memory data: it never sleeps, never injects faults, never counts; the framework does.
* ``Platform``: base class of an emulator. ``dispatch()`` is the pipeline shared by both ways of
  serving: count -> rate limit (429 + Retry-After) -> injected faults -> latency -> ``handle``.
* ``platform.transport()``: an ``httpx.AsyncBaseTransport`` serving it in-process (fast tests).
* ``platform.serve()``: a real HTTP/1.1 server on 127.0.0.1 (context manager with ``.url``).
* ``platform.asgi``: the same pipeline as an ASGI application.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["Platform", "Request", "Response", "json_response"]


@dataclass
class Request:
    method: str
    path: str  # percent-decoded, without the query string
    query: list[tuple[str, str]]  # percent-decoded, in order, repeated keys kept
    headers: dict[str, str]  # lower-case names
    body: bytes = b""

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The last value of a query parameter."""
        for k, v in reversed(self.query):
            if k == name:
                return v
        return default


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-serialisable object, or raw bytes
    headers: dict[str, str] = field(default_factory=dict)


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, obj, dict(headers or {}))


class Platform(ABC):
    """Base class of an emulated platform."""

    name: ClassVar[str] = ""

    @abstractmethod
    def handle(self, request: Request) -> Response:
        """The platform's own behaviour for one request."""

    def error_response(self, status: int, message: str) -> Response:
        """An error in the platform's own JSON shape (used by the framework for 429 etc.)."""
        return json_response({"error": message}, status)

    def expire_tokens(self) -> None:
        """Invalidate every issued token (platforms with token auth override this)."""
