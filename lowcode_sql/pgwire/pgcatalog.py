"""An emulated ``pg_catalog`` / ``information_schema`` in a private DuckDB, built from the sources'
table schemas, with real PostgreSQL type OIDs.

DuckDB ships its own ``pg_catalog``, but it is not PostgreSQL-faithful (``pg_attribute.atttypid``
holds DuckDB type ids, no ``pg_get_userbyid``, no ``regclass``: docs/notes/bi-bridge.md, pitfall 2), so the
catalog tables live in the default schema, where unqualified names win over DuckDB's built-ins,
and queries are rewritten to drop the ``pg_catalog.`` prefix. ``information_schema.x`` becomes the
table ``information_schema_x`` (attaching a database named ``pg_catalog`` or creating one named
``information_schema`` would make the names ambiguous).

Each source is a schema (namespace); each of its tables a relation of kind ``r``. The same DuckDB
also holds an empty copy of every source table (in a schema named after the source), which
answers Describe for source queries without running them.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from lowcode_sql import __version__
from lowcode_sql.execute.duck import connect_duckdb
from lowcode_sql.pgwire.pgfuncs import SERVED_MACROS
from lowcode_sql.pgwire.pgsemantics import PG_GLOBAL_SETTINGS
from lowcode_sql.pgwire.types import PG_TYPES, pg_type_for_arrow

__all__ = ["SERVER_VERSION", "CatalogDB"]

log = logging.getLogger("lowcode_sql.pgwire")

SERVER_VERSION = "15.0"  # clients parse it to pick their catalog queries (psql, psqlODBC, pgJDBC)
VERSION_STRING = f"PostgreSQL {SERVER_VERSION} (lowcode_sql {__version__}) on x86_64-pc-linux-gnu, 64-bit"
DATABASE = "lowcode"
NS_PG_CATALOG, NS_PUBLIC, NS_INFORMATION_SCHEMA = 11, 2200, 13000
FIRST_USER_OID = 16384
OWNER_OID = 10

# Column lists of PostgreSQL 15's catalogs (docs: "System Catalogs"); every table exists, most
# stay empty: clients join them and only need the columns to exist.
_CATALOG = {
    "pg_namespace": "oid bigint, nspname varchar, nspowner bigint, nspacl varchar",
    "pg_class": "oid bigint, relname varchar, relnamespace bigint, reltype bigint, reloftype bigint, relowner bigint,"
                " relam bigint, relfilenode bigint, reltablespace bigint, relpages integer, reltuples float,"
                " relallvisible integer, reltoastrelid bigint, relhasindex boolean, relisshared boolean,"
                " relpersistence varchar, relkind varchar, relnatts smallint, relchecks smallint,"
                " relhasrules boolean, relhastriggers boolean, relhassubclass boolean, relrowsecurity boolean,"
                " relforcerowsecurity boolean, relispopulated boolean, relreplident varchar, relispartition boolean,"
                " relrewrite bigint, relfrozenxid bigint, relminmxid bigint, relacl varchar[], reloptions varchar[],"
                " relpartbound varchar, relhasoids boolean",
    "pg_attribute": "attrelid bigint, attname varchar, atttypid bigint, attstattarget integer, attlen smallint,"
                    " attnum smallint, attndims integer, attcacheoff integer, atttypmod integer, attbyval boolean,"
                    " attalign varchar, attstorage varchar, attcompression varchar, attnotnull boolean,"
                    " atthasdef boolean, atthasmissing boolean, attidentity varchar, attgenerated varchar,"
                    " attisdropped boolean, attislocal boolean, attinhcount integer, attcollation bigint,"
                    " attacl varchar[], attoptions varchar[], attfdwoptions varchar[], attmissingval varchar",
    "pg_type": "oid bigint, typname varchar, typnamespace bigint, typowner bigint, typlen smallint, typbyval boolean,"
               " typtype varchar, typcategory varchar, typispreferred boolean, typisdefined boolean, typdelim varchar,"
               " typrelid bigint, typsubscript bigint, typelem bigint, typarray bigint, typinput bigint,"
               " typoutput bigint, typreceive bigint, typsend bigint, typmodin bigint, typmodout bigint,"
               " typanalyze bigint, typalign varchar, typstorage varchar, typnotnull boolean, typbasetype bigint,"
               " typtypmod integer, typndims integer, typcollation bigint, typdefaultbin varchar,"
               " typdefault varchar, typacl varchar[]",
    "pg_database": "oid bigint, datname varchar, datdba bigint, encoding integer, datlocprovider varchar,"
                   " datistemplate boolean, datallowconn boolean, datconnlimit integer, datfrozenxid bigint,"
                   " datminmxid bigint, dattablespace bigint, datcollate varchar, datctype varchar,"
                   " daticulocale varchar, datcollversion varchar, datacl varchar[]",
    "pg_settings": "name varchar, setting varchar, unit varchar, category varchar, short_desc varchar,"
                   " extra_desc varchar, context varchar, vartype varchar, source varchar, min_val varchar,"
                   " max_val varchar, enumvals varchar[], boot_val varchar, reset_val varchar,"
                   " sourcefile varchar, sourceline integer, pending_restart boolean",
    "pg_roles": "oid bigint, rolname varchar, rolsuper boolean, rolinherit boolean, rolcreaterole boolean,"
                " rolcreatedb boolean, rolcanlogin boolean, rolreplication boolean, rolconnlimit integer,"
                " rolpassword varchar, rolvaliduntil timestamptz, rolbypassrls boolean, rolconfig varchar[]",
    "pg_user": "usename varchar, usesysid bigint, usecreatedb boolean, usesuper boolean, userepl boolean,"
               " usebypassrls boolean, passwd varchar, valuntil timestamptz, useconfig varchar[]",
    "pg_description": "objoid bigint, classoid bigint, objsubid integer, description varchar",
    "pg_am": "oid bigint, amname varchar, amhandler bigint, amtype varchar",
    "pg_attrdef": "oid bigint, adrelid bigint, adnum smallint, adbin varchar",
    "pg_index": "indexrelid bigint, indrelid bigint, indnatts smallint, indnkeyatts smallint, indisunique boolean,"
                " indnullsnotdistinct boolean, indisprimary boolean, indisexclusion boolean, indimmediate boolean,"
                " indisclustered boolean, indisvalid boolean, indcheckxmin boolean, indisready boolean,"
                " indislive boolean, indisreplident boolean, indkey smallint[], indcollation bigint[],"
                " indclass bigint[], indoption smallint[], indexprs varchar, indpred varchar",
    "pg_constraint": "oid bigint, conname varchar, connamespace bigint, contype varchar, condeferrable boolean,"
                     " condeferred boolean, convalidated boolean, conrelid bigint, contypid bigint,"
                     " conindid bigint, conparentid bigint, confrelid bigint, confupdtype varchar,"
                     " confdeltype varchar, confmatchtype varchar, conislocal boolean, coninhcount integer,"
                     " connoinherit boolean, conkey smallint[], confkey smallint[], conpfeqop bigint[],"
                     " conppeqop bigint[], conffeqop bigint[], confdelsetcols smallint[], conexclop bigint[],"
                     " conbin varchar",
    "pg_inherits": "inhrelid bigint, inhparent bigint, inhseqno integer, inhdetachpending boolean",
    "pg_tablespace": "oid bigint, spcname varchar, spcowner bigint, spcacl varchar[], spcoptions varchar[]",
    "pg_collation": "oid bigint, collname varchar, collnamespace bigint, collowner bigint, collprovider varchar,"
                    " collisdeterministic boolean, collencoding integer, collcollate varchar, collctype varchar,"
                    " colliculocale varchar, collversion varchar",
    "pg_opclass": "oid bigint, opcmethod bigint, opcname varchar, opcnamespace bigint, opcowner bigint,"
                  " opcfamily bigint, opcintype bigint, opcdefault boolean, opckeytype bigint",
    "pg_policy": "oid bigint, polname varchar, polrelid bigint, polcmd varchar, polpermissive boolean,"
                 " polroles bigint[], polqual varchar, polwithcheck varchar",
    "pg_statistic_ext": "oid bigint, stxrelid bigint, stxname varchar, stxnamespace bigint, stxowner bigint,"
                        " stxstattarget integer, stxkeys smallint[], stxkind varchar[], stxexprs varchar",
    "pg_statistic_ext_data": "stxoid bigint, stxdinherit boolean, stxdndistinct varchar, stxddependencies varchar,"
                             " stxdmcv varchar, stxdexpr varchar",
    "pg_publication": "oid bigint, pubname varchar, pubowner bigint, puballtables boolean, pubinsert boolean,"
                      " pubupdate boolean, pubdelete boolean, pubtruncate boolean, pubviaroot boolean",
    "pg_publication_rel": "oid bigint, prpubid bigint, prrelid bigint, prqual varchar, prattrs smallint[]",
    "pg_publication_namespace": "oid bigint, pnpubid bigint, pnnspid bigint",
    "pg_trigger": "oid bigint, tgrelid bigint, tgparentid bigint, tgname varchar, tgfoid bigint, tgtype smallint,"
                  " tgenabled varchar, tgisinternal boolean, tgconstrrelid bigint, tgconstrindid bigint,"
                  " tgconstraint bigint, tgdeferrable boolean, tginitdeferred boolean, tgnargs smallint,"
                  " tgattr smallint[], tgargs varchar, tgqual varchar, tgoldtable varchar, tgnewtable varchar",
    "pg_rewrite": "oid bigint, rulename varchar, ev_class bigint, ev_type varchar, ev_enabled varchar,"
                  " is_instead boolean, ev_qual varchar, ev_action varchar",
    "pg_foreign_table": "ftrelid bigint, ftserver bigint, ftoptions varchar[]",
    "pg_foreign_server": "oid bigint, srvname varchar, srvowner bigint, srvfdw bigint, srvtype varchar,"
                         " srvversion varchar, srvacl varchar[], srvoptions varchar[]",
    "pg_partitioned_table": "partrelid bigint, partstrat varchar, partnatts smallint, partdefid bigint,"
                            " partattrs smallint[], partclass bigint[], partcollation bigint[], partexprs varchar",
    "pg_sequence": "seqrelid bigint, seqtypid bigint, seqstart bigint, seqincrement bigint, seqmax bigint,"
                   " seqmin bigint, seqcache bigint, seqcycle boolean",
    "pg_depend": "classid bigint, objid bigint, objsubid integer, refclassid bigint, refobjid bigint,"
                 " refobjsubid integer, deptype varchar",
    "pg_extension": "oid bigint, extname varchar, extowner bigint, extnamespace bigint, extrelocatable boolean,"
                    " extversion varchar, extconfig bigint[], extcondition varchar[]",
    "pg_enum": "oid bigint, enumtypid bigint, enumsortorder float, enumlabel varchar",
    "pg_range": "rngtypid bigint, rngsubtype bigint, rngmultitypid bigint, rngcollation bigint,"
                " rngsubopc bigint, rngcanonical bigint, rngsubdiff bigint",
    "pg_proc": "oid bigint, proname varchar, pronamespace bigint, proowner bigint, prolang bigint,"
               " procost float, prorows float, provariadic bigint, prosupport bigint, prokind varchar,"
               " prosecdef boolean, proleakproof boolean, proisstrict boolean, proretset boolean,"
               " provolatile varchar, proparallel varchar, pronargs smallint, pronargdefaults smallint,"
               " prorettype bigint, proargtypes bigint[], proallargtypes bigint[], proargmodes varchar[],"
               " proargnames varchar[], proargdefaults varchar, protrftypes bigint[], prosrc varchar,"
               " probin varchar, prosqlbody varchar, proconfig varchar[], proacl varchar[]",
    "pg_operator": "oid bigint, oprname varchar, oprnamespace bigint, oprowner bigint, oprkind varchar,"
                   " oprcanmerge boolean, oprcanhash boolean, oprleft bigint, oprright bigint, oprresult bigint,"
                   " oprcom bigint, oprnegate bigint, oprcode bigint, oprrest bigint, oprjoin bigint",
    "pg_aggregate": "aggfnoid bigint, aggkind varchar, aggnumdirectargs smallint",
    "pg_language": "oid bigint, lanname varchar, lanowner bigint, lanispl boolean, lanpltrusted boolean",
    "pg_cast": "oid bigint, castsource bigint, casttarget bigint, castfunc bigint, castcontext varchar,"
               " castmethod varchar",
    "pg_event_trigger": "oid bigint, evtname varchar, evtevent varchar, evtowner bigint, evtfoid bigint,"
                        " evtenabled varchar, evttags varchar[]",
    "pg_foreign_data_wrapper": "oid bigint, fdwname varchar, fdwowner bigint, fdwhandler bigint,"
                               " fdwvalidator bigint, fdwacl varchar[], fdwoptions varchar[]",
    "pg_shdescription": "objoid bigint, classoid bigint, description varchar",
    "pg_cursors": "name varchar, statement varchar, is_holdable boolean, is_binary boolean,"
                  " is_scrollable boolean, creation_time timestamptz",
    "pg_prepared_statements": "name varchar, statement varchar, prepare_time timestamptz,"
                              " parameter_types bigint[], from_sql boolean",
    # the server's sessions, filled per query (activity.py); PostgreSQL 15's columns
    "pg_stat_activity": "datid bigint, datname varchar, pid integer, leader_pid integer, usesysid bigint,"
                        " usename varchar, application_name varchar, client_addr varchar, client_hostname varchar,"
                        " client_port integer, backend_start timestamptz, xact_start timestamptz,"
                        " query_start timestamptz, state_change timestamptz, wait_event_type varchar,"
                        " wait_event varchar, state varchar, backend_xid bigint, backend_xmin bigint,"
                        " query_id bigint, query varchar, backend_type varchar",
    "pg_matviews": "schemaname varchar, matviewname varchar, matviewowner varchar, tablespace varchar,"
                   " hasindexes boolean, ispopulated boolean, definition varchar",
    "pg_views": "schemaname varchar, viewname varchar, viewowner varchar, definition varchar",
    "pg_indexes": "schemaname varchar, tablename varchar, indexname varchar, tablespace varchar, indexdef varchar",
    "pg_tables": "schemaname varchar, tablename varchar, tableowner varchar, tablespace varchar,"
                 " hasindexes boolean, hasrules boolean, hastriggers boolean, rowsecurity boolean",
    "pg_stat_user_tables": "relid bigint, schemaname varchar, relname varchar, n_live_tup bigint",
    "pg_db_role_setting": "setdatabase bigint, setrole bigint, setconfig varchar[]",
    "pg_auth_members": "oid bigint, roleid bigint, member bigint, grantor bigint, admin_option boolean",
    "pg_default_acl": "oid bigint, defaclrole bigint, defaclnamespace bigint, defaclobjtype varchar,"
                      " defaclacl varchar[]",
    "pg_init_privs": "objoid bigint, classoid bigint, objsubid integer, privtype varchar, initprivs varchar[]",
    "pg_seclabel": "objoid bigint, classoid bigint, objsubid integer, provider varchar, label varchar",
    "pg_shseclabel": "objoid bigint, classoid bigint, provider varchar, label varchar",
    "pg_conversion": "oid bigint, conname varchar, connamespace bigint, conowner bigint, conforencoding integer,"
                     " contoencoding integer, conproc bigint, condefault boolean",
    "pg_ts_config": "oid bigint, cfgname varchar, cfgnamespace bigint, cfgowner bigint, cfgparser bigint",
    "pg_opfamily": "oid bigint, opfmethod bigint, opfname varchar, opfnamespace bigint, opfowner bigint",
    "pg_amop": "oid bigint, amopfamily bigint, amoplefttype bigint, amoprighttype bigint, amopstrategy smallint,"
               " amoppurpose varchar, amopopr bigint, amopmethod bigint, amopsortfamily bigint",
    "pg_user_mapping": "oid bigint, umuser bigint, umserver bigint, umoptions varchar[]",
    "pg_subscription": "oid bigint, subdbid bigint, subname varchar, subowner bigint, subenabled boolean",
    "pg_largeobject_metadata": "oid bigint, lomowner bigint, lomacl varchar[]",
    "pg_locks": "locktype varchar, database bigint, relation bigint, pid integer, mode varchar, granted boolean",
    "information_schema_schemata": "catalog_name varchar, schema_name varchar, schema_owner varchar,"
                                   " default_character_set_catalog varchar, default_character_set_schema varchar,"
                                   " default_character_set_name varchar, sql_path varchar",
    "information_schema_tables": "table_catalog varchar, table_schema varchar, table_name varchar,"
                                 " table_type varchar, self_referencing_column_name varchar,"
                                 " reference_generation varchar, user_defined_type_catalog varchar,"
                                 " user_defined_type_schema varchar, user_defined_type_name varchar,"
                                 " is_insertable_into varchar, is_typed varchar, commit_action varchar",
    "information_schema_columns": "table_catalog varchar, table_schema varchar, table_name varchar,"
                                  " column_name varchar, ordinal_position integer, column_default varchar,"
                                  " is_nullable varchar, data_type varchar, character_maximum_length integer,"
                                  " character_octet_length integer, numeric_precision integer,"
                                  " numeric_precision_radix integer, numeric_scale integer,"
                                  " datetime_precision integer, interval_type varchar,"
                                  " interval_precision integer, character_set_catalog varchar,"
                                  " character_set_schema varchar, character_set_name varchar,"
                                  " collation_catalog varchar, collation_schema varchar, collation_name varchar,"
                                  " domain_catalog varchar, domain_schema varchar, domain_name varchar,"
                                  " udt_catalog varchar, udt_schema varchar, udt_name varchar,"
                                  " scope_catalog varchar, scope_schema varchar, scope_name varchar,"
                                  " maximum_cardinality integer, dtd_identifier varchar,"
                                  " is_self_referencing varchar, is_identity varchar, identity_generation varchar,"
                                  " identity_start varchar, identity_increment varchar, identity_maximum varchar,"
                                  " identity_minimum varchar, identity_cycle varchar, is_generated varchar,"
                                  " generation_expression varchar, is_updatable varchar",
    "information_schema_views": "table_catalog varchar, table_schema varchar, table_name varchar,"
                                " view_definition varchar, check_option varchar, is_updatable varchar,"
                                " is_insertable_into varchar",
    "information_schema_table_constraints": "constraint_catalog varchar, constraint_schema varchar,"
                                            " constraint_name varchar, table_catalog varchar,"
                                            " table_schema varchar, table_name varchar, constraint_type varchar,"
                                            " is_deferrable varchar, initially_deferred varchar,"
                                            " enforced varchar, nulls_distinct varchar",
    "information_schema_key_column_usage": "constraint_catalog varchar, constraint_schema varchar,"
                                           " constraint_name varchar, table_catalog varchar,"
                                           " table_schema varchar, table_name varchar, column_name varchar,"
                                           " ordinal_position integer, position_in_unique_constraint integer",
    "information_schema_referential_constraints": "constraint_catalog varchar, constraint_schema varchar,"
                                                  " constraint_name varchar, unique_constraint_catalog varchar,"
                                                  " unique_constraint_schema varchar,"
                                                  " unique_constraint_name varchar, match_option varchar,"
                                                  " update_rule varchar, delete_rule varchar",
    "information_schema_constraint_column_usage": "table_catalog varchar, table_schema varchar,"
                                                  " table_name varchar, column_name varchar,"
                                                  " constraint_catalog varchar, constraint_schema varchar,"
                                                  " constraint_name varchar",
    "information_schema_routines": "specific_catalog varchar, specific_schema varchar, specific_name varchar,"
                                   " routine_catalog varchar, routine_schema varchar, routine_name varchar,"
                                   " routine_type varchar, data_type varchar",
    "information_schema_parameters": "specific_catalog varchar, specific_schema varchar, specific_name varchar,"
                                     " ordinal_position integer, parameter_mode varchar,"
                                     " parameter_name varchar, data_type varchar",
}

# Functions clients call, as DuckDB macros that shadow DuckDB's built-ins of the same name.
_MACROS = [
    f"version() AS '{VERSION_STRING}'",
    "current_database() AS '" + DATABASE + "'",
    "current_catalog() AS '" + DATABASE + "'",
    "format_type(t, m) AS (SELECT CASE"
    " WHEN y.typname IS NULL THEN NULL"
    " WHEN y.typname = 'numeric' AND m > 4 THEN 'numeric(' || ((m - 4) >> 16) || ',' || ((m - 4) & 65535) || ')'"
    " WHEN y.typname = 'varchar' AND m > 4 THEN 'character varying(' || (m - 4) || ')'"
    " ELSE coalesce(x.pretty, y.typname) END"
    " FROM (SELECT 1) d LEFT JOIN pg_type y ON y.oid = t"
    " LEFT JOIN __pretty_type x ON x.typname = y.typname)",
    "pg_get_expr(e, r) AS NULL::varchar, (e, r, p) AS NULL::varchar",
    "pg_get_userbyid(u) AS 'lowcode'",
    "pg_table_is_visible(o) AS true",
    "pg_type_is_visible(o) AS true",
    "pg_function_is_visible(o) AS true",
    "pg_collation_is_visible(o) AS true",
    "pg_opclass_is_visible(o) AS true",
    "pg_encoding_to_char(e) AS 'UTF8'",
    "pg_get_indexdef(i) AS NULL::varchar, (i, c, p) AS NULL::varchar",
    "pg_get_constraintdef(c) AS NULL::varchar, (c, p) AS NULL::varchar",
    "pg_get_viewdef(v) AS NULL::varchar, (v, p) AS NULL::varchar",
    "pg_get_partkeydef(r) AS NULL::varchar",
    "pg_get_statisticsobjdef_columns(o) AS NULL::varchar",
    "pg_get_triggerdef(t) AS NULL::varchar, (t, p) AS NULL::varchar",
    "pg_get_functiondef(f) AS NULL::varchar",
    "pg_get_function_arguments(f) AS NULL::varchar",
    "pg_get_function_result(f) AS NULL::varchar",
    "pg_get_serial_sequence(t, c) AS NULL::varchar",
    "pg_is_in_recovery() AS false",
    # never a standby: PostgreSQL's WAL-receiver functions answer NULL on a primary (pgAdmin's dashboard)
    "pg_last_wal_receive_lsn() AS NULL::varchar",
    "pg_last_wal_replay_lsn() AS NULL::varchar",
    "pg_last_xact_replay_timestamp() AS NULL::timestamptz",
    "pg_is_wal_replay_paused() AS false",
    "pg_current_wal_lsn() AS '0/0'",
    # statistics counters: nothing is counted (DBeaver's index list reads pg_stat_get_numscans)
    *(f"pg_stat_get_{name}(o) AS 0::bigint" for name in (
        "numscans", "tuples_returned", "tuples_fetched", "tuples_inserted", "tuples_updated", "tuples_deleted",
        "tuples_hot_updated", "live_tuples", "dead_tuples", "blocks_fetched", "blocks_hit", "xact_numscans")),
    *(f"pg_stat_get_{name}(o) AS NULL::timestamptz" for name in (
        "last_vacuum_time", "last_autovacuum_time", "last_analyze_time", "last_autoanalyze_time")),
    # PostgreSQL's bounds of a one-dimensional array (Grafana's search_path split): 1 .. length
    "array_lower(a, d) AS CASE WHEN d = 1 AND len(a) > 0 THEN 1 END",
    "array_upper(a, d) AS CASE WHEN d = 1 AND len(a) > 0 THEN len(a) END",
    "pg_postmaster_start_time() AS TIMESTAMPTZ '2000-01-01 00:00:00+00'",
    "pg_relation_size(r) AS 0::bigint, (r, f) AS 0::bigint",
    "pg_table_size(r) AS 0::bigint",
    "pg_total_relation_size(r) AS 0::bigint",
    "pg_database_size(d) AS 0::bigint",
    "pg_tablespace_size(t) AS 0::bigint",
    "pg_indexes_size(r) AS 0::bigint",
    "pg_size_pretty(b) AS b || ' bytes'",
    "pg_tablespace_location(t) AS NULL::varchar",
    "has_table_privilege(a, b) AS true, (a, b, c) AS true",
    "has_schema_privilege(a, b) AS true, (a, b, c) AS true",
    "has_database_privilege(a, b) AS true, (a, b, c) AS true",
    "has_column_privilege(a, b, c) AS true, (a, b, c, d) AS true",
    "has_any_column_privilege(a, b) AS true, (a, b, c) AS true",
    "has_function_privilege(a, b) AS true, (a, b, c) AS true",
    "has_sequence_privilege(a, b) AS true, (a, b, c) AS true",
    "pg_has_role(a, b) AS true, (a, b, c) AS true",
    "obj_description(o) AS (SELECT min(description) FROM pg_description WHERE objoid = o AND objsubid = 0),"
    " (o, c) AS (SELECT min(description) FROM pg_description WHERE objoid = o AND objsubid = 0)",
    "col_description(o, n) AS (SELECT min(description) FROM pg_description WHERE objoid = o AND objsubid = n)",
    "shobj_description(o, c) AS NULL::varchar",
    "to_regtype(s) AS (SELECT min(oid) FROM pg_type WHERE typname = lower(s) OR"
    " typname = (SELECT min(typname) FROM __pretty_type WHERE pretty = lower(s)))",
    "to_regclass(s) AS coalesce((SELECT min(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE CASE WHEN contains(s, '.') THEN n.nspname = split_part(replace(s, '\"', ''), '.', 1)"
    " AND c.relname = split_part(replace(s, '\"', ''), '.', 2) ELSE c.relname = replace(s, '\"', '') END),"
    " (SELECT min(oid) FROM __system_relation WHERE name = replace(replace(s, '\"', ''), 'pg_catalog.', '')))",
    "to_regnamespace(s) AS (SELECT min(oid) FROM pg_namespace WHERE nspname = s)",
    # pgJDBC tells arrays by `typinput = 'array_in'::regproc`: the array types carry array_in's OID
    "to_regproc(s) AS CASE WHEN replace(s, 'pg_catalog.', '') = 'array_in' THEN 750 END",
    "__regclass_name(o) AS (SELECT min(CASE WHEN n.nspname IN ('pg_catalog') THEN c.relname"
    " ELSE n.nspname || '.' || c.relname END) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.oid = o)",
    "array_upper(a, d) AS CASE WHEN d = 1 AND len(a) > 0 THEN len(a) END",
    "array_lower(a, d) AS CASE WHEN d = 1 AND len(a) > 0 THEN 1 END",
    "txid_current() AS 1::bigint",
    "inet_server_addr() AS '127.0.0.1'",
    "inet_server_port() AS 5433",
    "quote_ident(s) AS CASE WHEN regexp_full_match(s, '[a-z_][a-z0-9_$]*') THEN s"
    " ELSE '\"' || replace(s, '\"', '\"\"') || '\"' END",
    "pg_get_keywords() AS TABLE SELECT NULL::varchar AS word, NULL::varchar AS catcode, NULL::varchar AS catdesc"
    " WHERE false",
    # pgJDBC's getPrimaryKeys calls it as a scalar over pg_index.indkey; there are no indexes here,
    # so the composite it returns only needs the right shape
    "_pg_expandarray(a) AS {'x': a[1], 'n': 1}",
    "pg_char_to_encoding(s) AS 6",
    "pg_sleep(s) AS NULL",
    "pg_relation_is_publishable(r) AS false",
    # session values are substituted before the query gets here (transpile._session_values);
    # this answers current_setting() over a bound parameter with the server defaults
    "current_setting(n) AS (SELECT min(setting) FROM pg_settings WHERE name = lower(n)),"
    " (n, m) AS (SELECT min(setting) FROM pg_settings WHERE name = lower(n))",
    "set_config(n, v, l) AS v",
]

_SYSTEM_RELATIONS = {"pg_type": 1247, "pg_attribute": 1249, "pg_proc": 1255, "pg_class": 1259,
                     "pg_database": 1262, "pg_namespace": 2615, "pg_constraint": 2606, "pg_index": 2610,
                     "pg_description": 2609, "pg_attrdef": 2604, "pg_am": 2601, "pg_trigger": 2620,
                     "pg_rewrite": 2618, "pg_inherits": 2611, "pg_operator": 2617, "pg_collation": 3456}

# PostgreSQL's format_type spellings (pg_type.typname -> SQL name)
_PRETTY = {"int2": "smallint", "int4": "integer", "int8": "bigint", "float4": "real", "float8": "double precision",
           "bool": "boolean", "varchar": "character varying", "bpchar": "character",
           "timestamp": "timestamp without time zone", "timestamptz": "timestamp with time zone",
           "time": "time without time zone", "numeric": "numeric", "text": "text", "date": "date",
           "bytea": "bytea", "json": "json", "jsonb": "jsonb", "interval": "interval", "uuid": "uuid",
           "oid": "oid", "name": "name", "char": "\"char\"", "regclass": "regclass", "regtype": "regtype",
           "regproc": "regproc", "unknown": "unknown"}

# settings SHOW answers and pg_settings lists (values PostgreSQL 15 reports by default)
DEFAULT_SETTINGS = {
    "server_version": SERVER_VERSION,
    "server_version_num": "150000",
    "server_encoding": "UTF8",
    "client_encoding": "UTF8",
    "datestyle": "ISO, MDY",
    "intervalstyle": "postgres",
    "timezone": "UTC",
    "integer_datetimes": "on",
    "standard_conforming_strings": "on",
    "is_superuser": "off",
    "transaction_isolation": "read committed",
    "default_transaction_isolation": "read committed",
    "transaction_read_only": "on",
    "default_transaction_read_only": "on",
    "extra_float_digits": "1",
    "search_path": "\"$user\", public",
    "application_name": "",
    "max_identifier_length": "63",
    "lc_collate": "C",
    "lc_ctype": "C",
    "bytea_output": "hex",
    "max_index_keys": "32",
    "statement_timeout": "0",
    "lock_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
    "default_transaction_deferrable": "off",
    "block_size": "8192",
    "default_table_access_method": "heap",
    "max_connections": "100",
}

_TYPE_ALIASES = {"regclass": "BIGINT", "regtype": "BIGINT", "regproc": "BIGINT", "regprocedure": "BIGINT",
                 "regnamespace": "BIGINT", "regrole": "BIGINT", "regoper": "BIGINT", "regconfig": "BIGINT",
                 "oid": "BIGINT", "xid": "BIGINT", "name": "VARCHAR", "int2vector": "VARCHAR",
                 "oidvector": "VARCHAR", "pg_node_tree": "VARCHAR", "aclitem": "VARCHAR", "cstring": "VARCHAR"}


def _lit(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_lit(x) for x in v) + "]"
    return "'" + str(v).replace("'", "''") + "'"


class CatalogDB:
    """The catalog DuckDB. ``build()`` (re)fills it from ``{source: {table: (schema, doc, {col: doc})}}``."""

    def __init__(self, *, allowed_directories: Sequence[str] = ()) -> None:
        # catalog queries are the clients' SQL too: no host access, locked settings (execute/duck.py);
        # DDL (build) is not configuration, so rebuilding still works under the lock
        self.con = connect_duckdb(timezone="UTC", external_access=False, allowed_directories=allowed_directories,
                                  global_settings=PG_GLOBAL_SETTINGS, init_sql=SERVED_MACROS)
        self._lock = threading.Lock()
        self.tables: frozenset[str] = frozenset(_CATALOG)
        self.source_tables: dict[str, dict[str, pa.Schema]] = {}
        self.relations: dict[tuple[str, str], int] = {}  # (source, table) -> pg_class.oid
        self.schemas: list[str] = []
        c = self.con
        for name, cols in _CATALOG.items():
            c.execute(f"CREATE TABLE {name} ({cols})")
        c.execute("CREATE TABLE __pretty_type (typname varchar, pretty varchar)")
        # the catalogs' own OIDs, for `pg_description.classoid = 'pg_class'::regclass` and the like
        c.execute("CREATE TABLE __system_relation (name varchar, oid bigint)")
        c.executemany("INSERT INTO __system_relation VALUES (?, ?)", list(_SYSTEM_RELATIONS.items()))
        c.executemany("INSERT INTO __pretty_type VALUES (?, ?)", list(_PRETTY.items()))
        for name, base in _TYPE_ALIASES.items():
            try:
                c.execute(f'CREATE TYPE "{name}" AS {base}')
            except duckdb.CatalogException:
                pass  # DuckDB already knows it (oid)
        self._static_rows()

    def _static_rows(self) -> None:
        c = self.con
        for t in PG_TYPES:
            c.execute("INSERT INTO pg_type (oid, typname, typnamespace, typowner, typlen, typbyval, typtype,"
                      " typcategory, typispreferred, typisdefined, typdelim, typrelid, typsubscript, typelem,"
                      " typarray, typinput, typoutput, typreceive, typsend, typmodin, typmodout, typanalyze,"
                      " typalign, typstorage, typnotnull, typbasetype, typtypmod, typndims, typcollation)"
                      " VALUES (?, ?, 11, 10, ?, ?, 'b', ?, false, true, ',', 0, 0, 0, ?, 0, 0, 0, 0, 0, 0, 0,"
                      " 'i', 'p', false, 0, -1, 0, ?)",
                      [t.oid, t.name, t.typlen, 0 < t.typlen <= 8, t.category, t.array_oid,
                       100 if t.category == "S" else 0])
            if t.array_oid:
                c.execute("INSERT INTO pg_type (oid, typname, typnamespace, typowner, typlen, typbyval, typtype,"
                          " typcategory, typispreferred, typisdefined, typdelim, typrelid, typsubscript, typelem,"
                          " typarray, typinput, typoutput, typreceive, typsend, typalign, typstorage, typnotnull,"
                          " typbasetype, typtypmod, typndims, typcollation) VALUES (?, ?, 11, 10, -1, false, 'b', 'A',"
                          " false, true, ',', 0, 0, ?, 0, 750, 751, 2400, 2401, 'i', 'x', false, 0, -1, 0, 0)",
                          [t.array_oid, "_" + t.name, t.oid])
        c.execute(f"INSERT INTO pg_database (oid, datname, datdba, encoding, datlocprovider, datistemplate,"
                  f" datallowconn, datconnlimit, dattablespace, datcollate, datctype) VALUES"
                  f" (16383, '{DATABASE}', 10, 6, 'c', false, true, -1, 1663, 'C', 'C')")
        c.execute("INSERT INTO pg_roles (oid, rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb,"
                  " rolcanlogin, rolreplication, rolconnlimit, rolbypassrls) VALUES"
                  " (10, 'lowcode', false, true, false, false, true, false, -1, false)")
        # pg_user is PostgreSQL's view of the login roles: psqlODBC's SQLTablePrivileges joins it to find
        # each table's owner (relowner) and lists no privilege at all without it.
        c.execute("INSERT INTO pg_user (usename, usesysid, usecreatedb, usesuper, userepl, usebypassrls, passwd)"
                  " VALUES ('lowcode', 10, false, false, false, false, '********')")
        c.execute("INSERT INTO pg_am VALUES (2, 'heap', 0, 't'), (403, 'btree', 0, 'i')")
        c.execute("INSERT INTO pg_tablespace VALUES (1663, 'pg_default', 10, NULL, NULL)")
        c.execute("INSERT INTO pg_collation VALUES (100, 'default', 11, 10, 'd', true, -1, NULL, NULL, NULL, NULL)")
        for name, value in DEFAULT_SETTINGS.items():
            c.execute("INSERT INTO pg_settings (name, setting, context, vartype, source, boot_val, reset_val)"
                      " VALUES (?, ?, 'user', 'string', 'default', ?, ?)", [name, value, value, value])

    def build(self, sources: Mapping[str, Mapping[str, tuple[pa.Schema, str, Mapping[str, str]]]]) -> None:
        """Fill namespaces, relations, attributes and descriptions from the sources' tables."""
        with self._lock:
            self._build(sources)

    def _build(self, sources: Mapping[str, Mapping[str, tuple[pa.Schema, str, Mapping[str, str]]]]) -> None:
        c = self.con
        for t in ("pg_namespace", "pg_class", "pg_attribute", "pg_description", "information_schema_schemata",
                  "information_schema_tables", "information_schema_columns", "pg_tables"):
            c.execute(f"DELETE FROM {t}")
        for s in self.schemas:
            c.execute(f'DROP SCHEMA IF EXISTS "{s}" CASCADE')
        ns_rows = [(NS_PG_CATALOG, "pg_catalog"), (NS_PUBLIC, "public"), (NS_INFORMATION_SCHEMA, "information_schema")]
        next_oid = FIRST_USER_OID
        rel_rows: list[tuple[Any, ...]] = []
        att_rows: list[tuple[Any, ...]] = []
        desc_rows: list[tuple[Any, ...]] = []
        ist_rows: list[tuple[Any, ...]] = []
        isc_rows: list[tuple[Any, ...]] = []
        self.source_tables = {}
        relations: dict[tuple[str, str], int] = {}
        self.schemas = []
        for src, tables in sources.items():
            ns_oid = next_oid
            next_oid += 1
            ns_rows.append((ns_oid, src))
            c.execute(f'CREATE SCHEMA "{src}"')
            self.schemas.append(src)
            self.source_tables[src] = {}
            for tname, (schema, doc, col_docs) in tables.items():
                rel_oid = next_oid
                next_oid += 1
                self.source_tables[src][tname] = schema
                relations[(src, tname)] = rel_oid
                # an empty copy of the table: Describe of source queries binds against it
                empty = schema.empty_table()
                c.register("__empty", empty)
                c.execute(f'CREATE TABLE "{src}"."{tname}" AS SELECT * FROM __empty')
                c.unregister("__empty")
                rel_rows.append((rel_oid, tname, ns_oid, len(schema)))
                if doc:
                    desc_rows.append((rel_oid, 1259, 0, doc))
                ist_rows.append((DATABASE, src, tname, "BASE TABLE", "NO", "NO"))
                for i, f in enumerate(schema, start=1):
                    oid, typlen, typmod = pg_type_for_arrow(f.type)
                    att_rows.append((rel_oid, f.name, oid, typlen, i, typmod, 100 if oid == 25 else 0))
                    if col_docs.get(f.name):
                        desc_rows.append((rel_oid, 1259, i, col_docs[f.name]))
                    isc_rows.append(_information_schema_column(src, tname, f, i))
        self.relations = relations
        c.executemany("INSERT INTO pg_namespace (oid, nspname, nspowner) VALUES (?, ?, 10)", ns_rows)
        if rel_rows:
            c.executemany(
                "INSERT INTO pg_class (oid, relname, relnamespace, reltype, reloftype, relowner, relam, relfilenode,"
                " reltablespace, relpages, reltuples, relallvisible, reltoastrelid, relhasindex, relisshared,"
                " relpersistence, relkind, relnatts, relchecks, relhasrules, relhastriggers, relhassubclass,"
                " relrowsecurity, relforcerowsecurity, relispopulated, relreplident, relispartition, relrewrite,"
                " relhasoids) VALUES (?, ?, ?, 0, 0, 10, 2, 0, 0, 0, -1, 0, 0, false, false, 'p', 'r', ?, 0,"
                " false, false, false, false, false, true, 'd', false, 0, false)", rel_rows)
            c.executemany(
                "INSERT INTO pg_attribute (attrelid, attname, atttypid, attstattarget, attlen, attnum, attndims,"
                " attcacheoff, atttypmod, attbyval, attalign, attstorage, attcompression, attnotnull, atthasdef,"
                " atthasmissing, attidentity, attgenerated, attisdropped, attislocal, attinhcount, attcollation)"
                " VALUES (?, ?, ?, -1, ?, ?, 0, -1, ?, false, 'i', 'x', '', false, false, false, '', '', false,"
                " true, 0, ?)", att_rows)
            c.executemany("INSERT INTO information_schema_tables (table_catalog, table_schema, table_name,"
                          " table_type, is_insertable_into, is_typed) VALUES (?, ?, ?, ?, ?, ?)", ist_rows)
            c.executemany(
                "INSERT INTO information_schema_columns (table_catalog, table_schema, table_name, column_name,"
                " ordinal_position, is_nullable, data_type, numeric_precision, numeric_scale, udt_catalog,"
                " udt_schema, udt_name, is_identity, is_generated, is_updatable) VALUES"
                " (?, ?, ?, ?, ?, 'YES', ?, ?, ?, ?, 'pg_catalog', ?, 'NO', 'NEVER', 'NO')", isc_rows)
            c.execute("INSERT INTO pg_tables SELECT n.nspname, c.relname, 'lowcode', NULL, false, false, false, false"
                      " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace")
        if desc_rows:
            c.executemany("INSERT INTO pg_description VALUES (?, ?, ?, ?)", desc_rows)
        c.executemany("INSERT INTO information_schema_schemata (catalog_name, schema_name, schema_owner)"
                      " VALUES (?, ?, 'lowcode')", [(DATABASE, n) for _, n in ns_rows])
        search = ", ".join(self.schemas) or "public"
        for name, value in (("search_path", search),):
            c.execute("UPDATE pg_settings SET setting = ?, reset_val = ? WHERE name = ?", [value, value, name])
        first = self.schemas[0] if self.schemas else "public"
        c.execute(f"CREATE OR REPLACE MACRO current_schema() AS {_lit(first)}")
        schemas = ["pg_catalog", *self.schemas]
        c.execute(f"CREATE OR REPLACE MACRO current_schemas(b) AS CASE WHEN b THEN {_lit(schemas)}"
                  f" ELSE {_lit(self.schemas)} END")
        for m in _MACROS:
            c.execute(f"CREATE OR REPLACE MACRO {m}")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.con.cursor()

    def rewrite(self, tree: exp.Expr) -> None:
        """Point a catalog query at the emulated tables and functions (in place)."""
        rewrite_catalog(tree)

    def close(self) -> None:
        self.con.close()


