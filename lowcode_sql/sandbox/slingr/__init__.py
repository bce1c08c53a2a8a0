"""Slingr emulator, written from the Slingr API documentation and its notes, not from the dialect.

What is emulated, and where it comes from ("seed" = the Slingr "Apps API" REST page, "notes" = docs/notes/slingr-api.md,
which cites slingr-stack/slingr-docs: query-language.md, aggregate-queries.md, data/restapi/data/list.yml):

* Auth (seed "Authentication"): ``POST /auth/login`` with ``{"email", "password"}`` answers
  ``{app, adminUserEmail, ip, userEmail, userName, userId, token}``. Every other call needs the
  header ``token``; a token expires after ``token_ttl`` seconds of *inactivity* (seed: "usually after
  8 hours of inactivity") and then answers 401. Bad credentials: 401; a body without email or
  password: 400.
* Records (seed "App data"): ``id``, ``version``, ``label`` always present; nested fields are objects
  (or arrays of objects for multi-valued ones) with their own ``id``/``label``; relationships are
  ``{"id", "label"}``; date-time (and date record created/modified) values are epoch milliseconds,
  dates ``yyyy-MM-dd``, date-times without time zone ``yyyy-MM-dd HH:mm``, times ``HH:mm``,
  month-days ``MM-dd``, year-months ``yyyy-MM`` (all text, compared as text, a value in another
  shape is a 400), time durations milliseconds, big numbers strings compared as numbers
  (slingr-docs data/types/*.yml).
* ``GET /data/{entity}`` (seed "List records", notes "Field filters", "System parameters"):
  ``field=value`` (comma list = OR, ``"..."`` quotes a value holding commas), ``field=op(args)`` with
  ``equals notEquals like between greater greaterOrEquals less lessOrEquals empty notEmpty``,
  ``like`` forms (``x`` contains, ``/x`` starts with, ``x/`` ends with, ``/re/`` regex), nested paths
  ``a.b`` matching when *any* element of a multi-valued nested field matches, relationship
  ``company=<label or id>``/``company.id``/``company.label``, ``_query=and(...)/or(filter('f','v'))``,
  the per-type operator table (a misuse is a 400), ``_fields``, ``_size`` (default 20, clamped to
  1000), ``_offset`` as a number (skip) or a record id (keyset: records *after* it in the current
  order; only with no sort or a sort by id), ``_sortField``/``_sortType`` (one field; default
  ``id desc``). The answer is ``{total, offset, items}``: ``total`` counts every match (not just the
  page) and ``offset`` is the id of the page's last record.
* ``GET /data/{entity}/{id}``.
* ``PUT /data/{entity}/aggregate`` (notes "Aggregate queries"): a JSON array of single-key stages
  ``match``, ``group`` (``by`` plus ``sum/avg/count/min/max/first/last``), ``sort``, ``project``,
  ``limit``, ``skip``, ``count``; answer ``{total, items}``.
* Errors (seed "General error codes"): ``{"code", "message"}`` JSON (plus ``errors`` for validation
  problems, as in the seed's log sample), 400/401/403/404/409/500/503; 429 with ``Retry-After``
  comes from the framework.

Choices where the sources are silent (each marked "ASSUMED:" below): inside ``_query`` strings are
single-quoted with no escape for a quote; in the plain form a double-quoted item has no escape for a
double quote; ``empty()`` matches null, a missing field and an empty array; ``like`` is
case-insensitive unless ``like_case_insensitive=False``; sorting puts missing values first ascending
(MongoDB, which the aggregate docs name as the engine). Ties under a sort field other than ``id``
come back in an order that varies with ``_offset``/``_size`` (MongoDB's "sort consistency" note: a
sort on duplicate values promises no order among them, add a unique key for consistent paging), so
a client that pages a non-unique sort across requests is caught.

Strict mode (``strict=True``, ``Platform``): a ``_`` parameter the notes' "System parameters" table does
not list (nor ``_query``), or on a record read anything but ``_fields`` and the format parameters, is a
400 ``badRequest``; unsupported filter operators are a 400 in any mode.
"""

from __future__ import annotations

from lowcode_sql.sandbox.slingr.platform import SlingrSandbox
from lowcode_sql.sandbox.slingr.query import parse_expr, split_items
from lowcode_sql.sandbox.slingr.values import FieldDef, SlingrError

__all__ = ["FieldDef", "SlingrError", "SlingrSandbox", "parse_expr", "split_items"]

SANDBOX = SlingrSandbox  # found by lowcode_sql.sandbox.get_sandbox
