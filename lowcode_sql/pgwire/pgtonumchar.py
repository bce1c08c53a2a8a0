"""PostgreSQL's ``to_char(number, template)`` on DuckDB, built from the template at translate time.

PostgreSQL formats a number in two steps (src/backend/utils/adt/formatting.c): the value is
rounded to the template's fraction digits and written as a digit string (``numeric_out``, or
``%.*f`` for float8), then ``NUM_processor`` walks the template and that string together,
deciding blanks, zeros, signs and separators from where it is in each. The second step depends
on the digit string only through a few facts: how many integer digits it has (or whether it
overflows the template), whether its integer part is ``0``, where its last non-zero fraction digit
is (``FM`` drops the zeros after it) and the sign. :func:`_layout` is a port of that step, run on a
*symbolic* digit string for each combination of those facts; the results become a ``CASE`` over
the real digit string, whose placeholders pick its characters (``_to_sql``). So every value is
laid out by PostgreSQL's own rules, its quirks included (``to_char(0, '999.99')`` is
``'    .00'``, ``to_char(0, 'FM999.99')`` is ``'0.'``, ``to_char(1, '9.')`` is ``' 1'``).

Implemented: ``9 0 . , D G FM S MI PL SG PR V`` and literal text (quoted or not), for integers,
numerics and float8 (float8's ``%.*f`` rounds the binary value: ``to_char(2.5::float8, '9')``
is ``' 2'``). Refused with an error naming the pattern: ``L EEEE RN TH B SP``, float4.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

__all__ = ["TOCHAR_MACROS", "numeric_to_char"]

# placeholders for the digit string's characters: integer digit k (from the left), fraction digit k
_INT0, _FRAC0 = 0xE000, 0xE100
_REFUSED = ("EEEE", "eeee", "RN", "rn", "TH", "th", "SP", "sp", "B", "b", "L", "l", "C", "c")
_KEYWORDS = (",", ".", "0", "9", "D", "d", "FM", "fm", "G", "g", "MI", "mi", "PL", "pl", "PR", "pr",
             "SG", "sg", "S", "s", "V", "v")
_MAX_BRANCHES = 600
_DBL_DIG = 15

TOCHAR_MACROS: tuple[str, ...] = (
    # PostgreSQL's digit string (sign included) of x * 10^multi rounded to post fraction digits:
    # numeric_round + numeric_out for numerics, the integer's digits and zeros for integers,
    # printf("%.*f") for float8 (post cut to 15 significant digits, as float8_to_char does)
    "CREATE OR REPLACE MACRO pg_tochar_dec(v, post) AS "
    "CASE WHEN round(v, post) < 0 THEN '-' ELSE '' END || split_part(CAST(round(abs(v), post) AS VARCHAR), '.', 1)"
    " || CASE WHEN post > 0 THEN '.' || rpad(split_part(CAST(round(abs(v), post) AS VARCHAR), '.', 2), "
    "CAST(post AS INTEGER), '0') ELSE '' END",
    "CREATE OR REPLACE MACRO pg_tochar_dbl_post(v, post) AS CASE "
    "WHEN length(printf('%.0f', abs(v))) >= 15 THEN 0 "
    "WHEN length(printf('%.0f', abs(v))) + post > 15 THEN 15 - length(printf('%.0f', abs(v))) ELSE post END",
    "CREATE OR REPLACE MACRO pg_tochar_dbl(v, post) AS printf('%.' || CAST(pg_tochar_dbl_post(v, post) AS VARCHAR) "
    "|| 'f', v)",
)


def _tochar_num_macro() -> str:
    ints = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
    body = ["(x, post, multi, p DOUBLE) AS pg_tochar_dbl(CAST(x AS DOUBLE) * pow(10, multi), post)",
            "(x, post, multi, p FLOAT) AS error('pgerror 0A000: to_char(real, text) is not available on this "
            "server: cast the value to double precision or numeric')",
            "(x, post, multi, p DECIMAL) AS pg_tochar_dec(CAST(x AS DECIMAL(38, 10)) * CAST(pow(10, multi) AS "
            "DECIMAL(38, 0)), post)"]
    body += [f"(x, post, multi, p {t}) AS CAST(CAST(x AS HUGEINT) * CAST(pow(10, multi) AS HUGEINT) AS VARCHAR)"
             " || CASE WHEN post > 0 THEN '.' || repeat('0', CAST(post AS BIGINT)) ELSE '' END" for t in ints]
    body.append("(x, post, multi, p) AS error('pgerror 42883: function to_char(' || typeof(p) || ', unknown) does "
                "not exist')")
    return "CREATE OR REPLACE MACRO pg_tochar_num" + ", ".join(body)


TOCHAR_MACROS = (*TOCHAR_MACROS, _tochar_num_macro())


@dataclass
class _Node:
    key: str | None  # a keyword, or None for literal text
    text: str = ""


@dataclass
class _Num:
    pre: int = 0
    post: int = 0
    multi: int = 0
    decimal: bool = False
    zero: bool = False
    zero_start: int = 0
    zero_end: int = 0
    fillmode: bool = False
    lsign: int = 0  # -1 before, 1 after, 0 none
    pre_lsign_num: int = 0
    bracket: bool = False
    minus: bool = False
    plus: bool = False
    nodes: list[_Node] = field(default_factory=list)


def _parse(fmt: str) -> _Num:
    """NUMDesc_prepare over the template; raises ValueError for a pattern not implemented here."""
    num = _Num()
    i = 0
    while i < len(fmt):
        for bad in _REFUSED:
            if fmt.startswith(bad, i):
                raise NotImplementedError(f'to_char(): the template pattern "{bad}" is not available on this server')
        key = next((k for k in _KEYWORDS if fmt.startswith(k, i)), None)
        if key is None:
            if fmt[i] == '"':
                j, text = i + 1, []
                while j < len(fmt) and fmt[j] != '"':
                    if fmt[j] == "\\" and j + 1 < len(fmt):
                        j += 1
                    text.append(fmt[j])
                    j += 1
                num.nodes.append(_Node(None, "".join(text)))
                i = j + 1
                continue
            if fmt[i] == "\\" and fmt.startswith('"', i + 1):
                i += 1
            num.nodes.append(_Node(None, fmt[i]))
            i += 1
            continue
        i += len(key)
        k = key.upper()
        num.nodes.append(_Node(k))
        _describe(num, k)
    return num


def _describe(num: _Num, k: str) -> None:
    if k in ("9", "0") and num.bracket:
        raise SyntaxError(f'"{k}" must be ahead of "PR"')
    if k == "9":
        if num.multi or any(n.key == "V" for n in num.nodes[:-1]):
            num.multi += 1
        elif num.decimal:
            num.post += 1
        else:
            num.pre += 1
    elif k == "0":
        if not num.zero and not num.decimal:
            num.zero = True
            num.zero_start = num.pre + 1
        if not num.decimal:
            num.pre += 1
        else:
            num.post += 1
        num.zero_end = num.pre + num.post
    elif k in (".", "D"):
        if num.decimal:
            raise SyntaxError("multiple decimal points")
        if any(n.key == "V" for n in num.nodes[:-1]):
            raise SyntaxError('cannot use "V" and decimal point together')
        num.decimal = True
    elif k == "FM":
        num.fillmode = True
    elif k == "S":
        if num.lsign:
            raise SyntaxError('cannot use "S" twice')
        if num.plus or num.minus or num.bracket:
            raise SyntaxError('cannot use "S" and "PL"/"MI"/"SG"/"PR" together')
        num.lsign = 1 if num.decimal else -1
        num.pre_lsign_num = num.pre
    elif k in ("MI", "PL", "SG"):
        if num.lsign:
            raise SyntaxError(f'cannot use "S" and "{k}" together')
        num.minus = num.minus or k in ("MI", "SG")
        num.plus = num.plus or k in ("PL", "SG")
    elif k == "PR":
        if num.lsign or num.plus or num.minus:
            raise SyntaxError('cannot use "PR" and "S"/"PL"/"MI"/"SG" together')
        num.bracket = True
    elif k == "V" and num.decimal:
        raise SyntaxError('cannot use "V" and decimal point together')


def _last_relevant(number: str) -> int | None:
    p = number.find(".")
    if p < 0:
        return None
    result = p
    for j in range(p + 1, len(number)):
        if number[j] != "0":
            result = j
    return result


def _layout(num: _Num, number: str, out_pre_spaces: int, sign: str) -> str:
    """NUM_processor (to_char) over ``number``, the unsigned digit string; a port of formatting.c."""
    pre = num.pre + num.multi
    zero_start = num.zero_start - 1 if num.zero_start else 0
    bracket = num.bracket
    lsign = num.lsign
    if num.plus or num.minus:
        sign_wrote = not (num.plus and not num.minus)
    else:
        if sign != "-" and num.fillmode:
            bracket = False
        sign_wrote = sign == "+" and num.fillmode and not lsign
        if lsign == -1 and pre == num.pre_lsign_num:
            lsign = 1
    num_count = num.post + pre - 1
    last_relevant: int | None = None
    if num.fillmode and num.decimal:
        last_relevant = _last_relevant(number)
        if last_relevant is not None and num.zero_end > out_pre_spaces:
            last_zero = min(len(number) - 1, num.zero_end - out_pre_spaces)
            last_relevant = max(last_relevant, last_zero)
    if not sign_wrote and out_pre_spaces == 0:
        num_count += 1
    out: list[str] = []
    p = 0  # number_p
    num_curr = 0
    num_in = False  # the last digit position wrote a digit (a group separator then prints)

    def at(j: int) -> str:
        return number[j] if j < len(number) else "\0"

    def predec_space() -> bool:
        return not num.zero and p == 0 and at(0) == "0" and num.post != 0

    for node in num.nodes:
        k = node.key
        if k is None:
            out.append(node.text)
            continue
        if k in ("9", "0", ".", "D"):
            # NUM_numpart_to_char
            num_in = False
            if not sign_wrote and (num_curr >= out_pre_spaces or (num.zero and zero_start == num_curr)) \
                    and (not predec_space() or (last_relevant is not None and at(last_relevant) == ".")):
                if lsign:
                    if lsign == -1:
                        out.append(sign)
                        sign_wrote = True
                elif bracket:
                    out.append(" " if sign == "+" else "<")
                    sign_wrote = True
                elif sign == "+":
                    if not num.fillmode:
                        out.append(" ")
                    sign_wrote = True
                else:
                    out.append("-")
                    sign_wrote = True
            if num_curr < out_pre_spaces and (zero_start > num_curr or not num.zero):
                if not num.fillmode:
                    out.append(" ")
            elif num.zero and num_curr < out_pre_spaces and zero_start <= num_curr:
                out.append("0")
                num_in = True
            else:
                if at(p) == ".":
                    if last_relevant is None or at(last_relevant) != "." or num.fillmode:
                        out.append(".")
                elif last_relevant is not None and p > last_relevant and k != "0":
                    pass
                elif predec_space():
                    if not num.fillmode:
                        out.append(" ")
                    elif last_relevant is not None and at(last_relevant) == ".":
                        out.append("0")
                else:
                    out.append(at(p))
                    num_in = True
                if p < len(number):
                    p += 1
            end = num_count + (1 if out_pre_spaces else 0) + (1 if num.decimal else 0)
            if last_relevant is not None and last_relevant == p:
                end = num_curr
            if num_curr + 1 == end:
                if sign_wrote and bracket:
                    out.append(" " if sign == "+" else ">")
                elif lsign == 1:
                    out.append(sign)
            num_curr += 1
        elif k in (",", "G"):
            if not num_in:
                if not num.fillmode:
                    out.append(" ")
            else:
                out.append(",")
        elif k == "MI":
            if sign == "-":
                out.append("-")
            elif not num.fillmode:
                out.append(" ")
        elif k == "PL":
            if sign == "+":
                out.append("+")
            elif not num.fillmode:
                out.append(" ")
        elif k == "SG":
            out.append(sign)
    text = "".join(out)
    return text.split("\0", 1)[0]



def _symbolic(ilen: int, izero: bool, flen: int, relevant: int, decimal_part: bool) -> str:
    """A digit string with these facts, placeholders standing for the real digits."""
    ip = "0" if izero else "".join(chr(_INT0 + k) for k in range(ilen))
    if not decimal_part:
        return ip
    return ip + "." + "".join(chr(_FRAC0 + k) if k < relevant else "0" for k in range(flen))


def _concat(text: str, ip: str, fp: str) -> str:
    """SQL for ``text`` (an output of ``_layout``): literal runs, and substrings of the real integer
    (``ip``) and fraction (``fp``) digits for runs of placeholders."""
    parts: list[str] = []
    i = 0
    while i < len(text):
        c = ord(text[i])
        if _INT0 <= c < _FRAC0 or _FRAC0 <= c < _FRAC0 + 0x100:
            base, src = (_INT0, ip) if c < _FRAC0 else (_FRAC0, fp)
            j = i
            while j + 1 < len(text) and ord(text[j + 1]) == ord(text[j]) + 1:
                j += 1
            parts.append(f"substr({src}, {c - base + 1}, {j - i + 1})")
            i = j + 1
        else:
            j = i
            while j < len(text) and not (_INT0 <= ord(text[j]) < _FRAC0 + 0x100):
                j += 1
            parts.append(exp.Literal.string(text[i:j]).sql(dialect="duckdb"))
            i = j
    return " || ".join(parts) if parts else "''"


def numeric_to_char(value: exp.Expr, probe: exp.Expr, fmt: str) -> exp.Expr:
    """``to_char(value, fmt)`` for a number, as DuckDB SQL (module docstring); ``probe`` has the
    value's type (``pgsemantics._probe``). Raises NotImplementedError for a pattern not implemented
    here, SyntaxError for a template PostgreSQL refuses."""
    num = _parse(fmt)
    pre, post = num.pre + num.multi, num.post
    s = "s"
    body = f"ltrim({s}, '-')"
    ip, fp = f"split_part({body}, '.', 1)", f"split_part({body}, '.', 2)"
    neg = f"starts_with({s}, '-')"
    flens = range(post + 1) if pre + post >= _DBL_DIG else [post]
    branches: list[tuple[str, str]] = []
    for sign in ("-", "+"):
        cond_sign = neg if sign == "-" else f"NOT {neg}"
        overflow = "#" * pre + "." + "#" * post
        branches.append((f"{cond_sign} AND length({ip}) > {pre}",
                         _concat(_layout(num, overflow, 0, sign), ip, fp)))
        for flen in flens:
            cond_flen = f"length({fp}) = {flen}"
            decimal_part = post > 0 and flen > 0
            relevants = range(flen + 1) if num.fillmode and num.decimal else [flen]
            for relevant in relevants:
                cond_rel = f"length(rtrim({fp}, '0')) = {relevant}" if len(relevants) > 1 else "true"
                for ilen in range(1, pre + 1):
                    for izero in ((True, False) if ilen == 1 else (False,)):
                        cond_int = f"{ip} = '0'" if izero else f"length({ip}) = {ilen}"
                        number = _symbolic(ilen, izero, flen, relevant, decimal_part)
                        text = _layout(num, number, pre - ilen, sign)
                        branches.append((" AND ".join([cond_sign, cond_flen, cond_rel, cond_int]),
                                         _concat(text, ip, fp)))
    if len(branches) > _MAX_BRANCHES:
        raise NotImplementedError("to_char(): this template has too many digit positions for this server")
    cases = " ".join(f"WHEN {c} THEN {e}" for c, e in branches)
    digits = (f"pg_tochar_num({value.sql(dialect='duckdb')}, {post}, {num.multi}, "
              f"{probe.sql(dialect='duckdb')})")
    sql = f"list_transform([{digits}], lambda s: CASE WHEN s IS NULL THEN NULL {cases} END)[1]"
    return exp.Paren(this=sqlglot.parse_one(sql, read="duckdb"))
