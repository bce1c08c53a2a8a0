"""sqlglot 28.10 to 30.x: the two names of sqlglot 30 that lowcode_sql uses, on 28 and 29 too.

Apache Superset 6.1 pins ``sqlglot>=28.10,<29``; lowcode_sql allows ``>=28.10,<31`` so that both
install in one environment (issue 14). sqlglot 30 renamed ``exp.DataType.Type`` to ``exp.DType``
and added ``exp.Expr`` as the base of expressions (``exp.Expression`` before, used in annotations
only here). On an older sqlglot the new names are added as aliases of the old ones; on 30 this
does nothing. Imported by the modules that use them (``lowcode_sql.pgwire``).
"""

from __future__ import annotations

from sqlglot import exp

if not hasattr(exp, "DType"):
    setattr(exp, "DType", exp.DataType.Type)  # noqa: B010  # setattr: on sqlglot 30 the name is a class
if not hasattr(exp, "Expr"):
    setattr(exp, "Expr", exp.Expression)  # noqa: B010
