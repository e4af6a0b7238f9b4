"""Anthropic's Messages API, and any server that speaks it.

Key from ``ANTHROPIC_API_KEY`` (or the variable named by ``api_key_env``),
endpoint from the judge file's ``base_url`` / ``--base-url``, else
``ANTHROPIC_BASE_URL``, else Anthropic's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from halubench.backends._api_judge import ApiJudge, Completion, MalformedResponse
from halubench.backends._base import JudgeRequest


class AnthropicJudge(ApiJudge):
    sdk_module = "anthropic"
    provider = "anthropic"
    key_env = "ANTHROPIC_API_KEY"
    base_url_env = "ANTHROPIC_BASE_URL"
    default_base_url = "https://api.anthropic.com"

    def make_client(self, api_key: str, base_url: str, timeout_s: float) -> Any:
        return self.sdk.AsyncAnthropic(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=0,
                                        http_client=self.http_client())

    def create_function(self) -> Callable[..., Any]:
        return self.client.messages.create

    async def call(self, request: JudgeRequest) -> Completion:
        system = "\n\n".join(m["content"] for m in request.messages if m["role"] == "system")
        messages = [m for m in request.messages if m["role"] != "system"]
        extra = {"system": system} if system else {}
        response = await self.client.messages.create(
            model=self.spec.model, messages=messages, **extra, **self.call_kwargs
        )
        content = getattr(response, "content", None)
        if content is None:
            raise MalformedResponse("no content in the message")
        usage = response.usage
        return Completion(
            text="".join(getattr(block, "text", "") for block in content if block.type == "text"),
            input_tokens=usage.input_tokens if usage else None,
            output_tokens=usage.output_tokens if usage else None,
            model_version=response.model,
            finish_reason=response.stop_reason,
        )
