"""Versioned detector snapshots: a JSON header plus raw NumPy arrays, never pickle.

Layout: ``FWDS`` magic, format version (u16), header length (u32), UTF-8 JSON header, then an
uncompressed ``.npz`` of the arrays. Floats are stored bit for bit, so a restored detector scores
exactly as the original would have.
"""

from __future__ import annotations

import io
import json
import struct
from typing import Any

import numpy as np

MAGIC = b"FWDS"
FORMAT_VERSION = 1
_PREFIX = struct.Struct(">4sHI")


def encode_snapshot(kind: str, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    """Bytes of a detector of ``kind`` with JSON-able ``meta`` and named ``arrays``.

    Examples
    --------
    >>> raw = encode_snapshot("demo", {"n": 1}, {"x": np.arange(3.0)})
    >>> kind, meta, arrays = decode_snapshot(raw)
    >>> kind, meta["n"], arrays["x"].tolist()
    ('demo', 1, [0.0, 1.0, 2.0])
    """
    header = json.dumps({"kind": kind, "meta": meta}, sort_keys=True).encode()
    body = io.BytesIO()
    # sorted: equal state, equal bytes. Typed loosely: numpy's stub would match a key
    # named allow_pickle against its bool flag.
    named: dict[str, Any] = dict(sorted(arrays.items()))
    np.savez(body, **named)
    return _PREFIX.pack(MAGIC, FORMAT_VERSION, len(header)) + header + body.getvalue()


def decode_snapshot(data: bytes) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    """Parse bytes from :func:`encode_snapshot`.

    Raises
    ------
    ValueError
        When the bytes are not a snapshot or were written by an unknown format version.
    """
    if len(data) < _PREFIX.size:
        raise ValueError("detector snapshot is truncated")
    magic, version, length = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise ValueError("not a fleetwatch detector snapshot (bad magic)")
    if version != FORMAT_VERSION:
        raise ValueError(f"snapshot format {version} unsupported (expected {FORMAT_VERSION})")
    start = _PREFIX.size
    try:
        header = json.loads(data[start : start + length])
        with np.load(io.BytesIO(data[start + length :]), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"corrupt detector snapshot: {exc}") from exc
    return str(header["kind"]), dict(header["meta"]), arrays
