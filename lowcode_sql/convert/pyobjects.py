"""Python objects -> Arrow without making pyarrow import pandas.

pyarrow's every conversion of Python objects (``pa.array`` of a list or of a numpy array,
``pa.scalar``) first asks whether the object is a pandas array, and to answer imports pandas
wherever it is installed (pyarrow ``array.pxi`` ``_is_array_like``, ``pandas-shim.pxi``): ~0.2 s
and ~40 MB of RSS, once per process, with no switch to turn it off. A process that reads pages
of records (a ``LIMIT 10``, a lookup: pages too small for ``arrow_page_decoder``) paid it in its
first query, whether or not it ever used pandas.

So, while pandas is installed but not imported, records go through pyarrow's JSON reader instead
(``orjson`` writes them back out; no Python object is converted by pyarrow), and where that
reading could differ from ``pa.array``'s, through ``pa.array`` as before:

- a value ``orjson`` does not write as JSON (anything but dict, list, str, int, float, bool and
  None: with the passthrough options it raises), an integer beyond 64 bits, a lone surrogate;
- anything the JSON reader refuses (it refuses what ``pa.array`` refuses: a number or bool or
  object into a string, ``1.0`` or ``"5"`` into int64, int into bool, bool into float, int64
  overflow; ``tests/convert/test_pyobjects.py`` holds both to that);
- a float of 2^53 or more in magnitude: ``pa.array`` refuses a Python int no double holds (an
  integer literal between 2^53 and 2^64 into float64), which the reader would round;
- a type with any leaf but string, int64, float64 and bool (the reader parses text into
  timestamps, for one, which ``pa.array`` refuses).

The reader costs ~0.25 ms a call and ~3x ``pa.array``'s CPU a record, so this is ski rental:
once it has spent ``BUDGET`` seconds more or less (about half of what importing pandas costs),
conversions take ``pa.array`` for the rest of the process. A long scan of small record pages
then pays at most that much before pandas; a session of small queries never imports it.

numpy arrays are no better: ``pa.array(ndarray)`` and ``Array.to_numpy`` ask too. Integer and
boolean arrays cross by their buffers instead (``numpy_ints``, ``numpy_bools``, ``ints_of``).

Records come from JSON (``orjson.loads``, which refuses ``NaN`` and ``Infinity``), so none holds
a non-finite float, which ``orjson`` would write as ``null``. A single value from elsewhere (an
echoed filter value) is checked for that before it goes this way (``python_value_array``).
"""

from __future__ import annotations

import math
import sys
import threading
import time
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

__all__ = ["BUDGET", "beyond_2_53", "ints_of", "numpy_bools", "numpy_ints", "pandas_installed", "python_array",
           "python_value_array", "read_one_object"]

#: seconds the JSON route may spend in a process before conversions take ``pa.array`` (module
#: docstring). Importing pandas took 0.16-0.2 s on the project's VMs.
BUDGET = 0.1

_WRITE = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS
_EXACT = float(1 << 53)

_spent = 0.0  # seconds spent on the JSON route (threads may race on it: it is only a budget)
_installed: bool | None = None
_lock = threading.Lock()


def python_array(values: list[Any], typ: pa.DataType) -> pa.Array:
    """``pa.array(values, type=typ)``: the same array, or the same error."""
    if _pandas_is_free():
        return pa.array(values, type=typ)
    global _spent
    started = time.perf_counter()
    try:
        out = _via_json(values, typ)
    finally:
        _spent += time.perf_counter() - started
    return out if out is not None else pa.array(values, type=typ)


def python_value_array(value: Any, typ: pa.DataType, n: int) -> pa.Array:
    """``pa.array([value] * n, type=typ)`` for one value from anywhere (module docstring)."""
    if isinstance(value, float) and not math.isfinite(value):
        return pa.array([value] * n, type=typ)
    one = python_array([value], typ)
    return pa.repeat(one[0], n) if n != 1 else one


