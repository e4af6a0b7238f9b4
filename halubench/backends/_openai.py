"""OpenAI chat completions, and any server that speaks them (vLLM, llama.cpp, Ollama, TGI).

Key from ``OPENAI_API_KEY`` (or the variable named by ``api_key_env``),
endpoint from the judge file's ``base_url`` / ``--base-url``, else
``OPENAI_BASE_URL``, else OpenAI's. ``OpenAIJudge(spec)`` is all a caller needs:
the vLLM server mode builds one from a spec whose settings carry the server's
``base_url``, its ``generation`` (``stop`` included) and ``context_window``.
With ``generation.logprobs: true`` and ``generation.top_logprobs: 5`` a reply
also carries a score (``halubench.backends``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from halubench.backends._api_judge import ApiJudge, Completion, MalformedResponse
from halubench.backends._base import JudgeRequest
from halubench.backends._judge_spec import JudgeSpec
from halubench.backends._logprobs import TokenChoice, first_label_probability


class OpenAIJudge(ApiJudge):
    sdk_module = "openai"
    provider = "openai"
    key_env = "OPENAI_API_KEY"
    base_url_env = "OPENAI_BASE_URL"
    default_base_url = "https://api.openai.com/v1"

    def __init__(self, spec: JudgeSpec):
        super().__init__(spec)
        # Reasoning models take max_completion_tokens instead; a judge file naming it wins.
        given = spec.settings.generation.model_fields_set
        if "max_completion_tokens" in given and "max_tokens" not in given:
            self.generation.pop("max_tokens")

    def make_client(self, api_key: str, base_url: str, timeout_s: float) -> Any:
        return self.sdk.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=0,
                                  http_client=self.http_client())

    def create_function(self) -> Callable[..., Any]:
        return self.client.chat.completions.create

    async def call(self, request: JudgeRequest) -> Completion:
        response = await self.client.chat.completions.create(
            model=self.spec.model, messages=list(request.messages), **self.call_kwargs
        )
        if not getattr(response, "choices", None):
            raise MalformedResponse("no choices in the completion")
        usage = response.usage
        return Completion(
            text=response.choices[0].message.content or "",
            input_tokens=usage.prompt_tokens if usage else None,
            output_tokens=usage.completion_tokens if usage else None,
            model_version=response.model,
            finish_reason=response.choices[0].finish_reason,
            score=_score(response.choices[0], request.labels),
        )


def _score(choice: Any, labels: tuple[str, ...]) -> float | None:
    """P(first label) at the verdict token when the request asked for ``logprobs`` and ``top_logprobs``."""
    content = getattr(getattr(choice, "logprobs", None), "content", None)
    if not content:
        return None
    tokens = [TokenChoice(t.token, [(a.token, a.logprob) for a in (t.top_logprobs or [])]) for t in content]
    return first_label_probability(tokens, labels)
