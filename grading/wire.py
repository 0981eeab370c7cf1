"""The protocol between the grader and a worker: length-prefixed JSON frames, plain data only.

A frame is an 8-byte big-endian length followed by that many bytes of UTF-8 JSON. Values
are plain data: None, bool, int, float (NaN/inf allowed), str, list, and tagged objects for
everything else::

    {"t": [...]}                                   a tuple
    {"d": [[key, value], ...]}                     a dict with str keys
    {"a": base64, "dtype": "<f8", "shape": [2, 3]} a NumPy array (raw bytes, C order)
    {"s": base64, "dtype": "<f4"}                  a NumPy scalar (np.float32(1.5), …)
    {"b": base64}                                  bytes (e.g. the raw bytes of an IDX file)

Nothing is ever pickled. ``decode`` is the grader's side of the trust boundary: it accepts
only these shapes of data, numeric/bool dtypes, bounded sizes and depth, and always builds
fresh base-class ``np.ndarray`` objects, so whatever the student's process sends, the
grader only ever holds numbers, strings and containers of them.
"""
from __future__ import annotations

import base64
import json
import os
import re
import select
import time
from typing import Any

import numpy as np

HEADER = 8
MAX_DEPTH = 32
MAX_ITEMS = 1_000_000      # elements in one container
MAX_TOTAL_ITEMS = 2_000_000  # values in one frame, all containers together
MAX_STR = 20_000           # characters in one string
_DTYPE = re.compile(r"^[<>|=]?[biufc][0-9]{1,2}$")


class ProtocolError(Exception):
    """The other side sent something that is not a valid frame of plain data."""


class Unencodable(TypeError):
    """A value that is not plain data (a function, a custom object, an object array, …)."""


# ---------------------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------------------

def _array_tag(arr: np.ndarray) -> dict:
    if arr.dtype.kind not in "biufc" or arr.dtype.hasobject:
        raise Unencodable(f"an array of dtype {arr.dtype} (expected numbers or booleans)")
    arr = np.array(arr, order="C", copy=True)  # (ascontiguousarray would turn 0-d into 1-d)
    return {"a": base64.b64encode(arr.tobytes()).decode("ascii"), "dtype": arr.dtype.str,
            "shape": list(arr.shape)}


class TooLarge(ValueError):
    """More data than a frame may carry."""


def to_plain(value: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """``value`` as JSON-ready plain data; raises :class:`Unencodable` for anything else.

    ``budget``: [bytes left]; arrays are counted against it before they are encoded, so a
    huge result is refused without first building a huge string (:class:`TooLarge`).
    """
    budget = [1 << 62] if budget is None else budget
    if depth > MAX_DEPTH:
        raise Unencodable("data nested too deeply")
    if type(value) is str and len(value) > MAX_STR:
        raise Unencodable(f"a string of {len(value)} characters (at most {MAX_STR})")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.ndarray):
        budget[0] -= int(value.nbytes) * 4 // 3 + 64
        if budget[0] < 0:
            raise TooLarge("too much data")
        # np.array(...) of a subclass gives a base-class copy: no overridden methods travel.
        return _array_tag(np.array(value, subok=False))
    if isinstance(value, np.generic):
        if value.dtype.kind not in "biufc":
            raise Unencodable(f"a NumPy scalar of dtype {value.dtype}")
        return {"s": base64.b64encode(np.asarray(value).tobytes()).decode("ascii"), "dtype": value.dtype.str}
    if type(value) is bytes:
        budget[0] -= len(value) * 4 // 3 + 16
        if budget[0] < 0:
            raise TooLarge("too much data")
        return {"b": base64.b64encode(value).decode("ascii")}
    if type(value) is tuple:
        return {"t": [to_plain(v, depth + 1, budget) for v in value]}
    if type(value) is list:
        budget[0] -= 8 * len(value)
        if budget[0] < 0:
            raise TooLarge("too much data")
        return [to_plain(v, depth + 1, budget) for v in value]
    if type(value) is dict:
        items = []
        for k, v in value.items():
            if type(k) is not str:
                raise Unencodable(f"a dict with a {type(k).__name__} key (keys must be strings)")
            items.append([k, to_plain(v, depth + 1, budget)])
        return {"d": items}
    raise Unencodable(f"a {type(value).__name__} object (expected numbers, arrays, lists or tuples)")


def _dtype(text: Any) -> np.dtype:
    if not isinstance(text, str) or not _DTYPE.match(text):
        raise ProtocolError(f"invalid dtype {str(text)[:20]!r}")
    try:
        dt = np.dtype(text)
    except TypeError:
        raise ProtocolError(f"invalid dtype {text!r}") from None
    if dt.kind not in "biufc" or dt.hasobject or dt.itemsize > 32:
        raise ProtocolError(f"dtype {text!r} is not numeric")
    return dt


def _raw(text: Any, limit: int) -> bytes:
    if not isinstance(text, str) or len(text) > limit * 4 // 3 + 8:
        raise ProtocolError("invalid or oversized array data")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise ProtocolError("array data is not base64") from None


