"""Tiny GGUF files for tests: a valid header (the format of ggml's docs/gguf.md) and no tensors.

Enough for everything halubench reads without llama.cpp (the chat template, the
context length, the file's sha256); llama.cpp itself could not load them.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
    "{{ m['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)


def _string(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def _value(value: Any) -> bytes:
    """Type tag and value: str 8, bool 7, int 4 (uint32), float 6, list 9 (of str or uint32)."""
    if isinstance(value, str):
        return struct.pack("<I", 8) + _string(value)
    if isinstance(value, bool):
        return struct.pack("<I?", 7, value)
    if isinstance(value, int):
        return struct.pack("<II", 4, value)
    if isinstance(value, float):
        return struct.pack("<If", 6, value)
    if isinstance(value, list):
        kind = 8 if value and isinstance(value[0], str) else 4
        items = b"".join(_string(v) if kind == 8 else struct.pack("<I", v) for v in value)
        return struct.pack("<IIQ", 9, kind, len(value)) + items
    raise TypeError(value)


def write_gguf(path: Path, metadata: dict[str, Any] | None = None, weights: bytes = b"\0" * 64) -> Path:
    """A GGUF v3 header with ``metadata`` (a Llama-3 chat template and an 8k context by default)."""
    if metadata is None:
        metadata = {"general.architecture": "llama", "llama.context_length": 8192,
                    "tokenizer.chat_template": LLAMA3_TEMPLATE}
    body = b"".join(_string(key) + _value(value) for key, value in metadata.items())
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, len(metadata)) + body + weights)
    return path
