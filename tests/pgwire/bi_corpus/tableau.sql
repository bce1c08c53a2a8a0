-- Tableau's PostgreSQL connector (JDBC and ODBC share one dialect): the SQL it generates, rendered from the
-- function formulas of tableau/connector-plugin-sdk samples/plugins/postgres_jdbc/dialect.tdd and the query shapes its
-- capabilities in samples/plugins/postgres_jdbc/manifest.xml select, @ cdf746b322da944bc386e01dc24ed593b69758b7.
-- Arguments: the sandbox table entu.item as Tableau names it ("entu"."item" "item"); real -> price,
-- int -> CAST(qty AS BIGINT), str -> name, bool -> ok, date -> day, datetime -> seen; constants where the
-- formula needs one (regex patterns, DATEADD's count, the week-start day). Each calculation is selected as
-- Tableau does, TEMP(...)-named and grouped by ordinal (CAP_QUERY_GROUP_BY_DEGREE), aggregates with
-- HAVING (COUNT(1) > 0). Tableau reads metadata through pgJDBC / psqlODBC (bi_corpus/pgjdbc.sql,
-- tests/pgwire/test_odbc_sqlalchemy.py::test_psqlodbc_catalog_functions). Left out: the spatial functions
-- (no geometry type here), DATEPARSE (its ICU token map), and MIN(real, real), whose formula in
-- that file has an unbalanced parenthesis that PostgreSQL rejects as well.

-- query: ABS(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='ABS'> formula
-- columns: TEMP(Test)(1)(0)
SELECT ABS("item"."price") AS "TEMP(Test)(1)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ABS(int) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='ABS'> formula
-- columns: TEMP(Test)(2)(0)
SELECT ABS(CAST("item"."qty" AS BIGINT)) AS "TEMP(Test)(2)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ACOS(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='ACOS'> formula
-- columns: TEMP(Test)(3)(0)
SELECT ACOS("item"."price") AS "TEMP(Test)(3)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ASIN(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='ASIN'> formula
-- columns: TEMP(Test)(4)(0)
SELECT ASIN("item"."price") AS "TEMP(Test)(4)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ATAN(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='ATAN'> formula
-- columns: TEMP(Test)(5)(0)
SELECT ATAN("item"."price") AS "TEMP(Test)(5)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ATAN2(real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='ATAN2'> formula
-- columns: TEMP(Test)(6)(0)
SELECT ATAN2("item"."price","item"."price") AS "TEMP(Test)(6)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: CEILING(real) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='CEILING'> formula
-- columns: TEMP(Test)(7)(0)
SELECT CAST(CEIL("item"."price") AS BIGINT) AS "TEMP(Test)(7)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: COS(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='COS'> formula
-- columns: TEMP(Test)(8)(0)
SELECT COS("item"."price") AS "TEMP(Test)(8)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: COT(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='COT'> formula
-- columns: TEMP(Test)(9)(0)
SELECT (CASE WHEN "item"."price" <> 0 THEN COT("item"."price") ELSE NULL END) AS "TEMP(Test)(9)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DEGREES(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='DEGREES'> formula
-- columns: TEMP(Test)(10)(0)
SELECT DEGREES("item"."price") AS "TEMP(Test)(10)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DIV(int, int) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='DIV'> formula
-- columns: TEMP(Test)(11)(0)
SELECT CASE WHEN CAST("item"."qty" AS BIGINT) = 0 THEN NULL ELSE ( CAST("item"."qty" AS BIGINT) / CAST("item"."qty" AS BIGINT) ) END AS "TEMP(Test)(11)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: EXP(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='EXP'> formula
-- columns: TEMP(Test)(12)(0)
SELECT EXP("item"."price") AS "TEMP(Test)(12)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: FLOOR(real) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='FLOOR'> formula
-- columns: TEMP(Test)(13)(0)
SELECT CAST(FLOOR("item"."price") AS BIGINT) AS "TEMP(Test)(13)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: HEXBINX(real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='HEXBINX'> formula
-- columns: TEMP(Test)(14)(0)
SELECT (((CASE WHEN (ABS(("item"."price") - (CAST( ( ("item"."price") / SQRT(3.0) ) AS NUMERIC(18, 0) ) * SQRT(3.0)))) + SQRT(3.0) * ((ABS(("item"."price") - (CAST( ( ("item"."price") / 3.0 ) AS NUMERIC(18, 0) ) * 3.0))) - 1.0) > 0.0 THEN 1.5 ELSE 0.0 END) - (CASE WHEN (("item"."price") - (CAST( ( ("item"."price") / 3.0 ) AS NUMERIC(18, 0) ) * 3.0) < 0.0) AND ((CASE WHEN (ABS(("item"."price") - (CAST( ( ("item"."price") / SQRT(3.0) ) AS NUMERIC(18, 0) ) * SQRT(3.0)))) + SQRT(3.0) * ((ABS(("item"."price") - (CAST( ( ("item"."price") / 3.0 ) AS NUMERIC(18, 0) ) * 3.0))) - 1.0) > 0.0 THEN 1.5 ELSE 0.0 END) > 0.0) THEN 3.0 ELSE 0.0 END)) + (CAST( ( ("item"."price") / 3.0 ) AS NUMERIC(18, 0) ) * 3.0)) AS "TEMP(Test)(14)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: HEXBINY(real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='HEXBINY'> formula
-- columns: TEMP(Test)(15)(0)
SELECT CAST( (((CASE WHEN (ABS(("item"."price") - (CAST( ( ("item"."price") / SQRT(3.0) ) AS NUMERIC(18, 0) ) * SQRT(3.0)))) + SQRT(3.0) * ((ABS(("item"."price") - (CAST( ( ("item"."price") / 3.0 ) AS NUMERIC(18, 0) ) * 3.0))) - 1.0) > 0.0 THEN SQRT(3.0) / 2.0 ELSE 0.0 END) - (CASE WHEN (("item"."price") - (CAST( ( ("item"."price") / SQRT(3.0) ) AS NUMERIC(18, 0) ) * SQRT(3.0)) < 0.0) AND ((CASE WHEN (ABS(("item"."price") - (CAST( ( ("item"."price") / SQRT(3.0) ) AS NUMERIC(18, 0) ) * SQRT(3.0)))) + SQRT(3.0) * ((ABS(("item"."price") - (CAST( ( ("item"."price") / 3.0 ) AS NUMERIC(18, 0) ) * 3.0))) - 1.0) > 0.0 THEN SQRT(3.0) / 2.0 ELSE 0.0 END) > 0.0) THEN SQRT(3.0) ELSE 0.0 END)) + (CAST( ( ("item"."price") / SQRT(3.0) ) AS NUMERIC(18, 0) ) * SQRT(3.0))) AS NUMERIC(18,3) ) AS "TEMP(Test)(15)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: LN(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='LN'> formula
-- columns: TEMP(Test)(16)(0)
SELECT (CASE WHEN "item"."price" > 0 THEN LN("item"."price") ELSE NULL END) AS "TEMP(Test)(16)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: LOG(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='LOG'> formula
-- columns: TEMP(Test)(17)(0)
SELECT (CASE WHEN "item"."price" > 0 THEN LOG("item"."price") ELSE NULL END) AS "TEMP(Test)(17)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: LOG(real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='LOG'> formula
-- columns: TEMP(Test)(18)(0)
SELECT (CASE WHEN "item"."price" > 0 AND "item"."price" > 0 AND "item"."price" <> 1 THEN LOG(CAST("item"."price" AS NUMERIC),CAST("item"."price" AS NUMERIC)) ELSE NULL END) AS "TEMP(Test)(18)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: MAX(real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='MAX'> formula
-- columns: TEMP(Test)(19)(0)
SELECT (CASE WHEN "item"."price" IS NULL OR "item"."price" IS NULL THEN NULL WHEN "item"."price" > "item"."price" THEN "item"."price" ELSE "item"."price" END) AS "TEMP(Test)(19)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: MAX(int, int) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='MAX'> formula
-- columns: TEMP(Test)(20)(0)
SELECT (CASE WHEN CAST("item"."qty" AS BIGINT) IS NULL OR CAST("item"."qty" AS BIGINT) IS NULL THEN NULL WHEN CAST("item"."qty" AS BIGINT) > CAST("item"."qty" AS BIGINT) THEN CAST("item"."qty" AS BIGINT) ELSE CAST("item"."qty" AS BIGINT) END) AS "TEMP(Test)(20)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: MIN(int, int) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='MIN'> formula
-- columns: TEMP(Test)(21)(0)
SELECT (CASE WHEN CAST("item"."qty" AS BIGINT) IS NULL OR CAST("item"."qty" AS BIGINT) IS NULL THEN NULL WHEN CAST("item"."qty" AS BIGINT) < CAST("item"."qty" AS BIGINT) THEN CAST("item"."qty" AS BIGINT) ELSE CAST("item"."qty" AS BIGINT) END) AS "TEMP(Test)(21)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: PI() -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='PI'> formula
-- columns: TEMP(Test)(22)(0)
SELECT PI() AS "TEMP(Test)(22)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: POWER(real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='POWER'> formula
-- columns: TEMP(Test)(23)(0)
SELECT (CASE WHEN "item"."price" < 0 AND FLOOR("item"."price") <> "item"."price" THEN NULL ELSE POWER("item"."price","item"."price") END) AS "TEMP(Test)(23)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: RADIANS(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='RADIANS'> formula
-- columns: TEMP(Test)(24)(0)
SELECT RADIANS("item"."price") AS "TEMP(Test)(24)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ROUND(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='ROUND'> formula
-- columns: TEMP(Test)(25)(0)
SELECT ROUND("item"."price") AS "TEMP(Test)(25)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ROUND(real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='ROUND'> formula
-- columns: TEMP(Test)(26)(0)
SELECT ROUND(CAST("item"."price" AS NUMERIC),CAST(2 AS INTEGER)) AS "TEMP(Test)(26)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: SIGN(real) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='SIGN'> formula
-- columns: TEMP(Test)(27)(0)
SELECT CAST(SIGN("item"."price") AS SMALLINT) AS "TEMP(Test)(27)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: SIN(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='SIN'> formula
-- columns: TEMP(Test)(28)(0)
SELECT SIN("item"."price") AS "TEMP(Test)(28)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: SQRT(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='SQRT'> formula
-- columns: TEMP(Test)(29)(0)
SELECT (CASE WHEN "item"."price" < 0 THEN NULL ELSE SQRT("item"."price") END) AS "TEMP(Test)(29)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: SQUARE(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='SQUARE'> formula
-- columns: TEMP(Test)(30)(0)
SELECT ("item"."price"^2) AS "TEMP(Test)(30)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: SQUARE(int) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='SQUARE'> formula
-- columns: TEMP(Test)(31)(0)
SELECT (CAST("item"."qty" AS BIGINT)^2) AS "TEMP(Test)(31)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: TAN(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric' name='TAN'> formula
-- columns: TEMP(Test)(32)(0)
SELECT TAN("item"."price") AS "TEMP(Test)(32)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ZN(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric;logical' name='ZN'> formula
-- columns: TEMP(Test)(33)(0)
SELECT COALESCE("item"."price", 0) AS "TEMP(Test)(33)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ZN(int) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='numeric;logical' name='ZN'> formula
-- columns: TEMP(Test)(34)(0)
SELECT COALESCE(CAST("item"."qty" AS BIGINT), 0) AS "TEMP(Test)(34)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ASCII(str) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='ASCII'> formula
-- columns: TEMP(Test)(35)(0)
SELECT ASCII(CAST("item"."name" AS TEXT)) AS "TEMP(Test)(35)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: CHAR(real) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='CHAR'> formula
-- columns: TEMP(Test)(36)(0)
SELECT (CASE WHEN ("item"."price" >= 0) AND ("item"."price" < 256) THEN CHR(CAST(FLOOR("item"."price") AS INTEGER)) ELSE NULL END) AS "TEMP(Test)(36)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: CONTAINS(str, str) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='CONTAINS'> formula
-- columns: TEMP(Test)(37)(0)
SELECT (STRPOS(CAST("item"."name" AS TEXT),CAST("item"."name" AS TEXT)) > 0) AS "TEMP(Test)(37)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ENDSWITH(str, str) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='ENDSWITH'> formula
-- columns: TEMP(Test)(38)(0)
SELECT (SUBSTR(RTRIM(CAST("item"."name" AS TEXT), ' '), (CASE WHEN (LENGTH(RTRIM(CAST("item"."name" AS TEXT), ' ')) - LENGTH(CAST("item"."name" AS TEXT))) < 0 THEN 1 ELSE LENGTH(RTRIM(CAST("item"."name" AS TEXT), ' ')) - LENGTH(CAST("item"."name" AS TEXT)) + 1 END), LENGTH(CAST("item"."name" AS TEXT))) = CAST("item"."name" AS TEXT)) AS "TEMP(Test)(38)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: FIND(str, str) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='FIND'> formula
-- columns: TEMP(Test)(39)(0)
SELECT STRPOS(CAST("item"."name" AS TEXT),CAST("item"."name" AS TEXT)) AS "TEMP(Test)(39)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: FIND(str, str, real) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='FIND'> formula
-- columns: TEMP(Test)(40)(0)
SELECT (CASE WHEN "item"."price" IS NULL THEN NULL WHEN 0 = STRPOS(SUBSTR(CAST("item"."name" AS TEXT),GREATEST(1,CAST(FLOOR("item"."price") AS INTEGER))),CAST("item"."name" AS TEXT)) THEN 0 ELSE (STRPOS(SUBSTR(CAST("item"."name" AS TEXT),GREATEST(1,CAST(FLOOR("item"."price")AS INTEGER))),CAST("item"."name" AS TEXT)) + GREATEST(1,CAST(FLOOR("item"."price") AS INTEGER)) - 1) END) AS "TEMP(Test)(40)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: LEFT(str, real) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='LEFT'> formula
-- columns: TEMP(Test)(41)(0)
SELECT (CASE WHEN "item"."price" >= 0 THEN SUBSTR(CAST("item"."name" AS TEXT), 1, CAST(FLOOR("item"."price") AS INTEGER)) ELSE NULL END) AS "TEMP(Test)(41)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: LEN(str) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='LEN'> formula
-- columns: TEMP(Test)(42)(0)
SELECT LENGTH(CAST("item"."name" AS TEXT)) AS "TEMP(Test)(42)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: LOWER(str) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='LOWER'> formula
-- columns: TEMP(Test)(43)(0)
SELECT LOWER(CAST("item"."name" AS TEXT)) AS "TEMP(Test)(43)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: LTRIM(str) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='LTRIM'> formula
-- columns: TEMP(Test)(44)(0)
SELECT LTRIM(CAST("item"."name" AS TEXT), ' ') AS "TEMP(Test)(44)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: MAX(str, str) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='MAX'> formula
-- columns: TEMP(Test)(45)(0)
SELECT (CASE WHEN "item"."name" IS NULL OR "item"."name" IS NULL THEN NULL WHEN "item"."name" > "item"."name" THEN "item"."name" ELSE "item"."name" END) AS "TEMP(Test)(45)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: MID(str, real) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='MID'> formula
-- columns: TEMP(Test)(46)(0)
SELECT (CASE WHEN "item"."price" IS NULL THEN NULL ELSE SUBSTR(CAST("item"."name" AS TEXT), GREATEST(1,CAST(FLOOR("item"."price") AS INTEGER))) END) AS "TEMP(Test)(46)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: MID(str, real, real) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='MID'> formula
-- columns: TEMP(Test)(47)(0)
SELECT (CASE WHEN "item"."price" IS NULL THEN NULL ELSE SUBSTR(CAST("item"."name" AS TEXT), GREATEST(1,CAST(FLOOR("item"."price") AS INTEGER)), GREATEST(0,CAST(FLOOR("item"."price") AS INTEGER))) END) AS "TEMP(Test)(47)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: MIN(str, str) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='MIN'> formula
-- columns: TEMP(Test)(48)(0)
SELECT (CASE WHEN "item"."name" IS NULL OR "item"."name" IS NULL THEN NULL WHEN "item"."name" < "item"."name" THEN "item"."name" ELSE "item"."name" END) AS "TEMP(Test)(48)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: REGEXP_EXTRACT(str, str) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='REGEXP_EXTRACT'> formula
-- columns: TEMP(Test)(49)(0)
SELECT (SELECT (REGEXP_MATCHES("item"."name", '([a-z]+)'))[1]) AS "TEMP(Test)(49)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: REGEXP_EXTRACT_NTH(str, str, localint) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='REGEXP_EXTRACT_NTH'> formula
-- columns: TEMP(Test)(50)(0)
SELECT (SELECT (REGEXP_MATCHES("item"."name", '([a-z])([a-z]+)'))[2]) AS "TEMP(Test)(50)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: REGEXP_MATCH(str, str) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='REGEXP_MATCH'> formula
-- columns: TEMP(Test)(51)(0)
SELECT ("item"."name" ~ '^a') AS "TEMP(Test)(51)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: REGEXP_REPLACE(str, str, str) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='REGEXP_REPLACE'> formula
-- columns: TEMP(Test)(52)(0)
SELECT REGEXP_REPLACE("item"."name", 'a', 'A', 'g') AS "TEMP(Test)(52)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: REPLACE(str, str, str) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='REPLACE'> formula
-- columns: TEMP(Test)(53)(0)
SELECT REPLACE(CAST("item"."name" AS TEXT), CAST("item"."name" AS TEXT), CAST("item"."name" AS TEXT)) AS "TEMP(Test)(53)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: RIGHT(str, real) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='RIGHT'> formula
-- columns: TEMP(Test)(54)(0)
SELECT (CASE WHEN "item"."price" >= 0 THEN SUBSTR(CAST("item"."name" AS TEXT), (LENGTH(CAST("item"."name" AS TEXT)) - CAST(FLOOR("item"."price") AS INTEGER) + 1) ) ELSE NULL END) AS "TEMP(Test)(54)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: RTRIM(str) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='RTRIM'> formula
-- columns: TEMP(Test)(55)(0)
SELECT RTRIM(CAST("item"."name" AS TEXT), ' ') AS "TEMP(Test)(55)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: SPACE(real) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='SPACE'> formula
-- columns: TEMP(Test)(56)(0)
SELECT (CASE WHEN "item"."price" >= 0 THEN REPEAT(' ', CAST(FLOOR("item"."price") AS INTEGER)) ELSE NULL END) AS "TEMP(Test)(56)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: STARTSWITH(str, str) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='STARTSWITH'> formula
-- columns: TEMP(Test)(57)(0)
SELECT (SUBSTR(LTRIM(CAST("item"."name" AS TEXT), ' '), 1, LENGTH(CAST("item"."name" AS TEXT))) = CAST("item"."name" AS TEXT)) AS "TEMP(Test)(57)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: TRIM(str) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='TRIM'> formula
-- columns: TEMP(Test)(58)(0)
SELECT BTRIM(CAST("item"."name" AS TEXT), ' ') AS "TEMP(Test)(58)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: UPPER(str) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='string' name='UPPER'> formula
-- columns: TEMP(Test)(59)(0)
SELECT UPPER(CAST("item"."name" AS TEXT)) AS "TEMP(Test)(59)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DAY(datetime) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='date' name='DAY'> formula
-- columns: TEMP(Test)(60)(0)
SELECT CAST(EXTRACT(DAY FROM "item"."seen") AS INTEGER) AS "TEMP(Test)(60)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: MAX(datetime, datetime) -> datetime
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='date' name='MAX'> formula
-- columns: TEMP(Test)(61)(0)
SELECT (CASE WHEN "item"."seen" IS NULL OR "item"."seen" IS NULL THEN NULL WHEN "item"."seen" > "item"."seen" THEN "item"."seen" ELSE "item"."seen" END) AS "TEMP(Test)(61)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: MAX(date, date) -> date
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='date' name='MAX'> formula
-- columns: TEMP(Test)(62)(0)
SELECT (CASE WHEN "item"."day" IS NULL OR "item"."day" IS NULL THEN NULL WHEN "item"."day" > "item"."day" THEN "item"."day" ELSE "item"."day" END) AS "TEMP(Test)(62)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: MIN(datetime, datetime) -> datetime
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='date' name='MIN'> formula
-- columns: TEMP(Test)(63)(0)
SELECT (CASE WHEN "item"."seen" IS NULL OR "item"."seen" IS NULL THEN NULL WHEN "item"."seen" < "item"."seen" THEN "item"."seen" ELSE "item"."seen" END) AS "TEMP(Test)(63)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: MIN(date, date) -> date
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='date' name='MIN'> formula
-- columns: TEMP(Test)(64)(0)
SELECT (CASE WHEN "item"."day" IS NULL OR "item"."day" IS NULL THEN NULL WHEN "item"."day" < "item"."day" THEN "item"."day" ELSE "item"."day" END) AS "TEMP(Test)(64)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: MONTH(datetime) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='date' name='MONTH'> formula
-- columns: TEMP(Test)(65)(0)
SELECT CAST(EXTRACT(MONTH FROM "item"."seen") AS INTEGER) AS "TEMP(Test)(65)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: NOW() -> datetime
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='date' name='NOW'> formula
-- columns: TEMP(Test)(66)(0)
SELECT CURRENT_TIMESTAMP AS "TEMP(Test)(66)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: QUARTER(datetime) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='date' name='QUARTER'> formula
-- columns: TEMP(Test)(67)(0)
SELECT CAST(EXTRACT(QUARTER FROM "item"."seen") AS INTEGER) AS "TEMP(Test)(67)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: TODAY() -> date
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='date' name='TODAY'> formula
-- columns: TEMP(Test)(68)(0)
SELECT CURRENT_DATE AS "TEMP(Test)(68)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: WEEK(datetime) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='date' name='WEEK'> formula
-- columns: TEMP(Test)(69)(0)
SELECT CAST(FLOOR((7 + EXTRACT(DOY FROM "item"."seen") - 1 + EXTRACT(DOW FROM DATE_TRUNC('YEAR', "item"."seen"))) / 7) AS INTEGER) AS "TEMP(Test)(69)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: YEAR(datetime) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='date' name='YEAR'> formula
-- columns: TEMP(Test)(70)(0)
SELECT CAST(EXTRACT(YEAR FROM "item"."seen") AS INTEGER) AS "TEMP(Test)(70)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATE(real) -> date
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='DATE'> formula
-- columns: TEMP(Test)(71)(0)
SELECT date_trunc('day', CAST('1900-01-01' AS DATE) + "item"."price" * INTERVAL '1 DAY') AS "TEMP(Test)(71)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATE(str) -> date
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='DATE'> formula
-- columns: TEMP(Test)(72)(0)
SELECT CAST(CAST("item"."day" AS TEXT) AS DATE) AS "TEMP(Test)(72)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATE(datetime) -> date
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='DATE'> formula
-- columns: TEMP(Test)(73)(0)
SELECT CAST("item"."seen" AS DATE) AS "TEMP(Test)(73)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETIME(real) -> datetime
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='DATETIME'> formula
-- columns: TEMP(Test)(74)(0)
SELECT (CAST('1900-01-01 00:00:00' AS TIMESTAMP) + "item"."price" * INTERVAL '1 DAY') AS "TEMP(Test)(74)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETIME(str) -> datetime
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='DATETIME'> formula
-- columns: TEMP(Test)(75)(0)
SELECT CAST(CAST("item"."day" AS TEXT) AS TIMESTAMP) AS "TEMP(Test)(75)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETIME(datetime) -> datetime
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='DATETIME'> formula
-- columns: TEMP(Test)(76)(0)
SELECT CAST("item"."seen" AS TIMESTAMP) AS "TEMP(Test)(76)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: FLOAT(bool) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='FLOAT'> formula
-- columns: TEMP(Test)(77)(0)
SELECT (CASE WHEN "item"."ok" THEN 1.0 WHEN NOT "item"."ok" THEN 0.0 ELSE NULL END) AS "TEMP(Test)(77)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: FLOAT(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='FLOAT'> formula
-- columns: TEMP(Test)(78)(0)
SELECT CAST("item"."price" AS DOUBLE PRECISION) AS "TEMP(Test)(78)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: FLOAT(str) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='FLOAT'> formula
-- columns: TEMP(Test)(79)(0)
SELECT CAST(CAST("item"."qty" AS TEXT) AS DOUBLE PRECISION) AS "TEMP(Test)(79)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: FLOAT(datetime) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='FLOAT'> formula
-- columns: TEMP(Test)(80)(0)
SELECT ((EXTRACT(EPOCH FROM "item"."seen") / ( 60 * 60 * 24)) + (365 * 70 + 17)) AS "TEMP(Test)(80)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: INT(bool) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='INT'> formula
-- columns: TEMP(Test)(81)(0)
SELECT (CASE WHEN "item"."ok" THEN 1 WHEN NOT "item"."ok" THEN 0 ELSE NULL END) AS "TEMP(Test)(81)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: INT(real) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='INT'> formula
-- columns: TEMP(Test)(82)(0)
SELECT CAST(TRUNC("item"."price") AS BIGINT) AS "TEMP(Test)(82)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: INT(str) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='INT'> formula
-- columns: TEMP(Test)(83)(0)
SELECT CAST(TRUNC(CAST(CAST("item"."qty" AS TEXT) AS DOUBLE PRECISION)) AS BIGINT) AS "TEMP(Test)(83)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: INT(datetime) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='INT'> formula
-- columns: TEMP(Test)(84)(0)
SELECT FLOOR((EXTRACT(EPOCH FROM "item"."seen") / ( 60 * 60 * 24)) + (365 * 70 + 17)) AS "TEMP(Test)(84)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: STR(bool) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='STR'> formula
-- columns: TEMP(Test)(85)(0)
SELECT (CASE WHEN "item"."ok" THEN '1' WHEN NOT "item"."ok" THEN '0' ELSE NULL END) AS "TEMP(Test)(85)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: STR(real) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='STR'> formula
-- columns: TEMP(Test)(86)(0)
SELECT CAST("item"."price" AS TEXT) AS "TEMP(Test)(86)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: STR(str) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='STR'> formula
-- columns: TEMP(Test)(87)(0)
SELECT CAST("item"."name" AS TEXT) AS "TEMP(Test)(87)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: STR(datetime) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='cast' name='STR'> formula
-- columns: TEMP(Test)(88)(0)
SELECT CAST("item"."seen" AS TEXT) AS "TEMP(Test)(88)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: IFNULL(bool, bool) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='IFNULL'> formula
-- columns: TEMP(Test)(89)(0)
SELECT COALESCE("item"."ok", "item"."ok") AS "TEMP(Test)(89)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: IFNULL(real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='IFNULL'> formula
-- columns: TEMP(Test)(90)(0)
SELECT COALESCE("item"."price", "item"."price") AS "TEMP(Test)(90)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: IFNULL(int, int) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='IFNULL'> formula
-- columns: TEMP(Test)(91)(0)
SELECT COALESCE(CAST("item"."qty" AS BIGINT), CAST("item"."qty" AS BIGINT)) AS "TEMP(Test)(91)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: IFNULL(str, str) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='IFNULL'> formula
-- columns: TEMP(Test)(92)(0)
SELECT COALESCE("item"."name", "item"."name") AS "TEMP(Test)(92)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: IFNULL(datetime, datetime) -> datetime
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='IFNULL'> formula
-- columns: TEMP(Test)(93)(0)
SELECT COALESCE("item"."seen", "item"."seen") AS "TEMP(Test)(93)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: IFNULL(date, date) -> date
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='IFNULL'> formula
-- columns: TEMP(Test)(94)(0)
SELECT COALESCE("item"."day", "item"."day") AS "TEMP(Test)(94)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: IIF(bool, bool, bool) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='IIF'> formula
-- columns: TEMP(Test)(95)(0)
SELECT (("item"."ok" AND "item"."ok") OR ((NOT "item"."ok") AND "item"."ok")) AS "TEMP(Test)(95)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: IIF(bool, real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='IIF'> formula
-- columns: TEMP(Test)(96)(0)
SELECT (CASE WHEN "item"."ok" THEN "item"."price" WHEN NOT "item"."ok" THEN "item"."price" ELSE NULL END) AS "TEMP(Test)(96)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: IIF(bool, real, real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='IIF'> formula
-- columns: TEMP(Test)(97)(0)
SELECT (CASE WHEN "item"."ok" THEN "item"."price" WHEN NOT "item"."ok" THEN "item"."price" ELSE "item"."price" END) AS "TEMP(Test)(97)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: IIF(bool, int, int) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='IIF'> formula
-- columns: TEMP(Test)(98)(0)
SELECT (CASE WHEN "item"."ok" THEN CAST("item"."qty" AS BIGINT) WHEN NOT "item"."ok" THEN CAST("item"."qty" AS BIGINT) ELSE NULL END) AS "TEMP(Test)(98)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: IIF(bool, int, int, int) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='IIF'> formula
-- columns: TEMP(Test)(99)(0)
SELECT (CASE WHEN "item"."ok" THEN CAST("item"."qty" AS BIGINT) WHEN NOT "item"."ok" THEN CAST("item"."qty" AS BIGINT) ELSE CAST("item"."qty" AS BIGINT) END) AS "TEMP(Test)(99)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: IIF(bool, str, str) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='IIF'> formula
-- columns: TEMP(Test)(100)(0)
SELECT (CASE WHEN "item"."ok" THEN "item"."name" WHEN NOT "item"."ok" THEN "item"."name" ELSE NULL END) AS "TEMP(Test)(100)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: IIF(bool, str, str, str) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='IIF'> formula
-- columns: TEMP(Test)(101)(0)
SELECT (CASE WHEN "item"."ok" THEN "item"."name" WHEN NOT "item"."ok" THEN "item"."name" ELSE "item"."name" END) AS "TEMP(Test)(101)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: IIF(bool, datetime, datetime) -> datetime
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='IIF'> formula
-- columns: TEMP(Test)(102)(0)
SELECT (CASE WHEN "item"."ok" THEN "item"."seen" WHEN NOT "item"."ok" THEN "item"."seen" ELSE NULL END) AS "TEMP(Test)(102)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: IIF(bool, datetime, datetime, datetime) -> datetime
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='IIF'> formula
-- columns: TEMP(Test)(103)(0)
SELECT (CASE WHEN "item"."ok" THEN "item"."seen" WHEN NOT "item"."ok" THEN "item"."seen" ELSE "item"."seen" END) AS "TEMP(Test)(103)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: IIF(bool, date, date) -> date
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='IIF'> formula
-- columns: TEMP(Test)(104)(0)
SELECT (CASE WHEN "item"."ok" THEN "item"."day" WHEN NOT "item"."ok" THEN "item"."day" ELSE NULL END) AS "TEMP(Test)(104)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: IIF(bool, date, date, date) -> date
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='IIF'> formula
-- columns: TEMP(Test)(105)(0)
SELECT (CASE WHEN "item"."ok" THEN "item"."day" WHEN NOT "item"."ok" THEN "item"."day" ELSE "item"."day" END) AS "TEMP(Test)(105)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ISNULL(bool) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='ISNULL'> formula
-- columns: TEMP(Test)(106)(0)
SELECT ("item"."ok" IS NULL) AS "TEMP(Test)(106)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ISNULL(real) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='ISNULL'> formula
-- columns: TEMP(Test)(107)(0)
SELECT ("item"."price" IS NULL) AS "TEMP(Test)(107)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ISNULL(str) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='ISNULL'> formula
-- columns: TEMP(Test)(108)(0)
SELECT ("item"."name" IS NULL) AS "TEMP(Test)(108)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ISNULL(datetime) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='logical' name='ISNULL'> formula
-- columns: TEMP(Test)(109)(0)
SELECT ("item"."seen" IS NULL) AS "TEMP(Test)(109)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: AVG(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='AVG'> formula
-- columns: TEMP(Test)(110)(0)
SELECT AVG("item"."price") AS "TEMP(Test)(110)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: CORR(real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='CORR'> formula
-- columns: TEMP(Test)(111)(0)
SELECT CORR("item"."price", "item"."price") AS "TEMP(Test)(111)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: COUNT(bool) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='COUNT'> formula
-- columns: TEMP(Test)(112)(0)
SELECT COUNT("item"."ok") AS "TEMP(Test)(112)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: COUNT(real) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='COUNT'> formula
-- columns: TEMP(Test)(113)(0)
SELECT COUNT("item"."price") AS "TEMP(Test)(113)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: COUNT(str) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='COUNT'> formula
-- columns: TEMP(Test)(114)(0)
SELECT COUNT("item"."name") AS "TEMP(Test)(114)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: COUNT(datetime) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='COUNT'> formula
-- columns: TEMP(Test)(115)(0)
SELECT COUNT("item"."seen") AS "TEMP(Test)(115)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: COUNTD(bool) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='COUNTD'> formula
-- columns: TEMP(Test)(116)(0)
SELECT COUNT(DISTINCT "item"."ok") AS "TEMP(Test)(116)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: COUNTD(real) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='COUNTD'> formula
-- columns: TEMP(Test)(117)(0)
SELECT COUNT(DISTINCT "item"."price") AS "TEMP(Test)(117)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: COUNTD(str) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='COUNTD'> formula
-- columns: TEMP(Test)(118)(0)
SELECT COUNT(DISTINCT "item"."name") AS "TEMP(Test)(118)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: COUNTD(datetime) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='COUNTD'> formula
-- columns: TEMP(Test)(119)(0)
SELECT COUNT(DISTINCT "item"."seen") AS "TEMP(Test)(119)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: COVAR(real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='COVAR'> formula
-- columns: TEMP(Test)(120)(0)
SELECT COVAR_SAMP("item"."price", "item"."price") AS "TEMP(Test)(120)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: COVARP(real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='COVARP'> formula
-- columns: TEMP(Test)(121)(0)
SELECT COVAR_POP("item"."price", "item"."price") AS "TEMP(Test)(121)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: MAX(bool) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='MAX'> formula
-- columns: TEMP(Test)(122)(0)
SELECT BOOL_OR("item"."ok") AS "TEMP(Test)(122)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: MAX(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='MAX'> formula
-- columns: TEMP(Test)(123)(0)
SELECT MAX("item"."price") AS "TEMP(Test)(123)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: MAX(int) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='MAX'> formula
-- columns: TEMP(Test)(124)(0)
SELECT MAX(CAST("item"."qty" AS BIGINT)) AS "TEMP(Test)(124)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: MAX(str) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='MAX'> formula
-- columns: TEMP(Test)(125)(0)
SELECT MAX("item"."name") AS "TEMP(Test)(125)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: MAX(datetime) -> datetime
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='MAX'> formula
-- columns: TEMP(Test)(126)(0)
SELECT MAX("item"."seen") AS "TEMP(Test)(126)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: MAX(date) -> date
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='MAX'> formula
-- columns: TEMP(Test)(127)(0)
SELECT MAX("item"."day") AS "TEMP(Test)(127)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: MIN(bool) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='MIN'> formula
-- columns: TEMP(Test)(128)(0)
SELECT BOOL_AND("item"."ok") AS "TEMP(Test)(128)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: MIN(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='MIN'> formula
-- columns: TEMP(Test)(129)(0)
SELECT MIN("item"."price") AS "TEMP(Test)(129)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: MIN(int) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='MIN'> formula
-- columns: TEMP(Test)(130)(0)
SELECT MIN(CAST("item"."qty" AS BIGINT)) AS "TEMP(Test)(130)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: MIN(str) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='MIN'> formula
-- columns: TEMP(Test)(131)(0)
SELECT MIN("item"."name") AS "TEMP(Test)(131)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: MIN(datetime) -> datetime
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='MIN'> formula
-- columns: TEMP(Test)(132)(0)
SELECT MIN("item"."seen") AS "TEMP(Test)(132)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: MIN(date) -> date
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='MIN'> formula
-- columns: TEMP(Test)(133)(0)
SELECT MIN("item"."day") AS "TEMP(Test)(133)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: STDEV(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='STDEV'> formula
-- columns: TEMP(Test)(134)(0)
SELECT STDDEV("item"."price") AS "TEMP(Test)(134)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: STDEVP(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='STDEVP'> formula
-- columns: TEMP(Test)(135)(0)
SELECT (CASE WHEN COUNT("item"."price") = 1 THEN 0.0 WHEN COUNT("item"."price") > 0 THEN (STDDEV("item"."price") * SQRT(COUNT("item"."price") - 1) / SQRT(COUNT("item"."price")) ) ELSE NULL END) AS "TEMP(Test)(135)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: SUM(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='SUM'> formula
-- columns: TEMP(Test)(136)(0)
SELECT SUM("item"."price") AS "TEMP(Test)(136)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: SUM(int) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='SUM'> formula
-- columns: TEMP(Test)(137)(0)
SELECT SUM(CAST("item"."qty" AS BIGINT)) AS "TEMP(Test)(137)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: VAR(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='VAR'> formula
-- columns: TEMP(Test)(138)(0)
SELECT VARIANCE("item"."price") AS "TEMP(Test)(138)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: VARP(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='aggregate' name='VARP'> formula
-- columns: TEMP(Test)(139)(0)
SELECT (CASE WHEN COUNT("item"."price") = 1 THEN 0.0 WHEN COUNT("item"."price") > 0 THEN POWER(STDDEV("item"."price") * SQRT(COUNT("item"."price") - 1) / SQRT(COUNT("item"."price")), 2) ELSE NULL END) AS "TEMP(Test)(139)(0)"
FROM "entu"."item" "item"
HAVING (COUNT(1) > 0)

-- query: !(bool) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='!'> formula
-- columns: TEMP(Test)(140)(0)
SELECT (NOT "item"."ok") AS "TEMP(Test)(140)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: !=(bool, bool) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='!='> formula
-- columns: TEMP(Test)(141)(0)
SELECT ("item"."ok" AND NOT "item"."ok" OR NOT "item"."ok" AND "item"."ok") AS "TEMP(Test)(141)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: !=(real, real) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='!='> formula
-- columns: TEMP(Test)(142)(0)
SELECT ("item"."price" <> "item"."price") AS "TEMP(Test)(142)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: !=(str, str) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='!='> formula
-- columns: TEMP(Test)(143)(0)
SELECT ("item"."name" <> "item"."name") AS "TEMP(Test)(143)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: !=(datetime, datetime) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='!='> formula
-- columns: TEMP(Test)(144)(0)
SELECT ("item"."seen" <> "item"."seen") AS "TEMP(Test)(144)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: %(real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='%'> formula
-- columns: TEMP(Test)(145)(0)
SELECT (CASE WHEN "item"."price" = 0 THEN NULL ELSE "item"."price" - FLOOR(ABS("item"."price")/ABS("item"."price")) * ABS("item"."price") * SIGN("item"."price") END) AS "TEMP(Test)(145)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: %(int, int) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='%'> formula
-- columns: TEMP(Test)(146)(0)
SELECT (CAST("item"."qty" AS BIGINT) % CAST("item"."qty" AS BIGINT)) AS "TEMP(Test)(146)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: &&(bool, bool) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='&&'> formula
-- columns: TEMP(Test)(147)(0)
SELECT ("item"."ok" AND "item"."ok") AS "TEMP(Test)(147)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: *(real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='*'> formula
-- columns: TEMP(Test)(148)(0)
SELECT ("item"."price" * "item"."price") AS "TEMP(Test)(148)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: *(int, int) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='*'> formula
-- columns: TEMP(Test)(149)(0)
SELECT (CAST("item"."qty" AS BIGINT) * CAST("item"."qty" AS BIGINT)) AS "TEMP(Test)(149)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: +(real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='+'> formula
-- columns: TEMP(Test)(150)(0)
SELECT ("item"."price" + "item"."price") AS "TEMP(Test)(150)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: +(int, int) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='+'> formula
-- columns: TEMP(Test)(151)(0)
SELECT (CAST("item"."qty" AS BIGINT) + CAST("item"."qty" AS BIGINT)) AS "TEMP(Test)(151)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: +(str, str) -> str
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='+'> formula
-- columns: TEMP(Test)(152)(0)
SELECT ("item"."name" || "item"."name") AS "TEMP(Test)(152)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: +(datetime, real) -> datetime
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='+'> formula
-- columns: TEMP(Test)(153)(0)
SELECT ("item"."seen" + "item"."price" * INTERVAL '1 DAY') AS "TEMP(Test)(153)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: +(date, int) -> date
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='+'> formula
-- columns: TEMP(Test)(154)(0)
SELECT ("item"."day" + CAST("item"."qty" AS BIGINT) * INTERVAL '1 DAY') AS "TEMP(Test)(154)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: -(real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='-'> formula
-- columns: TEMP(Test)(155)(0)
SELECT (-"item"."price") AS "TEMP(Test)(155)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: -(real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='-'> formula
-- columns: TEMP(Test)(156)(0)
SELECT ("item"."price" - "item"."price") AS "TEMP(Test)(156)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: -(datetime, datetime) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='-'> formula
-- columns: TEMP(Test)(157)(0)
SELECT (EXTRACT(EPOCH FROM (CAST("item"."seen" AS TIMESTAMP) - "item"."seen")) / (60.0 * 60 * 24)) AS "TEMP(Test)(157)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: -(int) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='-'> formula
-- columns: TEMP(Test)(158)(0)
SELECT (-CAST("item"."qty" AS BIGINT)) AS "TEMP(Test)(158)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: -(int, int) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='-'> formula
-- columns: TEMP(Test)(159)(0)
SELECT (CAST("item"."qty" AS BIGINT) - CAST("item"."qty" AS BIGINT)) AS "TEMP(Test)(159)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: -(datetime, real) -> datetime
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='-'> formula
-- columns: TEMP(Test)(160)(0)
SELECT ("item"."seen" - "item"."price" * INTERVAL '1 DAY') AS "TEMP(Test)(160)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: -(date, int) -> date
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='-'> formula
-- columns: TEMP(Test)(161)(0)
SELECT ("item"."day" - CAST("item"."qty" AS BIGINT) * INTERVAL '1 DAY') AS "TEMP(Test)(161)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: /(real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='/'> formula
-- columns: TEMP(Test)(162)(0)
SELECT (CASE WHEN "item"."price" = 0 THEN NULL ELSE CAST("item"."price" AS DOUBLE PRECISION) / "item"."price" END) AS "TEMP(Test)(162)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: <(real, real) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='<'> formula
-- columns: TEMP(Test)(163)(0)
SELECT ("item"."price" < "item"."price") AS "TEMP(Test)(163)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: <(str, str) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='<'> formula
-- columns: TEMP(Test)(164)(0)
SELECT ("item"."name" < "item"."name") AS "TEMP(Test)(164)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: <(datetime, datetime) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='<'> formula
-- columns: TEMP(Test)(165)(0)
SELECT ("item"."seen" < "item"."seen") AS "TEMP(Test)(165)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: <=(real, real) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='<='> formula
-- columns: TEMP(Test)(166)(0)
SELECT ("item"."price" <= "item"."price") AS "TEMP(Test)(166)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: <=(str, str) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='<='> formula
-- columns: TEMP(Test)(167)(0)
SELECT ("item"."name" <= "item"."name") AS "TEMP(Test)(167)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: <=(datetime, datetime) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='<='> formula
-- columns: TEMP(Test)(168)(0)
SELECT ("item"."seen" <= "item"."seen") AS "TEMP(Test)(168)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ==(bool, bool) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='=='> formula
-- columns: TEMP(Test)(169)(0)
SELECT ("item"."ok" AND "item"."ok" OR NOT "item"."ok" AND NOT "item"."ok") AS "TEMP(Test)(169)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ==(real, real) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='=='> formula
-- columns: TEMP(Test)(170)(0)
SELECT ("item"."price" = "item"."price") AS "TEMP(Test)(170)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ==(str, str) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='=='> formula
-- columns: TEMP(Test)(171)(0)
SELECT ("item"."name" = "item"."name") AS "TEMP(Test)(171)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ==(datetime, datetime) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='=='> formula
-- columns: TEMP(Test)(172)(0)
SELECT ("item"."seen" = "item"."seen") AS "TEMP(Test)(172)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: >(real, real) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='>'> formula
-- columns: TEMP(Test)(173)(0)
SELECT ("item"."price" > "item"."price") AS "TEMP(Test)(173)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: >(str, str) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='>'> formula
-- columns: TEMP(Test)(174)(0)
SELECT ("item"."name" > "item"."name") AS "TEMP(Test)(174)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: >(datetime, datetime) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='>'> formula
-- columns: TEMP(Test)(175)(0)
SELECT ("item"."seen" > "item"."seen") AS "TEMP(Test)(175)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: >=(real, real) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='>='> formula
-- columns: TEMP(Test)(176)(0)
SELECT ("item"."price" >= "item"."price") AS "TEMP(Test)(176)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: >=(str, str) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='>='> formula
-- columns: TEMP(Test)(177)(0)
SELECT ("item"."name" >= "item"."name") AS "TEMP(Test)(177)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: >=(datetime, datetime) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='>='> formula
-- columns: TEMP(Test)(178)(0)
SELECT ("item"."seen" >= "item"."seen") AS "TEMP(Test)(178)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ^^(real, real) -> real
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='^^'> formula
-- columns: TEMP(Test)(179)(0)
SELECT (CASE WHEN "item"."price" < 0 AND FLOOR("item"."price") <> "item"."price" THEN NULL ELSE POWER("item"."price","item"."price") END) AS "TEMP(Test)(179)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ||(bool, bool) -> bool
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='operator' name='||'> formula
-- columns: TEMP(Test)(180)(0)
SELECT ("item"."ok" OR "item"."ok") AS "TEMP(Test)(180)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ISOYEAR(datetime) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='date' name='ISOYEAR'> formula
-- columns: TEMP(Test)(181)(0)
SELECT CAST(TRUNC(EXTRACT(ISOYEAR FROM "item"."seen")) AS INTEGER) AS "TEMP(Test)(181)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ISOQUARTER(datetime) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='date' name='ISOQUARTER'> formula
-- columns: TEMP(Test)(182)(0)
SELECT (LEAST(CAST((EXTRACT(WEEK FROM "item"."seen") - 1) AS BIGINT) / 13, 3) + 1) AS "TEMP(Test)(182)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ISOWEEK(datetime) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='date' name='ISOWEEK'> formula
-- columns: TEMP(Test)(183)(0)
SELECT CAST(TRUNC(EXTRACT(WEEK FROM "item"."seen")) AS INTEGER) AS "TEMP(Test)(183)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: ISOWEEKDAY(datetime) -> int
-- from: samples/plugins/postgres_jdbc/dialect.tdd <function group='date' name='ISOWEEKDAY'> formula
-- columns: TEMP(Test)(184)(0)
SELECT CAST(TRUNC(EXTRACT(ISODOW FROM "item"."seen")) AS INTEGER) AS "TEMP(Test)(184)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEADD year
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEADD'> formula with the date-part value 'YEAR' (sql-format/date-parts)
-- columns: TEMP(Test)(185)(0)
SELECT ("item"."seen" + 2 * INTERVAL '1 YEAR') AS "TEMP(Test)(185)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEADD quarter
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEADD'> formula part='quarter' with the date-part value 'MONTH' (sql-format/date-parts)
-- columns: TEMP(Test)(186)(0)
SELECT ("item"."seen" + 2 * 3 * INTERVAL '1 MONTH') AS "TEMP(Test)(186)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEADD month
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEADD'> formula with the date-part value 'MONTH' (sql-format/date-parts)
-- columns: TEMP(Test)(187)(0)
SELECT ("item"."seen" + 2 * INTERVAL '1 MONTH') AS "TEMP(Test)(187)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEADD week
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEADD'> formula with the date-part value 'WEEK' (sql-format/date-parts)
-- columns: TEMP(Test)(188)(0)
SELECT ("item"."seen" + 2 * INTERVAL '1 WEEK') AS "TEMP(Test)(188)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEADD weekday
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEADD'> formula with the date-part value 'DAY' (sql-format/date-parts)
-- columns: TEMP(Test)(189)(0)
SELECT ("item"."seen" + 2 * INTERVAL '1 DAY') AS "TEMP(Test)(189)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEADD dayofyear
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEADD'> formula with the date-part value 'DAY' (sql-format/date-parts)
-- columns: TEMP(Test)(190)(0)
SELECT ("item"."seen" + 2 * INTERVAL '1 DAY') AS "TEMP(Test)(190)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEADD day
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEADD'> formula with the date-part value 'DAY' (sql-format/date-parts)
-- columns: TEMP(Test)(191)(0)
SELECT ("item"."seen" + 2 * INTERVAL '1 DAY') AS "TEMP(Test)(191)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEADD hour
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEADD'> formula with the date-part value 'HOUR' (sql-format/date-parts)
-- columns: TEMP(Test)(192)(0)
SELECT ("item"."seen" + 2 * INTERVAL '1 HOUR') AS "TEMP(Test)(192)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEADD minute
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEADD'> formula with the date-part value 'MINUTE' (sql-format/date-parts)
-- columns: TEMP(Test)(193)(0)
SELECT ("item"."seen" + 2 * INTERVAL '1 MINUTE') AS "TEMP(Test)(193)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEADD second
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEADD'> formula with the date-part value 'SECOND' (sql-format/date-parts)
-- columns: TEMP(Test)(194)(0)
SELECT ("item"."seen" + 2 * INTERVAL '1 SECOND') AS "TEMP(Test)(194)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEADD iso-year
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEADD'> formula part='iso-year' with the date-part value 'iso-year' (sql-format/date-parts)
-- columns: TEMP(Test)(195)(0)
SELECT ("item"."seen" + (((CAST(DATE_TRUNC('DAY', CAST((DATE('1753-01-04') + ((EXTRACT(ISOYEAR FROM CAST("item"."seen" AS TIMESTAMP)) + 2) - 1753) * INTERVAL '1 YEAR') AS TIMESTAMP)) AS DATE) - (((7 + CAST(EXTRACT(DOW FROM (DATE('1753-01-04') + ((EXTRACT(ISOYEAR FROM CAST("item"."seen" AS TIMESTAMP)) + 2) - 1753) * INTERVAL '1 YEAR')) AS BIGINT) - 1) % 7) * INTERVAL '1 DAY')) + (CAST("item"."seen" AS DATE) - TO_DATE(TO_CHAR("item"."seen", 'IYYY-01'), 'IYYY-IW')) * INTERVAL '1 DAY') - CAST("item"."seen" AS DATE))) AS "TEMP(Test)(195)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEADD iso-quarter
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEADD'> formula part='iso-quarter' with the date-part value 'iso-quarter' (sql-format/date-parts)
-- columns: TEMP(Test)(196)(0)
SELECT ("item"."seen" + (((CAST(DATE_TRUNC('DAY', CAST((DATE('1753-01-04') + ((CAST(((EXTRACT(ISOYEAR FROM CAST("item"."seen" AS TIMESTAMP)) * 4 + (LEAST(CAST((EXTRACT(WEEK FROM "item"."seen") - 1) AS BIGINT) / 13, 3) + 1)) + 2) AS INT) / 4) - 1753) * INTERVAL '1 YEAR') AS TIMESTAMP)) AS DATE) - (((7 + CAST(EXTRACT(DOW FROM (DATE('1753-01-04') + ((CAST(((EXTRACT(ISOYEAR FROM CAST("item"."seen" AS TIMESTAMP)) * 4 + (LEAST(CAST((EXTRACT(WEEK FROM "item"."seen") - 1) AS BIGINT) / 13, 3) + 1)) + 2) AS INT) / 4) - 1753) * INTERVAL '1 YEAR')) AS BIGINT) - 1) % 7) * INTERVAL '1 DAY')) + (((CAST(((EXTRACT(ISOYEAR FROM CAST("item"."seen" AS TIMESTAMP)) * 4 + (LEAST(CAST((EXTRACT(WEEK FROM "item"."seen") - 1) AS BIGINT) / 13, 3) + 1)) + 2) AS INT) % 4) - 1) * 91 + (CAST("item"."seen" AS DATE) - TO_DATE(TO_CHAR("item"."seen", 'IYYY-') || (LEAST(CAST((EXTRACT(WEEK FROM "item"."seen") - 1) AS BIGINT) / 13, 3) * 13 + 1), 'IYYY-IW'))) * INTERVAL '1 DAY') - CAST("item"."seen" AS DATE))) AS "TEMP(Test)(196)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEADD iso-week
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEADD'> formula part='iso-week' with the date-part value 'iso-week' (sql-format/date-parts)
-- columns: TEMP(Test)(197)(0)
SELECT ("item"."seen" + 2 * INTERVAL '1 WEEK') AS "TEMP(Test)(197)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEADD iso-weekday
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEADD'> formula part='iso-weekday' with the date-part value 'iso-weekday' (sql-format/date-parts)
-- columns: TEMP(Test)(198)(0)
SELECT ("item"."seen" + 2 * INTERVAL '1 DAY') AS "TEMP(Test)(198)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEDIFF year
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEDIFF'> formula part='year' with the date-part value 'YEAR' (sql-format/date-parts)
-- columns: TEMP(Test)(199)(0)
SELECT CAST( EXTRACT(YEAR FROM CAST("item"."seen" AS TIMESTAMP)) - EXTRACT(YEAR FROM CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP)) AS BIGINT) AS "TEMP(Test)(199)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEDIFF quarter
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEDIFF'> formula part='quarter' with the date-part value 'QUARTER' (sql-format/date-parts)
-- columns: TEMP(Test)(200)(0)
SELECT CAST( (4 * EXTRACT(YEAR FROM CAST("item"."seen" AS TIMESTAMP)) + EXTRACT(QUARTER FROM CAST("item"."seen" AS TIMESTAMP))) - (4 * EXTRACT(YEAR FROM CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP)) + EXTRACT(QUARTER FROM CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP))) AS BIGINT) AS "TEMP(Test)(200)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEDIFF month
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEDIFF'> formula part='month' with the date-part value 'MONTH' (sql-format/date-parts)
-- columns: TEMP(Test)(201)(0)
SELECT CAST( (12 * EXTRACT(YEAR FROM CAST("item"."seen" AS TIMESTAMP)) + EXTRACT(MONTH FROM CAST("item"."seen" AS TIMESTAMP))) - (12 * EXTRACT(YEAR FROM CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP)) + EXTRACT(MONTH FROM CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP))) AS BIGINT) AS "TEMP(Test)(201)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEDIFF week
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEDIFF'> formula part='week' with the date-part value 'WEEK' (sql-format/date-parts)
-- columns: TEMP(Test)(202)(0)
SELECT CAST( FLOOR(( (FLOOR(EXTRACT(EPOCH FROM CAST("item"."seen" AS TIMESTAMP)) / 86400) - EXTRACT(DOW FROM CAST("item"."seen" AS TIMESTAMP)) ) - (FLOOR(EXTRACT(EPOCH FROM CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP)) / 86400)- EXTRACT(DOW FROM CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP)) ) ) / 7) AS BIGINT) AS "TEMP(Test)(202)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEDIFF weekday
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEDIFF'> formula with the date-part value 'DOW' (sql-format/date-parts)
-- columns: TEMP(Test)(203)(0)
SELECT CAST( FLOOR(EXTRACT(EPOCH FROM CAST("item"."seen" AS TIMESTAMP)) / 86400) - FLOOR(EXTRACT(EPOCH FROM CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP)) / 86400) AS BIGINT) AS "TEMP(Test)(203)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEDIFF dayofyear
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEDIFF'> formula with the date-part value 'DOY' (sql-format/date-parts)
-- columns: TEMP(Test)(204)(0)
SELECT CAST( FLOOR(EXTRACT(EPOCH FROM CAST("item"."seen" AS TIMESTAMP)) / 86400) - FLOOR(EXTRACT(EPOCH FROM CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP)) / 86400) AS BIGINT) AS "TEMP(Test)(204)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEDIFF day
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEDIFF'> formula with the date-part value 'DAY' (sql-format/date-parts)
-- columns: TEMP(Test)(205)(0)
SELECT CAST( FLOOR(EXTRACT(EPOCH FROM CAST("item"."seen" AS TIMESTAMP)) / 86400) - FLOOR(EXTRACT(EPOCH FROM CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP)) / 86400) AS BIGINT) AS "TEMP(Test)(205)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEDIFF hour
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEDIFF'> formula part='hour' with the date-part value 'HOUR' (sql-format/date-parts)
-- columns: TEMP(Test)(206)(0)
SELECT CAST( FLOOR(EXTRACT(EPOCH FROM CAST("item"."seen" AS TIMESTAMP)) / 3600) - FLOOR(EXTRACT(EPOCH FROM CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP)) / 3600) AS BIGINT) AS "TEMP(Test)(206)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEDIFF minute
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEDIFF'> formula part='minute' with the date-part value 'MINUTE' (sql-format/date-parts)
-- columns: TEMP(Test)(207)(0)
SELECT CAST( FLOOR(EXTRACT(EPOCH FROM CAST("item"."seen" AS TIMESTAMP)) / 60) - FLOOR(EXTRACT(EPOCH FROM CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP)) / 60) AS BIGINT) AS "TEMP(Test)(207)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEDIFF second
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEDIFF'> formula part='second' with the date-part value 'SECOND' (sql-format/date-parts)
-- columns: TEMP(Test)(208)(0)
SELECT CAST( EXTRACT(EPOCH FROM CAST("item"."seen" AS TIMESTAMP)) - EXTRACT(EPOCH FROM CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP)) AS BIGINT) AS "TEMP(Test)(208)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEDIFF iso-year
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEDIFF'> formula part='iso-year' with the date-part value 'iso-year' (sql-format/date-parts)
-- columns: TEMP(Test)(209)(0)
SELECT CAST( EXTRACT(ISOYEAR FROM CAST("item"."seen" AS TIMESTAMP)) - EXTRACT(ISOYEAR FROM CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP)) AS BIGINT) AS "TEMP(Test)(209)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEDIFF iso-quarter
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEDIFF'> formula part='iso-quarter' with the date-part value 'iso-quarter' (sql-format/date-parts)
-- columns: TEMP(Test)(210)(0)
SELECT CAST((4 * EXTRACT(ISOYEAR FROM "item"."seen") + (LEAST(CAST((EXTRACT(WEEK FROM "item"."seen") - 1) AS BIGINT) / 13, 3) + 1)) - (4 * EXTRACT(ISOYEAR FROM CAST("item"."day" AS TIMESTAMP)) + (LEAST(CAST((EXTRACT(WEEK FROM CAST("item"."day" AS TIMESTAMP)) - 1) AS BIGINT) / 13, 3) + 1)) AS BIGINT) AS "TEMP(Test)(210)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEDIFF iso-week
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEDIFF'> formula part='iso-week' with the date-part value 'iso-week' (sql-format/date-parts)
-- columns: TEMP(Test)(211)(0)
SELECT CAST( FLOOR(( (FLOOR(EXTRACT(EPOCH FROM CAST("item"."seen" AS TIMESTAMP)) / 86400) - ((7 + CAST(EXTRACT(DOW FROM "item"."seen") AS BIGINT) - 1) % 7)) - (FLOOR(EXTRACT(EPOCH FROM CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP)) / 86400) - ((7 + CAST(EXTRACT(DOW FROM CAST("item"."day" AS TIMESTAMP)) AS BIGINT) - 1) % 7)) ) / 7) AS BIGINT) AS "TEMP(Test)(211)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEDIFF iso-weekday
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEDIFF'> formula part='iso-weekday' with the date-part value 'iso-weekday' (sql-format/date-parts)
-- columns: TEMP(Test)(212)(0)
SELECT CAST( FLOOR(EXTRACT(EPOCH FROM CAST("item"."seen" AS TIMESTAMP)) / 86400) - FLOOR(EXTRACT(EPOCH FROM CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP)) / 86400) AS BIGINT) AS "TEMP(Test)(212)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEDIFF week (week start)
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEDIFF'> formula part='week' with the date-part value 'WEEK' (sql-format/date-parts)
-- columns: TEMP(Test)(213)(0)
SELECT CAST( FLOOR(( (FLOOR(EXTRACT(EPOCH FROM CAST("item"."seen" AS TIMESTAMP)) / 86400) - ((7 + CAST(EXTRACT(DOW FROM "item"."seen") AS BIGINT) - 1) % 7)) - (FLOOR(EXTRACT(EPOCH FROM CAST(CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP) AS TIMESTAMP)) / 86400) - ((7 + CAST(EXTRACT(DOW FROM CAST(CAST("item"."day" AS TIMESTAMP) AS TIMESTAMP)) AS BIGINT) - 1) % 7)) ) / 7) AS BIGINT) AS "TEMP(Test)(213)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATENAME year
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATENAME'> formula with the date-part value 'YYYY' (sql-format/date-parts)
-- columns: TEMP(Test)(214)(0)
SELECT TO_CHAR("item"."seen", 'YYYY') AS "TEMP(Test)(214)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATENAME quarter
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATENAME'> formula with the date-part value 'Q' (sql-format/date-parts)
-- columns: TEMP(Test)(215)(0)
SELECT TO_CHAR("item"."seen", 'Q') AS "TEMP(Test)(215)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATENAME month
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATENAME'> formula with the date-part value 'FMMonth' (sql-format/date-parts)
-- columns: TEMP(Test)(216)(0)
SELECT TO_CHAR("item"."seen", 'FMMonth') AS "TEMP(Test)(216)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATENAME week
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATENAME'> formula part='week' with the date-part value '---' (sql-format/date-parts)
-- columns: TEMP(Test)(217)(0)
SELECT CAST(FLOOR((7 + EXTRACT(DOY FROM "item"."seen") - 1 + EXTRACT(DOW FROM DATE_TRUNC('YEAR', "item"."seen"))) / 7) AS TEXT) AS "TEMP(Test)(217)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATENAME weekday
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATENAME'> formula with the date-part value 'FMDay' (sql-format/date-parts)
-- columns: TEMP(Test)(218)(0)
SELECT TO_CHAR("item"."seen", 'FMDay') AS "TEMP(Test)(218)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATENAME dayofyear
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATENAME'> formula with the date-part value 'FMDDD' (sql-format/date-parts)
-- columns: TEMP(Test)(219)(0)
SELECT TO_CHAR("item"."seen", 'FMDDD') AS "TEMP(Test)(219)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATENAME day
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATENAME'> formula with the date-part value 'FMDD' (sql-format/date-parts)
-- columns: TEMP(Test)(220)(0)
SELECT TO_CHAR("item"."seen", 'FMDD') AS "TEMP(Test)(220)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATENAME hour
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATENAME'> formula with the date-part value 'FMHH24' (sql-format/date-parts)
-- columns: TEMP(Test)(221)(0)
SELECT TO_CHAR("item"."seen", 'FMHH24') AS "TEMP(Test)(221)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATENAME minute
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATENAME'> formula with the date-part value 'FMMI' (sql-format/date-parts)
-- columns: TEMP(Test)(222)(0)
SELECT TO_CHAR("item"."seen", 'FMMI') AS "TEMP(Test)(222)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATENAME second
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATENAME'> formula with the date-part value 'FMSS' (sql-format/date-parts)
-- columns: TEMP(Test)(223)(0)
SELECT TO_CHAR("item"."seen", 'FMSS') AS "TEMP(Test)(223)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATENAME iso-year
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATENAME'> formula part='iso-year' with the date-part value 'iso-year' (sql-format/date-parts)
-- columns: TEMP(Test)(224)(0)
SELECT TO_CHAR("item"."seen", 'IYYY') AS "TEMP(Test)(224)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATENAME iso-quarter
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATENAME'> formula part='iso-quarter' with the date-part value 'iso-quarter' (sql-format/date-parts)
-- columns: TEMP(Test)(225)(0)
SELECT CAST((LEAST(CAST((EXTRACT(WEEK FROM "item"."seen") - 1) AS BIGINT) / 13, 3) + 1) AS TEXT) AS "TEMP(Test)(225)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATENAME iso-week
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATENAME'> formula part='iso-week' with the date-part value 'iso-week' (sql-format/date-parts)
-- columns: TEMP(Test)(226)(0)
SELECT TO_CHAR("item"."seen", 'IW') AS "TEMP(Test)(226)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATENAME iso-weekday
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATENAME'> formula part='iso-weekday' with the date-part value 'iso-weekday' (sql-format/date-parts)
-- columns: TEMP(Test)(227)(0)
SELECT TO_CHAR("item"."seen", 'ID') AS "TEMP(Test)(227)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATENAME week (week start)
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATENAME'> formula part='week' with the date-part value '---' (sql-format/date-parts)
-- columns: TEMP(Test)(228)(0)
SELECT CAST(FLOOR((7 + EXTRACT(DOY FROM "item"."seen") - 1 + (CAST(7 + EXTRACT(DOW FROM DATE_TRUNC('YEAR', "item"."seen")) - 1 AS BIGINT) % 7) ) / 7) AS TEXT) AS "TEMP(Test)(228)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEPART year
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEPART'> formula with the date-part value 'YEAR' (sql-format/date-parts)
-- columns: TEMP(Test)(229)(0)
SELECT CAST(TRUNC(EXTRACT(YEAR FROM "item"."seen")) AS INTEGER) AS "TEMP(Test)(229)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEPART quarter
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEPART'> formula with the date-part value 'QUARTER' (sql-format/date-parts)
-- columns: TEMP(Test)(230)(0)
SELECT CAST(TRUNC(EXTRACT(QUARTER FROM "item"."seen")) AS INTEGER) AS "TEMP(Test)(230)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEPART month
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEPART'> formula with the date-part value 'MONTH' (sql-format/date-parts)
-- columns: TEMP(Test)(231)(0)
SELECT CAST(TRUNC(EXTRACT(MONTH FROM "item"."seen")) AS INTEGER) AS "TEMP(Test)(231)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEPART week
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEPART'> formula part='week' with the date-part value 'WEEK' (sql-format/date-parts)
-- columns: TEMP(Test)(232)(0)
SELECT CAST(FLOOR((7 + EXTRACT(DOY FROM "item"."seen") - 1 + EXTRACT(DOW FROM DATE_TRUNC('YEAR', "item"."seen"))) / 7) AS INTEGER) AS "TEMP(Test)(232)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEPART weekday
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEPART'> formula part='weekday' with the date-part value 'DOW' (sql-format/date-parts)
-- columns: TEMP(Test)(233)(0)
SELECT (1 + CAST(EXTRACT(DOW FROM "item"."seen") AS INTEGER)) AS "TEMP(Test)(233)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEPART dayofyear
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEPART'> formula with the date-part value 'DOY' (sql-format/date-parts)
-- columns: TEMP(Test)(234)(0)
SELECT CAST(TRUNC(EXTRACT(DOY FROM "item"."seen")) AS INTEGER) AS "TEMP(Test)(234)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEPART day
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEPART'> formula with the date-part value 'DAY' (sql-format/date-parts)
-- columns: TEMP(Test)(235)(0)
SELECT CAST(TRUNC(EXTRACT(DAY FROM "item"."seen")) AS INTEGER) AS "TEMP(Test)(235)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEPART hour
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEPART'> formula with the date-part value 'HOUR' (sql-format/date-parts)
-- columns: TEMP(Test)(236)(0)
SELECT CAST(TRUNC(EXTRACT(HOUR FROM "item"."seen")) AS INTEGER) AS "TEMP(Test)(236)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEPART minute
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEPART'> formula with the date-part value 'MINUTE' (sql-format/date-parts)
-- columns: TEMP(Test)(237)(0)
SELECT CAST(TRUNC(EXTRACT(MINUTE FROM "item"."seen")) AS INTEGER) AS "TEMP(Test)(237)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEPART second
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEPART'> formula with the date-part value 'SECOND' (sql-format/date-parts)
-- columns: TEMP(Test)(238)(0)
SELECT CAST(TRUNC(EXTRACT(SECOND FROM "item"."seen")) AS INTEGER) AS "TEMP(Test)(238)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEPART iso-year
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEPART'> formula part='iso-year' with the date-part value 'iso-year' (sql-format/date-parts)
-- columns: TEMP(Test)(239)(0)
SELECT CAST(TRUNC(EXTRACT(ISOYEAR FROM "item"."seen")) AS INTEGER) AS "TEMP(Test)(239)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEPART iso-quarter
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEPART'> formula part='iso-quarter' with the date-part value 'iso-quarter' (sql-format/date-parts)
-- columns: TEMP(Test)(240)(0)
SELECT (LEAST(CAST((EXTRACT(WEEK FROM "item"."seen") - 1) AS BIGINT) / 13, 3) + 1) AS "TEMP(Test)(240)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEPART iso-week
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEPART'> formula part='iso-week' with the date-part value 'iso-week' (sql-format/date-parts)
-- columns: TEMP(Test)(241)(0)
SELECT CAST(TRUNC(EXTRACT(WEEK FROM "item"."seen")) AS INTEGER) AS "TEMP(Test)(241)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEPART iso-weekday
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEPART'> formula part='iso-weekday' with the date-part value 'iso-weekday' (sql-format/date-parts)
-- columns: TEMP(Test)(242)(0)
SELECT CAST(TRUNC(EXTRACT(ISODOW FROM "item"."seen")) AS INTEGER) AS "TEMP(Test)(242)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATEPART week (week start)
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATEPART'> formula part='week' with the date-part value 'WEEK' (sql-format/date-parts)
-- columns: TEMP(Test)(243)(0)
SELECT CAST(FLOOR((7 + EXTRACT(DOY FROM "item"."seen") - 1 + (CAST(7 + EXTRACT(DOW FROM DATE_TRUNC('YEAR', "item"."seen")) - 1 AS BIGINT) % 7)) / 7) AS INTEGER) AS "TEMP(Test)(243)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETRUNC year
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATETRUNC'> formula with the date-part value 'YEAR' (sql-format/date-parts)
-- columns: TEMP(Test)(244)(0)
SELECT DATE_TRUNC( 'YEAR', CAST("item"."seen" AS TIMESTAMP) ) AS "TEMP(Test)(244)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETRUNC quarter
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATETRUNC'> formula part='quarter' with the date-part value 'MONTH' (sql-format/date-parts)
-- columns: TEMP(Test)(245)(0)
SELECT CAST(DATE_TRUNC('QUARTER', CAST("item"."seen" AS DATE)) AS DATE) AS "TEMP(Test)(245)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETRUNC month
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATETRUNC'> formula with the date-part value 'MONTH' (sql-format/date-parts)
-- columns: TEMP(Test)(246)(0)
SELECT DATE_TRUNC( 'MONTH', CAST("item"."seen" AS TIMESTAMP) ) AS "TEMP(Test)(246)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETRUNC week
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATETRUNC'> formula part='week' with the date-part value 'WEEK' (sql-format/date-parts)
-- columns: TEMP(Test)(247)(0)
SELECT CAST((DATE_TRUNC( 'DAY', CAST("item"."seen" AS DATE) ) + (-EXTRACT(DOW FROM "item"."seen") * INTERVAL '1 DAY')) AS DATE) AS "TEMP(Test)(247)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETRUNC weekday
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATETRUNC'> formula with the date-part value 'DAY' (sql-format/date-parts)
-- columns: TEMP(Test)(248)(0)
SELECT DATE_TRUNC( 'DAY', CAST("item"."seen" AS TIMESTAMP) ) AS "TEMP(Test)(248)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETRUNC dayofyear
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATETRUNC'> formula with the date-part value 'DAY' (sql-format/date-parts)
-- columns: TEMP(Test)(249)(0)
SELECT DATE_TRUNC( 'DAY', CAST("item"."seen" AS TIMESTAMP) ) AS "TEMP(Test)(249)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETRUNC day
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATETRUNC'> formula with the date-part value 'DAY' (sql-format/date-parts)
-- columns: TEMP(Test)(250)(0)
SELECT DATE_TRUNC( 'DAY', CAST("item"."seen" AS TIMESTAMP) ) AS "TEMP(Test)(250)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETRUNC hour
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATETRUNC'> formula with the date-part value 'HOUR' (sql-format/date-parts)
-- columns: TEMP(Test)(251)(0)
SELECT DATE_TRUNC( 'HOUR', CAST("item"."seen" AS TIMESTAMP) ) AS "TEMP(Test)(251)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETRUNC minute
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATETRUNC'> formula with the date-part value 'MINUTE' (sql-format/date-parts)
-- columns: TEMP(Test)(252)(0)
SELECT DATE_TRUNC( 'MINUTE', CAST("item"."seen" AS TIMESTAMP) ) AS "TEMP(Test)(252)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETRUNC second
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATETRUNC'> formula with the date-part value 'SECOND' (sql-format/date-parts)
-- columns: TEMP(Test)(253)(0)
SELECT DATE_TRUNC( 'SECOND', CAST("item"."seen" AS TIMESTAMP) ) AS "TEMP(Test)(253)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETRUNC iso-year
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATETRUNC'> formula part='iso-year' with the date-part value 'iso-year' (sql-format/date-parts)
-- columns: TEMP(Test)(254)(0)
SELECT TO_DATE(TO_CHAR("item"."seen", 'IYYY-01'), 'IYYY-IW') AS "TEMP(Test)(254)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETRUNC iso-quarter
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATETRUNC'> formula part='iso-quarter' with the date-part value 'iso-quarter' (sql-format/date-parts)
-- columns: TEMP(Test)(255)(0)
SELECT TO_DATE(TO_CHAR("item"."seen", 'IYYY-') || (LEAST(CAST((EXTRACT(WEEK FROM "item"."seen") - 1) AS BIGINT) / 13, 3) * 13 + 1), 'IYYY-IW') AS "TEMP(Test)(255)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETRUNC iso-week
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATETRUNC'> formula part='iso-week' with the date-part value 'iso-week' (sql-format/date-parts)
-- columns: TEMP(Test)(256)(0)
SELECT DATE_TRUNC('WEEK', CAST("item"."seen" AS TIMESTAMP)) AS "TEMP(Test)(256)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETRUNC iso-weekday
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATETRUNC'> formula part='iso-weekday' with the date-part value 'iso-weekday' (sql-format/date-parts)
-- columns: TEMP(Test)(257)(0)
SELECT DATE_TRUNC( 'DAY', CAST("item"."seen" AS TIMESTAMP) ) AS "TEMP(Test)(257)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: DATETRUNC week (week start)
-- from: samples/plugins/postgres_jdbc/dialect.tdd <date-function name='DATETRUNC'> formula part='week' with the date-part value 'WEEK' (sql-format/date-parts)
-- columns: TEMP(Test)(258)(0)
SELECT (CAST(DATE_TRUNC( 'DAY', CAST("item"."seen" AS TIMESTAMP)) AS DATE) - (((7 + CAST(EXTRACT(DOW FROM "item"."seen") AS BIGINT) - 1) % 7) * INTERVAL '1 DAY')) AS "TEMP(Test)(258)(0)"
FROM "entu"."item" "item"
GROUP BY 1

