-- Differential corpus: each line runs on a real PostgreSQL and on the wire server (test_pg_differential.py).
-- Table m(id, grp, qty, price, name, ok, day, ts): numbers are double precision; casts make the other types.
-- Differences must be listed in pg_known_differences.txt with the reason.

-- arithmetic and division on every integer/numeric/float mix, literal, subquery and CTE
SELECT 10 / 4
SELECT -7 / 2
SELECT 7 % 3, -7 % 3
SELECT 10 / 4.0
SELECT 10.0 / 4
SELECT 10::float8 / 4
SELECT 10::real / 4
SELECT 10::int2 / 4::int2
SELECT 10::int8 / 4
SELECT 10::int4 / 4::int8
SELECT 10::numeric / 4
SELECT 2 ^ 10
SELECT 1 + 2 * 3 - 4
SELECT x / 4 FROM (SELECT 10 AS x) t
SELECT x / 4 FROM (SELECT 10::bigint AS x) t
SELECT x / 4 FROM (SELECT 10.0::float8 AS x) t
SELECT x / y FROM (SELECT 10 AS x, 3 AS y) t
WITH c AS (SELECT 10 AS x) SELECT x / 4 FROM c
WITH c AS (SELECT 10 AS x), d AS (SELECT x * 3 AS y FROM c) SELECT y / 4 FROM d
SELECT max(i / 1000) FROM generate_series(1, 999999) AS g(i)
SELECT sum(i) / count(*) FROM generate_series(1, 10) AS g(i)
SELECT sum(i::bigint) / count(*) FROM generate_series(1, 2298) AS g(i)
SELECT avg(i) FROM generate_series(1, 10) AS g(i)
SELECT id::int / 4 AS q FROM m ORDER BY id
SELECT id::bigint / 3 AS q FROM m ORDER BY id
SELECT id / 4 AS q FROM m ORDER BY id
SELECT qty::int / 2 AS q FROM m ORDER BY id
SELECT a / b FROM (SELECT id::int AS a, 3 AS b FROM m) t ORDER BY 1
SELECT a / b FROM (SELECT id::bigint AS a, 4::int2 AS b FROM m) t ORDER BY 1
SELECT a / 2 FROM (SELECT id::int4 * 3 AS a FROM m) t ORDER BY 1
WITH t AS (SELECT id::int AS i FROM m) SELECT i / 5 AS q, count(*) FROM t GROUP BY 1 ORDER BY 1
SELECT (SELECT max(id)::int FROM m) / 5
SELECT id::int * 2 + 1 AS v FROM m ORDER BY id
SELECT id::int - qty::int AS v FROM m ORDER BY id
SELECT -id::int AS v FROM m ORDER BY id
SELECT abs(price) FROM m ORDER BY id
SELECT round(price) FROM m ORDER BY id
SELECT round(price::numeric, 1) FROM m ORDER BY id
SELECT ceil(price), floor(price) FROM m ORDER BY id
SELECT trunc(price) FROM m ORDER BY id
SELECT sqrt(abs(price)) FROM m ORDER BY id
SELECT power(2, 10), mod(17, 5)
SELECT greatest(1, 5, 3), least(1, 5, 3)
SELECT 5 / 2 * 2.0

-- aggregates over every type
SELECT count(*) FROM m
SELECT count(qty), count(name), count(ok), count(ts) FROM m
SELECT count(DISTINCT grp) FROM m
SELECT sum(id) FROM m
SELECT sum(id::int) FROM m
SELECT sum(id::bigint) FROM m
SELECT sum(id::bigint) / count(*) FROM m
SELECT sum(id::int) / count(*) FROM m
SELECT sum(price) FROM m
SELECT sum(price::numeric(10,3)) FROM m
SELECT sum(qty) / count(qty) FROM m
SELECT avg(price) FROM m
SELECT min(price), max(price) FROM m
SELECT min(name), max(name) FROM m
SELECT min(day), max(day) FROM m
SELECT min(ts), max(ts) FROM m
SELECT grp, count(*), sum(qty) FROM m GROUP BY grp ORDER BY grp
SELECT grp, max(price) - min(price) AS spread FROM m GROUP BY grp ORDER BY grp NULLS FIRST
SELECT grp, count(*) FROM m GROUP BY grp HAVING count(*) > 2 ORDER BY grp
SELECT bool_and(ok), bool_or(ok) FROM m
SELECT string_agg(name, ',' ORDER BY id) FROM m
SELECT array_agg(id ORDER BY id) FROM m WHERE grp = 'a'
SELECT count(*) FILTER (WHERE ok) FROM m
SELECT stddev_samp(price), var_samp(price) FROM m WHERE price < 100
SELECT sum(qty) FILTER (WHERE grp = 'a') FROM m

