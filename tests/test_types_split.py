"""``lowcode_sql/types.py`` was split (issue 18) into the predicate IR (``ir``), the scan spec
(``scanspec``) and the HTTP request/page values (``requests``); ``types`` re-exports them, so code
written against it keeps working with the very same classes."""

from __future__ import annotations

import lowcode_sql.ir as ir
import lowcode_sql.requests as requests
import lowcode_sql.scanspec as scanspec
import lowcode_sql.types as types


def test_types_reexports_every_name_of_the_three_modules_as_the_same_object():
    homes = {name: mod for mod in (ir, scanspec, requests) for name in mod.__all__}
    assert set(types.__all__) == set(homes)
    for name, mod in homes.items():
        assert getattr(types, name) is getattr(mod, name), name
        obj = getattr(mod, name)
        if isinstance(obj, type):
            assert obj.__module__ == mod.__name__, name  # defined there, not re-exported from elsewhere


def test_each_value_lives_with_its_kind():
    assert {"Pred", "Cmp", "Exactness", "LikePattern", "columns_of", "sql_literal"} <= set(ir.__all__)
    assert {"ScanSpec", "SortKey", "Aggregate"} <= set(scanspec.__all__)
    assert {"HttpRequest", "ScanRequest", "OffsetPaging", "Page"} <= set(requests.__all__)