-- query: custom SQL column discovery (WHERE FALSE)
-- from: samples/plugins/postgres_jdbc/manifest.xml CAP_QUERY_WHERE_FALSE_METADATA (metadata of a Custom SQL relation from a query that returns no row) and {SF} <format-false predicate='FALSE'>
-- columns: name, price
SELECT * FROM (SELECT name, price FROM entu.item) "Custom SQL Query" WHERE FALSE

-- query: custom SQL column discovery (1 = 0)
-- from: samples/plugins/postgres_jdbc/manifest.xml CAP_QUERY_WHERE_FALSE_METADATA, as drivers before 2020.3 (without <format-false>) write it
-- columns: name, price
SELECT * FROM (SELECT name, price FROM entu.item) "Custom SQL Query" WHERE (1 = 0)

-- query: custom SQL column discovery (LIMIT 0)
-- from: samples/plugins/postgres_jdbc/dialect.tdd <sql-format> <format-select><part name='Top' value='LIMIT %1'/> with 0 rows
-- columns: name, price
SELECT * FROM (SELECT name, price FROM entu.item) "Custom SQL Query" LIMIT 0

-- query: custom SQL aggregate
-- from: samples/plugins/postgres_jdbc/manifest.xml CAP_QUERY_SUBQUERIES, CAP_QUERY_GROUP_BY_DEGREE: a viz over a Custom SQL relation
-- columns: name, sum:price:ok
-- rows: alpha, 1.5, 10.0
SELECT "Custom SQL Query"."name" AS "name",
  SUM("Custom SQL Query"."price") AS "sum:price:ok"