-- casts
SELECT 1::text, '12'::int, '3.5'::float8, 'true'::boolean
SELECT '2024-02-29'::date, '2024-02-29 12:34:56'::timestamp
SELECT 3.7::int, -3.5::int, 2.5::int
SELECT '42'::bigint + 1
SELECT id::text FROM m ORDER BY id
SELECT price::int FROM m ORDER BY id
SELECT CAST(qty AS integer) FROM m ORDER BY id
SELECT day::timestamp FROM m ORDER BY id
SELECT ok::int FROM m ORDER BY id
SELECT 1::boolean, 0::boolean
SELECT day::text FROM m ORDER BY id
SELECT '1.50'::numeric(5,2)
SELECT 123.456::numeric(6,2)

-- string functions
SELECT format('%s-%s', 'a', 'b')
SELECT format('%I.%I', 'public', 'My T')
SELECT format('%I', 'plain_name')
SELECT format('%L', 'it''s')
SELECT format('%L', NULL)
SELECT format('100%% of %s', 'x')
SELECT format('%2$s %1$s', 'a', 'b')
SELECT format('[%5s]', 'ab')
SELECT format('[%-5s]', 'ab')
SELECT format('%s', name) FROM m ORDER BY id
SELECT concat('a', NULL, 'b', 1)
SELECT concat_ws('-', 'a', NULL, 'b')
SELECT 'a' || 'b' || 'c'
SELECT 'a' || NULL
SELECT upper(name), lower(name) FROM m ORDER BY id
SELECT length(name) FROM m ORDER BY id
SELECT substring('hello world' FROM 7)
SELECT substring('hello world' FROM 1 FOR 5)
SELECT substr('hello', 2, 3)
SELECT position('lo' IN 'hello')
SELECT strpos('hello', 'l')
SELECT split_part('a,b,c', ',', 2)
SELECT split_part('a,b,c', ',', 5)
SELECT replace('banana', 'a', 'o')
SELECT trim('  x  '), ltrim('  x'), rtrim('x  ')
SELECT btrim('xxhixx', 'x')
SELECT left('hello', 2), right('hello', 2)
SELECT lpad('7', 3, '0'), rpad('ab', 4, '*')
SELECT reverse('abc')
SELECT repeat('ab', 3)
SELECT initcap('hello world')
SELECT regexp_replace('abc123', '[0-9]+', 'X')
SELECT regexp_replace('a1b2c3', '[0-9]', 'X', 'g')
SELECT name FROM m WHERE name ~ '^[a-z]+$' ORDER BY id
SELECT name FROM m WHERE name ~* '^alpha$' ORDER BY id
SELECT name FROM m WHERE name !~ 'a' ORDER BY id
SELECT md5('abc')
SELECT ascii('A'), chr(66)
SELECT char_length('Straße'), octet_length('Straße')
SELECT starts_with('hello', 'he')
SELECT coalesce(name, '(none)') FROM m ORDER BY id
SELECT nullif(grp, 'a') FROM m ORDER BY id
SELECT to_char(1234.5, '99999.99')

-- date/time
SELECT date_trunc('year', ts) FROM m ORDER BY id
SELECT date_trunc('quarter', ts) FROM m ORDER BY id
SELECT date_trunc('month', ts) FROM m ORDER BY id
SELECT date_trunc('week', ts) FROM m ORDER BY id
SELECT date_trunc('day', ts) FROM m ORDER BY id
SELECT date_trunc('hour', ts) FROM m ORDER BY id
SELECT date_trunc('minute', ts) FROM m ORDER BY id
SELECT date_trunc('second', ts) FROM m ORDER BY id
SELECT date_trunc('month', day) FROM m ORDER BY id
SELECT date_trunc('year', day) FROM m ORDER BY id
SELECT date_trunc('month', ts) AS mo, count(*) FROM m GROUP BY 1 ORDER BY 1
SELECT date_trunc('day', '2024-05-17 13:14:15'::timestamp)
SELECT extract(year FROM ts) FROM m ORDER BY id
SELECT extract(month FROM day) FROM m ORDER BY id
SELECT extract(dow FROM day) FROM m ORDER BY id
SELECT extract(doy FROM day) FROM m ORDER BY id
SELECT extract(epoch FROM ts) FROM m ORDER BY id
SELECT extract(hour FROM ts), extract(minute FROM ts) FROM m ORDER BY id
SELECT extract(quarter FROM day) FROM m ORDER BY id
SELECT extract(second FROM ts) FROM m ORDER BY id
SELECT extract(year FROM '2024-05-17'::date) / 4
SELECT extract(epoch FROM ts) / 3600 FROM m ORDER BY id
SELECT date_part('year', day) FROM m ORDER BY id
SELECT day + 1 FROM m ORDER BY id
SELECT day - 1 FROM m ORDER BY id
SELECT day - '2024-01-01'::date FROM m ORDER BY id
SELECT day + interval '1 month' FROM m ORDER BY id
SELECT ts + interval '2 hours' FROM m ORDER BY id
SELECT ts - interval '1 day' FROM m ORDER BY id
SELECT '2024-01-31'::date + interval '1 month'
SELECT make_date(2024, 2, 29)
SELECT age('2024-03-01'::date, '2024-01-01'::date)
SELECT interval '1 day' * 3
SELECT day FROM m WHERE day BETWEEN '2024-01-01' AND '2024-06-30' ORDER BY day
SELECT ts FROM m WHERE ts >= '2024-01-01' ORDER BY ts

