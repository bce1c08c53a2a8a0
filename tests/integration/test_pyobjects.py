"""Python objects into Arrow without pandas (``convert/pyobjects.py``): the JSON reader's array is
``pa.array``'s exactly, or the conversion takes ``pa.array``; scans import no pandas."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lowcode_sql.convert import pyobjects
from lowcode_sql.convert.pyobjects import python_array, python_value_array

ROOT = Path(__file__).resolve().parent.parent.parent
NAMES = ("a", "b", "c")


def _types() -> st.SearchStrategy[pa.DataType]:
    leaves = st.sampled_from([pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.timestamp("us"), pa.int32()])
    return st.recursive(leaves, lambda inner: st.one_of(
        st.builds(pa.list_, inner),
        st.lists(st.tuples(st.sampled_from(NAMES), inner), min_size=1, max_size=3, unique_by=lambda f: f[0])
        .map(pa.struct)), max_leaves=5)


# values that fit a type and values that do not: numbers at the edges of int64 and of doubles
SCALARS = st.one_of(
    st.none(), st.booleans(), st.text(max_size=5),
    st.integers(-(2**70), 2**70), st.sampled_from([2**53, 2**53 + 1, -(2**53) - 1, 2**63 - 1, 2**63, -(2**63), 2**64]),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([1e17, 9007199254740992.0, 0.1, -0.0, 1e308]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from((*NAMES, "extra")), inner, max_size=4)), max_leaves=8)


def _pa_array(values: list[Any], typ: pa.DataType) -> pa.Array | None:
    try:
        return pa.array(values, type=typ)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, OverflowError, ValueError):
        return None


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(typ=_types(), values=st.lists(VALUES, max_size=4))
def test_the_json_route_reads_exactly_what_pa_array_makes_or_declines(typ: pa.DataType, values: list[Any]) -> None:
    via_json = pyobjects._via_json(values, typ)
    if via_json is not None:
        expected = _pa_array(values, typ)
        assert expected is not None, (typ, values, via_json)  # read where pa.array refuses: never
        assert via_json.equals(expected), (typ, values, via_json, expected)


@pytest.mark.parametrize("values, typ", [
    ([{"a": "x", "b": 1, "c": [1.5, None]}, None, {"a": None}], pa.struct([("a", pa.string()), ("b", pa.int64()),
                                                                       ("c", pa.list_(pa.float64()))])),
    ([{"v": [{"value": "x"}, {"value": None}]}, {"v": []}, {}],
     pa.struct([("v", pa.list_(pa.struct([("value", pa.string())])))])),
    ([], pa.struct([("a", pa.int64())])),
    (["x", None, "ü\u2028"], pa.string()),
    ([True, False, None], pa.bool_()),
])
def test_records_read_through_json_where_pandas_would_be_imported(values: list[Any], typ: pa.DataType,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pyobjects, "_pandas_is_free", lambda: False)
    taken: list[Any] = []
    real = pyobjects._via_json
    monkeypatch.setattr(pyobjects, "_via_json", lambda v, t: taken.append(real(v, t)) or taken[-1])
    assert python_array(values, typ).equals(pa.array(values, type=typ))
    assert taken and taken[0] is not None  # it was the JSON route's array


@pytest.mark.parametrize("values, typ", [
    ([2**53 + 1], pa.float64()),  # pa.array refuses it; the reader would round it
    ([1e17], pa.float64()),  # 1e17 cannot be told from the literal 100000000000000000 once read
    (["2024-01-01T00:00:00"], pa.timestamp("us")),  # the reader parses text into timestamps, pa.array does not
    ([{1: "x"}], pa.struct([("a", pa.string())])),  # not JSON: a key that is no string
    (["\ud800"], pa.string()),  # a lone surrogate
    ([2**64], pa.int64()),
])
def test_what_the_reader_could_read_otherwise_takes_pa_array(values: list[Any], typ: pa.DataType,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pyobjects, "_pandas_is_free", lambda: False)
    assert pyobjects._via_json(values, typ) is None
    expected = _pa_array(values, typ)
    if expected is None:
        with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError, ValueError)):
            python_array(values, typ)
    else:
        assert python_array(values, typ).equals(expected)


def test_an_echoed_value_is_repeated_and_a_non_finite_float_takes_pa_array(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pyobjects, "_pandas_is_free", lambda: False)
    assert python_value_array("ref-1", pa.string(), 3).equals(pa.array(["ref-1"] * 3))
    assert python_value_array(7, pa.int64(), 1).equals(pa.array([7], pa.int64()))
    calls: list[Any] = []
    monkeypatch.setattr(pyobjects, "_via_json", lambda v, t: calls.append(v))
    nan = python_value_array(float("nan"), pa.float64(), 2)  # orjson would write it as null
    assert nan.null_count == 0 and calls == []


def test_once_the_budget_is_spent_conversions_take_pa_array(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pyobjects, "_installed", True)
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not imported (restored after)
    del sys.modules["pandas"]
    monkeypatch.setattr(pyobjects, "_spent", 0.0)
    monkeypatch.setattr(pyobjects, "BUDGET", 1e9)
    assert not pyobjects._pandas_is_free()
    python_array([{"a": 1}], pa.struct([("a", pa.int64())]))
    assert pyobjects._spent > 0  # the JSON route ran, and counted its time
    monkeypatch.setattr(pyobjects, "BUDGET", pyobjects._spent / 2)
    assert pyobjects._pandas_is_free()


@pytest.mark.slow
def test_queries_on_every_demo_platform_import_no_pandas() -> None:
    """Pages of records small enough for the usual path (``LIMIT``), Entu's value lists (``extract``),
    a join, a count, rows with zoned timestamps read as Python values through the Connection and
    DB-API: pandas stays unimported (it is installed here)."""
    code = """