def _information_schema_column(src: str, table: str, f: pa.Field, pos: int) -> tuple[Any, ...]:
    oid = pg_type_for_arrow(f.type)[0]
    name = next(t.name for t in PG_TYPES if t.oid == oid)
    data_type = _PRETTY.get(name, name)
    precision = scale = None
    if pa.types.is_decimal(f.type):
        precision, scale = f.type.precision, f.type.scale
    elif oid in (21, 23, 20):
        precision, scale = {21: 16, 23: 32, 20: 64}[oid], 0
    return (DATABASE, src, table, f.name, pos, data_type, precision, scale, DATABASE, name)


# PostgreSQL functions DuckDB has under another name
_RENAMED_FUNCS = {"json_build_object": "json_object", "json_build_array": "json_array",
                  "jsonb_build_object": "json_object", "jsonb_build_array": "json_array"}
_REG_TYPES = {"regclass", "regtype", "regproc", "regprocedure", "regnamespace", "regrole", "regoper", "oid"}


def _cast_type(node: exp.Cast) -> str:
    to = node.to
    if isinstance(to.this, exp.DType):
        if to.this == exp.DType.USERDEFINED:
            return str(to.args.get("kind") or "").lower().strip('"')
        return to.this.name.lower()
    return str(to.this).lower().strip('"')