def from_plain(value: Any, depth: int = 0, limit: int = 1 << 30) -> Any:
    """Rebuild plain data from its JSON form, validating everything (the trust boundary)."""
    if depth > MAX_DEPTH:
        raise ProtocolError("data nested too deeply")
    if value is None or type(value) in (bool, int, float):
        return value
    if type(value) is str:
        if len(value) > MAX_STR:
            raise ProtocolError("string too long")
        return value
    if type(value) is list:
        if len(value) > MAX_ITEMS:
            raise ProtocolError("list too long")
        return [from_plain(v, depth + 1, limit) for v in value]
    if type(value) is not dict or len(value) > 3:
        raise ProtocolError(f"unexpected {type(value).__name__}")
    if set(value) == {"t"} and type(value["t"]) is list:
        return tuple(from_plain(v, depth + 1, limit) for v in value["t"])
    if set(value) == {"d"} and type(value["d"]) is list:
        out = {}
        for pair in value["d"]:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise ProtocolError("invalid dict entry")
            out[pair[0][:MAX_STR]] = from_plain(pair[1], depth + 1, limit)
        return out
    if set(value) == {"a", "dtype", "shape"}:
        dt = _dtype(value["dtype"])
        shape = value["shape"]
        if (type(shape) is not list or len(shape) > 32
                or not all(type(n) is int and 0 <= n <= 1 << 40 for n in shape)):
            raise ProtocolError("invalid array shape")
        raw = _raw(value["a"], limit)
        if int(np.prod(shape, dtype=object)) * dt.itemsize != len(raw):
            raise ProtocolError("array data does not match its shape and dtype")
        return np.frombuffer(raw, dtype=dt).reshape(tuple(shape)).copy()
    if set(value) == {"b"}:
        return _raw(value["b"], limit)
    if set(value) == {"s", "dtype"}:
        dt = _dtype(value["dtype"])
        raw = _raw(value["s"], 64)
        if len(raw) != dt.itemsize:
            raise ProtocolError("scalar data does not match its dtype")
        return np.frombuffer(raw, dtype=dt)[0].copy()
    raise ProtocolError("unknown object in reply")


def dumps(message: Any, limit: int | None = None) -> bytes:
    """Encode a message (plain data) as one frame (:class:`TooLarge` past ``limit`` bytes)."""
    return pack(to_plain(message, budget=None if limit is None else [limit]))


def pack(tagged: Any) -> bytes:
    """One frame from data already converted by :func:`to_plain` (lets the grader cache it)."""
    body = json.dumps(tagged, separators=(",", ":")).encode("utf-8")
    return len(body).to_bytes(HEADER, "big") + body


def request_frame(op: str, **fields: Any) -> bytes:
    """The frame of the request ``{"op": op, **fields}`` whose field values are already plain
    (:func:`to_plain`, or strings): the grader converts every case's args once and caches them."""
    return pack({"d": [["op", op], *([k, v] for k, v in fields.items())]})


def loads(body: bytes, limit: int) -> Any:
    """Decode the body of one frame (without its header).

    Before anything is built, the number of values is bounded from the raw bytes: every
    value after the first in a container follows a comma, every container opens with a
    bracket (commas and brackets inside strings only make the bound larger; array data is
    base64, which has neither). So a 60 MB frame of twenty million empty lists is refused
    without the grader ever holding them.
    """
    items = body.count(b",") + body.count(b"[") + body.count(b"{")
    if items > MAX_TOTAL_ITEMS:
        raise ProtocolError(f"reply holds more than {MAX_TOTAL_ITEMS} items")
    try:
        raw = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProtocolError("reply is not valid JSON") from None
    try:
        return from_plain(raw, limit=limit)
    except RecursionError:
        raise ProtocolError("data nested too deeply") from None


# ---------------------------------------------------------------------------------------
# frames over file descriptors
# ---------------------------------------------------------------------------------------

class Closed(Exception):
    """The other end closed the pipe (the worker exited)."""


class Timeout(Exception):
    """No complete frame before the deadline."""


def _wait(fd: int, write: bool, deadline: float | None) -> None:
    left = None if deadline is None else deadline - time.monotonic()
    if left is not None and left <= 0:
        raise Timeout()
    r, w, _ = select.select([] if write else [fd], [fd] if write else [], [], left)
    if not r and not w:
        raise Timeout()


def send(fd: int, frame: bytes, deadline: float | None = None) -> None:
    """Write a whole frame to a non-blocking ``fd`` before ``deadline`` (monotonic seconds)."""
    view = memoryview(frame)
    while view:
        _wait(fd, True, deadline)
        try:
            n = os.write(fd, view[: 1 << 20])
        except BlockingIOError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            raise Closed() from None
        view = view[n:]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        _wait(fd, False, deadline)
        try:
            chunk = os.read(fd, min(n - got, 1 << 20))
        except BlockingIOError:
            continue
        if not chunk:
            raise Closed()
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv(fd: int, deadline: float | None = None, limit: int = 64 << 20) -> Any:
    """Read one frame (at most ``limit`` bytes) and decode it; see :func:`loads`."""
    n = int.from_bytes(_read_exact(fd, HEADER, deadline), "big")
    if n > limit:
        raise ProtocolError(f"reply of {n} bytes is larger than the {limit >> 20} MB limit")
    return loads(_read_exact(fd, n, deadline), limit)


def send_blocking(fd: int, message: Any) -> None:
    """Worker side: write a whole frame to a blocking ``fd``."""
    frame = dumps(message)
    view = memoryview(frame)
    while view:
        view = view[os.write(fd, view):]


def recv_blocking(fd: int, limit: int = 1 << 34) -> Any:
    """Worker side: read one frame from a blocking ``fd`` (the grader is trusted)."""
    return recv(fd, None, limit)
