"""Entu (entu.app) emulator, written from Entu's API documentation and its notes, not from the dialect.

What is emulated, and where each behaviour comes from ("seed" = the public "Entu API Documentation",
"notes" = docs/notes/entu-api.md, which cites the Nitro server github.com/entu/api
routes/[db]/entity/index.get.js, utils/entity.js, utils/aggregate.js, middleware/auth.js):

* Auth (seed "Authentication", notes "Auth"): ``GET /api/auth`` with ``Bearer <API key>`` returns
  ``{accounts, user, token, expires}``; the token is an HS256 JWT (claims ``accounts``, ``db``, ``aud``,
  ``iat``, ``exp``, ``jti``). Data calls send ``Bearer <JWT>``; an invalid/expired/revoked JWT is a 401.
  Like the real middleware, *no* token is not an error: the caller is anonymous and sees only public
  entities (none in this sandbox), so the list is silently empty. A wrong API key also still gets a
  token, with ``accounts: []``. ``GET /api/auth/refresh`` exchanges a JWT (also an expired one).
* List (notes "List call", "Entity shape"): ``GET /api/{db}/entity`` -> ``{entities, count, limit, skip}``;
  every property is an array of value objects with their own ``_id``.
* Filters (notes "Filters"): the key parser, the type-driven value conversion and its quirks, merged
  operators, and MongoDB query semantics over arrays (any element matches; ``$ne`` = no element
  equals; comparisons only within one BSON type bracket; NaN rules).
* ``props``, ``sort`` (Mongo array sort keys), ``limit``/``skip`` (JS ``parseInt``), ``group``, ``q``.

Where the notes and MongoDB/driver reality differ, MongoDB wins, because the sandbox must answer like
the real stack (each such place is marked "MONGO:" below):

* ``$exists`` takes any BSON value and uses its *truthiness* (``BSONElement::trueValue``): a double
  NaN is ``NaN != 0`` -> **true**, a Date is always true. So ``price.number.exists=false`` (-> NaN) means
  *exists: true*, ``price.number.exists=0`` means *exists: false*, and ``x.date.exists=<anything>``
  means *exists: true*.
* An Invalid Date (``new Date('junk')``) is serialised by js-bson as ``Long.fromNumber(NaN)`` = 0, i.e.
  1970-01-01T00:00:00Z, so ``published.date=junk`` matches the epoch date.
* js-bson writes a RegExp's flags as ``i`` (ignoreCase), ``s`` (for *global*!) and ``m``: the JS ``s``
  (dotAll) flag is silently dropped, and ``x`` makes ``new RegExp`` throw (-> 400 "Invalid regex").

Assumptions: the server's time zone is UTC (JS parses zone-less date-times as local time).

Strict mode (``strict=True``, ``Platform``): a list parameter other than the seed's ``q props group sort
limit skip`` and ``property.type[.operator]`` filters, an operator outside the seed's ``gt gte lt lte ne
regex exists`` and the notes' ``in``, a detail parameter other than ``props`` and an auth parameter other
than ``account``/``db`` are a 400 in Entu's error shape.
"""

from __future__ import annotations

from lowcode_sql.sandbox._mongo import BDate, ObjectId, iso_ms, pcre_to_python
from lowcode_sql.sandbox.entu.filters import parse_filters
from lowcode_sql.sandbox.entu.platform import EntuSandbox
from lowcode_sql.sandbox.entu.values import EntuHTTPError, js_number, js_parse_int, js_string, object_id, parse_date

__all__ = [
    "BDate",
    "EntuHTTPError",
    "EntuSandbox",
    "ObjectId",
    "iso_ms",
    "js_number",
    "js_parse_int",
    "js_string",
    "object_id",
    "parse_date",
    "parse_filters",
    "pcre_to_python",
]

SANDBOX = EntuSandbox  # found by lowcode_sql.sandbox.get_sandbox
