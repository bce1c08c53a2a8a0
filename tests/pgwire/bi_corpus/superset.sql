-- Apache Superset over PostgreSQL: the SQL its PostgreSQL engine spec sends and the chart queries
-- its time grains produce, from apache/superset superset/db_engine_specs/postgres.py
-- @ 007e4f5f4b4a4b08b24b1f2fc14bcf5abb16237d (PostgresBaseEngineSpec._time_grain_expressions,
-- epoch_to_dttm, convert_dttm, get_catalog_names, get_cancel_query_id, cancel_query, get_prequeries).
-- The chart query shape is what Superset's SQLAlchemy query builder renders for a GROUP BY chart.
-- SQLAlchemy's own inspection queries are run by test_odbc_sqlalchemy.py with SQLAlchemy itself.

-- query: catalogs
-- from: PostgresEngineSpec.get_catalog_names
-- columns: datname
-- rows: lowcode
SELECT datname FROM pg_database
WHERE datistemplate = false;

-- query: prequery search_path
-- from: PostgresEngineSpec.get_prequeries (schema "entu")
-- status: SET
set search_path = "entu"

-- query: backend pid
-- from: PostgresEngineSpec.get_cancel_query_id
-- columns: pg_backend_pid
SELECT pg_backend_pid()

-- query: cancel by pid
-- from: PostgresEngineSpec.cancel_query (a pid of no session: nothing to terminate)
-- columns: pg_terminate_backend
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid='999999999'

-- query: time grain second
-- from: _time_grain_expressions TimeGrain.SECOND
-- columns: seen, count
SELECT DATE_TRUNC('second', seen) AS seen, COUNT(*) AS count FROM entu.item GROUP BY DATE_TRUNC('second', seen) ORDER BY count DESC LIMIT 10000

-- query: time grain minute
-- from: _time_grain_expressions TimeGrain.MINUTE
-- columns: seen, count
SELECT DATE_TRUNC('minute', seen) AS seen, COUNT(*) AS count FROM entu.item GROUP BY DATE_TRUNC('minute', seen) ORDER BY count DESC LIMIT 10000

-- query: time grain hour
-- from: _time_grain_expressions TimeGrain.HOUR
-- columns: seen, count
SELECT DATE_TRUNC('hour', seen) AS seen, COUNT(*) AS count FROM entu.item GROUP BY DATE_TRUNC('hour', seen) ORDER BY count DESC LIMIT 10000

-- query: time grain day
-- from: _time_grain_expressions TimeGrain.DAY
-- columns: day, count
-- rows: 2024-01-01 00:00:00+00:00
SELECT DATE_TRUNC('day', day) AS day, COUNT(*) AS count FROM entu.item GROUP BY DATE_TRUNC('day', day) ORDER BY count DESC LIMIT 10000

-- query: time grain week
-- from: _time_grain_expressions TimeGrain.WEEK
-- columns: day, count
SELECT DATE_TRUNC('week', day) AS day, COUNT(*) AS count FROM entu.item GROUP BY DATE_TRUNC('week', day) ORDER BY count DESC LIMIT 10000

-- query: time grain month
-- from: _time_grain_expressions TimeGrain.MONTH
-- columns: day, count
SELECT DATE_TRUNC('month', day) AS day, COUNT(*) AS count FROM entu.item GROUP BY DATE_TRUNC('month', day) ORDER BY count DESC LIMIT 10000

-- query: time grain quarter
-- from: _time_grain_expressions TimeGrain.QUARTER
-- columns: day, count
SELECT DATE_TRUNC('quarter', day) AS day, COUNT(*) AS count FROM entu.item GROUP BY DATE_TRUNC('quarter', day) ORDER BY count DESC LIMIT 10000

-- query: time grain year
-- from: _time_grain_expressions TimeGrain.YEAR
-- columns: seen, count
-- rows: 2024-01-01 00:00:00+00:00
SELECT DATE_TRUNC('year', seen) AS seen, COUNT(*) AS count FROM entu.item GROUP BY DATE_TRUNC('year', seen) ORDER BY count DESC LIMIT 10000

-- query: epoch to datetime
-- from: PostgresBaseEngineSpec.epoch_to_dttm over a number column
-- columns: t
-- rows: 1970-01-01 00:00:00
SELECT (timestamp 'epoch' + n * interval '1 second') AS t FROM entu.mid ORDER BY n LIMIT 3

-- query: time range filter on a timestamp
-- from: PostgresBaseEngineSpec.convert_dttm (DateTime: TO_TIMESTAMP with 'YYYY-MM-DD HH24:MI:SS.US')
-- columns: name
-- rows: alpha
SELECT name FROM entu.item WHERE seen >= TO_TIMESTAMP('2024-01-01 00:00:00.000000', 'YYYY-MM-DD HH24:MI:SS.US') AND seen < TO_TIMESTAMP('2024-02-01 00:00:00.000000', 'YYYY-MM-DD HH24:MI:SS.US')

-- query: time range filter on a date
-- from: PostgresBaseEngineSpec.convert_dttm (Date: TO_DATE with 'YYYY-MM-DD')
-- columns: name
-- rows: alpha
SELECT name FROM entu.item WHERE day >= TO_DATE('2024-01-01', 'YYYY-MM-DD') AND day < TO_DATE('2024-02-01', 'YYYY-MM-DD')

-- query: cost estimate
-- from: PostgresEngineSpec.estimate_statement_cost
-- columns: QUERY PLAN
EXPLAIN SELECT name FROM entu.item
