"""The door of `POST /slack/events`: verify first, then look at nothing unverified.

Bolt verifies signatures too, but it logs the whole body of a request it refuses, lets a malformed
timestamp header raise (and its error handler would then answer the unverified body's
`response_url`, an address of the sender's choosing), and turns a malformed payload into a 500. So a
request reaches bolt only once its signature is verified here and its envelope has the shape bolt
expects; everything else is answered 401 or 400 with one short log line that quotes nothing of it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import Clock, SignatureVerifier

log = logging.getLogger(__name__)

MAX_CLOCK_SKEW = 5 * 60  # Slack's rule: older or newer requests are replays
MAX_TIMESTAMP_DIGITS = 12


class Verdict(Enum):
    ok = 200
    unsigned = 401
    malformed = 400


def _timestamp(header: str | None, now: float) -> str | None:
    if header is None or not header.isascii() or not header.isdigit() or len(header) > MAX_TIMESTAMP_DIGITS:
        return None
    return header if abs(now - int(header)) <= MAX_CLOCK_SKEW else None


class _Clock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def signed(secret: str, body: bytes, headers: dict[str, str], *, now: Callable[[], float] = time.time) -> bool:
    """True only for a well-formed, fresh request signed with `secret`."""
    timestamp = _timestamp(headers.get("x-slack-request-timestamp"), now())
    signature = headers.get("x-slack-signature")
    if timestamp is None or signature is None or not signature.isascii():
        return False
    verifier = SignatureVerifier(secret, clock=_Clock(now))
    return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _payload(body: bytes, content_type: str) -> dict[str, Any] | None:
    """The envelope bolt will read: a JSON object (events) or a form (commands, interactivity)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if content_type.startswith("application/json"):
        return _json_object(text)
    form = parse_qs(text, keep_blank_values=True)
    if "payload" not in form:
        return {key: values[0] for key, values in form.items()}
    return _json_object(form["payload"][0])


def _metadata_ok(payload: dict[str, Any]) -> bool:
    """Our modals keep a JSON object in `private_metadata`; anything else was not written by us."""
    view = payload.get("view")
    if view is None:
        return True
    if not isinstance(view, dict):
        return False
    metadata = view.get("private_metadata") or ""
    return isinstance(metadata, str) and (metadata == "" or _json_object(metadata) is not None)


@dataclass(frozen=True, slots=True)
class Checked:
    verdict: Verdict
    request_id: str | None = None  # the event id or trigger id, for the log context
    payload: dict[str, Any] | None = None  # the verified envelope, when the verdict is ok


def _request_id(payload: dict[str, Any]) -> str | None:
    found = payload.get("event_id") or payload.get("trigger_id")
    return str(found)[:80] if found else None


def check(secret: str, body: bytes, headers: dict[str, str], *, now: Callable[[], float] = time.time) -> Checked:
    if not signed(secret, body, headers, now=now):
        log.warning("refused a Slack request without a valid signature (%d bytes)", len(body))
        return Checked(Verdict.unsigned)
    payload = _payload(body, headers.get("content-type", ""))
    if payload is None or not _metadata_ok(payload):
        log.warning("refused a signed Slack request with a malformed payload (%d bytes)", len(body))
        return Checked(Verdict.malformed)
    return Checked(Verdict.ok, _request_id(payload), payload)
