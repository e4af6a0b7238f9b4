"""llama.cpp decoding many rows at once from one KV cache, through llama-cpp-python's C API.

``Llama.create_chat_completion`` decodes one prompt at a time. A judge's rows
are known in advance and share most of their tokens (the instruction
paragraph of the prompt template; HaluBench's PASS and FAIL answers to one
question share the whole prompt up to the answer), so this engine:

- sorts the prompts by their tokens, so rows with a common beginning are
  neighbours;
- evaluates the prefix that every prompt shares once, in a sequence of its own
  that stays in the cache, and gives each row those cells with
  ``llama_memory_seq_cp`` (a unified KV cache: a cell may belong to many
  sequences); a row whose prompt shares more with a row already in the cache
  (its twin) takes the longer prefix from there, so only the rest is evaluated;
- decodes up to ``n_parallel`` rows together, one ``llama_decode`` call per
  step carrying each running row's next token and as much of the waiting
  prompts as ``n_batch`` allows (continuous batching, as llama.cpp's server
  does it), and hands each reply back the step it ends.

The KV cache holds ``n_ctx`` tokens in all, as a single-row ``Llama(n_ctx=...)``
does: a row is admitted only when its prompt (beyond the shared prefix) plus
its longest possible reply fit beside those running, so the memory a judge
needs does not grow with ``n_parallel``. Decoding is llama.cpp's: the greedy
sampler (or its sampler chain when a temperature is set), end-of-generation
tokens from the vocabulary, pieces as ``llama_token_to_piece`` writes them.
"""

from __future__ import annotations

import ctypes
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from halubench.backends._settings import LlamaCppGeneration, LlamaCppSettings
from halubench.errors import JudgeError

# A waiting row is held back (rather than evaluate its prompt in full) when a row still being
# evaluated shares this many more of its tokens: that row's cells are copied one or two steps later.
_WORTH_WAITING = 32
_LOGGER = "llama-cpp-python"  # the logger llama-cpp-python routes llama.cpp's own log through


@dataclass(frozen=True)
class Finished:
    """One row's reply: its text without the stop string, its tokens and why it ended."""

    key: str
    text: str
    prompt_tokens: int
    output_tokens: int
    finish_reason: str  # "stop" (end of turn or a stop string) or "length" (max_tokens or the context)
    latency_s: float  # from the row's admission to its last token, queueing excluded


@dataclass
class _Row:
    key: str
    prompt: list[int]
    max_new: int
    seq: int = -1
    evaluated: int = 0  # prompt tokens in the cache, copied or evaluated
    reserved: int = 0
    generated: list[int] = field(default_factory=list)
    text: bytearray = field(default_factory=bytearray)
    pending: int | None = None  # the last sampled token, decoded in the next step
    finish: str = ""
    sampler: Any = None
    admitted: float = 0.0

    @property
    def prefilling(self) -> bool:
        return self.evaluated < len(self.prompt)


@dataclass
class _Pool:
    """The KV cache's sequences: free ones, running rows, finished rows kept as prefixes; cells reserved."""

    root: int  # the sequence that holds the prefix every prompt shares
    free: list[int]  # popped from the end
    used: int
    running: list[_Row] = field(default_factory=list)
    retired: list[_Row] = field(default_factory=list)  # oldest first


