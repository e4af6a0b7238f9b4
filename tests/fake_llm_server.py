"""A real HTTP server on loopback speaking OpenAI chat completions and Anthropic messages.

The official SDKs reach it through ``OPENAI_BASE_URL`` / ``ANTHROPIC_BASE_URL``
exactly as they reach the real APIs. What it answers is scripted per request: a
script sees the call (wire format, prompt, how many times this prompt was asked
for) and returns an action: a reply text, an HTTP error with headers, a dropped
connection, a garbled body, or any of these after a delay. Every call is logged
with the action taken, so tests compute what the results must be from what the
server really said, and count the calls each prompt received.

Both batch APIs (OpenAI files + batches, Anthropic message batches) live in
fake_batch_api.py, and rate limits with the semantics the providers document
(per-minute limits, quantized enforcement the headers do not show, tokens
counted as prompt + max_tokens) in fake_rate_limits.py; both are served here.

Also runnable on its own for the benchmarks:
``python tests/fake_llm_server.py --delay 0.2 [--rpm 6000 --tpm 2000000 ...]`` prints its URL and
serves until killed (``--help`` lists the limits).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fake_batch_api import Expired, FakeBatches
from fake_rate_limits import Admission, ProviderLimits, count_tokens, request_tokens


@dataclass(frozen=True)
class Text:
    """A completion; ``verdict`` is what the text means (None for junk), for tests to score by.

    ``text`` None sends null content (OpenAI) or no content block (Anthropic);
    ``finish_reason`` is sent verbatim (``length``, ``max_tokens``, ...), None
    sends the wire format's normal end (``stop`` / ``end_turn``).
    """

    text: str | None
    verdict: str | None = None
    finish_reason: str | None = None


@dataclass(frozen=True)
class Status:
    code: int
    message: str = "scripted error"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Drop:
    """Close the connection without a reply."""


@dataclass(frozen=True)
class Garbage:
    """HTTP 200 with a body that is not JSON."""

    body: str = "<html>502 Bad Gateway</html>"


@dataclass(frozen=True)
class Delay:
    seconds: float
    then: Action


Action = Text | Status | Drop | Garbage | Delay | Expired


@dataclass(frozen=True)
class Call:
    api: str  # "openai" or "anthropic"
    prompt: str  # the last user message
    model: str
    n: int  # 1 for the first call with this prompt, 2 for the second, ...
    body: dict[str, Any]


Script = Callable[[Call], Action]


def verdict_reply(prompt: str) -> Text:
    """A fixed reply per prompt, in the shapes real judges produce, junk included.

    Chosen by a hash of the prompt, so any server run on the same rows says the
    same things; ``verdict`` records the intended reading of the text.
    """
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    verdict = "FAIL" if digest[0] % 2 else "PASS"
    shape = digest[1] % 8
    if shape == 0:
        return Text(f"```json\n{{\"REASONING\": [\"checked\"], \"SCORE\": \"{verdict}\"}}\n```", verdict)
    if shape == 1:
        return Text(f"Let me check.\n{{\"reasoning\": \"looked\", \"score\": \"{verdict}\"}}", verdict)
    if shape == 2:
        return Text("I am not able to decide this one.", None)
    return Text(json.dumps({"REASONING": ["the document was read"], "SCORE": verdict}), verdict)


def verdict_confidence(prompt: str) -> float:
    """The probability the server gives its verdict token when asked for log-probabilities (0.5 to 1)."""
    return 0.5 + hashlib.sha256(prompt.encode("utf-8")).digest()[2] / 512


def _logprobs(prompt: str, text: str) -> dict[str, Any]:
    """OpenAI's ``logprobs.content``: the verdict token ranked against the other verdict, the rest certain."""
    confidence, other = verdict_confidence(prompt), {"PASS": "FAIL", "FAIL": "PASS"}
    content = []
    for token in re.findall(r"\s*\w+|\s*[^\w\s]|\s+", text):
        if token.strip() in other:
            top = [(token, math.log(confidence)), (other[token.strip()], math.log(1 - confidence))]
        else:
            top = [(token, 0.0)]
        content.append({"token": token, "logprob": top[0][1], "bytes": None,
                        "top_logprobs": [{"token": t, "logprob": lp, "bytes": None} for t, lp in top]})
    return {"content": content}


