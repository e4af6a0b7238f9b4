"""Replies persisted in SQLite the moment they arrive, so a crash loses nothing.

The key is a hash of everything that determines a reply: the judge's identity
(provider, model, endpoint, generation settings) and the full prompt. Replies
with text are stored, and so are prompts the judge found too long for its
context window (that verdict is as deterministic as a reply, and finding it
again can mean loading a 70B engine); a failed call is never stored, and
neither is an empty reply or one cut off at the token limit (``Reply.cut_off``):
those are tried again on the next run.
WAL mode and a busy timeout let two runs share one file at once; each reply is
its own committed transaction, so even ``kill -9`` keeps every reply written.

Each reply records the mode that answered it (``sync`` or ``batch``), so a
cached reply is priced as it was paid for.

The same file records batches submitted to a provider's batch API (tables
``batches`` and ``batch_items``): a batch is written the moment the provider
accepts it, with the cache key of every row it carries, so a run killed while
the batch is in flight finds it again instead of paying for the rows twice.
Before a batch is created its intent is written (tables ``batch_intents`` and
``batch_intent_items``: a client-side marker, the run that owns it, its rows),
in the same transaction that checks no open batch or other intent holds those
rows: two runs never submit the same row, and a run killed between the
provider's create and the batch's record leaves an intent by which the next
run finds the orphan at the provider.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halubench.backends._base import Reply

_COLUMNS = ("text", "too_long", "error", "latency_s", "input_tokens", "output_tokens", "model_version",
            "finish_reason", "score", "mode")
# Columns added after the first release, with their SQL type: an older cache file gains them (NULL for old rows).
_ADDED_COLUMNS = {"finish_reason": "TEXT", "score": "REAL", "mode": "TEXT"}


@dataclass(frozen=True)
class BatchIntent:
    """A batch about to be created (or created and not yet recorded): its marker, owner and rows."""

    marker: str
    created_at: float  # Unix time, written before the provider was asked
    owner: str  # host:pid of the run that claimed the rows
    items: dict[str, str]  # custom_id -> cache key


def cache_key(identity: Mapping[str, Any], messages: Sequence[Mapping[str, str]]) -> str:
    canonical = json.dumps({"judge": identity, "messages": messages}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def cache_keys(identity: Mapping[str, Any], prompts: Iterable[Sequence[Mapping[str, str]]]) -> list[str]:
    """``cache_key`` of many prompts of one judge, the same keys, the judge's part written out once."""
    head = ('{"judge": ' + json.dumps(identity, sort_keys=True, ensure_ascii=False) + ', "messages": ').encode()
    return [hashlib.sha256(head + json.dumps(messages, sort_keys=True, ensure_ascii=False).encode() + b"}").hexdigest()
            for messages in prompts]