def _maybe_name(e: exp.Expr) -> bool:
    """Whether a ``::regclass`` operand may be a relation's name rather than an OID: text built by
    an expression (concatenation, format, quote_ident, a cast to text) or a column not named like
    an OID column (``table_name``, not ``c.oid`` / ``attrelid`` / ``indexrelid``)."""
    if isinstance(e, exp.Column):
        return not re.search(r"(oid|relid|id)$", e.name.lower())
    if isinstance(e, exp.Cast):
        return _cast_type(e) in ("text", "varchar", "name")
    return not isinstance(e, exp.Literal)  # a subquery, a function, a concatenation: either


def rewrite_catalog(tree: exp.Expr) -> None:
    for t in list(tree.find_all(exp.Table)):
        db = t.db.lower() if t.db else ""
        if db == "pg_catalog":
            t.set("db", None)
        elif db == "information_schema":
            t.set("db", None)
            t.set("this", exp.to_identifier(f"information_schema_{t.name.lower()}"))
    for d in list(tree.find_all(exp.Dot)):
        if isinstance(d.this, exp.Identifier | exp.Column) and d.this.name.lower() in ("pg_catalog",
                                                                                       "information_schema"):
            d.replace(d.expression)
    for fn in list(tree.find_all(exp.Anonymous)):
        renamed = _RENAMED_FUNCS.get(fn.name.lower())
        if renamed:
            fn.set("this", renamed)
    for col in list(tree.find_all(exp.Column)):
        # `pg_catalog.pg_class.relname`-style three-part column names
        if col.args.get("db") and col.args["db"].name.lower() == "pg_catalog":
            col.set("db", None)
    for cast in reversed(list(tree.find_all(exp.Cast))):
        kind = _cast_type(cast)
        if kind not in _REG_TYPES:
            continue
        inner = cast.this
        parent = cast.parent
        # the enclosing ``::text`` when there is one (None otherwise)
        to_text = parent if isinstance(parent, exp.Cast) and _cast_type(parent) in ("text", "varchar", "name") else None
        if kind == "regclass":
            if isinstance(inner, exp.Placeholder | exp.Parameter):
                # a bound value: an OID or a (qualified) relation name
                as_text = exp.cast(inner.copy(), "VARCHAR")
                cast.replace(exp.func("coalesce", exp.TryCast(this=as_text, to=exp.DataType.build("BIGINT")),
                                      exp.func("to_regclass", as_text.copy())))
            elif inner.is_string:
                cast.replace(exp.func("to_regclass", inner.copy()))
            elif to_text is not None:
                to_text.replace(exp.func("__regclass_name", inner.copy()))
            elif _maybe_name(inner):
                # a relation's name computed per row (Metabase: FORMAT('%I.%I', schema, table)::regclass)
                # or an OID: either resolves, as the bound-parameter case above
                as_text = exp.cast(inner.copy(), "VARCHAR")
                cast.replace(exp.func("coalesce", exp.TryCast(this=as_text, to=exp.DataType.build("BIGINT")),
                                      exp.func("to_regclass", as_text.copy())))
            else:
                cast.replace(exp.cast(inner.copy(), "BIGINT"))
        elif kind == "regtype":
            if inner.is_string:
                cast.replace(exp.func("to_regtype", inner.copy()))
            else:
                target = to_text if to_text is not None else cast
                target.replace(exp.func("format_type", inner.copy(), exp.Null()))
        elif kind == "regnamespace" and inner.is_string:
            cast.replace(exp.func("to_regnamespace", inner.copy()))
        elif inner.is_string and kind in ("regproc", "regprocedure"):
            cast.replace(exp.func("to_regproc", inner.copy()))
        elif inner.is_string and kind != "oid":
            cast.replace(exp.cast(exp.Literal.number(0), "BIGINT"))
        else:
            cast.replace(exp.cast(inner.copy(), "BIGINT"))