class LlamaCppEngine:
    """One model and one context; ``run`` decodes a list of prompts; ``close`` frees both."""

    def __init__(self, path: Path, settings: LlamaCppSettings, n_ctx: int):
        import llama_cpp

        logging.getLogger(_LOGGER).setLevel(logging.ERROR)  # llama.cpp's load log is pages long
        self._c = llama_cpp
        self.generation: LlamaCppGeneration = settings.generation
        self.n_ctx = n_ctx
        self.n_parallel = settings.n_parallel
        self.n_batch = max(settings.n_batch, settings.n_parallel)
        llama_cpp.llama_backend_init()
        model_params = llama_cpp.llama_model_default_params()
        model_params.n_gpu_layers = settings.n_gpu_layers if settings.n_gpu_layers >= 0 else 0x7FFFFFFF
        self._model = llama_cpp.llama_model_load_from_file(str(path).encode("utf-8"), model_params)
        if not self._model:
            raise JudgeError(f"llama.cpp could not load {path} (an unsupported architecture, or a newer "
                             f"GGUF than llama-cpp-python {llama_cpp.__version__} reads)")
        self._vocab = llama_cpp.llama_model_get_vocab(self._model)
        self.shares_prefixes = not (llama_cpp.llama_model_is_recurrent(self._model)
                                    or llama_cpp.llama_model_is_hybrid(self._model))
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = params.n_ubatch = self.n_batch
        params.n_seq_max = self.n_parallel + 1  # the rows, and the prefix they all share
        params.kv_unified = True  # one cache that sequences share cells of
        cores = os.cpu_count() or 1
        # llama-cpp-python's defaults (Llama.__init__): half the cores to decode, all of them for prompts.
        params.n_threads = settings.n_threads or max(cores // 2, 1)
        params.n_threads_batch = settings.n_threads_batch or cores
        params.flash_attn_type = (llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED if settings.flash_attn
                                  else llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED)
        self._ctx = llama_cpp.llama_init_from_model(self._model, params)
        if not self._ctx:
            llama_cpp.llama_model_free(self._model)
            raise JudgeError(f"llama.cpp could not make a context of {n_ctx} tokens for {path} "
                             f"(out of memory?); lower n_ctx")
        self._memory = llama_cpp.llama_get_memory(self._ctx)
        self._batch = llama_cpp.llama_batch_init(self.n_batch, 0, 1)
        self._greedy = llama_cpp.llama_sampler_init_greedy()
        self._pieces: dict[int, bytes] = {}
        # Where the time goes (``timings``): prompt tokens evaluated and taken from the cache, tokens
        # generated, llama_decode calls and the seconds spent inside them.
        self.stats = {"prompt_evaluated": 0, "prompt_reused": 0, "generated": 0, "decode_calls": 0, "decode_s": 0.0}

    # --- text <-> tokens ----------------------------------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        """The tokens of a rendered prompt: special tokens parsed, none added (the template wrote BOS)."""
        data = text.encode("utf-8")
        size = len(data) + 8
        while True:
            buffer = (self._c.llama_token * size)()
            count = self._c.llama_tokenize(self._vocab, data, len(data), buffer, size, False, True)
            if count >= 0:
                return buffer[:count]
            size = -count

    def token_text(self, token: int) -> str:
        """A token as the vocabulary spells it (``<|eot_id|>``), for the chat template's bos/eos."""
        if token < 0:
            return ""
        return self._c.llama_vocab_get_text(self._vocab, token).decode("utf-8", errors="replace")

    @property
    def bos(self) -> int:
        return self._c.llama_vocab_bos(self._vocab)

    @property
    def eos(self) -> int:
        return self._c.llama_vocab_eos(self._vocab)

    def special_token(self, text: str) -> int | None:
        """The id of ``text`` when it is exactly one control token (``<|eot_id|>``), else None."""
        ids = self.tokenize(text)
        if len(ids) == 1 and (self._c.llama_vocab_is_control(self._vocab, ids[0])
                              or self._c.llama_vocab_is_eog(self._vocab, ids[0])):
            return ids[0]
        return None

    def _piece(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            buffer = ctypes.create_string_buffer(64)
            size = self._c.llama_token_to_piece(self._vocab, token, buffer, 64, 0, False)
            if size < 0:
                buffer = ctypes.create_string_buffer(-size)
                size = self._c.llama_token_to_piece(self._vocab, token, buffer, -size, 0, False)
            piece = self._pieces[token] = buffer.raw[:size]
        return piece

    # --- decoding -----------------------------------------------------------------------------

    def run(self, prompts: Sequence[tuple[str, list[int]]]) -> Iterator[list[Finished]]:
        """Decode every prompt (each shorter than ``n_ctx``); yield, after each step, the rows it ended.

        A step is one ``llama_decode`` call, so a consumer that awaits between
        steps stays responsive to cancellation. Leaving early frees every cell.
        """
        c = self._c
        stop_ids = {t for t in map(self.special_token, self.generation.stop) if t is not None}
        stop_texts = [s.encode("utf-8") for s in self.generation.stop if self.special_token(s) is None]
        queue = sorted((_Row(key, list(ids), min(self.generation.max_tokens, self.n_ctx - len(ids)))
                        for key, ids in prompts), key=lambda row: row.prompt, reverse=True)  # popped from the end
        root_len = self._shared_prefix(queue)
        c.llama_memory_clear(self._memory, True)
        pool = _Pool(root=self.n_parallel, free=list(range(self.n_parallel - 1, -1, -1)), used=root_len)
        try:
            if root_len:
                self._evaluate_alone(pool.root, queue[-1].prompt[:root_len])
            while queue or pool.running:
                self._admit(queue, pool, root_len)
                ended = self._step(pool.running, stop_ids, stop_texts)
                for row in ended:
                    self._retire(row, pool)
                yield [self._finished(row) for row in ended]
        finally:
            c.llama_memory_clear(self._memory, True)

    def _shared_prefix(self, rows: Sequence[_Row]) -> int:
        """Tokens every prompt begins with (the first and last in sorted order share them with all),
        leaving each prompt at least one token of its own to evaluate (its logits are sampled)."""
        if not rows or not self.shares_prefixes:
            return 0
        first, last = rows[-1].prompt, rows[0].prompt
        length = 0
        while length < min(len(first), len(last)) and first[length] == last[length]:
            length += 1
        return min(length, min(len(r.prompt) for r in rows) - 1)

    def _admit(self, queue: list[_Row], pool: _Pool, root_len: int) -> None:
        """Start waiting rows, in sorted order, while a sequence and room for their worst case are free.

        Each starts from the longest prefix already in the cache: the shared one, a running row's
        evaluated prompt, or a finished row's prompt (whose sequence it then takes over).
        """
        while queue:
            row = queue[-1]
            # Its own cells at most: the prompt past the shared prefix and the longest reply.
            need = len(row.prompt) - root_len + row.max_new
            source, length = self._best_source(row, pool, root_len)
            if source is None:
                return  # its twin's prompt is still being evaluated: take its cells next step
            adopted = source if isinstance(source, _Row) and source in pool.retired else None
            others = [r for r in pool.retired if r is not adopted]  # oldest first: dropped to make room
            while others and (pool.used - (adopted.reserved if adopted else 0) + need > self.n_ctx
                              or (adopted is None and not pool.free)):
                self._drop(others.pop(0), pool)
            if pool.used - (adopted.reserved if adopted else 0) + need > self.n_ctx or (
                    adopted is None and not pool.free):
                return
            queue.pop()
            if adopted is not None:  # its sequence, cut back to the prefix the two share
                pool.retired.remove(adopted)
                pool.used -= adopted.reserved
                row.seq = adopted.seq
                self._c.llama_memory_seq_rm(self._memory, row.seq, length, -1)
            else:
                row.seq = pool.free.pop()
                if length:
                    seq = source.seq if isinstance(source, _Row) else pool.root
                    self._c.llama_memory_seq_cp(self._memory, seq, row.seq, 0, length)
            row.reserved, row.admitted, row.evaluated = need, time.perf_counter(), length
            pool.used += need
            self.stats["prompt_reused"] += length
            row.sampler = self._sampler_for(row)
            pool.running.append(row)

    def _best_source(self, row: _Row, pool: _Pool, root_len: int) -> tuple[_Row | int | None, int]:
        """Where ``row`` takes its prefix from and how long it is; (None, 0) to wait for a twin."""
        source: _Row | int = pool.root
        length = root_len
        if not self.shares_prefixes:
            return source, length
        limit = len(row.prompt) - 1
        for other in pool.running:
            common = _common_prefix(row.prompt, other.prompt, limit)
            if common >= length + _WORTH_WAITING and other.evaluated < common:
                return None, 0
            if min(common, other.evaluated) > length:
                source, length = other, min(common, other.evaluated)
        for other in pool.retired:  # ties go to a finished row: taking its sequence over frees its cells
            common = _common_prefix(row.prompt, other.prompt, limit)
            if common >= length:
                source, length = other, common
        return source, length

    def _retire(self, row: _Row, pool: _Pool) -> None:
        """A finished row keeps its prompt's cells (its reply's are freed) for a row that begins alike."""
        pool.running.remove(row)
        if row.sampler is not None:
            self._c.llama_sampler_free(row.sampler)
            row.sampler = None
        if not self.shares_prefixes:
            self._drop(row, pool)
            return
        self._c.llama_memory_seq_rm(self._memory, row.seq, len(row.prompt), -1)
        pool.used -= row.max_new
        row.reserved -= row.max_new
        pool.retired.append(row)

    def _drop(self, row: _Row, pool: _Pool) -> None:
        if row in pool.retired:
            pool.retired.remove(row)
        self._c.llama_memory_seq_rm(self._memory, row.seq, -1, -1)
        pool.free.append(row.seq)
        pool.used -= row.reserved

    def _sampler_for(self, row: _Row) -> Any:
        """None for greedy decoding (the shared, stateless greedy sampler); else a seeded chain of its own."""
        g, c = self.generation, self._c
        if g.temperature == 0:
            return None
        chain = c.llama_sampler_chain_init(c.llama_sampler_chain_default_params())
        c.llama_sampler_chain_add(chain, c.llama_sampler_init_top_k(g.top_k))
        c.llama_sampler_chain_add(chain, c.llama_sampler_init_top_p(g.top_p, 1))
        c.llama_sampler_chain_add(chain, c.llama_sampler_init_min_p(g.min_p, 1))
        c.llama_sampler_chain_add(chain, c.llama_sampler_init_temp(g.temperature))
        c.llama_sampler_chain_add(chain, c.llama_sampler_init_dist(g.seed))
        return chain

    def _step(self, running: list[_Row], stop_ids: set[int], stop_texts: list[bytes]) -> list[_Row]:
        """One ``llama_decode``: each running row's pending token, then prompt chunks; sample; the rows that end."""
        batch, sampled = self._batch, []
        n = 0
        for row in running:
            if row.pending is not None:
                n = self._put(n, row.pending, len(row.prompt) + len(row.generated) - 1, row.seq, True)
                sampled.append((row, n - 1))
        for row in running:
            if row.prefilling and n < self.n_batch:
                end = min(len(row.prompt), row.evaluated + self.n_batch - n)
                for pos in range(row.evaluated, end):
                    n = self._put(n, row.prompt[pos], pos, row.seq, pos == len(row.prompt) - 1)
                self.stats["prompt_evaluated"] += end - row.evaluated
                row.evaluated = end
                if not row.prefilling:
                    sampled.append((row, n - 1))
        if n == 0:
            return []
        batch.n_tokens = n
        self._decode()
        ended = []
        for row, index in sampled:
            token = self._c.llama_sampler_sample(row.sampler or self._greedy, self._ctx, index)
            if self._c.llama_vocab_is_eog(self._vocab, token) or token in stop_ids:
                row.pending, row.finish = None, "stop"
                ended.append(row)
                continue
            row.generated.append(token)
            self.stats["generated"] += 1
            before = len(row.text)
            row.text += self._piece(token)
            if stop_texts and _cut_at_stop(row, stop_texts, before):
                ended.append(row)
            elif len(row.generated) >= row.max_new:
                row.pending, row.finish = None, "length"
                ended.append(row)
            else:
                row.pending = token
        return ended

    def _put(self, n: int, token: int, pos: int, seq: int, logits: bool) -> int:
        batch = self._batch
        batch.token[n], batch.pos[n], batch.n_seq_id[n] = token, pos, 1
        batch.seq_id[n][0], batch.logits[n] = seq, logits
        return n + 1

    def _evaluate_alone(self, seq: int, tokens: list[int]) -> None:
        for start in range(0, len(tokens), self.n_batch):
            n = 0
            for pos in range(start, min(len(tokens), start + self.n_batch)):
                n = self._put(n, tokens[pos], pos, seq, False)
            self.stats["prompt_evaluated"] += n
            self._batch.n_tokens = n
            self._decode()

    def _decode(self) -> None:
        started = time.perf_counter()
        status = self._c.llama_decode(self._ctx, self._batch)
        self.stats["decode_calls"] += 1
        self.stats["decode_s"] += time.perf_counter() - started
        if status == 1:
            raise JudgeError(f"llama.cpp found no room in its KV cache of {self.n_ctx} tokens for the next batch; "
                             f"lower n_parallel or raise n_ctx")
        if status != 0:
            raise JudgeError(f"llama.cpp failed to decode a batch (llama_decode returned {status})")

    def _finished(self, row: _Row) -> Finished:
        return Finished(row.key, row.text.decode("utf-8", errors="ignore"), len(row.prompt), len(row.generated),
                        row.finish, time.perf_counter() - row.admitted)

    def close(self) -> None:
        c = self._c
        if self._ctx:
            c.llama_sampler_free(self._greedy)
            c.llama_batch_free(self._batch)
            c.llama_free(self._ctx)
            c.llama_model_free(self._model)
            self._ctx = self._model = None


def _common_prefix(a: Sequence[int], b: Sequence[int], limit: int) -> int:
    length, limit = 0, min(limit, len(a), len(b))
    while length < limit and a[length] == b[length]:
        length += 1
    return length


def _cut_at_stop(row: _Row, stops: list[bytes], before: int) -> bool:
    """End the row at the first stop string its text now holds (the string itself is not part of the reply)."""
    for stop in stops:
        at = row.text.find(stop, max(0, before - len(stop) + 1))
        if at >= 0:
            del row.text[at:]
            row.pending, row.finish = None, "stop"
            return True
    return False