-- NULL handling and ORDER BY with NULLs
SELECT name FROM m ORDER BY name
SELECT name FROM m ORDER BY name DESC
SELECT qty FROM m ORDER BY qty NULLS FIRST
SELECT qty FROM m ORDER BY qty DESC NULLS LAST
SELECT grp, qty FROM m ORDER BY grp, qty DESC
SELECT qty IS NULL, qty IS NOT NULL FROM m ORDER BY id
SELECT NULL::int + 1
SELECT coalesce(qty, 0) FROM m ORDER BY id
SELECT qty IS DISTINCT FROM 3 FROM m ORDER BY id
SELECT count(*) FROM m WHERE qty = NULL
SELECT NULL = NULL, NULL IS NULL

-- LIMIT / OFFSET
SELECT id FROM m ORDER BY id LIMIT 3
SELECT id FROM m ORDER BY id LIMIT 3 OFFSET 2
SELECT id FROM m ORDER BY id OFFSET 10
SELECT id FROM m ORDER BY id DESC LIMIT 0
SELECT id FROM m ORDER BY id FETCH FIRST 2 ROWS ONLY

-- window functions
SELECT id, row_number() OVER (ORDER BY id) FROM m ORDER BY id
SELECT id, rank() OVER (PARTITION BY grp ORDER BY qty) FROM m ORDER BY id
SELECT id, dense_rank() OVER (ORDER BY grp) FROM m ORDER BY id
SELECT id, sum(qty) OVER (PARTITION BY grp) FROM m ORDER BY id
SELECT id, sum(qty) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM m ORDER BY id
SELECT id, lag(qty) OVER (ORDER BY id), lead(qty, 2) OVER (ORDER BY id) FROM m ORDER BY id
SELECT id, first_value(name) OVER (PARTITION BY grp ORDER BY id) FROM m ORDER BY id
SELECT id, count(*) OVER () FROM m ORDER BY id
SELECT id, avg(price) OVER (PARTITION BY grp) FROM m ORDER BY id
SELECT id, ntile(3) OVER (ORDER BY id) FROM m ORDER BY id
SELECT id, percent_rank() OVER (ORDER BY id) FROM m ORDER BY id
SELECT id, sum(id::int) OVER (ORDER BY id) FROM m ORDER BY id

-- GROUPING SETS / ROLLUP / CUBE
SELECT grp, ok, count(*) FROM m GROUP BY ROLLUP (grp, ok) ORDER BY grp, ok, 3
SELECT grp, count(*) FROM m GROUP BY ROLLUP (grp) ORDER BY grp, 2
SELECT grp, ok, count(*) FROM m GROUP BY GROUPING SETS ((grp), (ok), ()) ORDER BY grp, ok, 3
SELECT grp, ok, count(*) FROM m GROUP BY CUBE (grp, ok) ORDER BY grp, ok, 3
SELECT grp, grouping(grp), count(*) FROM m GROUP BY ROLLUP (grp) ORDER BY grp, 3

-- DISTINCT / DISTINCT ON
SELECT DISTINCT grp FROM m ORDER BY grp
SELECT DISTINCT ON (grp) grp, id FROM m ORDER BY grp, id
SELECT DISTINCT ON (grp) grp, name FROM m ORDER BY grp, price DESC
SELECT count(DISTINCT ok) FROM m

-- booleans
SELECT ok, NOT ok FROM m ORDER BY id
SELECT ok AND true, ok OR false FROM m ORDER BY id
SELECT id FROM m WHERE ok ORDER BY id
SELECT id FROM m WHERE ok IS NOT TRUE ORDER BY id
SELECT id FROM m WHERE NOT ok ORDER BY id
SELECT true AND NULL, false AND NULL, true OR NULL
SELECT 1 < 2, 'a' < 'b', 2 = 2.0