import sys, importlib.util
import lowcode_sql
assert importlib.util.find_spec("pandas") is not None
with lowcode_sql.demo() as con:
    for sql in ["SELECT * FROM coredata.projects LIMIT 3", "SELECT * FROM entu.person LIMIT 3",
                "SELECT * FROM entu.invoice", "SELECT * FROM slingr.companies WHERE name ILIKE '%a%'",
                "SELECT c.name, o._id FROM totalum.client c JOIN totalum.order o ON o.client = c._id",
                "SELECT count(*) FROM alumio.tasks", "SELECT * FROM alumio.routes LIMIT 2"]:
        assert con.sql(sql).arrow().num_rows >= 0
    rows = con.sql("SELECT TIMESTAMPTZ '2024-03-31 01:30:00+00' AS t, * FROM coredata.projects LIMIT 2").fetchall()
    assert rows[0][0].tzinfo is not None
import lowcode_sql.dbapi
cur = lowcode_sql.dbapi.connect(demo=True).cursor()
cur.execute("SELECT TIMESTAMPTZ '2024-03-31 01:30:00+00' AS t, * FROM entu.person LIMIT 2")
assert cur.fetchall()[0][0].tzinfo is not None
print("pandas" in sys.modules)
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == ["False"], run.stdout


ZONES = ["UTC", "Europe/Tallinn", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "+05:30", "-03:00"]


def _shapes(ts: pa.DataType) -> list[pa.DataType]:
    return [ts, pa.list_(ts), pa.struct([("a", ts), ("b", pa.list_(ts)), ("c", pa.string())]), pa.large_list(ts)]


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(ZONES), unit=st.sampled_from(["s", "ms", "us"]), shape=st.integers(0, 3),
       values=st.lists(st.one_of(st.none(), st.integers(-2_208_988_800, 7_258_118_400)), max_size=6))