def _pandas_is_free() -> bool:
    """True where ``pa.array`` imports nothing: pandas already imported or not installed (or the
    budget spent, after which pandas is worth importing)."""
    if "pandas" in sys.modules or _spent > BUDGET:
        return True
    return not pandas_installed()


def pandas_installed() -> bool:
    """Whether pandas can be imported (looked up once: a search of ``sys.path``, no import)."""
    global _installed
    if _installed is None:
        with _lock:
            if _installed is None:
                import importlib.util

                _installed = importlib.util.find_spec("pandas") is not None
    return _installed


def _via_json(values: list[Any], typ: pa.DataType) -> pa.Array | None:
    """``values`` read by pyarrow's JSON reader as ``typ``, or None where that may not be exactly
    what ``pa.array`` makes of them (module docstring)."""
    import pyarrow.json as pj

    if not _plain(typ):
        return None
    try:
        body = b'{"v":' + orjson.dumps(values, option=_WRITE) + b"}"
    except (TypeError, orjson.JSONEncodeError):
        return None
    parse = pj.ParseOptions(explicit_schema=pa.schema([("v", pa.list_(typ))]), unexpected_field_behavior="ignore")
    page = read_one_object(body, parse)
    if page is None:
        return None
    out: pa.Array = page.column("v").combine_chunks().flatten()
    if len(out) != len(values) or beyond_2_53(out):
        return None
    return out


def read_one_object(body: bytes, parse: Any) -> pa.Table | None:
    """``body``, one JSON object, read by pyarrow's JSON reader with ``parse`` (its explicit schema)
    into a one-row table, in the calling thread and one block; None where the reader refuses it or
    finds more than one value (``orjson`` refuses those too)."""
    import pyarrow.json as pj

    read = pj.ReadOptions(use_threads=False, block_size=max(len(body) + 1, 1 << 16))
    try:
        page = pj.read_json(pa.BufferReader(body), read_options=read, parse_options=parse)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    return page if page.num_rows == 1 else None


_LEAVES = (pa.string(), pa.int64(), pa.float64(), pa.bool_())


def _plain(t: pa.DataType) -> bool:
    """Whether ``t`` is made of JSON's own leaves (``_LEAVES``), in structs and lists."""
    if pa.types.is_struct(t):
        return all(_plain(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_list(t):
        return _plain(t.value_type)
    return t in _LEAVES


def beyond_2_53(arr: pa.Array) -> bool:
    """Whether a floating-point value anywhere in ``arr`` is 2^53 or beyond in magnitude (children
    of null parents included: at worst ``pa.array`` converts what the reader read exactly)."""
    import pyarrow.compute as pc

    t = arr.type
    if pa.types.is_floating(t):
        top = pc.max(pc.abs(arr)).as_py()
        return top is not None and top >= _EXACT  # 2^53 + 1 reads as 2^53
    if pa.types.is_struct(t):
        return any(beyond_2_53(arr.field(i)) for i in range(t.num_fields))
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return beyond_2_53(arr.values)
    return False


def numpy_ints(a: np.ndarray) -> pa.Array:
    """A 1-d numpy integer array as an Arrow array over the same memory (no nulls)."""
    a = np.ascontiguousarray(a)
    return pa.Array.from_buffers(pa.from_numpy_dtype(a.dtype), len(a), [None, pa.py_buffer(a)])


def numpy_bools(a: np.ndarray) -> pa.Array:
    """A 1-d numpy bool array as an Arrow boolean array (bits packed, no nulls)."""
    return pa.Array.from_buffers(pa.bool_(), len(a), [None, pa.py_buffer(np.packbits(a, bitorder="little"))])


def ints_of(arr: pa.Array) -> np.ndarray:
    """The values of an Arrow integer array without nulls, as numpy over the same memory
    (``to_numpy`` makes pyarrow import pandas too)."""
    if arr.null_count:
        raise ValueError("ints_of: an array with nulls")
    width = arr.type.bit_width // 8
    dtype = np.dtype(f"{'i' if pa.types.is_signed_integer(arr.type) else 'u'}{width}")
    if len(arr) == 0:
        return np.empty(0, dtype)
    return np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr), offset=arr.offset * width)
