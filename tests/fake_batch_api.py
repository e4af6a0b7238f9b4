"""The batch APIs for the loopback server in fake_llm_server.py.

OpenAI's (``/v1/files`` upload and content, ``/v1/batches`` create, list,
retrieve, cancel; https://platform.openai.com/docs/api-reference/batch) and
Anthropic's (``/v1/messages/batches`` create, list, retrieve, cancel, results as
JSONL; https://docs.anthropic.com/en/api/creating-message-batches). A batch
moves from validating / in_progress to completed / ended over ``polls_to_end``
retrieves (tests raise it to keep a batch in flight); when it ends, each item
is answered by the server's script exactly as a synchronous call would be (and
logged the same way), so a ``Status`` becomes an errored item and ``Expired``
an item the provider never ran. Both lists return the newest batch first, a
page of ``limit`` (default 20) at a time; an OpenAI batch keeps the
``metadata`` it was created with (Anthropic's batches have none).
"""

from __future__ import annotations

import email.parser
import itertools
import json
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

if TYPE_CHECKING:
    from fake_llm_server import FakeLLMServer

ANTHROPIC_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                         404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
                         529: "overloaded_error"}


@dataclass(frozen=True)
class Expired:
    """A batch item the provider never ran: the completion window closed first."""


@dataclass
class FakeBatch:
    id: str
    api: str  # "openai" or "anthropic"
    items: list[tuple[str, dict[str, Any]]]  # (custom_id, request body)
    input_file_id: str | None
    metadata: dict[str, str] | None = None
    created_at: float = field(default_factory=time.time)
    polls: int = 0
    cancel_requested: bool = False
    outcome: dict[str, tuple[str, Any]] | None = None  # custom_id -> (kind, payload), once ended
    output_file_id: str | None = None
    error_file_id: str | None = None


