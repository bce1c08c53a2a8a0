-- DBeaver's PostgreSQL navigator: the schema's table, column, constraint, index and collation
-- caches, from dbeaver/dbeaver plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/
-- postgresql/model/PostgreSchema.java @ 001f621c651677a0e920556d41f533da67bd638b. Each `?` is a JDBC
-- bind parameter; `-- bind:` is the query giving its values (the schema's OID, as DBeaver binds it).

-- query: tables
-- from: PostgreSchema.TableCache.prepareLookupStatement (all tables of the schema)
-- bind: SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'entu'
-- has-columns: oid, relname, relkind, relnamespace, description, parents
-- rows: item, big
SELECT c.oid,c.*,d.description,(select array_agg(i.inhparent) from pg_catalog.pg_inherits i where i.inhrelid = c.oid) parents
FROM pg_catalog.pg_class c
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0
WHERE c.relnamespace=? AND c.relkind not in ('i','c')

-- query: columns
-- from: PostgreSchema.TableCache.prepareChildrenStatement (all columns of the schema)
-- bind: SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'entu'
-- has-columns: relname, attname, atttypid, attnum, attnotnull, def_value, description
-- rows: item, name, price, seen
SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description
FROM pg_catalog.pg_attribute a
INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)
LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum)
LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)
WHERE NOT a.attisdropped AND c.relnamespace=? AND c.relkind not in ('i','c')  ORDER BY a.attnum

-- query: constraints
-- from: PostgreSchema.ConstraintCache.prepareObjectsStatement (forParent == null)
-- bind: SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'entu'
-- has-columns: oid, conname, contype, conkey, confkey, tabrelname, refnamespace
SELECT c.oid,c.*,t.relname as tabrelname,rt.relnamespace as refnamespace
FROM pg_catalog.pg_constraint c
INNER JOIN pg_catalog.pg_class t ON t.oid=c.conrelid
LEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid=c.confrelid
WHERE t.relnamespace=?
ORDER BY c.oid

-- query: indexes
-- from: PostgreSchema.IndexCache.prepareObjectsStatement (forTable == null, expression indexes supported)
-- bind: SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'entu'
-- has-columns: indexrelid, indrelid, keys, relname, relnamespace, relam, tabrelname, description, expr
SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,tc.relname as tabrelname,dsc.description,pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as expr
FROM pg_catalog.pg_index i
INNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid
INNER JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid
LEFT OUTER JOIN pg_catalog.pg_description dsc ON i.indexrelid=dsc.objoid
WHERE  c.relnamespace=? ORDER BY c.relname

-- query: collations
-- from: PostgreSchema.CollationCache.prepareObjectsStatement
-- bind: SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'entu'
-- has-columns: oid, collname
SELECT c.oid,c.* FROM pg_catalog.pg_collation c 
WHERE c.collnamespace=?
ORDER BY c.oid

-- query: extensions
-- from: PostgreSchema.ExtensionCache.prepareObjectsStatement
-- bind: SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'entu'
-- has-columns: oid, extname
SELECT e.oid,e.* FROM pg_catalog.pg_extension e 
WHERE e.extnamespace=?
ORDER BY e.oid

-- query: procedures
-- from: PostgreSchema.ProceduresCache.prepareLookupStatement (object == null)
-- bind: SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'entu'
-- has-columns: oid, proname, description
SELECT p.oid,p.*,d.description
FROM pg_catalog.pg_proc p
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=p.oid
WHERE p.pronamespace=?
ORDER BY p.proname