-- IN / ANY
SELECT id FROM m WHERE grp IN ('a', 'c') ORDER BY id
SELECT id FROM m WHERE grp NOT IN ('a', 'c') ORDER BY id
SELECT id FROM m WHERE id IN (SELECT id FROM m WHERE qty > 5) ORDER BY id
SELECT id FROM m WHERE id = ANY (ARRAY[1, 3, 5]) ORDER BY id
SELECT 3 = ANY (ARRAY[1, 2, 3]), 4 = ALL (ARRAY[4, 4])
SELECT id FROM m WHERE EXISTS (SELECT 1 FROM m m2 WHERE m2.id = m.id + 1 AND m2.ok) ORDER BY id

-- LIKE / ILIKE
SELECT name FROM m WHERE name LIKE 'a%' ORDER BY id
SELECT name FROM m WHERE name ILIKE 'a%' ORDER BY id
SELECT name FROM m WHERE name LIKE '%a' ORDER BY id
SELECT name FROM m WHERE name LIKE '_eta' ORDER BY id
SELECT name FROM m WHERE name NOT LIKE '%a%' ORDER BY id
SELECT name FROM m WHERE name LIKE 'a\_b%' ORDER BY id
SELECT name FROM m WHERE name LIKE 'a\_b\%c' ORDER BY id
SELECT name FROM m WHERE name ILIKE 'A\_%' ORDER BY id
SELECT name FROM m WHERE name LIKE 'a!_b%' ESCAPE '!' ORDER BY id
SELECT 'abc' LIKE 'a%', 'ABC' ILIKE 'a%'

-- CASE, subqueries, joins, set operations
SELECT CASE WHEN qty > 5 THEN 'big' WHEN qty > 0 THEN 'small' ELSE 'none' END FROM m ORDER BY id
SELECT CASE grp WHEN 'a' THEN 1 WHEN 'b' THEN 2 END FROM m ORDER BY id
SELECT a.id, b.id FROM m a JOIN m b ON a.qty = b.id ORDER BY a.id
SELECT a.id, b.name FROM m a LEFT JOIN m b ON b.id = a.qty ORDER BY a.id
SELECT id FROM m WHERE grp = 'a' UNION SELECT id FROM m WHERE ok ORDER BY 1
SELECT id FROM m WHERE grp = 'a' UNION ALL SELECT id FROM m WHERE grp = 'a' ORDER BY 1
SELECT id FROM m INTERSECT SELECT qty FROM m ORDER BY 1
SELECT id FROM m EXCEPT SELECT qty FROM m ORDER BY 1
SELECT (SELECT count(*) FROM m WHERE ok) AS c
SELECT * FROM (VALUES (1, 'x'), (2, 'y')) AS v(a, b) ORDER BY a
SELECT count(*) FROM (SELECT grp FROM m GROUP BY grp) s
SELECT generate_series(1, 3)
SELECT g FROM generate_series(1, 10, 3) AS g(g)
SELECT x FROM generate_series(1, 3) x
SELECT * FROM generate_series(-2, 2) ORDER BY 1
SELECT sum(g) / count(*) FROM generate_series(1, 4) AS t(g)

-- more division mixes inside subqueries, CTEs and aggregates (the wrappers BI tools generate)
SELECT a / b FROM (SELECT id::int2 AS a, 2::int4 AS b FROM m) t ORDER BY 1
SELECT a / b FROM (SELECT id::int8 AS a, 2::int8 AS b FROM m) t ORDER BY 1
SELECT a / b FROM (SELECT id AS a, 4 AS b FROM m) t ORDER BY 1
SELECT a / b FROM (SELECT id::int AS a, 4::float8 AS b FROM m) t ORDER BY 1
SELECT q / 3 FROM (SELECT count(*) AS q FROM m) t
SELECT c / 5 FROM (SELECT count(*) AS c FROM m GROUP BY grp) t ORDER BY 1
WITH t AS (SELECT grp, count(*) AS c, sum(qty) AS s FROM m GROUP BY grp) SELECT grp, s / c FROM t ORDER BY grp
WITH t AS (SELECT id::int AS i FROM m), u AS (SELECT i / 3 AS j FROM t) SELECT j, count(*) FROM u GROUP BY j ORDER BY j
SELECT count(*) / 5 FROM m
SELECT count(*) / 5.0 FROM m
SELECT count(*) * 1.0 / 5 FROM m
SELECT max(id::int) / min(id::int) FROM m
SELECT (SELECT count(*) FROM m) / 4
SELECT id::int / (id::int + 1) FROM m ORDER BY id
SELECT 7 / -2, -7 / -2
SELECT 2147483647 / 2
SELECT 9223372036854775807 / 2
SELECT sub.x / 2 FROM (SELECT y.x FROM (SELECT 9 AS x) y) sub
SELECT (a + b) / 2 FROM (SELECT 3 AS a, 4 AS b) t
SELECT a % 4 / 2 FROM (SELECT 11 AS a) t
SELECT sum(qty) / 3 FROM m
SELECT max(qty) / 3 FROM m

