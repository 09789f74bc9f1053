"""``RequestGuard``: the ASGI layer every request passes before the endpoints.

* The body is read here, whole, within ``body_timeout`` seconds: a client that promises 100 bytes
  and sends 8 gets 408 and its connection closed, instead of holding it open indefinitely.
* A body over ``max_body_bytes`` (declared or sent) is a 413, and the connection is closed.
* A body that is not UTF-8 (JSON's encoding) is a 422 naming the first bad byte, as any other
  bad body is (FastAPI's own answer would be a bare 400).
* ``HEAD`` is answered for every ``GET`` route: the same status and headers, no body.
* An unexpected exception becomes a JSON 500 (``{"detail": ...}``, logged with its traceback)
  on a connection that stays usable, so a page reading the answer as JSON still gets JSON.
"""

from __future__ import annotations

import asyncio
import json
import logging

log = logging.getLogger("lmlab.server")


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


async def send_json(send, status: int, detail: str, *, close: bool = False, headers=()) -> None:
    body = json.dumps({"detail": detail}).encode()
    hdrs = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
    if close:
        hdrs.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": hdrs})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class RequestGuard:
    def __init__(self, app, *, max_body_bytes: int, body_timeout: float):
        self.app, self.max_body_bytes, self.body_timeout = app, max_body_bytes, body_timeout

    async def _read_body(self, receive) -> bytes:
        chunks, size = [], 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                raise _Disconnected
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not msg.get("more_body", False):
                return b"".join(chunks)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_large = f"request body over {self.max_body_bytes} bytes"
        lengths = [v for k, v in scope["headers"] if k == b"content-length"]
        if lengths:
            if not all(v.strip().isdigit() for v in lengths) or len(set(lengths)) > 1:
                return await send_json(send, 400, "invalid Content-Length header", close=True)
            if int(lengths[0]) > self.max_body_bytes:
                return await send_json(send, 413, too_large, close=True)
        try:
            body = await asyncio.wait_for(self._read_body(receive), self.body_timeout)
        except TimeoutError:
            return await send_json(send, 408, f"the request body did not arrive within {self.body_timeout:g} s",
                                   close=True)
        except _TooLarge:
            return await send_json(send, 413, too_large, close=True)
        except _Disconnected:
            return None
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return await send_json(send, 422, f"the request body is not valid UTF-8 (byte {exc.start}: {exc.reason}); "
                                              "JSON bodies are UTF-8")
        head = scope.get("method") == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}

        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        started = False

        async def tracked_send(msg):
            nonlocal started
            started = started or msg["type"] == "http.response.start"
            if head and msg["type"] == "http.response.body":
                msg = {**msg, "body": b""}  # HEAD: the headers (Content-Length included) without the body
            await send(msg)

        try:
            await self.app(scope, replay, tracked_send)
        except Exception as exc:  # a defect: answer JSON, log it, keep the connection
            log.exception("internal error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await send_json(send, 500, f"internal error: {type(exc).__name__}: {exc}")
