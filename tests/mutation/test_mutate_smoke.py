"""The mutation runner's mechanics (the runner itself is a script: ``tests/mutation/mutate.py``)."""

from __future__ import annotations

import ast

from tests.mutation import mutate

SOURCE = '''
def f(a, b, xs):
    if a < b and not xs:
        return 1
    if b in ("x", "y"):
        b = 2
    return any(x > 0 for x in xs)
'''


def test_generates_each_operator_and_applies_one_change_at_a_time():
    mutants = mutate.generate("lowcode_sql/plan/contradiction.py", SOURCE)
    kinds = {m.kind for m in mutants}
    assert {"compare", "and-or", "drop-operand", "drop-not", "const+1", "drop-if", "any-all",
            "drop-element"} <= kinds
    for m in mutants:
        changed = m.apply(SOURCE)
        assert changed != SOURCE
        ast.parse(changed)  # every mutant is valid Python
        assert changed[: m.start] == SOURCE[: m.start]  # one contiguous change
        assert changed.endswith(SOURCE[m.end :])
    assert any(m.before == "a < b" and m.after == "a <= b" for m in mutants)
    assert any(m.after == "('x',)" for m in mutants)


def test_sampling_is_deterministic_and_keys_are_stable():
    all_ = mutate.generate("lowcode_sql/plan/contradiction.py")
    a = mutate.sample(all_, 5, 1)
    assert a == mutate.sample(mutate.generate("lowcode_sql/plan/contradiction.py"), 5, 1)
    assert len(a) == 5 and len({m.key for m in a}) == 5
    shifted = "\n\n" + (mutate.ROOT / "lowcode_sql/plan/contradiction.py").read_text()
    assert {m.key for m in mutate.generate("lowcode_sql/plan/contradiction.py", shifted)} == {m.key for m in all_}


def test_every_module_has_mutants_and_an_existing_test_subset():
    for module, args in mutate.MODULES.items():
        assert mutate.generate(module), module
        for arg in args:
            if arg.startswith("tests/"):
                assert (mutate.ROOT / arg.split("::")[0]).exists(), arg


def test_a_mutant_is_applied_in_a_copy_and_reverted(tmp_path):
    tree = mutate.make_copy(tmp_path)
    mutate.check_copy(tree)
    m = next(m for m in mutate.generate("lowcode_sql/plan/contradiction.py") if m.kind == "compare")
    path = tree / m.module
    original = path.read_text()
    path.write_text(m.apply(original))
    assert path.read_text() != (mutate.ROOT / m.module).read_text()
    path.write_text(original)
    assert path.read_text() == (mutate.ROOT / m.module).read_text()  # the working tree is never touched


def test_every_mutant_of_a_module_has_a_key_of_its_own():
    # the same change to the same text (``0`` -> ``1``) at two places must not share a result
    source = "def f(a):\n    return a[0] + a[0]\n"
    mutants = [m for m in mutate.generate("lowcode_sql/plan/params.py", source) if m.kind == "const+1"]
    assert len(mutants) == 2 and len({m.key for m in mutants}) == 2
    for module in mutate.MODULES:
        keys = [m.key for m in mutate.generate(module)]
        assert len(keys) == len(set(keys)), module