-- aggregates over more types
SELECT sum(price::real) FROM m
SELECT min(ok), max(ok) FROM m
SELECT count(DISTINCT name) FROM m
SELECT grp, min(day), max(ts) FROM m GROUP BY grp ORDER BY grp
SELECT max(length(name)) FROM m
SELECT sum(CASE WHEN ok THEN 1 ELSE 0 END) FROM m
SELECT count(*) FROM m WHERE price > 5
SELECT grp, count(*) AS n FROM m GROUP BY grp ORDER BY n DESC, grp

-- more string functions
SELECT concat_ws(', ', grp, name) FROM m ORDER BY id
SELECT concat_ws('', 'a', 'b')
SELECT regexp_replace(name, 'a', 'A') FROM m ORDER BY id
SELECT regexp_replace('Hello World', 'o', '0', 'g')
SELECT 'abc' ~ 'b', 'abc' ~ '^b'
SELECT split_part(name, '-', 2) FROM m ORDER BY id
SELECT position('a' IN name) FROM m ORDER BY id
SELECT substring(name FROM 2 FOR 3) FROM m ORDER BY id
SELECT left(name, 3) FROM m ORDER BY id
SELECT length(trim(name)) FROM m ORDER BY id
SELECT translate('abc', 'ab', 'xy')
SELECT 'x' || id::int FROM m ORDER BY id
SELECT name || '!' FROM m ORDER BY id
SELECT quote_ident('My T'), quote_literal('it''s')
SELECT format('%s has %s', name, qty::int) FROM m ORDER BY id
SELECT format('%I', grp) FROM m ORDER BY id
SELECT octet_length(name) FROM m ORDER BY id
SELECT lower(grp) = 'a' FROM m ORDER BY id

-- intervals and date arithmetic
SELECT interval '1 day 02:00:00'
SELECT interval '90 minutes'
SELECT ts - '2024-01-01 00:00:00+00'::timestamptz FROM m ORDER BY id
SELECT '2024-03-01'::date - interval '1 day'
SELECT date_trunc('week', day) FROM m ORDER BY id
SELECT date_trunc('quarter', day) FROM m ORDER BY id
SELECT extract(isodow FROM day) FROM m ORDER BY id
SELECT extract(week FROM day) FROM m ORDER BY id
SELECT extract(day FROM ts) FROM m ORDER BY id
SELECT extract(epoch FROM '2024-01-01 00:00:00+00'::timestamptz)
SELECT to_timestamp(0)
SELECT day < '2024-01-01' FROM m ORDER BY id
SELECT count(*) FROM m WHERE ts < now()

-- more casts
SELECT '  42 '::int
SELECT 'abc'::int
SELECT '2024-13-01'::date
SELECT 1.5::numeric(3,1) * 2
SELECT 7::numeric(10,2)
SELECT -0.0001::numeric
SELECT 100000::int2
SELECT 3000000000::int
SELECT '1e3'::float8
SELECT 'NaN'::float8 = 'NaN'::float8
SELECT 0.1::float8 + 0.2::float8
SELECT CAST('t' AS boolean), CAST('no' AS boolean)
SELECT ts::date FROM m ORDER BY id
SELECT CAST(day AS text) || '!' FROM m ORDER BY id
SELECT price::numeric(10,2) FROM m ORDER BY id
SELECT qty::int::text FROM m ORDER BY id

-- more NULL ordering, CASE and comparison
SELECT name FROM m ORDER BY name NULLS FIRST
SELECT name FROM m ORDER BY name DESC NULLS LAST
SELECT ok FROM m ORDER BY ok
SELECT ok FROM m ORDER BY ok DESC
SELECT day FROM m ORDER BY day DESC
SELECT ts FROM m ORDER BY ts
SELECT grp, name FROM m ORDER BY grp DESC, name
SELECT coalesce(grp, 'none'), count(*) FROM m GROUP BY 1 ORDER BY 1
SELECT id FROM m WHERE qty IN (3, NULL) ORDER BY id
SELECT id FROM m WHERE qty NOT IN (3, 7) ORDER BY id
SELECT count(*) FROM m WHERE qty NOT IN (3, NULL)
SELECT CASE WHEN qty IS NULL THEN 'none' END FROM m ORDER BY id
SELECT greatest(qty, price), least(qty, price) FROM m ORDER BY id
SELECT id FROM m WHERE price BETWEEN 0 AND 5 ORDER BY id
SELECT id FROM m WHERE name IS NULL OR grp IS NULL ORDER BY id

