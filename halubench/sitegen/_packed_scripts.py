"""The site's data files: JSON, deflated, base64 inside one script call.

A file is ``halubenchData.inflate("<key>","<base64>");``. A script tag loads it
from ``file://`` (where ``fetch()`` of a local file is refused) and from any
static host, and ``assets/data.js`` turns it back into JSON with the browser's
own ``DecompressionStream("deflate")`` (Chromium 80, Firefox 113, Safari 16.4).
Deflate takes replies and passages to a third or a half of their size, base64
and all, which is what keeps a 50-judge site well inside a static host's cap
(GitHub Pages: 1 GB).

Columns of small integers (a run's verdicts, statuses, text positions: one
number per row) are packed inside the JSON as ``"<type>:<base64>"``, the bytes
of a little-endian array of the narrowest type that holds them (``b``/``B``:
8 bits, ``h``/``H``: 16, ``i``/``I``: 32, lower case signed); the browser reads
them as typed arrays (``halubenchData.column``) and the build back as Python
arrays (``read_column``), without a number parsed one by one.

The bytes are a pure function of the value (compact JSON, a fixed level, no
timestamp in the zlib format), so a rebuild of unchanged data writes the same
file.
"""

from __future__ import annotations

import base64
import json
import sys
import zlib
from array import array
from collections.abc import Iterable
from typing import Any

LEVEL = 4  # zlib level: most of level 9's ratio at a fraction of its time (benchmarks/site_build.py)
_HEAD, _TAIL = b"halubenchData.inflate(", b'");\n'


def encode(key: str, value: Any) -> bytes:
    """The data file for ``value``, loaded in the browser under ``key``."""
    payload = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    packed = base64.b64encode(zlib.compress(payload, LEVEL))
    return _HEAD + json.dumps(key).encode() + b',"' + packed + _TAIL


def decode(body: bytes) -> tuple[str, Any]:
    """``(key, value)`` of a data file ``encode`` wrote (the build reads back what it needs)."""
    if not body.startswith(_HEAD) or not body.endswith(_TAIL):
        raise ValueError("not a halubench data file")
    split = body.index(b',"', len(_HEAD))
    key = json.loads(body[len(_HEAD):split])
    return key, json.loads(zlib.decompress(base64.b64decode(body[split + 2:-len(_TAIL)])))


_TYPES = ("B", "b", "H", "h", "I", "i")  # narrowest first; array's "I" and "i" are 32 bits where Python runs


def column(values: Iterable[int]) -> str:
    """A column of integers, packed (see the module docstring)."""
    numbers = values if isinstance(values, array) else array("q", list(values))
    low, high = (min(numbers), max(numbers)) if len(numbers) else (0, 0)
    for code in _TYPES:
        bits = 8 * array(code).itemsize
        lowest, highest = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if code.islower() else (0, (1 << bits) - 1)
        if lowest <= low and high <= highest:
            break
    else:
        raise ValueError(f"a column of numbers from {low} to {high} does not fit 32 bits")
    packed = numbers if numbers.typecode == code else array(code, numbers)
    if sys.byteorder == "big":
        packed = array(code, packed)
        packed.byteswap()
    return f"{code}:{base64.b64encode(packed.tobytes()).decode()}"


def read_column(text: str) -> array:
    """A packed column as a Python array."""
    values = array(text[0], base64.b64decode(text[2:]))
    if sys.byteorder == "big":
        values.byteswap()
    return values