def log_unknown(sql: str, error: str) -> None:
    """Catalog queries we cannot answer are logged so the emulation can grow (docs/notes/bi-bridge.md, pitfall 6)."""
    log.warning("catalog query not supported: %s -- %s", error, " ".join(sql.split())[:2000])


def describe_sources(catalog: Any) -> dict[str, dict[str, tuple[pa.Schema, str, dict[str, str]]]]:
    """``{source: {table: (arrow schema, doc, column docs)}}`` from a ``lowcode_sql.catalog.Catalog``.

    A source whose tables cannot be listed (bad credentials, platform down) is logged and left out,
    so one broken source does not keep the others from being served."""
    from lowcode_sql.errors import LowcodeSQLError

    out: dict[str, dict[str, tuple[pa.Schema, str, dict[str, str]]]] = {}
    for name, src in catalog.sources.items():
        try:
            found = src.tables()
        except LowcodeSQLError as e:
            log.error("source %r is not served: its tables could not be listed: %s", name, e)
            continue
        tables: dict[str, tuple[pa.Schema, str, dict[str, str]]] = {}
        for tname, tdef in found.items():
            # every column SQL can name, filter-only ones included (they read as NULL or the filter value)
            schema = pa.schema([pa.field(c.name, c.type) for c in tdef.columns])
            tables[tname] = (schema, tdef.doc, {c.name: c.doc for c in tdef.columns if getattr(c, "doc", "")})
        out[name] = tables
    return out