-- more windows
SELECT id, sum(price) OVER (PARTITION BY grp ORDER BY id) FROM m ORDER BY id
SELECT id, max(qty) OVER (PARTITION BY grp) FROM m ORDER BY id
SELECT id, row_number() OVER (PARTITION BY grp ORDER BY price DESC) FROM m ORDER BY id
SELECT id, last_value(id) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) FROM m ORDER BY id
SELECT id, cume_dist() OVER (ORDER BY qty) FROM m ORDER BY id
SELECT id, count(qty) OVER (ORDER BY id) FROM m ORDER BY id
SELECT grp, sum(qty), rank() OVER (ORDER BY sum(qty) DESC) FROM m GROUP BY grp ORDER BY grp
SELECT * FROM (SELECT id, row_number() OVER (ORDER BY id DESC) AS r FROM m) t WHERE r <= 3 ORDER BY r

-- more DISTINCT ON, LIMIT/OFFSET over subqueries
SELECT DISTINCT ON (ok) ok, id FROM m ORDER BY ok, id DESC
SELECT DISTINCT grp, ok FROM m ORDER BY grp, ok
SELECT * FROM (SELECT id FROM m ORDER BY id DESC LIMIT 5) t ORDER BY id
SELECT id FROM m ORDER BY price DESC NULLS LAST LIMIT 2
SELECT id FROM m ORDER BY id LIMIT ALL
SELECT count(*) FROM (SELECT id FROM m LIMIT 4) t

-- more string / regex
SELECT regexp_replace(name, '^(.)(.*)$', '\2\1') FROM m ORDER BY id
SELECT name ~ 'a.*a' FROM m ORDER BY id
SELECT 'foo bar' ~ '\s', 'a1' ~ '\d'
SELECT string_agg(DISTINCT grp, '|' ORDER BY grp) FROM m
SELECT upper(left(name, 1)) || substring(name FROM 2) FROM m ORDER BY id
SELECT concat(id::int, '-', grp) FROM m ORDER BY id
SELECT length(concat_ws(',', name, grp)) FROM m ORDER BY id
SELECT replace(name, 'a', '') FROM m ORDER BY id
SELECT split_part('2024-05-17', '-', 1)::int / 4

-- date grains as BI tools write them
SELECT date_trunc('month', ts) AS t, sum(price) FROM m GROUP BY 1 ORDER BY 1
SELECT date_trunc('year', ts)::date FROM m ORDER BY id
SELECT extract(year FROM ts) AS y, count(*) FROM m GROUP BY 1 ORDER BY 1
SELECT CAST(date_trunc('day', ts) AS date) FROM m ORDER BY id
SELECT date_trunc('hour', ts) + interval '30 minutes' FROM m ORDER BY id
SELECT to_char(day, 'YYYY-MM') FROM m ORDER BY id
SELECT to_char(day, 'FMMonth'), to_char(day, 'FMDay'), to_char(day, 'Q'), to_char(day, 'ID') FROM m ORDER BY id
SELECT to_char(ts, 'YYYY-MM-DD HH24:MI:SS'), to_char(ts, 'Mon FMDD, YYYY'), to_char(ts, 'Month'), to_char(ts, 'Dy') FROM m ORDER BY id
SELECT to_char(day, 'IYYY-IW'), to_char(day, 'FMDDD'), to_char(day, 'DD/MM/YY') FROM m ORDER BY id
SELECT substr(name, -2, 4), substr(name, 0), substr(name, 2, 3), right(name, 3), left(name, -1) FROM m ORDER BY id

