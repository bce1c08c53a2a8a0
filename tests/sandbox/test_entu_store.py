"""The Entu emulator's compact store (issue 15 item 7): the shortcuts that read a field or count
values without building an entity's ``private`` view agree with the view, and the stored form is
small and shared."""

from __future__ import annotations

import sys

import pyarrow as pa
import pytest

from lowcode_sql.sandbox.entu import EntuSandbox
from lowcode_sql.sandbox.entu.filters import _candidates
from lowcode_sql.sandbox.entu.paths import _sort_values
from lowcode_sql.sandbox.entu.store import field_values, private_view, search_words, sort_values


def _loaded(sample: bool | str) -> EntuSandbox:
    sb = EntuSandbox(sample_data=sample)
    items = pa.table({"name": ["Row 1", "row, two;x", None], "qty": [1, 2.5, None], "tags": [["a", "b"], [], ["c"]]})
    sb.load_table("item", items)
    ids = [e.oid.hex for e in sb._entities.values()][-3:]
    links = pa.table({"label": ["x", "y", "z"], "ref": [ids[0], None, "0" * 24],
                      "refs": [[ids[1], "f" * 24], None, [ids[2]]]})
    sb.load_table("link", links, references=["ref", "refs"], searchable=["label", "ref", "refs"])
    return sb


@pytest.mark.parametrize("sample", [True, "business"])
def test_shortcuts_agree_with_the_private_view(sample: bool | str) -> None:
    sb = _loaded(sample)
    refs, process = sb._ref_info, sb._oid_process
    keys = ["_id", "string", "number", "boolean", "date", "datetime", "reference", "property_type", "entity_type", "x"]
    for e in sb._entities.values():
        full = private_view(e, refs, process)
        assert e.property_count() == sum(len(v) for v in full.values())
        for prop in [*full, "missing"]:
            assert private_view(e, refs, process, {prop}) == {k: v for k, v in full.items() if k == prop}
            for key in keys:
                assert field_values(e, refs, process, prop, key) == _candidates(full, prop, key), (prop, key)
                assert sort_values(e, refs, process, [prop, key]) == _sort_values(full, [prop, key]), (prop, key)
            assert sort_values(e, refs, process, [prop]) == _sort_values(full, [prop])
        if e.search_props:
            partial = private_view(e, refs, process, e.search_props)
            assert partial == {k: v for k, v in full.items() if k in e.search_props}
            assert search_words(e, refs, process) is not None
    # value _ids: distinct from each other and from the entity ids, and the same on every call
    ids = _value_ids(sb)
    assert ids == _value_ids(sb) and not {*ids} & set(sb._entities)
    assert len({*ids}) == len(ids)
    sb._resolve()
    assert ids == _value_ids(sb)


def _value_ids(sb: EntuSandbox) -> list[object]:
    """Each value object's ``_id`` (``_reference`` repeats a reference's object: left out)."""
    return [v["_id"] for e in sb._entities.values()
            for k, vs in private_view(e, sb._ref_info, sb._oid_process).items() if k != "_reference" for v in vs]


def test_rows_of_one_load_share_their_shape_and_strings() -> None:
    sb = EntuSandbox(sample_data=False)
    sb.load_table("item", pa.table({"name": [f"n{i}" for i in range(50)], "status": ["open", "done"] * 25}))
    rows = [e for e in sb._entities.values() if e.first("_type", "reference") == sb._types["item"]]
    assert len(rows) == 50 and len({id(e.shape) for e in rows}) == 1
    assert len({id(e.search_props) for e in rows}) == 1
    assert len({id(e.values[2]) for e in rows}) == 2  # "open" and "done" kept once each
    assert not hasattr(rows[0], "__dict__") and sys.getsizeof(rows[0]) < 100