class ReplyCache:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, text TEXT, "
            "too_long INTEGER NOT NULL, error TEXT, latency_s REAL, input_tokens INTEGER, "
            "output_tokens INTEGER, model_version TEXT, created_at REAL NOT NULL, finish_reason TEXT, score REAL, "
            "mode TEXT)"
        )
        present = {row[1] for row in self._db.execute("PRAGMA table_info(replies)")}
        for column, kind in _ADDED_COLUMNS.items():
            if column not in present:  # a cache file written before the column existed: nothing is lost
                self._db.execute(f"ALTER TABLE replies ADD COLUMN {column} {kind}")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS batches (batch_id TEXT PRIMARY KEY, provider TEXT NOT NULL, "
            "endpoint TEXT NOT NULL, created_at REAL NOT NULL, closed_at REAL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS batch_items (batch_id TEXT NOT NULL, custom_id TEXT NOT NULL, "
            "key TEXT NOT NULL, PRIMARY KEY (batch_id, custom_id))"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS batch_intents (marker TEXT PRIMARY KEY, provider TEXT NOT NULL, "
            "endpoint TEXT NOT NULL, created_at REAL NOT NULL, owner TEXT NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS batch_intent_items (marker TEXT NOT NULL, custom_id TEXT NOT NULL, "
            "key TEXT NOT NULL, PRIMARY KEY (marker, custom_id))"
        )

    def get_many(self, keys: Iterable[str]) -> dict[str, tuple[Any, ...]]:
        found: dict[str, tuple[Any, ...]] = {}
        keys = list(keys)
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, {', '.join(_COLUMNS)} FROM replies WHERE key IN ({marks})"
            for row in self._db.execute(query, chunk):
                found[row[0]] = row[1:]
        return found

    @staticmethod
    def keeps(reply: Reply) -> bool:
        """A final answer: a complete reply, or a prompt too long for the judge."""
        return (reply.ok and not reply.cut_off) or reply.too_long

    def put(self, key: str, reply: Reply) -> None:
        if not self.keeps(reply):
            raise ValueError(f"only final answers are cached (row {reply.key}: {reply.error or 'cut off'})")
        self._db.execute(
            "INSERT OR REPLACE INTO replies (key, created_at, "
            f"{', '.join(_COLUMNS)}) VALUES ({', '.join('?' * (len(_COLUMNS) + 2))})",
            (key, time.time(), reply.text, int(reply.too_long), reply.error, reply.latency_s,
             reply.input_tokens, reply.output_tokens, reply.model_version, reply.finish_reason, reply.score,
             reply.extra.get("mode")),
        )

    @staticmethod
    def as_reply(request_key: str, row: tuple[Any, ...]) -> Reply:
        values = dict(zip(_COLUMNS, row, strict=True))
        values["too_long"] = bool(values["too_long"])
        mode = values.pop("mode")  # None: cached before modes were recorded (priced in the run's mode)
        return Reply(request_key, cached=True, extra={"mode": mode} if mode else {}, **values)

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: every statement in it lands, or none does."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def record_batch(
        self, batch_id: str, provider: str, endpoint: str, items: Mapping[str, str], marker: str | None = None
    ) -> None:
        """A batch the provider accepted, with ``{custom_id: cache key}`` of its rows, in one transaction
        that also retires the intent (``marker``) it was created under."""
        with self._writing() as db:
            db.execute("INSERT INTO batches VALUES (?, ?, ?, ?, NULL)", (batch_id, provider, endpoint, time.time()))
            db.executemany("INSERT INTO batch_items VALUES (?, ?, ?)", [(batch_id, c, k) for c, k in items.items()])
            db.execute("DELETE FROM batch_intents WHERE marker = ?", (marker,))
            db.execute("DELETE FROM batch_intent_items WHERE marker = ?", (marker,))

    def claim_batch(
        self, marker: str, provider: str, endpoint: str, items: Mapping[str, str], owner: str
    ) -> dict[str, str]:
        """Write the intent to submit ``items`` before the provider is asked: the ``{custom_id: key}`` claimed.

        Rows that an open batch or another intent already holds, or that have a
        reply by now (another run's batch ended since this run looked), are left
        out, in the same transaction, so two runs at once never claim the same row.
        """
        with self._writing() as db:
            held = {key for (key,) in db.execute(
                "SELECT i.key FROM batch_items i JOIN batches b USING (batch_id) "
                "WHERE b.closed_at IS NULL AND b.provider = ? AND b.endpoint = ? "
                "UNION SELECT i.key FROM batch_intent_items i JOIN batch_intents t USING (marker) "
                "WHERE t.provider = ? AND t.endpoint = ?", (provider, endpoint, provider, endpoint))}
            held |= self.get_many(items.values()).keys()
            claimed = {custom_id: key for custom_id, key in items.items() if key not in held}
            if claimed:
                db.execute("INSERT INTO batch_intents VALUES (?, ?, ?, ?, ?)",
                           (marker, provider, endpoint, time.time(), owner))
                db.executemany("INSERT INTO batch_intent_items VALUES (?, ?, ?)",
                               [(marker, c, k) for c, k in claimed.items()])
        return claimed

    def batch_intents(self, provider: str, endpoint: str, keys: Iterable[str]) -> list[BatchIntent]:
        """Intents not yet recorded as batches that hold any of ``keys``, oldest first."""
        wanted = set(keys)
        found: dict[str, BatchIntent] = {}
        rows = self._db.execute(
            "SELECT t.marker, t.created_at, t.owner, i.custom_id, i.key FROM batch_intent_items i "
            "JOIN batch_intents t USING (marker) WHERE t.provider = ? AND t.endpoint = ? ORDER BY t.created_at",
            (provider, endpoint),
        )
        for marker, created_at, owner, custom_id, key in rows:
            found.setdefault(marker, BatchIntent(marker, created_at, owner, {})).items[custom_id] = key
        return [intent for intent in found.values() if wanted.intersection(intent.items.values())]

    def adopt_intent(self, marker: str, owner_was: str, owner: str) -> bool:
        """Take over the intent of a run that stopped; False when another run took it first."""
        changed = self._db.execute("UPDATE batch_intents SET owner = ? WHERE marker = ? AND owner = ?",
                                   (owner, marker, owner_was))
        return changed.rowcount == 1

    def drop_intent(self, marker: str) -> None:
        """The batch was never created (the provider refused, or has no batch by that marker)."""
        with self._writing() as db:
            db.execute("DELETE FROM batch_intents WHERE marker = ?", (marker,))
            db.execute("DELETE FROM batch_intent_items WHERE marker = ?", (marker,))

    def batch_ids(self, provider: str, endpoint: str) -> set[str]:
        """Every batch ever recorded for this endpoint, open or read back."""
        rows = self._db.execute("SELECT batch_id FROM batches WHERE provider = ? AND endpoint = ?",
                                (provider, endpoint))
        return {batch_id for (batch_id,) in rows}

    def open_batches(self, provider: str, endpoint: str, keys: Iterable[str]) -> dict[str, dict[str, str]]:
        """Batches not yet read back that carry any of ``keys``: ``{batch_id: {custom_id: cache key}}``."""
        wanted = set(keys)
        found: dict[str, dict[str, str]] = {}
        rows = self._db.execute(
            "SELECT i.batch_id, i.custom_id, i.key FROM batch_items i JOIN batches b USING (batch_id) "
            "WHERE b.closed_at IS NULL AND b.provider = ? AND b.endpoint = ? ORDER BY b.created_at",
            (provider, endpoint),
        )
        for batch_id, custom_id, key in rows:
            found.setdefault(batch_id, {})[custom_id] = key
        return {b: items for b, items in found.items() if wanted.intersection(items.values())}

    def close_batch(self, batch_id: str) -> None:
        """Mark a batch as read back: its replies are stored, its failures are the caller's to retry."""
        self._db.execute("UPDATE batches SET closed_at = ? WHERE batch_id = ?", (time.time(), batch_id))

    def close(self) -> None:
        self._db.close()