-- BI-style wrappers: the tool's query inside a subquery, aggregated and limited outside
SELECT * FROM (SELECT grp, count(*) / 2 AS half FROM m GROUP BY grp) AS virtual_table ORDER BY grp LIMIT 10
SELECT grp, sum(n) / count(*) FROM (SELECT grp, id::bigint AS n FROM m) AS v GROUP BY grp ORDER BY grp
SELECT grp, sum(n) / count(*) FROM (SELECT grp, id::int AS n FROM m) AS v GROUP BY grp ORDER BY grp
SELECT grp, avg(n) FROM (SELECT grp, id::int AS n FROM m) AS v GROUP BY grp ORDER BY grp
SELECT grp, max(n) / 2 FROM (SELECT grp, qty::int AS n FROM m) AS v GROUP BY grp ORDER BY grp
SELECT count(*) AS count FROM (SELECT id FROM m WHERE ok) AS virtual_table
SELECT __timestamp, c / 2 FROM (SELECT date_trunc('year', ts) AS __timestamp, count(*) AS c FROM m GROUP BY 1) t ORDER BY 1
SELECT t.a / t.b FROM (SELECT sum(qty::int) AS a, count(*) AS b FROM m) t
SELECT t.a / t.b FROM (SELECT sum(qty::bigint) AS a, count(*) AS b FROM m) t
SELECT t.a / t.b FROM (SELECT sum(price) AS a, count(*) AS b FROM m) t
SELECT x.pct FROM (SELECT 100 * count(*) FILTER (WHERE ok) / count(*) AS pct FROM m) x
SELECT 100.0 * count(*) FILTER (WHERE ok) / count(*) FROM m
WITH base AS (SELECT id::int AS i, grp FROM m), agg AS (SELECT grp, sum(i) AS s, count(*) AS c FROM base GROUP BY grp) SELECT grp, s / c FROM agg ORDER BY grp
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n / 2 FROM r ORDER BY n
SELECT (SELECT sum(id::int) FROM m) / (SELECT count(*) FROM m)
SELECT id FROM m WHERE id::int / 4 = 1 ORDER BY id
SELECT id::int / 4 AS bucket, count(*) FROM m GROUP BY 1 ORDER BY 1
SELECT id FROM m ORDER BY id::int / 5, id DESC
SELECT floor(id / 4) FROM m ORDER BY id
SELECT id::int % 3 FROM m ORDER BY id

-- more aggregates
SELECT count(1), count(NULL::int) FROM m
SELECT sum(NULL::int)
SELECT avg(NULL::float8)
SELECT max(id) FILTER (WHERE grp = 'b') FROM m
SELECT grp, count(*) FROM m WHERE false GROUP BY grp
SELECT count(*) FROM m WHERE false
SELECT sum(qty) FROM m WHERE false
SELECT every(ok) FROM m WHERE grp = 'a'
SELECT string_agg(grp, ',') FROM (SELECT DISTINCT grp FROM m WHERE grp IS NOT NULL ORDER BY grp) t
SELECT min(id::int), max(id::bigint) FROM m

-- more booleans and predicates
SELECT id FROM m WHERE ok = true ORDER BY id
SELECT id FROM m WHERE ok IS FALSE ORDER BY id
SELECT id FROM m WHERE ok IS UNKNOWN ORDER BY id
SELECT NOT (qty > 3) FROM m ORDER BY id
SELECT (qty > 3) = ok FROM m ORDER BY id
SELECT id FROM m WHERE grp = ANY (ARRAY['a', 'b']) ORDER BY id
SELECT id FROM m WHERE name LIKE ANY (ARRAY['a%', 'o%']) ORDER BY id
SELECT id FROM m WHERE NOT EXISTS (SELECT 1 FROM m m2 WHERE m2.qty = m.id) ORDER BY id
SELECT id FROM m WHERE (grp, ok) = ('a', true) ORDER BY id
SELECT count(*) FILTER (WHERE name ILIKE '%A%') FROM m
SELECT name SIMILAR TO 'a%' FROM m ORDER BY id
SELECT 'abc' NOT ILIKE 'A%'
SELECT id FROM m WHERE name NOT LIKE ALL (ARRAY['a%', 'o%']) ORDER BY id
SELECT id FROM m WHERE name ILIKE ANY (ARRAY['A%', '%Z']) ORDER BY id
SELECT grp, every(ok) FROM m GROUP BY grp ORDER BY grp

