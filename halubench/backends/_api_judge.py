"""What every API judge shares: credentials, endpoint, cache identity, context check, retries.

A provider module (``openai_api``, ``anthropic_api``) only says how to build its
SDK's async client, how to make one call, and how to read that SDK's errors;
this class turns that into a judge that checks its key before any row, answers
each row with a ``Reply`` (text, error or too-long, never a guessed verdict) and
stops the run on faults no retry can fix.

Judge file keys read here (all optional besides ``model``):
``base_url``, ``api_key_env`` (the variable holding the key, default the SDK's
own), ``generation`` (the request body's sampling fields: ``temperature``,
``max_tokens``, ``stop``, ... sent as the SDK's keyword arguments where it has
one, else in ``extra_body``, so a server's own fields pass through too),
``context_window`` (tokens), ``retry`` (see ``RetryPolicy``), ``rate_limit``
(per-minute limits for a server that sends no rate-limit headers).

Every call waits its turn in the judge's ``RateLimiter``, which reads the
provider's rate-limit headers from every reply (an httpx response hook on the
SDK's client), so a high ``--concurrency`` paces itself to the key's limits;
each call is charged what the provider counts when it is sent (``rate_costs``),
with the prompt's tokens counted at the provider's own ratio of tokens to bytes,
learned from the replies' ``usage``. An ``OutageWatch`` stops the run when the
endpoint has answered nothing but server errors for ``retry.outage_after_s``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import os
import random
import time
from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from halubench.backends._base import JudgeRequest, Reply, RequestJudge
from halubench.backends._judge_spec import JudgeSpec
from halubench.backends._outage import OutageWatch
from halubench.backends._ratelimit import RateLimiter, TokensPerByte
from halubench.backends._retry import Fault, RetryPolicy, call_with_retries, classify_status
from halubench.backends._settings import ApiSettings
from halubench.errors import JudgeError

# A lower bound on tokens: BPE vocabularies of current models average about four
# bytes of English per token and rarely exceed eight, so bytes / 8 undercounts.
# Undercounting is the safe side: a row flagged here is surely too long, and a
# borderline row is sent and the server's own "context length exceeded" error
# marks it too long instead.
BYTES_PER_TOKEN_BOUND = 8
MESSAGE_OVERHEAD_TOKENS = 4
# Fail fast: this many connection-level failures (refused, unresolvable, reset) before any call
# has succeeded mean the endpoint is wrong or down, not busy. Five first attempts fail within
# milliseconds at any concurrency above 4, and within about 15 s of backoff at concurrency 1.
UNREACHABLE_AFTER = 5


def prompt_bytes(messages: tuple[Mapping[str, str], ...]) -> int:
    return sum(len(m["content"].encode("utf-8")) for m in messages)


def estimate_prompt_tokens(messages: tuple[Mapping[str, str], ...]) -> int:
    """A lower bound on the prompt's tokens, for models without a local tokenizer."""
    return math.floor(prompt_bytes(messages) / BYTES_PER_TOKEN_BOUND) + MESSAGE_OVERHEAD_TOKENS * len(messages)


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int | None
    output_tokens: int | None
    model_version: str | None
    finish_reason: str | None  # the provider's stop reason, verbatim
    score: float | None = None  # P(first label) from token log-probabilities, where the API gave them


class MalformedResponse(Exception):
    """A 200 reply without the parts a completion must have (no choices, no content blocks)."""


