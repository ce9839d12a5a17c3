"""Fake LLM servers: the Anthropic Messages API and the OpenAI chat-completions API.

Behaviour is scripted: ``fake.script`` is a queue of :class:`Reply` / :class:`Fail` steps consumed
one per request; when it is empty, ``fake.default`` answers (a :class:`Reply` or a callable
``request_body -> str``). Errors use each API's real error body, and ``retry-after-ms`` keeps SDK
backoff short.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from tests.fakes.server import FakeServer, Recorded, Response

_ids = itertools.count(1)


@dataclass
class Reply:
    text: str
    input_tokens: int = 120
    output_tokens: int = 60
    delay_s: float = 0.0


@dataclass
class Fail:
    status: int
    message: str = "fake failure"
    retry_after_ms: int | None = 5
    delay_s: float = 0.0


Step = Reply | Fail
Default = Reply | Fail | Callable[[dict], str]

_ANTHROPIC_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                          404: "not_found_error", 429: "rate_limit_error", 500: "api_error",
                          529: "overloaded_error"}


class _ScriptedLLM(FakeServer):
    def __init__(self, default: Default | None = None, port: int = 0):
        super().__init__(port)
        self.script: deque[Step] = deque()
        self.default: Default = default if default is not None else Reply("OK.")

    def next_step(self, body: dict) -> Step:
        with self.lock:
            if self.script:
                return self.script.popleft()
        if callable(self.default):
            return Reply(self.default(body))
        return self.default

    def _fail(self, step: Fail, body: dict) -> Response:
        headers = {}
        if step.retry_after_ms is not None:
            headers["retry-after-ms"] = step.retry_after_ms
        return Response(step.status, body, headers, delay_s=step.delay_s)


class FakeAnthropic(_ScriptedLLM):
    """``POST /v1/messages``; requires a key (``x-api-key`` or ``Authorization: Bearer``, as
    SDK 2.x sends it) and an ``anthropic-version`` header."""

    @staticmethod
    def api_key(req: Recorded) -> str | None:
        auth = req.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:]
        return req.headers.get("x-api-key")

    def handle(self, req: Recorded) -> Response:
        if req.method != "POST" or req.path != "/v1/messages":
            return Response(404, {"type": "error", "error": {
                "type": "not_found_error", "message": f"no route {req.method} {req.path}"}})
        if not self.api_key(req) or not req.headers.get("anthropic-version"):
            return Response(401, {"type": "error", "error": {
                "type": "authentication_error", "message": "missing API key"}})
        body = req.body if isinstance(req.body, dict) else {}
        if not body.get("model") or not body.get("messages") or not body.get("max_tokens"):
            return Response(400, {"type": "error", "error": {
                "type": "invalid_request_error", "message": "model, messages, max_tokens required"}})
        step = self.next_step(body)
        if isinstance(step, Fail):
            err_type = _ANTHROPIC_ERROR_TYPES.get(step.status, "api_error")
            return self._fail(step, {"type": "error",
                                     "error": {"type": err_type, "message": step.message}})
        return Response(200, {
            "id": f"msg_fake{next(_ids):06d}", "type": "message", "role": "assistant",
            "model": body["model"], "content": [{"type": "text", "text": step.text}],
            "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": step.input_tokens, "output_tokens": step.output_tokens},
        }, delay_s=step.delay_s)


class FakeOpenAI(_ScriptedLLM):
    """``POST /v1/chat/completions`` as Ollama, vLLM and llama.cpp serve it."""

    def handle(self, req: Recorded) -> Response:
        if req.method != "POST" or not req.path.endswith("/chat/completions"):
            return Response(404, {"error": {"message": f"no route {req.path}",
                                            "type": "invalid_request_error"}})
        body = req.body if isinstance(req.body, dict) else {}
        if not body.get("model") or not body.get("messages"):
            return Response(400, {"error": {"message": "model and messages required",
                                            "type": "invalid_request_error"}})
        step = self.next_step(body)
        if isinstance(step, Fail):
            return self._fail(step, {"error": {"message": step.message, "type": "server_error",
                                               "code": None}})
        return Response(200, {
            "id": f"chatcmpl-fake{next(_ids)}", "object": "chat.completion", "created": 1_700_000_000,
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": step.text}}],
            "usage": {"prompt_tokens": step.input_tokens, "completion_tokens": step.output_tokens,
                      "total_tokens": step.input_tokens + step.output_tokens},
        }, delay_s=step.delay_s)