def verdicts(call: Call) -> Action:
    return verdict_reply(call.prompt)


@dataclass
class LoggedCall:
    call: Call
    action: Action
    started: float
    finished: float | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the default backlog of 5 refuses a burst of concurrent connections


class FakeLLMServer:
    """``with FakeLLMServer(script) as server:`` serves on 127.0.0.1 at a free port."""

    def __init__(self, script: Script = verdicts, api_key: str | None = None, limits: ProviderLimits | None = None):
        self.script = script
        self.api_key = api_key  # when set, other keys get 401
        self.batches = FakeBatches(self)
        self.limits = limits  # the key's rate limits on completions (None: unlimited, no headers)
        self.calls: Counter[str] = Counter()
        # The version string the API "answers with" per requested model (default ``<model>-fake-0001``);
        # set an entry to simulate an alias moving to a new snapshot.
        self.versions: dict[str, str] = {}
        self.log: list[LoggedCall] = []
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    def version_of(self, model: str) -> str:
        """The model version a reply to ``model`` carries."""
        return self.versions.get(model, f"{model}-fake-0001")

    def start(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.log.clear()

    def replies(self) -> dict[str, Text]:
        """The reply each prompt got last (what a judge run saw in the end)."""
        with self._lock:
            return {e.call.prompt: _final(e.action) for e in self.log if isinstance(_final(e.action), Text)}

    def stats(self) -> dict[str, Any]:
        with self._lock:
            finished = [e.finished for e in self.log if e.finished is not None]
            return {
                "calls": len(self.log),
                "first_request": min((e.started for e in self.log), default=None),
                "last_reply": max(finished, default=None),
                "limits": self.limits.stats() if self.limits else None,
            }

    def register(self, api: str, body: dict[str, Any]) -> tuple[LoggedCall, Action]:
        prompt = last_prompt(body)
        with self._lock:
            self.calls[prompt] += 1
            call = Call(api, prompt, str(body.get("model")), self.calls[prompt], body)
        action = self.script(call)
        entry = LoggedCall(call, action, time.monotonic())
        with self._lock:
            self.log.append(entry)
        return entry, action


def _final(action: Action) -> Action:
    while isinstance(action, Delay):
        action = action.then
    return action


def _content_text(content: Any) -> str:
    if isinstance(content, list):  # Anthropic content blocks
        return "".join(block.get("text", "") for block in content if isinstance(block, dict))
    return str(content or "")


def last_prompt(body: dict[str, Any]) -> str:
    """The last message's text: what a script is told as the call's prompt."""
    messages = body.get("messages") or []
    return _content_text(messages[-1].get("content")) if messages else ""


def _completion(api: str, version: str, body: dict[str, Any], reply: Text) -> dict[str, Any]:
    text, prompt = reply.text, last_prompt(body)
    input_tokens, output_tokens = request_tokens(api, body), count_tokens(text or "")
    if api == "anthropic":
        return {
            "id": "msg_fake", "type": "message", "role": "assistant", "model": version,
            "content": [] if text is None else [{"type": "text", "text": text}],
            "stop_reason": reply.finish_reason or "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        }
    choice = {"index": 0, "message": {"role": "assistant", "content": text},
              "finish_reason": reply.finish_reason or "stop"}
    if body.get("logprobs") and text is not None:
        choice["logprobs"] = _logprobs(prompt, text)
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": version,
        "choices": [choice],
        "usage": {"prompt_tokens": input_tokens, "completion_tokens": output_tokens,
                  "total_tokens": input_tokens + output_tokens},
    }


def _error_body(api: str, status: Status) -> dict[str, Any]:
    if api == "anthropic":
        return {"type": "error", "error": {"type": "api_error", "message": status.message}}
    return {"error": {"message": status.message, "type": "fake_error", "code": None}}


def _handler_for(server: FakeLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' connection pools expect
        disable_nagle_algorithm = True  # else headers and body in two writes cost a 40 ms delayed ACK

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            pass

        def _send(self, code: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, code: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            self._send(code, json.dumps(payload).encode("utf-8"), "application/json", headers)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path == "/_stats":
                self._json(200, server.stats())
            elif not server.batches.handle(self, "GET"):
                self._json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path == "/_reset":
                server.reset()
                self._json(200, {})
                return
            if server.batches.handle(self, "POST", raw):
                return
            api = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}.get(self.path.split("?")[0])
            if api is None:
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            if server.api_key is not None:
                given = self.headers.get("x-api-key") or self.headers.get("Authorization", "").removeprefix(
                    "Bearer ")
                if given != server.api_key:
                    self._json(401, _error_body(api, Status(401, "invalid x-api-key")))
                    return
            body = json.loads(raw)
            admission = server.limits.admit(api, body) if server.limits else None
            if admission is not None and not admission.allowed:
                self._json(429, _error_body(api, Status(429, "rate limit exceeded")), admission.headers)
                return
            entry, action = server.register(api, body)
            try:
                self._act(api, body, action, admission)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                self.close_connection = True
            entry.finished = time.monotonic()

        def _act(self, api: str, body: dict[str, Any], action: Action, admission: Admission | None) -> None:
            headers = admission.headers if admission else None
            while isinstance(action, Delay):
                time.sleep(action.seconds)
                action = action.then
            if admission is not None:  # the request ends: Anthropic gives back the output it did not use
                text = action.text if isinstance(action, Text) else None
                server.limits.finish(admission, count_tokens(text or ""))
            if isinstance(action, Text):
                version = server.version_of(str(body.get("model")))
                self._json(200, _completion(api, version, body, action), headers)
            elif isinstance(action, Status):
                self._json(action.code, _error_body(api, action), action.headers)
            elif isinstance(action, Garbage):
                self._send(200, action.body.encode("utf-8"), "application/json")
            else:  # Drop (and Expired, which only a batch item can be)
                self.close_connection = True

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each reply")
    parser.add_argument("--rpm", type=float, default=None, help="requests per minute (both wire formats)")
    parser.add_argument("--tpm", type=float, default=None, help="OpenAI: tokens per minute, prompt + max_tokens")
    parser.add_argument("--itpm", type=float, default=None, help="Anthropic: input tokens per minute")
    parser.add_argument("--otpm", type=float, default=None, help="Anthropic: output tokens per minute")
    parser.add_argument("--quantum", type=float, default=1.0, help="seconds over which limits are enforced too")
    parser.add_argument("--no-headers", action="store_true", help="enforce the limits without rate-limit headers")
    parser.add_argument("--fail", type=int, default=None, help="answer every completion with this status (503, 529)")
    args = parser.parse_args()

    def script(call: Call) -> Action:
        reply: Action = verdict_reply(call.prompt)
        if args.fail:
            reply = Status(args.fail, {529: "Overloaded"}.get(args.fail, "The server is temporarily unavailable"))
        return Delay(args.delay, reply) if args.delay else reply

    limited = any(x is not None for x in (args.rpm, args.tpm, args.itpm, args.otpm))
    limits = ProviderLimits(args.rpm, args.tpm, args.itpm, args.otpm, args.quantum,
                            headers=not args.no_headers) if limited else None
    server = FakeLLMServer(script, limits=limits)
    print(server.url, flush=True)
    server._httpd.serve_forever()


if __name__ == "__main__":
    main()
