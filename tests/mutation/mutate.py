"""A small deterministic mutation-testing runner for the planner, the dialects and the scan's checks.

    nice -n 10 python tests/mutation/mutate.py [--module plan/contradiction.py] [--max 15] [--seed 1]
                                               [--jobs 1] [--list]

Each mutant is one AST-level change (comparison swap, ``and``/``or`` swap, ``not`` removal, integer
constant +1, an operand dropped from a boolean condition, an ``if`` without ``else`` removed, ``any``/
``all`` swapped, one element removed from a literal tuple/set/list) written into a private copy of the
tree; the module's test subset then runs there with ``-x -q -p no:cacheprovider`` and a timeout. A
mutant is *killed* when the tests fail, *survives* when they pass; survivors listed in
``EQUIVALENT.md`` (with the reason the change cannot alter behaviour) are counted apart. The sample
per module is seeded, so two runs with the same options test the same mutants.

This is a script, not a test: pytest never collects it (``test_mutate_smoke.py`` checks the mechanics).
"""

from __future__ import annotations

import argparse
import ast
import copy
import dataclasses
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EQUIVALENT = Path(__file__).with_name("EQUIVALENT.md")

_PLAN = ["tests/plan", "tests/differential/test_shapes_diff.py", "-k",
         "not (slingr or alumio or entu or post_in or order_by)"]
#: module (relative to the repository) -> the tests that should kill its mutants. Every module of
#: ``lowcode_sql/plan`` and every dialect with classify/render code; ``dialect/_base.py`` is left out
#: (its pushdown defaults are constant returns, which no operator here changes) as is
#: ``dialect/__init__.py`` (the registry).
MODULES: dict[str, list[str]] = {
    "lowcode_sql/plan/__init__.py": [*_PLAN[:2], "tests/integration/test_aggregate_pushdown.py",
                                     "tests/integration/test_identifier_case.py", *_PLAN[2:]],
    # ScanState (per-scan decisions) and the conjunct split, moved out of plan/__init__.py (issue 18)
    "lowcode_sql/plan/scans.py": [*_PLAN[:2], "tests/integration/test_aggregate_pushdown.py", *_PLAN[2:]],
    "lowcode_sql/plan/split.py": _PLAN,
    "lowcode_sql/plan/predicates.py": _PLAN,
    "lowcode_sql/plan/contradiction.py": _PLAN,
    "lowcode_sql/plan/analyze.py": _PLAN,
    "lowcode_sql/plan/rewrite.py": [*_PLAN[:2], "tests/integration/test_aggregate_pushdown.py", *_PLAN[2:]],
    "lowcode_sql/plan/params.py": ["tests/plan/test_params_order.py", "tests/interfaces/test_dbapi.py"],
    "lowcode_sql/fetch/scan.py": ["tests/fetch"],
    "dialect/coredata.py": ["tests/dialect/test_golden.py", "tests/dialect/test_value_guards.py",
                            "tests/differential/test_coredata_diff.py",
                            "tests/differential/test_shapes_diff.py", "-k", "coredata or not shapes"],
    "dialect/entu.py": ["tests/dialect", "tests/differential/test_entu_diff.py",
                        "tests/differential/test_shapes_diff.py", "-k", "entu or not shapes"],
    "dialect/totalum.py": ["tests/dialect/test_golden_totalum.py", "tests/dialect/test_value_guards.py",
                           "tests/differential/test_totalum_diff.py",
                           "tests/differential/test_shapes_diff.py", "-k", "totalum or not shapes"],
    "dialect/alumio.py": ["tests/dialect/test_golden_alumio.py", "tests/dialect/test_value_guards.py",
                          "tests/differential/test_alumio_diff.py",
                          "tests/differential/test_shapes_diff.py", "-k", "alumio or not shapes"],
    "dialect/slingr.py": ["tests/dialect/test_golden_slingr.py", "tests/dialect/test_slingr_like_regex.py",
                          "tests/differential/test_slingr_diff.py",
                          "tests/differential/test_shapes_diff.py", "-k", "slingr or not shapes"],
    # Slingr's query-language text (split out of dialect/slingr.py): rendering through and through
    "dialect/_slingr_query.py": ["tests/dialect/test_golden_slingr.py", "tests/dialect/test_slingr_like_regex.py",
                                 "tests/differential/test_slingr_diff.py",
                                 "tests/differential/test_shapes_diff.py", "-k", "slingr or not shapes"],
    # value guards and LIKE regexes shared by the dialects (dialect/_render.py)
    "dialect/_render.py": ["tests/dialect/test_value_guards.py", "tests/dialect/test_slingr_like_regex.py",
                           "tests/differential/test_entu_diff.py", "tests/differential/test_slingr_diff.py",
                           "tests/differential/test_totalum_diff.py", "tests/differential/test_alumio_diff.py"],
}
#: functions whose mutants are sampled (None: the whole module). Render and classify code only in
#: the dialects: auth, discovery and page parsing have their own tests elsewhere.
FUNCTIONS: dict[str, re.Pattern[str] | None] = {
    # the completeness checks: offsets, cursors, seen keys, and the one-row page overlap (drift)
    "lowcode_sql/fetch/scan.py": re.compile(r"_offset|_cursor|_check|_inconsistent|seen|_overlaps|_later_request"
                                            r"|_same_row|_row_identity|_accept|add_page"),
    **{m: re.compile(r"classify|_value_ok|render|_cond|_filter|_where|_op|_like|_match|can_|_ok|_sort|_in")
       for m in MODULES if m.startswith("dialect/") and m not in ("dialect/_render.py", "dialect/_slingr_query.py")},
}
_SWAP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
         ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}