-- PostgreSQL's function results (pgfuncs.py): rint for round(float8), float text, date_part, date_trunc(date),
-- float4 / int, int4 results, min/max(boolean) refused, ASCII-only upper/lower, ORDER BY an implicit output name
SELECT round(x) FROM (VALUES (0.5::float8), (1.5::float8), (2.5::float8), (-0.5::float8), (-1.5::float8), (-2.5::float8), (0.49999999999999994::float8), (4503599627370495.5::float8), (1e300::float8), (NULL::float8)) t(x)
SELECT round(x) FROM (VALUES (0.5::numeric), (1.5::numeric), (2.5::numeric), (-0.5::numeric), (-2.5::numeric), (NULL::numeric)) t(x)
SELECT round(x::real) FROM (VALUES (0.5), (1.5), (2.5), (-2.5)) t(x)
SELECT round(5), round(-7::int8), round(2::int2)
SELECT round(x, 2), round(x, 0), round(x, -2) FROM (VALUES (1234.565::numeric), (-1234.565::numeric), (0.005::numeric), (-0.005::numeric)) t(x)
SELECT round(price::numeric, 1), round(price) FROM m WHERE price IS NOT NULL ORDER BY id
SELECT x::text FROM (VALUES (1::float8), (-1::float8), (0::float8), ('-0'::float8), (0.1::float8), (1e15::float8), (1.2345e15::float8), (1e16::float8), (123456789012345.6::float8), (1e-4::float8), (1.5e-5::float8), (1e22::float8), (1e100::float8), (-1e-100::float8), (5e-324::float8), (1.7976931348623157e308::float8), ('NaN'::float8), ('Infinity'::float8), ('-Infinity'::float8), (NULL::float8)) t(x)
SELECT x::real::text FROM (VALUES (1.0), (0.1), (123456), (1e6), (1234567), (4066740.75), (1e-5), (3.4e38), (-2.5), (NULL)) t(x)
SELECT price::text, qty::text, (price * 1e20)::text FROM m ORDER BY id
SELECT 'p=' || price, price || '' FROM m ORDER BY id
SELECT count(*)::text, sum(price)::text FROM m
SELECT date_part('month', day), date_part('dow', day), date_part('epoch', day) FROM m ORDER BY id
SELECT date_part('second', ts), date_part('minute', ts), date_part('epoch', ts) FROM m ORDER BY id
SELECT date_trunc('day', day), date_trunc('month', ts) FROM m ORDER BY id
SELECT 10::real / 4::int8, 10::int2 / 4::real, 7::real / 2.5, 7::real / 2::real
SELECT day - day, day - '2024-01-01'::date + 1, day - 1 FROM m ORDER BY id
SELECT grp, grouping(grp), count(*) FROM m GROUP BY CUBE (grp) ORDER BY 1, 2
SELECT generate_series(-2, 4, 3)
SELECT max(ok) FROM m
SELECT min(ok) FROM m WHERE false
SELECT upper('straße äöü é'), lower('STRASSE ÄÖÜ É ẞ'), upper(NULL), lower('')
SELECT count(*) FROM m GROUP BY grp ORDER BY count, 1
SELECT grp, price::text FROM m ORDER BY price
SELECT round(NULL::numeric, 2), round(NULL::float8), round(-0.0::float8)
SELECT min(ok) FROM (SELECT ok FROM m) t
SELECT max(ok) OVER () FROM m
SELECT id::text AS id FROM m ORDER BY id
SELECT upper(name) FROM m ORDER BY upper
SELECT day - '2024-01-01', '2025-01-01' - day FROM m ORDER BY id
SELECT ts - '2024-01-01 00:00:00+00' FROM m ORDER BY id
SELECT ts - day, day - ts, ts - ts, day - day FROM m ORDER BY id
SELECT ts - interval '1 day', day - interval '1 hour', day - 3 FROM m ORDER BY id
SELECT (1.50)::text, price::numeric(10,2)::text, 'x' || 2.50 FROM m ORDER BY id
SELECT round(2.5), round(-2.5), round(1.5::numeric(10,2))
SELECT x FROM (VALUES (1::numeric), (2.5::numeric), (NULL::numeric)) t(x)
SELECT 1::numeric UNION ALL SELECT 2.25::numeric

-- to_char of numbers (pgtonumchar.py): PostgreSQL's NUM_processor layout, float8 rounded by printf
SELECT to_char(price, '999.99'), to_char(price, 'FM999.99'), to_char(price, '9,999.00') FROM m ORDER BY id
SELECT to_char(price::numeric, '999.9'), to_char(price::numeric, 'FM990.0'), to_char(price::numeric, 'S999') FROM m ORDER BY id
SELECT to_char(qty::int, '0000'), to_char(qty::int, 'FM9,999'), to_char(qty::bigint, '999MI'), to_char(qty::int, '999PR') FROM m ORDER BY id
SELECT to_char(price, 'PL999.9'), to_char(price, 'SG999'), to_char(price, '999.99S'), to_char(price, 'MI999') FROM m ORDER BY id
SELECT to_char(price, '99V99'), to_char(price, '9G999D99'), to_char(price, 'FM0.00'), to_char(price, '"$"FM999,999.00') FROM m ORDER BY id
SELECT to_char(x, '9'), to_char(x, '9.'), to_char(x, 'FM9.'), to_char(x, '.99'), to_char(x, '09.9') FROM (VALUES (0::numeric), (0.5), (-0.5), (2.5), (-12), (9.95)) t(x)
SELECT to_char(x, '9'), to_char(x, '999.99'), to_char(x, 'FM999.99') FROM (VALUES (0::float8), (0.5), (-0.5), (2.5), (0.125), (-0.0)) t(x)
SELECT to_char(1234567.891, '9,999,999.99'), to_char(-1234567.891, 'FM9,999,999.99'), to_char(1e15::float8, '9999999999999999.99')
SELECT to_char(1234.5, '9.9EEEE')
SELECT to_char(12, '99th')
SELECT to_char(NULL::numeric, '999'), to_char(sum(price), 'FM999,999.00') FROM m
