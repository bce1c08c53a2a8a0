-- pgAdmin 4's browser tree: the Jinja SQL templates of the Tables node, from pgadmin-org/pgadmin4
-- web/pgadmin/browser/server_groups/servers/databases/schemas/tables/templates/tables/sql/default/
-- (nodes.sql @ 402dfd07db5c85bdb8293dc8b9c23c9a89137d77, count.sql @ 41b6841714495fbfcc2752f450c3a6c690d71317,
-- get_columns_for_table.sql @ 08009f8edcef160e9c4ebb4a5e621ca714171cbc), rendered as pgAdmin renders
-- them: `{{ scid }}` is the schema's OID (`-- render:` is the query giving it), `tid` unset.

-- query: table nodes
-- from: tables/sql/default/nodes.sql
-- render: scid=SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'entu'
-- columns: oid, name, triggercount, has_enable_triggers, is_inherits, is_inherited
-- rows: item, big
SELECT rel.oid, rel.relname AS name,
    (SELECT count(*) FROM pg_trigger WHERE tgrelid=rel.oid) AS triggercount,
    (SELECT count(*) FROM pg_trigger WHERE tgrelid=rel.oid AND tgenabled = 'O') AS has_enable_triggers,
	(SELECT count(1) FROM pg_inherits WHERE inhrelid=rel.oid LIMIT 1) as is_inherits,
	(SELECT count(1) FROM pg_inherits WHERE inhparent=rel.oid LIMIT 1) as is_inherited
FROM pg_class rel
    WHERE rel.relkind IN ('r','s','t') AND rel.relnamespace = {{ scid }}::oid
    
    ORDER BY rel.relname;

-- query: table count
-- from: tables/sql/default/count.sql
-- render: scid=SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'entu'
-- columns: count
SELECT COUNT(*)
FROM pg_catalog.pg_class rel
    WHERE rel.relkind IN ('r','s','t','p') AND rel.relnamespace = {{ scid }}::oid
    AND NOT rel.relispartition;

-- query: columns of a table by name
-- from: tables/sql/default/get_columns_for_table.sql (tname = 'item')
-- columns: name, cltype, defval, inheritedfrom, inheritedid
-- rows: name, price, entu.item
SELECT
    a.attname AS name, pg_catalog.format_type(a.atttypid, NULL) AS cltype,
    pg_catalog.pg_get_expr(def.adbin, def.adrelid) AS defval,
    pg_catalog.quote_ident(n.nspname)||'.'||pg_catalog.quote_ident(c.relname) as inheritedfrom,
    c.oid as inheritedid
FROM
    pg_catalog.pg_class c
JOIN
    pg_catalog.pg_namespace n ON c.relnamespace=n.oid
JOIN
    pg_catalog.pg_attribute a ON a.attrelid = c.oid AND NOT a.attisdropped AND a.attnum > 0
LEFT OUTER JOIN
    pg_catalog.pg_attrdef def ON adrelid=a.attrelid AND adnum=a.attnum
WHERE

    c.relname = 'item'
