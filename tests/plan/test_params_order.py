"""``?`` placeholders take their values in the order they are written, whatever sqlglot's tree order."""

from __future__ import annotations

import pytest

from lowcode_sql.errors import ParameterError
from lowcode_sql.plan import plan
from lowcode_sql.plan.params import number_qmarks


def test_qmarks_are_numbered_in_text_order_outside_strings_and_comments():
    assert number_qmarks("SELECT CAST(? AS INT), '?', ? -- ?\n FROM t WHERE x = ? LIMIT ?") == (
        "SELECT CAST($1 AS INT), '?', $2 -- ?\n FROM t WHERE x = $3 LIMIT $4", 4)


def test_where_and_limit_values_are_not_swapped(toy_catalog, folder):
    p = plan("SELECT name FROM toy.people WHERE age = ? ORDER BY id LIMIT ?", toy_catalog, folder, params=[30, 5])
    spec = p.scans[0].spec
    assert [str(pred) for pred, _ in spec.pushed] == ["age = 30"] and spec.limit == 5


@pytest.mark.parametrize("sql,params", [("SELECT ?", [1, 2]), ("SELECT ? + ?", [1]), ("SELECT ?", None),
                                        ("SELECT $2", [1])])
def test_parameter_mismatches_are_parameter_errors(toy_catalog, folder, sql, params):
    with pytest.raises(ParameterError):
        plan(sql, toy_catalog, folder, params=params)


def test_a_syntax_error_is_reported_as_such_with_parameters(toy_catalog, folder):
    # the tokenizer fails before any '?' is counted: no "2 parameters given but 1 placeholder"
    from lowcode_sql.errors import SQLSyntaxError

    with pytest.raises(SQLSyntaxError):
        plan("SELECT id FROM toy.people WHERE name = ? AND name = 'unterminated", toy_catalog, folder, params=[1, 2])


@pytest.mark.parametrize("value, contradiction", [(False, True), (None, True), (True, False)])
def test_a_bound_boolean_or_null_is_a_constant_to_the_planner(toy_catalog, folder, value, contradiction):
    # TRUE/FALSE/NULL literals, not numbers or text: a FALSE branch of an OR adds no row
    p = plan("SELECT id FROM toy.people WHERE age = 1 AND (age = 2 OR ?)", toy_catalog, folder, params=[value])
    assert p.scans[0].spec.contradiction is contradiction


def test_named_placeholders_with_a_list_take_the_values_in_order(toy_catalog, folder):
    p = plan("SELECT id FROM toy.people WHERE name = $who AND age = $years", toy_catalog, folder, params=["x", 7])
    assert sorted(str(pred) for pred, _ in p.scans[0].spec.pushed) == ["age = 7", "name = 'x'"]
    with pytest.raises(ParameterError):
        plan("SELECT id FROM toy.people WHERE name = $who AND age = $years", toy_catalog, folder, params=["x"])