def test_zoned_timestamps_become_the_datetimes_pyarrow_makes(zone: str, unit: str, shape: int,
                                                            values: list[int | None]) -> None:
    """``result.python_values`` reads zoned timestamps (alone, in lists, in structs) without
    pyarrow's pandas check, into the very values (instant, zone object, wall clock, fold)
    pyarrow's ``to_pylist`` makes."""
    from lowcode_sql.result import _zoned_values

    scale = {"s": 1, "ms": 1000, "us": 1_000_000}[unit]
    ts = pa.timestamp(unit, tz=zone)
    col = pa.array([None if v is None else v * scale + (v % 7) for v in values], pa.int64()).cast(ts)
    typ = _shapes(ts)[shape]
    if shape == 1 or shape == 3:
        col = pa.ListArray.from_arrays(pa.array([0, len(col) // 2, len(col)], pa.int32()), col).cast(typ)
    elif shape == 2:
        lists = pa.ListArray.from_arrays(pa.array(list(range(len(col) + 1)), pa.int32()), col)
        col = pa.StructArray.from_arrays([col, lists, pa.array(["x"] * len(col))], names=["a", "b", "c"])

    def seen(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: seen(x) for k, x in v.items()}
        if isinstance(v, list):
            return [seen(x) for x in v]
        return (v, repr(v), v.fold) if v is not None and hasattr(v, "fold") else v

    theirs = col.to_pylist()
    assert seen(_zoned_values(col)) == seen(theirs)
    assert seen(_zoned_values(pa.chunked_array([col, col]))) == seen(theirs * 2)


def test_numpy_crosses_by_its_buffers() -> None:
    """``numpy_ints``/``numpy_bools``/``ints_of``: what ``pa.array(ndarray)`` and ``to_numpy`` give,
    sliced arrays (an Arrow offset) included."""
    import numpy as np

    from lowcode_sql.convert.pyobjects import ints_of, numpy_bools, numpy_ints

    for dtype in (np.int32, np.int64, np.uint8):
        a = np.arange(11, dtype=dtype)[::2]  # not contiguous
        assert numpy_ints(a).equals(pa.array(a))
    b = np.array([True, False, True, True, False, False, False, False, True, True])
    assert numpy_bools(b).equals(pa.array(b)) and numpy_bools(b[:0]).equals(pa.array(b[:0]))
    arr = pa.array([5, 6, 7, 8, 9], pa.int64()).slice(2, 3)
    assert ints_of(arr).tolist() == [7, 8, 9] and ints_of(arr[:0]).tolist() == []
    with pytest.raises(ValueError):
        ints_of(pa.array([1, None], pa.int32()))


def test_every_demo_table_reads_the_same_through_the_json_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole scans of every emulator table, with the suites' edge-case sample data (case variants,
    wildcards in values, NULL against missing, extreme numbers): the records read through the JSON
    route give the answer ``pa.array`` gives. (In the test process pandas is imported, so the
    differential suites take ``pa.array``; this is where the other route meets those values.)"""
    import lowcode_sql
    from lowcode_sql.errors import MissingRequiredFilter

    fast = lowcode_sql.demo()
    expected = {}
    for source, table, _ in fast.tables():
        try:
            expected[(source, table)] = fast.sql(f'SELECT * FROM {source}."{table}"').arrow()
        except MissingRequiredFilter:  # read per parent record only (Totalum's many-to-many tables)
            continue
    fast.close()
    assert len(expected) >= 15
    read: list[bool] = []
    real = pyobjects._via_json
    monkeypatch.setattr(pyobjects, "_pandas_is_free", lambda: False)
    monkeypatch.setattr(pyobjects, "_via_json", lambda v, t: read.append((out := real(v, t)) is not None) or out)
    with lowcode_sql.demo() as slow:
        for (source, table), want in expected.items():
            got = slow.sql(f'SELECT * FROM {source}."{table}"').arrow()
            assert got.equals(want), f"{source}.{table}"
    assert read.count(True) > len(expected) // 2  # most pages did go through the reader