FROM (
  SELECT name, price FROM entu.item
) "Custom SQL Query"
GROUP BY 1

-- query: top N with NULLS
-- from: samples/plugins/postgres_jdbc/manifest.xml CAP_QUERY_TOP_N; samples/plugins/postgres_jdbc/dialect.tdd <sql-format> <format-select> Top 'LIMIT %1' and <format-order-by value='Nulls'>
-- columns: name, sum:qty:ok
-- rows: beta, 10.0, Straße, 7.0
SELECT "item"."name" AS "name",
  SUM("item"."qty") AS "sum:qty:ok"
FROM "entu"."item" "item"
GROUP BY 1
ORDER BY 2 DESC NULLS LAST, 1 ASC NULLS FIRST
LIMIT 2

-- query: top N filter as a subquery
-- from: samples/plugins/postgres_jdbc/manifest.xml CAP_QUERY_SUBQUERIES_WITH_TOP: a Top N filter joins the top names back
-- columns: name, sum:price:ok
-- rows: beta, Straße, 10.0
SELECT "item"."name" AS "name",
  SUM("item"."price") AS "sum:price:ok"
FROM "entu"."item" "item"
  INNER JOIN (
  SELECT "item"."name" AS "name",
    SUM("item"."qty") AS "$__alias__0"
  FROM "entu"."item" "item"
  GROUP BY 1
  ORDER BY 2 DESC NULLS LAST
  LIMIT 2
) "t0" ON ("item"."name" IS NOT DISTINCT FROM "t0"."name")
GROUP BY 1

