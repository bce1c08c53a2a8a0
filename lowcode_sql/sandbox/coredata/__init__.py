"""CoreData (coredata.is / Wise) API v2 emulator.

Written from the CoreData seed (https://docs.wise.is/cored/api-v2, the public
"API v2" page) and its notes (docs/notes/coredata-api.md), independent of ``dialect.coredata``. The
real service is django-tastypie (notes "Framework"), so where the seed is silent this follows tastypie's
own code (``paginator.py``, ``resources.py``, ``authentication.py``) and Django's lookup rules
on PostgreSQL.

Endpoints (all ``GET``; anything else is 405 like a tastypie resource that only allows GET):

* ``/api/v2/``: tastypie's top-level listing (``list_endpoint``/``schema`` per resource).
* ``/api/v2/<res>/``: list, ``{"meta": {...}, "objects": [...]}``.
* ``/api/v2/<res>/<id>/``: the bare object (seed: "A single-object GET returns the bare object");
  404 with an empty body when missing (tastypie's ``HttpNotFound``).
* ``/api/v2/<res>/schema/``: tastypie's schema (fields, ``filtering``, ``ordering``, ``default_limit``).
* ``/api/v2/contacts/<id>/{projects,files,tasks}/``: seed "Filtering by Contact" [2]-[4]; the same
  as ``/api/v2/<res>/?associated_contacts_id=<id>`` (404 when the contact does not exist).
* A path without its trailing slash answers 301 to the slashed path (Django ``APPEND_SLASH``).

Auth: ``Authorization: apikey USER:KEY`` (seed; tastypie ``ApiKeyAuthentication`` compares the
scheme case-insensitively, its own spelling is ``ApiKey``), or tastypie's fallback query
parameters ``username=`` and ``api_key=``. Otherwise 401 ``{"error": "Unauthorized"}``. HTTP Basic
(which the koddsson client uses) is not emulated.

Record shapes (field sets copied from the real responses in ``koddsson/coredata-python-client``
``tests/json/get_single_*.json`` and the seed's examples; every object also has ``id`` (uuid),
``snapshot_id`` (uuid, seed "Endpoint response format"), ``resource_uri`` "/api/v2/<res>/<id>/",
``created``/``modified`` as naive ISO "YYYY-MM-DDTHH:MM:SS[.ffffff]", ``created_by``/``modified_by``
(display name or null), ``description``, ``tags`` (list of str), ``aspects`` (object), ``dynatype``,
``title``, ``type`` and ``version``):

* ``spaces``: + ``is_hidden`` (bool), ``path``, ``status``, ``template`` (null); ``dynatype`` is {}.
* ``projects``: + ``identifier`` ("2014-16" style, nullable), ``space`` {id,title},
  ``associated_contacts_id`` (list of contact ids), ``contacts`` (list of {id,title} of the same
  contacts: shape chosen here, the real sample only shows ``[]``), ``associated_users``,
  ``connected_users`` (usernames), ``responsible_users`` ({first_name,last_name,username}),
  ``due_date`` (naive ISO or null), ``status``, ``status_message``.
* ``tasks``: the project fields minus ``identifier``, plus ``project`` {id,identifier,title}.
* ``files``: + ``filename``, ``mime_type``, ``size`` (int), ``digest`` (md5 hex or ""),
  ``category``, ``parent`` (uuid of a folder, or null for files at a space's root), ``folder``
  (null), ``owner`` (null), ``project`` ({id,identifier,title} or null), ``space`` {id,title}.
  Files' contact associations are hidden (the real file sample has no ``associated_contacts_id``
  field, yet the seed documents the filter on files).
* ``contacts``: + ``identifier`` (SSN-like digits, "" or null), ``emails`` [{email,label}],
  ``phones`` [{label,number}], ``contact_addresses`` [], ``urls`` [], ``organization`` ({id,title}
  or null), ``role``, ``status``.

NULLs occur in ``title`` (a few of every resource but spaces), ``identifier``, ``description``, ``due_date``,
``created_by``, ``modified_by``, ``parent``, ``project`` and ``modified`` (a few records; chosen
here so that NULL handling of date filters and ordering is exercised). ``created`` is never null.

Filters (tastypie ``build_filters``/``check_filtering``; seed "Filtering"; notes date table):

==============  ===========================================================================
resource        whitelist (field: lookups; ``exact`` is implied, also as ``__exact``)
==============  ===========================================================================
projects        title: startswith; identifier: startswith; associated_contacts_id;
                created/modified: gt gte lt lte range
files           title: startswith; parent; associated_contacts_id; created/modified: ...
tasks           title: startswith; associated_contacts_id; created/modified: ...
contacts        title: startswith; identifier: startswith; created/modified: ...
spaces          (none: the seed lists only contacts, files, projects and tasks)
==============  ===========================================================================

tastypie quirks kept on purpose:

* A parameter naming no field of the resource is silently ignored (``build_filters``: "It's not a
  field we know about. Move along citizen."); the koddsson client relies on that (it always sends
  ``sync=true``). ``strict=True`` turns those into 400s. A field that exists but is not whitelisted
  gives 400 "The 'x' field does not allow filtering."; a lookup not whitelisted gives
  "'gt' is not an allowed filter on the 'title' field."; ``title__foo`` gives
  "The 'title' field does not support relations.".
* Values ``true``/``True`` and ``false``/``False`` become booleans, and ``nil``/``none``/``None``
  become None (``filter_value_to_python``): ``title=None`` is ``title IS NULL`` and ``title=true``
  matches the title "True"; None with any lookup but exact is 400 (Django "Cannot use None as a
  query value" -> tastypie "Invalid resource lookup data provided (mismatched type).").
* ``__range`` values are every value of the repeated key, each split on commas (``getlist``);
  any other repeated key: the last value wins (``QueryDict.get``). A range needs exactly two.
* Strings compare like Django on PostgreSQL: ``exact`` is ``=``, ``startswith`` is a case-
  sensitive ``LIKE 'p%'`` with ``%``/``_``/``\\`` escaped, i.e. a literal prefix.
* Date values: Django ``DateTimeField.to_python``: ``YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]][Z|±HH[:MM]]``
  or a bare date (= midnight). A zone is converted to UTC and dropped: the stored timestamps are
  naive and assumed to be UTC (CoreData is Icelandic; Reykjavik is UTC all year) [inferred].
  Anything else is 400. A filter on a NULL value never matches (SQL), except ``=None``.
* ``parent``/``associated_contacts_id`` values must be UUIDs (Django ``UUIDField``, any case,
  with or without dashes), otherwise 400.

Paging (tastypie ``Paginator``): ``limit`` default 20, ``limit=0`` or more than ``max_limit`` ->
``max_limit`` (``max_limit=0`` disables the cap, and then ``limit=0`` returns everything and the
meta has no ``next``/``previous``); ``offset`` default 0; both parsed with Python ``int()``;
negative or non-integer -> 400. ``previous`` is null whenever ``offset - limit < 0`` (so
offset=5, limit=20 has no previous link). Links keep every other query parameter (including
``username``/``api_key``), grouped by key, with ``limit`` and ``offset`` moved to the end, encoded
like ``QueryDict.urlencode`` (``quote_plus``).

Ordering (tastypie ``apply_sorting``; CoreData support unknown, notes "What remains unknown"):
only with ``ordering=True``; ``order_by=f``/``-f``, repeatable, on title, identifier, created and
modified where the resource has them. NULLs last ascending and first descending (PostgreSQL);
strings in code point order (PostgreSQL "C" collation; the real collation is unknown); ties keep
insertion order. Without it: 400 "The 'title' field does not allow ordering.".

Errors are tastypie's ``{"error": "..."}`` (Django ``ValidationError`` messages are given as one
string rather than tastypie's list).
"""

from __future__ import annotations

from lowcode_sql.sandbox.coredata.platform import CoreDataSandbox
from lowcode_sql.sandbox.coredata.values import BASE, DEFAULT_LIMIT

__all__ = ["BASE", "DEFAULT_LIMIT", "CoreDataSandbox"]

SANDBOX = CoreDataSandbox  # found by lowcode_sql.sandbox.get_sandbox