class ApiJudge(RequestJudge):
    sdk_module: str  # the SDK's module, imported on first use: a run answered from the cache never imports it
    provider: str  # "openai", "anthropic": the cache identity's provider
    key_env: str  # the SDK's own variable for the key
    base_url_env: str  # the SDK's own variable for the endpoint
    default_base_url: str

    def __init__(self, spec: JudgeSpec):
        super().__init__(spec)
        settings: ApiSettings = spec.settings
        self.retry: RetryPolicy = settings.retry
        self.generation = settings.request_generation()
        self.context_window = settings.context_window
        self.key_variable = settings.api_key_env or self.key_env
        configured = settings.base_url
        self.base_url = (configured or os.environ.get(self.base_url_env) or self.default_base_url).rstrip("/")
        # A server named in the judge file or by --base-url (vLLM, Ollama, ...) often needs no key.
        self.key_optional = bool(configured)
        self.client: Any = None
        self._api_key = ""
        self.call_kwargs: dict[str, Any] = {}
        self._rng = random.Random()
        self.limiter = RateLimiter(settings.rate_limit.per_minute() if settings.rate_limit else None)
        self.tokens_per_byte = TokensPerByte()
        self.outage = OutageWatch(spec.name, self.base_url, self.retry.outage_after_s)
        self._succeeded = False
        self._connection_failures = 0

    @property
    def sdk(self) -> Any:
        """The SDK module: its client, and the exception classes ``classify`` reads."""
        return importlib.import_module(self.sdk_module)

    @property
    def endpoint(self) -> str:
        return self.base_url

    def cache_identity(self) -> Mapping[str, Any]:
        """The judge's reply settings, with the endpoint and generation as resolved for this run."""
        return {**self.spec.reply_settings(), "base_url": self.base_url, "generation": self.generation}

    def preflight(self) -> None:
        if not os.environ.get(self.key_variable) and not self.key_optional:
            raise JudgeError(
                f"judge {self.spec.name} needs an API key: set {self.key_variable} "
                f"(endpoint {self.base_url})"
            )

    async def start(self) -> None:
        self.preflight()
        key = os.environ.get(self.key_variable, "")
        self._api_key = key
        # Local servers without auth accept any key; the SDKs refuse an empty one.
        self.client = self.make_client(key or "EMPTY", self.base_url, self.retry.request_timeout_s)
        self.call_kwargs = sdk_arguments(self.generation, self.create_function())

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None

    @abstractmethod
    def make_client(self, api_key: str, base_url: str, timeout_s: float) -> Any:
        """The SDK's async client, with its own retries off (``max_retries=0``)."""

    def http_client(self) -> Any:
        """The SDK's default httpx client, with hooks that time each request and show its reply's headers
        to the limiter."""

        async def stamp(request: Any) -> None:
            request.extensions["halubench_sent"] = self.limiter.stamp()

        async def observe(response: Any) -> None:
            sent = response.request.extensions.get("halubench_sent")
            self.limiter.observe(response.headers, response.status_code, sent)

        return self.sdk.DefaultAsyncHttpxClient(event_hooks={"request": [stamp], "response": [observe]})

    def rate_costs(self, request: JudgeRequest) -> dict[str, float]:
        """What one call takes from each rate-limit bucket when it is sent, as the providers count it:
        OpenAI's tokens are the prompt plus ``max_tokens``; Anthropic's input tokens the prompt and its
        output tokens ``max_tokens`` (what was not generated is given back when the call ends)."""
        prompt = self.tokens_per_byte.tokens(prompt_bytes(request.messages))
        output = self.max_new_tokens()
        return {"requests": 1, "tokens": prompt + output, "input-tokens": prompt, "output-tokens": output}

    @abstractmethod
    def create_function(self) -> Callable[..., Any]:
        """The SDK method one call goes through: its parameters decide which settings are named arguments."""

    @abstractmethod
    async def call(self, request: JudgeRequest) -> Completion:
        """One call to the API, raising the SDK's exceptions."""

    def classify(self, exc: BaseException) -> Fault | None:
        """An SDK exception as a fault; None for anything else (a bug, which propagates).

        Both official SDKs raise the same family: ``APIStatusError`` (with the
        status, headers and body), ``APIConnectionError`` (dropped connections;
        ``APITimeoutError`` is a subclass) and ``APIError`` for a reply the SDK
        could not read.
        """
        sdk = self.sdk
        if isinstance(exc, sdk.APIStatusError):
            message = error_message(exc.body, exc.message)
            fault = classify_status(exc.status_code, message, exc.response.headers)
            if exc.status_code >= 500:
                self.outage.failed(Fault(fault.kind, self._redact(fault.reason)))
            return fault
        if isinstance(exc, sdk.APITimeoutError):
            fault = Fault("retry", f"no reply within {self.retry.request_timeout_s:g} s")
        elif isinstance(exc, sdk.APIConnectionError):
            fault = Fault("retry", f"connection failed ({type(exc.__cause__ or exc).__name__})")
            self._note_connection_failure(fault.reason)
        elif isinstance(exc, (sdk.APIError, MalformedResponse, json.JSONDecodeError)):
            fault = Fault("retry", f"unreadable response: {exc}")
        else:
            return None
        self.outage.failed(fault)
        return fault

    def _note_connection_failure(self, reason: str) -> None:
        """Stop the run when the endpoint has never answered and keeps refusing connections."""
        self._connection_failures += 1
        if not self._succeeded and self._connection_failures >= UNREACHABLE_AFTER:
            raise JudgeError(
                f"judge {self.spec.name}: cannot reach {self.base_url}: {reason} on the first "
                f"{self._connection_failures} attempts and no call has succeeded; check the endpoint "
                f"(--base-url, the judge file's base_url or {self.base_url_env}) and that the server is running"
            )

    def max_new_tokens(self) -> int:
        return self.generation.get("max_tokens") or self.generation.get("max_completion_tokens") or 0

    def prompt_tokens_at_least(self, messages: tuple[Mapping[str, str], ...]) -> int:
        """A lower bound on the prompt's tokens; a judge with the model's tokenizer can count exactly."""
        return estimate_prompt_tokens(messages)

    def _too_long(self, request: JudgeRequest) -> Reply | None:
        if not self.context_window:
            return None
        tokens = self.prompt_tokens_at_least(request.messages)
        if tokens + self.max_new_tokens() <= self.context_window:
            return None
        return Reply(
            request.key, too_long=True,
            error=f"prompt of at least {tokens} tokens + {self.max_new_tokens()} new tokens exceeds "
                  f"the context window of {self.context_window}",
        )

    def _redact(self, text: str) -> str:
        # Servers echo parts of a rejected key; a short placeholder key ("x") is no secret.
        return text.replace(self._api_key, "***") if len(self._api_key) >= 8 else text

    def _fatal(self, fault: Fault) -> JudgeError:
        status = fault.reason.split(":", 1)[0]
        advice = {
            "HTTP 401": f"check {self.key_variable}",
            "HTTP 403": f"the key in {self.key_variable} may lack access to this model",
            "HTTP 404": f"check the model id '{self.spec.model}' and the endpoint",
        }.get(status, "check the judge's model and generation settings")
        return JudgeError(
            f"judge {self.spec.name}: {self.base_url} refused the request ({self._redact(fault.reason)}); {advice}"
        )

    async def complete(self, request: JudgeRequest) -> Reply:
        too_long = self._too_long(request)
        if too_long is not None:
            return too_long
        timing: dict[str, float] = {}
        size, output = prompt_bytes(request.messages), self.max_new_tokens()

        async def attempt() -> Completion:
            self.outage.check()
            started = time.perf_counter()
            try:
                result = await self.call(request)
            except BaseException:
                self.limiter.refund({"output-tokens": output})  # nothing generated, nothing counted
                raise
            finally:
                self.limiter.settle()
            timing["latency_s"] = time.perf_counter() - started
            self.limiter.refund({"output-tokens": output - (result.output_tokens or 0)})
            self.tokens_per_byte.learn(size, result.input_tokens)
            self.outage.passed()
            self._succeeded = True
            return result

        result, fault, attempts = await call_with_retries(
            attempt, self.classify, self.retry, self._rng,
            before=lambda: self.limiter.acquire(lambda: self.rate_costs(request)), sleep=self.outage.sleep,
        )
        done = {"attempts": attempts, "mode": "sync"}
        if result is not None:
            return Reply(
                request.key, text=result.text, latency_s=timing["latency_s"],
                input_tokens=result.input_tokens, output_tokens=result.output_tokens,
                model_version=result.model_version, finish_reason=result.finish_reason,
                score=result.score, extra=done,
            )
        assert fault is not None
        if fault.kind == "fatal":
            raise self._fatal(fault)
        reason = self._redact(fault.reason)
        if fault.kind == "too_long":
            return Reply(request.key, too_long=True, error=reason, extra=done)
        return Reply(request.key, error=f"{reason} (gave up after {attempts} attempts)", extra=done)


def sdk_arguments(generation: Mapping[str, Any], function: Callable[..., Any]) -> dict[str, Any]:
    """Generation settings as keyword arguments of ``function``; the rest go in ``extra_body``.

    SDK releases differ in which body fields they name (some Anthropic releases
    have no ``temperature`` argument; vLLM's ``top_k`` is in neither SDK), but
    every field ends up in the same JSON body either way.
    """
    parameters = inspect.signature(function).parameters
    named = {k: v for k, v in generation.items() if k in parameters and k != "extra_body"}
    extra = {k: v for k, v in generation.items() if k not in parameters and k != "extra_body"}
    extra.update(generation.get("extra_body") or {})
    return {**named, "extra_body": extra} if extra else named


def error_message(body: object, fallback: str) -> str:
    """The human part of an error body in either SDK's shape ({"error": {"message": ...}})."""
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
        return json.dumps(body)[:300]
    if isinstance(body, str) and body:
        return body[:300]
    return fallback