@dataclass(frozen=True)
class Mutant:
    module: str
    line: int
    kind: str
    before: str  # the original source segment
    after: str  # its replacement
    start: int  # character offsets of the segment in the module's source
    end: int
    nth: int = 1  # the same change to the same text elsewhere in the module (``0`` -> ``1``) counts up

    @property
    def key(self) -> str:
        """Stable across edits elsewhere in the file: the module, the change and a digest of the text
        (``#n`` for its n-th occurrence in the module, so every mutant has a key of its own)."""
        digest = hashlib.sha1(f"{self.before}\0{self.after}".encode()).hexdigest()[:10]
        return f"{self.module}:{self.kind}:{digest}" + (f"#{self.nth}" if self.nth > 1 else "")

    def apply(self, source: str) -> str:
        return source[: self.start] + self.after + source[self.end :]

    def diff(self) -> str:
        return f"{self.module}:{self.line} [{self.kind}]\n- {self.before}\n+ {self.after}"


def _offsets(source: str) -> list[int]:
    out, pos = [0], 0
    for line in source.splitlines(keepends=True):
        pos += len(line)
        out.append(pos)
    return out


def _functions(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node


def generate(module: str, source: str | None = None) -> list[Mutant]:
    """Every mutant of ``module`` (in the selected functions), in source order."""
    source = source if source is not None else (ROOT / module).read_text()
    tree = ast.parse(source)
    lines = _offsets(source)
    pattern = FUNCTIONS.get(module)
    scopes = [f for name, f in _functions(tree) if pattern is None or pattern.search(name)]
    seen: set[tuple[int, int, str]] = set()
    out: list[Mutant] = []

    def add(node: ast.AST, kind: str, replacement: str) -> None:
        start = lines[node.lineno - 1] + _col(source, lines, node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = lines[node.end_lineno - 1] + _col(source, lines, node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        before = source[start:end]
        if replacement == before or (start, end, replacement) in seen:
            return
        seen.add((start, end, replacement))
        out.append(Mutant(module, node.lineno, kind, before, replacement, start, end))  # type: ignore[attr-defined]

    for scope in scopes:
        for parent in ast.walk(scope):
            for child in ast.iter_child_nodes(parent):
                child._parent = parent  # type: ignore[attr-defined]
        for node in ast.walk(scope):
            for kind, new in _mutations(node):
                if kind == "drop-if":
                    add(node, kind, "pass")
                else:
                    add(node, kind, ast.unparse(new))
    out.sort(key=lambda m: (m.start, m.kind, m.after))
    count: dict[tuple[str, str, str], int] = {}
    for i, m in enumerate(out):
        n = count[(m.kind, m.before, m.after)] = count.get((m.kind, m.before, m.after), 0) + 1
        if n > 1:
            out[i] = dataclasses.replace(m, nth=n)
    return out


def _col(source: str, lines: list[int], lineno: int, col: int) -> int:
    """ast column offsets count UTF-8 bytes; the text is indexed by characters."""
    line = source[lines[lineno - 1] : lines[lineno]]
    return len(line.encode()[:col].decode(errors="ignore"))


def _mutations(node: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in _SWAP:
                new = copy.deepcopy(node)
                new.ops[i] = _SWAP[type(op)]()
                yield "compare", new
    elif isinstance(node, ast.BoolOp):
        new = copy.deepcopy(node)
        new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield "and-or", new
        for i in range(len(node.values)):
            rest = [copy.deepcopy(v) for j, v in enumerate(node.values) if j != i]
            yield "drop-operand", rest[0] if len(rest) == 1 else ast.BoolOp(op=node.op, values=rest)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "drop-not", copy.deepcopy(node.operand)
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        yield "const+1", ast.Constant(node.value + 1)
    elif isinstance(node, ast.If) and not node.orelse:
        yield "drop-if", node
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("any", "all"):
        new = copy.deepcopy(node)
        new.func = ast.Name("all" if node.func.id == "any" else "any")
        yield "any-all", new
    elif isinstance(node, ast.Tuple | ast.Set | ast.List) and 2 <= len(node.elts) <= 8 and all(
            isinstance(e, ast.Constant | ast.Attribute) for e in node.elts) and isinstance(
            getattr(node, "_parent", None), ast.Compare | ast.comprehension | ast.For):
        # a set of blockers or allowed values (``k in ("group", "having")``), not a returned tuple
        for i in range(len(node.elts)):
            new = copy.deepcopy(node)
            del new.elts[i]
            yield "drop-element", new


def sample(mutants: list[Mutant], n: int | None, seed: int) -> list[Mutant]:
    if n is None or len(mutants) <= n:
        return mutants
    picked = random.Random(f"{seed}:{mutants[0].module}").sample(range(len(mutants)), n)
    return [mutants[i] for i in sorted(picked)]


def equivalent() -> dict[str, str]:
    """``EQUIVALENT.md``: lines ``- `<key>` <reason>``."""
    if not EQUIVALENT.exists():
        return {}
    out = {}
    for line in EQUIVALENT.read_text().splitlines():
        m = re.match(r"- `([^`]+)`\s*(.*)", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def make_copy(dest: Path) -> Path:
    for name in ("lowcode_sql", "dialect", "tests", "benchmarks"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    return dest


def run_tests(tree: Path, args: list[str], timeout: float) -> tuple[bool, float]:
    """True when the tests fail (the mutant is killed)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-n", "0",
           "-o", f"timeout={int(timeout)}", *args]
    started = time.monotonic()
    try:
        done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout + 60)
    except subprocess.TimeoutExpired:
        return True, time.monotonic() - started
    if done.returncode not in (0, 1):  # 1: tests failed; 2-5: a broken run, which proves nothing
        raise SystemExit(f"the test run itself failed ({done.returncode}) for {args}:\n"
                         + done.stdout[-1500:] + done.stderr[-1500:])
    return done.returncode != 0, time.monotonic() - started


def check_copy(tree: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    where = subprocess.run([sys.executable, "-c", "import lowcode_sql, dialect; print(lowcode_sql.__file__, "
                            "dialect.__file__)"], cwd=tree, env=env, capture_output=True, text=True, check=True)
    if str(tree) not in where.stdout:
        raise SystemExit(f"the copy is not the code under test: {where.stdout}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--module", action="append", help="a key of MODULES (default: all); repeatable")
    ap.add_argument("--max", type=int, default=12, help="mutants sampled per module (0: all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=1, help="mutants run at once (each in its own copy)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per mutant's test run")
    ap.add_argument("--key", action="append", help="run only the mutant with this key (as printed for a "
                    "survivor), whether sampled or not; repeatable. Re-runs survivors after a fix")
    ap.add_argument("--list", action="store_true", help="print the sampled mutants and exit")
    opts = ap.parse_args(argv)
    modules = opts.module or list(dict.fromkeys(k.rsplit(":", 2)[0] for k in opts.key or ()) or MODULES)
    for m in modules:
        if m not in MODULES:
            ap.error(f"unknown module {m!r}; known: {', '.join(MODULES)}")
    if opts.key:
        todo = [mu for m in modules for mu in generate(m) if mu.key in opts.key]
        missing = set(opts.key) - {mu.key for mu in todo}
        if missing:  # the text changed since the key was printed: say so rather than report nothing
            ap.error(f"no such mutant now: {', '.join(sorted(missing))}")
    else:
        todo = [mu for m in modules for mu in sample(generate(m), opts.max or None, opts.seed)]
    if opts.list:
        for mu in todo:
            print(mu.key, "\n" + mu.diff() + "\n")
        return 0
    equiv = equivalent()
    results: dict[str, bool] = {}
    with tempfile.TemporaryDirectory(prefix="lc-mutation-") as tmp:
        trees = [make_copy(Path(tmp) / f"w{i}") for i in range(max(1, opts.jobs))]
        check_copy(trees[0])
        free = list(trees)

        def one(mu: Mutant) -> None:
            tree = free.pop()
            path = tree / mu.module
            original = path.read_text()
            try:
                path.write_text(mu.apply(original))
                killed, secs = run_tests(tree, MODULES[mu.module], opts.timeout)
            finally:
                path.write_text(original)
                free.append(tree)
            results[mu.key] = killed
            state = "killed" if killed else ("equivalent" if mu.key in equiv else "SURVIVED")
            print(f"{state:10} {secs:6.1f}s  {mu.module}:{mu.line} [{mu.kind}] {mu.after[:70]!r}", flush=True)

        with ThreadPoolExecutor(max_workers=len(trees)) as pool:
            list(pool.map(one, todo))
    return report(todo, results, equiv)


def report(todo: list[Mutant], results: dict[str, bool], equiv: dict[str, str]) -> int:
    print("\nmodule                               killed  survived  equivalent  score")
    total_k = total_n = 0
    survivors: list[Mutant] = []
    for module in dict.fromkeys(m.module for m in todo):
        mine = [m for m in todo if m.module == module]
        killed = sum(results[m.key] for m in mine)
        eq = sum(1 for m in mine if not results[m.key] and m.key in equiv)
        surv = [m for m in mine if not results[m.key] and m.key not in equiv]
        survivors += surv
        n = killed + len(surv)
        total_k, total_n = total_k + killed, total_n + n
        score = f"{100 * killed / n:5.1f}%" if n else "  -  "
        print(f"{module:36} {killed:6}  {len(surv):8}  {eq:10}  {score}")
    print(f"{'total (non-equivalent)':36} {total_k:6}  {total_n - total_k:8}  "
          f"{sum(1 for m in todo if not results[m.key] and m.key in equiv):10}  "
          f"{100 * total_k / max(1, total_n):5.1f}%")
    for m in survivors:
        print(f"\nSURVIVED {m.key}\n{m.diff()}")
    return 0 if not survivors else 1


if __name__ == "__main__":
    sys.exit(main())
