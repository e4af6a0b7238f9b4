"""Classifier judges (HHEM, MiniCheck, NLI cross-encoders) in process with ``transformers``.

Three model shapes share one path: a sequence classifier (two-way supported /
unsupported or three-way entailment / neutral / contradiction), HHEM's own
class (a sequence classifier from ``trust_remote_code`` with a prompt
``template``), and a seq2seq scorer such as MiniCheck-Flan-T5, whose support is
the probability of the "supported" token against the "unsupported" one at the
first decoder step. What each row becomes is in ``classifier_inputs``.

Every chunk of every row is encoded first, then sorted by length and cut into
dynamic batches bounded by padded tokens (``max_batch_tokens``) and rows
(``batch_size``): similar lengths pad little, and a batch of short rows can be
wide while one of long rows stays narrow. Batches run under
``torch.inference_mode()`` in a worker thread; a row's reply is yielded as soon
as its last chunk is scored, so the cache keeps it even if the run stops.

The reply's text is the verdict as JSON the project's parser reads, and
``Reply.score`` the support probability (the task's first label: PASS,
Entailment). The verdict is ``score >= threshold`` (the model card's, 0.5
unless stated) on two-label tasks; a three-way model on a three-label task
answers its own classes (Entailment when some chunk entails, else
Contradiction when some chunk contradicts, else Neutral). A hypothesis judged
sentence by sentence (too long as a whole) has the minimum support over its
sentences, and on three labels is Entailment only when every sentence is,
else Contradiction when one is, else Neutral.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from halubench.backends._base import Judge, JudgeRequest, Reply
from halubench.backends._classifier_inputs import Pair, chunk_spans, hypothesis_rule, label_roles, render_pair
from halubench.backends._judge_spec import JudgeSpec
from halubench.backends._model_snapshot import model_fingerprint
from halubench.backends._settings import TransformersSettings
from halubench.errors import ConfigError, JudgeError

if TYPE_CHECKING:
    from halubench.data import TaskSpec

SEQ2SEQ_TOKENS = {"not_entailment": "0", "entailment": "1"}  # MiniCheck-Flan-T5's label words
MARGIN_TOKENS = 4  # re-tokenising a chunk cut at a token boundary can add a token or two
MIN_PREMISE_TOKENS = 16  # below this, the hypothesis leaves the passage no room: too long


# What a cached reply was computed by, beyond the settings: a hypothesis too long as a whole was once
# "too long"; now it is judged by sentence, so replies cached before that are not reused.
LONG_HYPOTHESIS = "min over sentences"
Windows = list[dict[str, list[int]]]  # the encoded inputs of one hypothesis against the passage's windows
_Item = tuple[int, int, dict[str, list[int]]]  # (row, hypothesis of the row, encoded input)


@dataclass
class _Row:
    request: JudgeRequest
    pending: int = 0
    probs: list[list[list[float]]] = field(default_factory=list)  # per hypothesis (sentence), per window
    tokens: int = 0
    compute_s: float = 0.0


class TransformersJudge(Judge):
    """``concurrency`` is ignored: batches are formed here, by tokens."""

    def __init__(self, spec: JudgeSpec):
        super().__init__(spec)
        self.settings: TransformersSettings = spec.settings
        self.local_path = Path(self.settings.model).expanduser()
        self.is_local = self.local_path.is_dir()
        self.architecture = self.settings.architecture  # None until start() reads the model's config
        self.rule = hypothesis_rule("halubench")
        self._model: Any = None
        self._tokenizer: Any = None
        self._roles: list[str] = []
        self._token_ids: list[int] = []
        self._max_length = 0
        self._device: Any = None
        self._version: str | None = None

    def preflight(self) -> None:
        """Without torch and transformers nothing can run: say so before any data is loaded."""
        missing = [name for name in ("torch", "transformers") if importlib.util.find_spec(name) is None]
        if missing:
            raise JudgeError(f"judge {self.spec.name} needs {' and '.join(missing)}: "
                             f"pip install 'halubench[transformers]' (CPU only: pip install torch==2.13.0 first)")

    def bind_task(self, task: TaskSpec) -> None:
        self.rule = hypothesis_rule(task.loader)

    def cache_identity(self) -> Mapping[str, Any]:
        """Weights, ``reply_settings()`` (never device or batch sizes: their ``not_reply``) and the pair rule."""
        settings = self.spec.reply_settings()
        weights = ({"path": str(self.local_path.resolve()), "fingerprint": model_fingerprint(self.local_path)}
                   if self.is_local else {"revision": self.settings.revision})
        return {"provider": "transformers", **settings, **weights, "pair": self.rule,
                "long_hypothesis": LONG_HYPOTHESIS}

    async def start(self) -> None:
        import torch
        import transformers

        transformers.utils.logging.disable_progress_bar()  # the run's own progress bar is the one to watch
        settings = self.settings
        source = {"revision": settings.revision, "trust_remote_code": settings.trust_remote_code}
        try:
            config = transformers.AutoConfig.from_pretrained(self.spec.model, **source)
            if self.architecture is None:
                self.architecture = "seq2seq" if config.is_encoder_decoder else "sequence-classification"
            if self.architecture == "sequence-classification":  # before the weights: a bad mapping fails fast
                self._roles = label_roles(config.id2label or {}, settings.labels, self.spec.name)
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(
                settings.tokenizer or self.spec.model, revision=settings.revision)
            auto = (transformers.AutoModelForSeq2SeqLM if self.architecture == "seq2seq"
                    else transformers.AutoModelForSequenceClassification)
            dtype = getattr(torch, settings.dtype)
            model = auto.from_pretrained(self.spec.model, dtype=dtype, **source)
        except (OSError, ValueError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise JudgeError(f"judge {self.spec.name}: could not load {self.spec.model} ({reason})") from None
        if not self._tokenizer.is_fast:
            raise ConfigError(f"judge {self.spec.name}: chunking needs a fast tokenizer; {self.spec.model} has none")
        device = settings.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self._device = torch.device(device)
        self._model = model.to(self._device).eval()
        self._max_length = self._window(config)
        if self.architecture == "seq2seq":
            tokens = {**SEQ2SEQ_TOKENS, **(settings.label_tokens or {})}
            self._roles = list(tokens)
            self._token_ids = [self._token_id(tokens[role]) for role in self._roles]
        self._version = (f"{self.local_path.name}@{model_fingerprint(self.local_path)[:12]}" if self.is_local
                         else f"{self.spec.model}@{settings.revision or 'main'}")

    def _window(self, config: Any) -> int:
        """Tokens one input may hold: the judge's ``max_length``, else the tokenizer's, else the model's."""
        for value in (self.settings.max_length, self._tokenizer.model_max_length,
                      getattr(config, "max_position_embeddings", None)):
            if isinstance(value, int) and 0 < value < 1_000_000:
                return value
        raise ConfigError(f"judge {self.spec.name}: {self.spec.model} states no input window; set max_length")

    def _token_id(self, token: int | str) -> int:
        """A label token given as an id, or as text (its first token, as MiniCheck reads '0' and '1')."""
        if isinstance(token, int):
            return token
        ids = self._tokenizer(str(token), add_special_tokens=False)["input_ids"]
        if not ids:
            raise ConfigError(f"judge {self.spec.name}: label token {token!r} encodes to nothing")
        return ids[0]

    def _encode(self, pair: Pair) -> dict[str, list[int]]:
        template = self.settings.template
        if template is not None:
            encoded = self._tokenizer(template.format(premise=pair.premise, hypothesis=pair.hypothesis))
        else:
            encoded = self._tokenizer(pair.premise, pair.hypothesis)
        return {k: v for k, v in encoded.items() if k in ("input_ids", "attention_mask", "token_type_ids")}

    def chunks(self, pair: Pair) -> list[Windows] | str:
        """The encoded windows of one row, per hypothesis, each within the model's window: the whole
        hypothesis, or when it leaves the passage no room, each of its sentences; or why none fits."""
        offsets = self._tokenizer(pair.premise, add_special_tokens=False, return_offsets_mapping=True,
                                  verbose=False)["offset_mapping"]  # longer than the window on purpose
        whole = self._windows(pair.premise, offsets, pair.hypothesis)
        if not isinstance(whole, int):
            return [whole]
        if not pair.sentences:
            return self._too_long("the hypothesis", whole)
        groups = []
        for sentence in pair.sentences:
            windows = self._windows(pair.premise, offsets, sentence)
            if isinstance(windows, int):
                return self._too_long(f"one of the hypothesis's {len(pair.sentences)} sentences", windows)
            groups.append(windows)
        return groups

    def _too_long(self, what: str, tokens: int) -> str:
        return (f"{what} takes {tokens} of {self.spec.name}'s {self._max_length} tokens, "
                f"leaving the passage fewer than {MIN_PREMISE_TOKENS}")

    def _windows(self, premise: str, offsets: Sequence[tuple[int, int]], hypothesis: str) -> Windows | int:
        """``hypothesis`` against each window of the premise; or the tokens it takes when that leaves the
        premise too little room."""
        overhead = len(self._encode(Pair("", hypothesis))["input_ids"])
        budget = self._max_length - overhead - MARGIN_TOKENS
        if self.settings.chunk_tokens:
            budget = min(budget, self.settings.chunk_tokens)
        while budget >= MIN_PREMISE_TOKENS:
            spans = chunk_spans(offsets, len(premise), budget, self.settings.chunk_overlap)
            encoded = [self._encode(Pair(premise[a:b], hypothesis)) for a, b in spans]
            longest = max(len(e["input_ids"]) for e in encoded)
            if longest <= self._max_length:
                return encoded
            budget -= longest - self._max_length  # re-tokenising drifted past the margin: smaller windows
        return overhead

    def _batches(self, items: list[_Item]) -> list[list[_Item]]:
        """Length-sorted batches whose padded size stays within ``max_batch_tokens``."""
        items = sorted(items, key=lambda item: len(item[2]["input_ids"]))
        batches: list[list[_Item]] = []
        current: list[_Item] = []
        for item in items:
            width = len(item[2]["input_ids"])
            if current and (len(current) >= self.settings.batch_size
                            or (len(current) + 1) * width > self.settings.max_batch_tokens):
                batches.append(current)
                current = []
            current.append(item)
        if current:
            batches.append(current)
        return batches

    def _probabilities(self, encoded: list[dict[str, list[int]]]) -> list[list[float]]:
        """Class probabilities per input, in the order of ``self._roles``."""
        import torch

        batch = self._tokenizer.pad(encoded, return_tensors="pt").to(self._device)
        with torch.inference_mode():
            if self.architecture == "seq2seq":
                start = self._model.config.decoder_start_token_id or 0
                decoder = torch.full((batch["input_ids"].shape[0], 1), start, dtype=torch.long, device=self._device)
                logits = self._model(**batch, decoder_input_ids=decoder).logits[:, 0, self._token_ids]
            else:
                logits = self._model(**batch).logits
            return torch.softmax(logits.float(), dim=-1).cpu().tolist()

    async def stream(self, requests: Sequence[JudgeRequest], concurrency: int) -> AsyncIterator[Reply]:
        rows: list[_Row] = []
        items: list[_Item] = []
        for request in requests:
            groups = self.chunks(render_pair(request.fields, self.rule))
            if isinstance(groups, str):
                yield Reply(request.key, too_long=True, error=groups, model_version=self._version)
                continue
            encoded = [e for windows in groups for e in windows]
            row = _Row(request, pending=len(encoded), tokens=sum(len(e["input_ids"]) for e in encoded),
                       probs=[[] for _ in groups])
            items.extend((len(rows), group, e) for group, windows in enumerate(groups) for e in windows)
            rows.append(row)
        for batch in self._batches(items):
            started = time.perf_counter()
            probs = await asyncio.to_thread(self._probabilities, [e for _, _, e in batch])
            share = (time.perf_counter() - started) / len(batch)
            for (index, group, _), window_probs in zip(batch, probs, strict=True):
                row = rows[index]
                row.probs[group].append(window_probs)
                row.compute_s += share
                row.pending -= 1
                if row.pending == 0:
                    yield self._reply(row)

    def _reply(self, row: _Row) -> Reply:
        """Support = min over hypotheses (sentences) of the max over windows of P(entailment); the verdict
        as the parser reads it."""
        labels = row.request.labels
        entail = self._roles.index("entailment")
        support = min(max(p[entail] for p in windows) for windows in row.probs)
        if len(labels) == 3 and len(self._roles) == 3:
            found = {self._role(windows) for windows in row.probs}
            role = next(r for r in ("contradiction", "neutral", "entailment") if r in found)  # every sentence holds
            verdict = labels[("entailment", "neutral", "contradiction").index(role)]
        elif len(labels) in (2, 3):
            verdict = labels[0] if support >= self.settings.threshold else labels[-1]
        else:
            raise ConfigError(f"judge {self.spec.name} answers tasks with 2 or 3 labels, not {list(labels)}")
        reply = {"SCORE": verdict, "SUPPORT": round(support, 6), "CHUNKS": sum(map(len, row.probs))}
        if len(row.probs) > 1:
            reply["SENTENCES"] = len(row.probs)
        return Reply(row.request.key, text=json.dumps(reply), score=support, latency_s=row.compute_s,
                     input_tokens=row.tokens, model_version=self._version)

    def _role(self, windows: list[list[float]]) -> str:
        """A three-way model's answer for one hypothesis: entailed when some window entails it, else
        contradicted when some window contradicts it, else neutral."""
        winners = {self._roles[max(range(3), key=p.__getitem__)] for p in windows}
        return next(r for r in ("entailment", "contradiction", "neutral") if r in winners)

    async def close(self) -> None:
        self._model = None