class FakeBatches:
    def __init__(self, server: FakeLLMServer):
        self.server = server
        self.polls_to_end = 3
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, FakeBatch] = {}
        self.created: list[str] = []  # batch ids in order of creation: what tests count
        self.items_run = 0  # batch items answered by the script (the rest of the server's calls were synchronous)
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    def handle(self, handler: Any, method: str, raw: bytes = b"") -> bool:
        """Answer a batch route; False when the path is not one."""
        path = handler.path.split("?")[0]
        routes = [
            ("POST", r"/v1/files", self._upload),
            ("GET", r"/v1/files/([^/]+)/content", self._file_content),
            ("GET", r"/v1/files/([^/]+)", self._file),
            ("POST", r"/v1/batches", self._create_openai),
            ("GET", r"/v1/batches", self._list),
            ("GET", r"/v1/batches/([^/]+)", self._retrieve),
            ("POST", r"/v1/batches/([^/]+)/cancel", self._cancel),
            ("POST", r"/v1/messages/batches", self._create_anthropic),
            ("GET", r"/v1/messages/batches", self._list),
            ("GET", r"/v1/messages/batches/([^/]+)", self._retrieve),
            ("GET", r"/v1/messages/batches/([^/]+)/results", self._anthropic_results),
            ("POST", r"/v1/messages/batches/([^/]+)/cancel", self._cancel),
        ]
        for verb, pattern, action in routes:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                if self.server.api_key is not None:
                    given = handler.headers.get("x-api-key") or handler.headers.get(
                        "Authorization", "").removeprefix("Bearer ")
                    if given != self.server.api_key:
                        handler._json(401, {"error": {"type": "authentication_error", "message": "invalid key"}})
                        return True
                with self._lock:
                    action(handler, raw, *match.groups())
                return True
        return False

    def _server_module(self, *names: str) -> list[Any]:
        """The server's own classes (also when it runs as ``__main__``, where importing it makes copies)."""
        module = sys.modules[type(self.server).__module__]
        return [getattr(module, name) for name in names]

    # --- OpenAI files ---------------------------------------------------------------------------

    def _upload(self, handler: Any, raw: bytes) -> None:
        header = f"Content-Type: {handler.headers.get('Content-Type')}\r\n\r\n".encode()
        message = email.parser.BytesParser().parsebytes(header + raw)
        parts = {part.get_param("name", header="content-disposition"): part for part in message.get_payload()}
        data = parts["file"].get_payload(decode=True)
        file_id = self._store(data)
        handler._json(200, self._file_object(file_id, "batch"))

    def _store(self, data: bytes) -> str:
        file_id = f"file-{next(self._ids)}"
        self.files[file_id] = data
        return file_id

    def _file_object(self, file_id: str, purpose: str) -> dict[str, Any]:
        return {"id": file_id, "object": "file", "bytes": len(self.files[file_id]), "created_at": int(time.time()),
                "filename": f"{file_id}.jsonl", "purpose": purpose, "status": "processed"}

    def _file(self, handler: Any, raw: bytes, file_id: str) -> None:
        handler._json(200, self._file_object(file_id, "batch"))

    def _file_content(self, handler: Any, raw: bytes, file_id: str) -> None:
        handler._send(200, self.files[file_id], "application/octet-stream")

    # --- batches ---------------------------------------------------------------------------------

    def _create_openai(self, handler: Any, raw: bytes) -> None:
        body = json.loads(raw)
        lines = [json.loads(line) for line in self.files[body["input_file_id"]].decode().splitlines() if line]
        batch = self._new("openai", [(line["custom_id"], line["body"]) for line in lines], body["input_file_id"],
                          body.get("metadata"))
        handler._json(200, self._openai_object(batch))

    def _create_anthropic(self, handler: Any, raw: bytes) -> None:
        requests = json.loads(raw)["requests"]
        batch = self._new("anthropic", [(r["custom_id"], r["params"]) for r in requests], None, None)
        handler._json(200, self._anthropic_object(batch))

    def _new(self, api: str, items: list[tuple[str, dict[str, Any]]], input_file_id: str | None,
             metadata: dict[str, str] | None) -> FakeBatch:
        prefix = "batch_" if api == "openai" else "msgbatch_"
        batch = FakeBatch(f"{prefix}{next(self._ids):04d}", api, items, input_file_id, metadata)
        self.batches[batch.id] = batch
        self.created.append(batch.id)
        return batch

    def _list(self, handler: Any, raw: bytes) -> None:
        """Newest first, ``limit`` at a time, after the cursor (``after`` for OpenAI, ``after_id`` for Anthropic)."""
        query = {k: v[0] for k, v in parse_qs(urlparse(handler.path).query).items()}
        api = "anthropic" if handler.path.startswith("/v1/messages/") else "openai"
        newest_first = [self.batches[b] for b in reversed(self.created) if self.batches[b].api == api]
        cursor = query.get("after") or query.get("after_id")
        if cursor:
            ids = [b.id for b in newest_first]
            newest_first = newest_first[ids.index(cursor) + 1:] if cursor in ids else []
        limit = int(query.get("limit") or 20)
        page, more = newest_first[:limit], len(newest_first) > limit
        if api == "openai":
            handler._json(200, {"object": "list", "data": [self._openai_object(b) for b in page], "has_more": more,
                                "first_id": page[0].id if page else None, "last_id": page[-1].id if page else None})
        else:
            handler._json(200, {"data": [self._anthropic_object(b) for b in page], "has_more": more,
                                "first_id": page[0].id if page else None, "last_id": page[-1].id if page else None})

    def _retrieve(self, handler: Any, raw: bytes, batch_id: str) -> None:
        batch = self.batches.get(batch_id)
        if batch is None:
            handler._json(404, {"error": {"type": "not_found_error", "message": f"no batch {batch_id}"}})
            return
        batch.polls += 1
        if batch.outcome is None and (batch.cancel_requested or batch.polls >= self.polls_to_end):
            self._run(batch)
        handler._json(200, self._openai_object(batch) if batch.api == "openai" else self._anthropic_object(batch))

    def _cancel(self, handler: Any, raw: bytes, batch_id: str) -> None:
        batch = self.batches[batch_id]
        batch.cancel_requested = True
        handler._json(200, self._openai_object(batch) if batch.api == "openai" else self._anthropic_object(batch))

    def _run(self, batch: FakeBatch) -> None:
        """End the batch: every item answered by the script (or cancelled), as a sync call would be."""
        Status, Text, _final = self._server_module("Status", "Text", "_final")
        outcome: dict[str, tuple[str, Any]] = {}
        for custom_id, body in batch.items:
            if batch.cancel_requested:
                outcome[custom_id] = ("canceled", None)
                continue
            entry, action = self.server.register(batch.api, body)
            self.items_run += 1
            action = _final(action)
            entry.finished = time.monotonic()
            if isinstance(action, Text):
                outcome[custom_id] = ("succeeded", (body, action, str(body.get("model"))))
            elif isinstance(action, Expired):
                outcome[custom_id] = ("expired", None)
            elif isinstance(action, Status):
                outcome[custom_id] = ("errored", action)
            else:  # a dropped connection or a garbled body inside a batch: the provider's own 500
                outcome[custom_id] = ("errored", Status(500, "internal server error"))
        batch.outcome = outcome
        if batch.api == "openai":
            self._openai_files(batch)

    def _openai_files(self, batch: FakeBatch) -> None:
        _completion, _error_body = self._server_module("_completion", "_error_body")
        output, errors = [], []
        for n, (custom_id, (kind, payload)) in enumerate(batch.outcome.items()):
            line: dict[str, Any] = {"id": f"batch_req_{n}", "custom_id": custom_id, "response": None, "error": None}
            if kind == "succeeded":
                body, reply, model = payload
                line["response"] = {"status_code": 200, "request_id": f"req_{n}",
                                    "body": _completion("openai", self.server.version_of(model), body, reply)}
                output.append(line)
                continue
            if kind == "errored":
                line["response"] = {"status_code": payload.code, "request_id": f"req_{n}",
                                    "body": _error_body("openai", payload)}
            else:
                code = "batch_expired" if kind == "expired" else "batch_cancelled"
                line["error"] = {"code": code, "message": f"This request was not run ({code})."}
            errors.append(line)
        lines_of = lambda lines: "".join(json.dumps(x) + "\n" for x in lines).encode()  # noqa: E731
        batch.output_file_id = self._store(lines_of(output)) if output else None
        batch.error_file_id = self._store(lines_of(errors)) if errors else None

    def _counts(self, batch: FakeBatch) -> dict[str, int]:
        kinds = [kind for kind, _ in (batch.outcome or {}).values()]
        return {k: kinds.count(k) for k in ("succeeded", "errored", "canceled", "expired")}

    def _openai_object(self, batch: FakeBatch) -> dict[str, Any]:
        counts = self._counts(batch)
        total = len(batch.items)
        if batch.outcome is not None:
            status = "cancelled" if batch.cancel_requested else "completed"
            completed, failed = counts["succeeded"], total - counts["succeeded"]
        else:
            status = "cancelling" if batch.cancel_requested else ("validating" if batch.polls == 0 else "in_progress")
            completed, failed = total * batch.polls // (2 * self.polls_to_end), 0  # some progress to show
        return {
            "id": batch.id, "object": "batch", "endpoint": "/v1/chat/completions", "errors": None,
            "input_file_id": batch.input_file_id, "completion_window": "24h", "status": status,
            "output_file_id": batch.output_file_id, "error_file_id": batch.error_file_id,
            "created_at": int(batch.created_at), "expires_at": int(batch.created_at) + 86400,
            "request_counts": {"total": total, "completed": completed, "failed": failed},
            "metadata": batch.metadata,
        }

    def _anthropic_object(self, batch: FakeBatch) -> dict[str, Any]:
        created = datetime.fromtimestamp(batch.created_at, timezone.utc)
        ended = batch.outcome is not None
        counts = self._counts(batch)
        return {
            "id": batch.id, "type": "message_batch",
            "processing_status": "ended" if ended else ("canceling" if batch.cancel_requested else "in_progress"),
            "request_counts": {"processing": 0 if ended else len(batch.items), **counts},
            "created_at": created.isoformat(), "expires_at": (created + timedelta(days=1)).isoformat(),
            "ended_at": datetime.now(timezone.utc).isoformat() if ended else None, "archived_at": None,
            "cancel_initiated_at": created.isoformat() if batch.cancel_requested else None,
            "results_url": f"{self.server.url}/v1/messages/batches/{batch.id}/results" if ended else None,
        }

    def _anthropic_results(self, handler: Any, raw: bytes, batch_id: str) -> None:
        (_completion,) = self._server_module("_completion")
        lines = []
        for custom_id, (kind, payload) in self.batches[batch_id].outcome.items():
            result: dict[str, Any] = {"type": kind}
            if kind == "succeeded":
                body, reply, model = payload
                result["message"] = _completion("anthropic", self.server.version_of(model), body, reply)
            elif kind == "errored":
                error_type = ANTHROPIC_ERROR_TYPES.get(payload.code, "api_error")
                result["error"] = {"type": "error", "error": {"type": error_type, "message": payload.message}}
            lines.append(json.dumps({"custom_id": custom_id, "result": result}) + "\n")
        handler._send(200, "".join(lines).encode(), "application/binary")