-- query: boolean group and CASE
-- from: samples/plugins/postgres_jdbc/manifest.xml CAP_QUERY_GROUP_BY_BOOL, CAP_QUERY_BOOLEXPR_TO_INTEXPR=no; samples/plugins/postgres_jdbc/dialect.tdd <sql-format> <format-true literal='TRUE'>
-- columns: ok, Calculation_1, cnt:name:ok
-- rows: Yes, No
SELECT "item"."ok" AS "ok",
  (CASE WHEN ("item"."ok" = TRUE) THEN 'Yes' WHEN NOT ("item"."ok" = TRUE) THEN 'No' ELSE NULL END) AS "Calculation_1",
  COUNT("item"."name") AS "cnt:name:ok"
FROM "entu"."item" "item"
GROUP BY 1, 2

-- query: date and datetime literals
-- from: samples/plugins/postgres_jdbc/dialect.tdd <sql-format> <format-date-literal formula="(DATE '%1')"> and <format-datetime-literal formula="(TIMESTAMP '%1')">
-- columns: name
-- rows: alpha
SELECT "item"."name" AS "name"
FROM "entu"."item" "item"
WHERE (("item"."day" >= (DATE '2024-01-01')) AND ("item"."seen" < (TIMESTAMP '2024-02-01 00:00:00.000')))
GROUP BY 1

-- query: IS DISTINCT FROM and extended string literal
-- from: samples/plugins/postgres_jdbc/dialect.tdd <sql-format> <format-is-distinct value='Keyword'> and <format-string-literal value='Extended'>
-- columns: name
-- rows: alpha, beta
SELECT "item"."name" AS "name"
FROM "entu"."item" "item"
WHERE ("item"."name" IS DISTINCT FROM E'it\'s')
GROUP BY 1

-- query: sampled extract percent
-- from: samples/plugins/postgres_jdbc/manifest.xml CAP_QUERY_TOP_SAMPLE_PERCENT: a percentage of the rows
-- columns: name
SELECT "item"."name" AS "name"
FROM "entu"."item" "item"
LIMIT (SELECT CAST(CEIL(COUNT(*) * 50 / 100.0) AS BIGINT) FROM "entu"."item")
