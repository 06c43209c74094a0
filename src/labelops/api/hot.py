"""A fast lane for the labeller's two hot calls, in front of FastAPI.

``POST /api/projects/{id}/next`` (and its ``GET`` alias for Bearer tokens) and
``POST /api/assignments/{id}/label`` are most of a project's traffic (one or two
requests per label). Through FastAPI each paid for the middleware stack, routing,
dependency solving and body parsing, about a quarter of the server's CPU per request.
This lane matches the two paths itself and calls the very functions the FastAPI routes
call (``serve_next``, ``serve_submit``), so behaviour and responses are the same.

It serves only the plain successful case of an API client: a Bearer token, a JSON body
that validates, a known query string. Anything else, and any error raised while
serving, goes the full way through FastAPI (the request body replayed), which renders
errors in the one envelope. An error is thus computed twice; that is cheap, since a
failed use case has rolled back and changed nothing.
"""

from __future__ import annotations

import re

from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from labelops.api.edge import SECURITY_HEADER_PAIRS
from labelops.api.routers.labelling import serve_next, serve_submit
from labelops.api.schemas.projects import LabelSubmit

__all__ = ["replaying", "serve_hot"]

_NEXT_PATH = re.compile(r"/api/projects/([0-9]{1,18})/next")
_LABEL_PATH = re.compile(r"/api/assignments/([0-9]{1,18})/label")
_NEXT_QUERIES = {b"": False, b"prefetch=false": False, b"prefetch=true": True}
_LABEL_QUERIES = {b"": False, b"next=false": False, b"next=true": True}
MAX_HOT_BODY = 64 * 1024
"""Bytes; a label is a few dozen. Bigger bodies go the full way (and its limits)."""


async def serve_hot(scope: Scope, receive: Receive, send: Send) -> bool:
    """Serve ``scope`` in the fast lane if it is a plain hot call; False if not served.

    When this returns False nothing was sent, and ``scope["labelops.replay"]`` holds
    the request messages already read (see ``replaying``) for the full way.
    """
    method = scope["method"]
    path: str = scope["path"]
    query: bytes = scope["query_string"]
    if method not in ("GET", "POST") or not _has_bearer(scope):
        return False
    match = _NEXT_PATH.fullmatch(path)
    if match is not None:
        # POST, or its GET alias (Bearer tokens only). Its body, if any, is not read.
        prefetch = _NEXT_QUERIES.get(query)
        if prefetch is None:
            return False
        try:
            response = await serve_next(
                Request(scope), int(match[1]), prefetch=prefetch, bearer_only=method == "GET"
            )
        except Exception:  # noqa: BLE001 - the full way renders every error
            return False
    elif method == "POST":
        match = _LABEL_PATH.fullmatch(path)
        and_next = _LABEL_QUERIES.get(query)
        if match is None or and_next is None:
            return False
        read, body = await _read_body(receive)
        scope["labelops.replay"] = read
        if body is None or not _is_json(scope):
            return False
        try:
            submit = LabelSubmit.model_validate_json(body)
        except ValidationError:
            return False
        try:
            response = await serve_submit(Request(scope), int(match[1]), submit, and_next=and_next)
        except Exception:  # noqa: BLE001 - the full way renders every error
            return False
    else:
        return False
    response.raw_headers.extend(SECURITY_HEADER_PAIRS)  # as ``edge.secured`` adds them
    await response(scope, receive, send)
    return True


def replaying(scope: Scope, receive: Receive) -> Receive:
    """``receive`` that first hands back the messages the fast lane already read."""
    read: list[Message] | None = scope.pop("labelops.replay", None)
    if not read:
        return receive
    pending = list(reversed(read))

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replay


def _has_bearer(scope: Scope) -> bool:
    """An ``Authorization: Bearer <token>`` header (the token not empty)."""
    value: bytes
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value[:7].lower() == b"bearer " and bool(value[7:].strip())
    return False


def _is_json(scope: Scope) -> bool:
    value: bytes
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"application/json"
    return False


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """Read the request body, up to ``MAX_HOT_BODY`` bytes.

    Returns the messages read (for the replay, as they came) and the body, or None
    when it is bigger than the limit or the client went away: then the full way
    reads the rest itself, under its own limits.
    """
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        size += len(message.get("body", b""))
        if size > MAX_HOT_BODY:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(m.get("body", b"") for m in messages)
