"""Quantized GGUF judges (Lynx Q4_K_M, any GGUF file) on llama.cpp, in this process, CPU or GPU.

``gguf:PATH`` or ``gguf:owner/repo/file.gguf`` (or a judge file with
``backend: llamacpp``) loads the file with llama-cpp-python (``pip install
'halubench[gguf]'``). Prompts are rendered with the chat template the GGUF
file carries (``tokenizer.chat_template``; or a ``.jinja`` file beside the
judge file) by llama-cpp-python's own ``Jinja2ChatFormatter``, as its
``create_chat_completion`` renders them, and counted with the model's own
tokenizer: a prompt that does not fit ``n_ctx`` is ``too_long`` and never
decoded. Decoding is greedy with at most 600 new tokens unless the judge file
says otherwise; a reply ends at the model's end-of-generation tokens.

The rows go to ``LlamaCppEngine`` all at once (shared prefixes, parallel
sequences) and each reply is handed to the runner the step it ends, so the
reply cache holds it at once and a killed run resumes where it stopped.
``latency_s`` runs from a row's admission to its last token.

What answered is named by content: the identity (run configuration and reply
cache) holds the GGUF file's sha256, the chat template's sha256, the context
and the decoding settings, never the path, so a copy of the file is the same
judge and a Q4 and a Q8 of one model are two. All of it is read from the file
without llama.cpp, so a fully cached re-run loads no model.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halubench.backends._base import Judge, JudgeRequest, Reply
from halubench.backends._gguf_file import (
    GgufReference,
    chat_template,
    context_length,
    file_sha256,
    locate,
    parse_reference,
    read_metadata,
)
from halubench.backends._judge_spec import JudgeSpec
from halubench.backends._llamacpp_engine import LlamaCppEngine
from halubench.backends._model_snapshot import text_sha256
from halubench.backends._settings import LlamaCppSettings
from halubench.errors import ConfigError, JudgeError

INSTALL_HINT = ("pip install 'halubench[gguf]' (llama-cpp-python; it compiles llama.cpp), or serve the file with "
                "llama-server or Ollama and judge through it with openai:<model> --base-url")
# Where the file came from, not what it is: the identity names the content instead.
LOCATION_KEYS = ("model", "file", "revision", "chat_template")


@dataclass(frozen=True)
class GgufFacts:
    """What a judge's file is, read from disk once: where, its sha256, template and context."""

    path: Path
    sha256: str
    chat_template: str
    n_ctx: int


class LlamaCppJudge(Judge):
    """A GGUF file on llama-cpp-python; ``concurrency`` is ignored (``n_parallel`` rows decode together)."""

    def __init__(self, spec: JudgeSpec):
        super().__init__(spec)
        self.settings: LlamaCppSettings = spec.settings
        self.where = f"judge {spec.name}"
        self.reference: GgufReference = parse_reference(self.settings.model, self.settings.file,
                                                        self.settings.revision, self.where)
        self._template_override = self._read_chat_template(self.settings.chat_template)
        self._facts: GgufFacts | None = None
        self._engine: LlamaCppEngine | None = None

    def _read_chat_template(self, reference: str | None) -> str | None:
        """None keeps the file's own template; else a Jinja file (relative to the judge file)."""
        if not reference:
            return None
        path = Path(reference).expanduser()
        if not path.is_absolute() and self.spec.source is not None:
            path = self.spec.source.parent / path
        if not path.is_file():
            raise ConfigError(f"{self.where}: chat_template file {path} does not exist")
        return path.read_text(encoding="utf-8")

    def preflight(self) -> None:
        """No llama-cpp-python, no file, not GGUF, no chat template: one line now, before any data is loaded."""
        if importlib.util.find_spec("llama_cpp") is None:
            raise JudgeError(f"{self.where} runs on llama.cpp, which is not installed: {INSTALL_HINT}")
        self.facts()

    def facts(self) -> GgufFacts:
        """The file on disk (downloaded from the hub once), its sha256, chat template and context."""
        if self._facts is None:
            path = locate(self.reference, self.where)
            metadata = read_metadata(path)
            template = self._template_override or chat_template(metadata)
            if template is None:
                raise ConfigError(f"{self.where}: {path.name} carries no chat template; give one as "
                                  f"chat_template: a .jinja file beside the judge file")
            n_ctx = self.settings.n_ctx or context_length(metadata)
            if n_ctx is None:
                raise ConfigError(f"{self.where}: {path.name} does not say its context length; set n_ctx")
            self._facts = GgufFacts(path, file_sha256(path), template, n_ctx)
        return self._facts

    def config_identity(self) -> dict[str, Any]:
        """Settings that change a reply, with the file, template, context and decoding named by content."""
        facts = self.facts()
        given = {k: v for k, v in self.spec.reply_settings().items() if k not in LOCATION_KEYS}
        return {**given, "gguf_sha256": facts.sha256, "chat_template_sha256": text_sha256(facts.chat_template),
                "n_ctx": facts.n_ctx, "flash_attn": self.settings.flash_attn,
                "generation": self.settings.generation.model_dump()}

    def cache_identity(self) -> Mapping[str, Any]:
        return self.config_identity()

    @property
    def model_version(self) -> str:
        """The file a reply came from: its name (hub: repository and path) and its sha256."""
        shown = self.reference.shown if self.reference.repo else self.facts().path.name
        return f"{shown}@sha256:{self.facts().sha256[:12]}"

    async def start(self) -> None:
        facts = self.facts()
        try:
            self._engine = LlamaCppEngine(facts.path, self.settings, facts.n_ctx)
        except ImportError:
            raise JudgeError(f"{self.where} runs on llama.cpp, which is not installed: {INSTALL_HINT}") from None
        except JudgeError as exc:
            raise JudgeError(f"{self.where}: {exc}") from None

    def _render(self, engine: LlamaCppEngine, template: Any, request: JudgeRequest) -> list[int]:
        return engine.tokenize(template(messages=list(request.messages)).prompt)

    async def stream(self, requests: Sequence[JudgeRequest], concurrency: int) -> AsyncIterator[Reply]:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        engine, facts, version = self._engine, self.facts(), self.model_version
        assert engine is not None, "start() loads the model"
        template = Jinja2ChatFormatter(facts.chat_template, eos_token=engine.token_text(engine.eos),
                                       bos_token=engine.token_text(engine.bos))
        fitting = []
        for request in requests:
            ids = self._render(engine, template, request)
            if len(ids) < facts.n_ctx:
                fitting.append((request.key, ids))
                continue
            yield Reply(request.key, too_long=True, input_tokens=len(ids), model_version=version,
                        error=f"prompt has {len(ids)} tokens; {self.spec.name} takes at most "
                              f"{facts.n_ctx - 1} (n_ctx {facts.n_ctx})")
        for ended in engine.run(fitting):
            for done in ended:
                yield Reply(done.key, text=done.text, latency_s=done.latency_s, input_tokens=done.prompt_tokens,
                            output_tokens=done.output_tokens, model_version=version,
                            finish_reason=done.finish_reason)
            await asyncio.sleep(0)  # a step at a time: Ctrl-C cancels between two llama_decode calls

    def timings(self) -> dict[str, float]:
        """Where this judge's time went so far: prompt tokens evaluated and reused, tokens generated,
        llama_decode calls and seconds (empty before ``start``)."""
        return dict(self._engine.stats) if self._engine is not None else {}

    async def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
