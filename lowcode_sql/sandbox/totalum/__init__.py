"""Totalum (totalum.app) emulator, written from the Totalum API page and its notes, not from the dialect.

Sources: "seed" = https://docs.totalum.app/totalum_openapi.html (the OpenAPI page, Totalum API 1.1.3);
"notes" = docs/notes/totalum-api.md (SDK ``totalum-api-sdk@2.0.40``: ``interfaces.d.ts``, ``CrudService.js``,
``endpoints.js``; public code calling the REST API).

What is emulated:

* Auth (seed "api-key header"): every call needs ``api-key: <key>``; a missing or unknown key is a 401,
  a key restricted to some tables (``restricted_keys``) gets a 403 for the others. Errors are
  problem-details objects ``{type, title, status, detail, traceId}`` (seed "status codes"), also for
  400/404/429 (429 carries ``Retry-After``; the framework adds it).
* Discovery: ``GET /api/v1/integrations/get-tables`` -> ``[{id, label}]`` and
  ``GET /api/v1/integrations/get-table-structure?id=T&usage=read|filter|create|edit|files`` ->
  ``[{name, label, type, required, value, spec}]`` (both shapes from the seed). ``GET /api/v1/data-structure/``
  (shape undocumented: the seed shows ``{ }``) -> ``{data: [{_id, name, label, properties: [...]}]}``.
  Property types (notes "Storage and types"; names beyond the docs' list are [U]): ``text``, ``number``,
  ``date``, ``boolean``, ``options`` (a string among ``spec``), ``file`` (stored ``{name: fileNameId}``),
  ``many-to-one`` (stores the referenced ``_id``), ``one-to-many`` (virtual), ``many-to-many`` (a hidden
  junction, read through the relation endpoint). For reference types the referenced table id is in
  ``spec[0].name`` with ``type: "table"`` (our assumption: the documented ``spec`` is ``[{name, label, type}]``).
* Lists, three request shapes, one semantics (notes "Query shape"):
  - ``GET /api/v1/crud/{typeId}`` as the seed documents: ``filter`` a JSON string; ``sort`` and
    ``pagination`` objects, accepted as qs bracket keys (``sort[name]=1``, ``pagination[page]=0``; the form
    public code uses), as JSON strings, or as plain ``page``/``limit`` (the seed's pagination prose);
    ``returnCount=true``. A bracket ``filter[0][f][gte]=5`` (inferred form) is accepted too: its values are
    strings, cast by the property type.
  - ``POST /api/v1/crud/query/{typeId}`` with the JSON body ``{filter, sort, pagination, returnCount}``
    (SDK 2.0.40 ``getItems``).
  Answer ``{data: [...], metadata: {count}}``, ``metadata`` only with ``returnCount`` (notes "Response").
  Paging: ``page`` from 0, ``limit`` default 50 (seed "pagination"), ``skip`` added to ``page*limit``
  (``interfaces.d.ts`` has it; its exact meaning is [U]); ``limit: 0`` = no limit (Mongo's
  ``.limit(0)``); ``max_page_size`` clamps (the real maximum is [U]).
* Filters with MongoDB semantics over the stored documents (a null field may be stored as ``null`` or
  be absent; ``nulls`` option of ``load_table``): the filter array is an AND; an element's keys are
  ANDed; ``{or: [cond, ...]}`` is an OR of conds (which may nest ``or`` again); a scalar means equality
  (``{f: null}`` matches null *and* missing); operator objects ``{gt, gte, lt, lte, ne, regex, options,
  in, nin, exists}``. ``ne`` matches documents where the field is missing or null (Mongo ``$ne``).
  ``gt/gte/lt/lte`` are only allowed on number and date properties (SDK README): anything else is a 400.
  Comparisons never cross BSON types (a string never compares with a number). ``regex`` never matches
  a non-string; ``options`` ``i`` is PCRE2 caseless matching (Unicode simple folding without Turkish
  casing: ``i`` does not match ``İ``, ``k`` matches KELVIN SIGN), ``m``, ``s``, ``x`` as in PCRE.
  Operands for date properties (and ``createdAt``/``updatedAt``) are cast like ``new Date(str)`` (the
  server knows the schema; notes: "dates are BSON Date, so send ISO strings").
* Sort: ``{field: 1|-1}`` in key order, BSON order (null and missing lowest). Ties come in an order
  that varies between requests (MongoDB promises none for a non-unique sort key, so paging over ties
  without a unique last key can repeat or skip rows).
* ``GET /api/v1/crud/{typeId}/{id}`` one record; ``GET /api/v1/crud/{typeId}/{id}/{propertyName}`` the
  records linked through a many-to-many property, with ``filter``/``sort``/``pagination`` (the seed lists no
  ``returnCount`` there, so none is reported).
* ``POST /api/v1/filter/custom-mongo-aggregation-query`` ``{customMongoQuery: "<JSON pipeline>", type}``:
  ``$match`` (Mongo query operators ``$eq $ne $gt $gte $lt $lte $in $nin $regex $options $exists $and $or
  $nor $expr``; no casting: ids and dates compare through ``$toObjectId``/``$toDate``), ``$group``
  (``$sum $min $max $avg $first $count``; expressions ``$field``, ``$cond``, ``$gt``,
  ``$eq``, ``$ne``, ``$lt``, ``$gte``, ``$lte``, ``$ifNull``), ``$sort``, ``$skip``, ``$limit``, ``$count``,
  ``$project`` (inclusion). Answers ``{data: [...]}``. Only strict JSON is parsed (the seed's example is
  JavaScript-like text; what the server really parses is [U]).

Strict mode (``strict=True``, ``Platform``): a list query parameter other than ``filter sort pagination
returnCount page limit`` (no ``returnCount`` on the many-to-many endpoint), a body key other than
``FilterSearchQueryI``'s, a pagination key other than ``limit page skip``, a sort direction other than
1/-1, a filter operator other than ``regex options gte lte gt lt ne in nin`` (interfaces.d.ts and the
newer docs' index, notes), or an aggregation body key other than ``customMongoQuery``/``type`` is a 400.

Variants (``TotalumSandbox(variants=[...])``, ``lowcode-sql sandbox serve totalum --variant NAME``;
issue 13): answers a real account may plausibly give where the seed leaves the fact open. Each is
listed with its reason in ``TotalumSandbox.VARIANTS``: ``bare_array`` (list answers are the bare array
of the seed's example, no count), ``page_cap_50`` / ``page_cap_20`` (a server maximum on ``limit``),
``ignore_pagination`` (every list is page 0 of 50), ``ignore_skip`` (``pagination.skip`` unknown),
``sort_ignored``, ``case_insensitive_eq`` (a collation that ignores case on text equality) and
``aggregation_cap_20`` (the aggregation endpoint answers at most 20 documents).
"""

from __future__ import annotations

from lowcode_sql.sandbox._mongo import MISSING, BDate
from lowcode_sql.sandbox.totalum.filters import compile_filter
from lowcode_sql.sandbox.totalum.platform import TotalumSandbox
from lowcode_sql.sandbox.totalum.values import TotalumHTTPError, compile_regex, parse_date

__all__ = ["MISSING", "BDate", "TotalumHTTPError", "TotalumSandbox", "compile_filter", "compile_regex", "parse_date"]

SANDBOX = TotalumSandbox  # found by lowcode_sql.sandbox.get_sandbox
