-- Grafana's PostgreSQL data source: the query editor's metadata queries, from
-- grafana/grafana public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts
-- @ 12f912ab8d010f4d95a4043a0efaa20fc4ca0100, and panel queries after its macros are expanded by
-- pkg/tsdb/grafana-postgresql-datasource/macros.go @ 02ab314b81e2adc656bd7d08cc0533304a0037ff
-- (time range 2024-01-01T00:00:00Z .. 2024-12-31T00:00:00Z, interval 1h).

-- query: version
-- from: postgresMetaQuery.ts getVersion()
-- columns: version
SELECT current_setting('server_version_num')::int/100 as version

-- query: timescaledb version
-- from: postgresMetaQuery.ts getTimescaleDBVersion()
-- columns: extversion
SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'

-- query: schemas
-- from: postgresMetaQuery.ts showSchemas()
-- columns: name
-- rows: entu
SELECT schema_name AS "name"
    FROM information_schema.schemata
    WHERE schema_name NOT IN ('information_schema',
                              'pg_catalog',
                              'pg_toast',
                              '_timescaledb_cache',
                              '_timescaledb_catalog',
                              '_timescaledb_internal',
                              '_timescaledb_config',
                              'timescaledb_information',
                              'timescaledb_experimental')
    ORDER BY schema_name

-- query: tables of a schema
-- from: postgresMetaQuery.ts showTables('entu')
-- columns: table
-- rows: item, big
SELECT quote_ident(table_name) AS "table"
      FROM information_schema.tables
      WHERE quote_ident(table_schema) = 'entu'
      ORDER BY 1

-- query: tables on the search path
-- from: postgresMetaQuery.ts showTables() with buildSchemaConstraint()
-- columns: table
-- rows: item, big
SELECT
    CASE WHEN 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      THEN quote_ident(table_name)
      ELSE quote_ident(table_schema) || '.' || quote_ident(table_name)
    END AS "table"
    FROM information_schema.tables
    WHERE quote_ident(table_schema) NOT IN ('information_schema',
                             'pg_catalog',
                             '_timescaledb_cache',
                             '_timescaledb_catalog',
                             '_timescaledb_internal',
                             '_timescaledb_config',
                             'timescaledb_information',
                             'timescaledb_experimental')
    ORDER BY CASE WHEN 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          ) THEN 0 ELSE 1 END, 1

-- query: columns of a qualified table
-- from: postgresMetaQuery.ts getSchema('entu.item')
-- columns: column, type
-- rows: name, price, seen
SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident('entu.item'),1) = 2
        THEN quote_ident(table_schema) = (parse_ident('entu.item'))[1]
          AND quote_ident(table_name) = (parse_ident('entu.item'))[2]
        ELSE quote_ident(table_name) = 'entu.item'
          AND 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      END

-- query: columns of a table on the search path
-- from: postgresMetaQuery.ts getSchema('item')
-- columns: column, type
-- rows: name, price, seen
SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident('item'),1) = 2
        THEN quote_ident(table_schema) = (parse_ident('item'))[1]
          AND quote_ident(table_name) = (parse_ident('item'))[2]
        ELSE quote_ident(table_name) = 'item'
          AND 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      END

-- query: time series with $__timeGroupAlias and $__timeFilter
-- from: macros.go __timeGroupAlias(seen, 1h) = floor(extract(epoch from seen)/3600)*3600 AS "time"; __timeFilter(seen)
-- columns: time, value
-- rows: 1704110400
SELECT
  floor(extract(epoch from seen)/3600)*3600 AS "time",
  sum(price) AS value
FROM entu.item
WHERE
  seen BETWEEN '2024-01-01T00:00:00Z' AND '2024-12-31T00:00:00Z'
GROUP BY 1
ORDER BY 1

-- query: $__time, $__timeEpoch, $__timeFrom, $__timeTo
-- from: macros.go __time(seen) = seen AS "time"; __timeEpoch(seen) = extract(epoch from seen) as "time"; __timeFrom() / __timeTo() quoted RFC 3339 literals
-- columns: time, epoch, name
-- rows: alpha
SELECT seen AS "time", extract(epoch from seen) as "epoch", name
FROM entu.item
WHERE seen >= '2024-01-01T00:00:00Z' AND seen <= '2024-12-31T00:00:00Z'
ORDER BY 1

-- query: $__unixEpochGroupAlias and $__unixEpochFilter
-- from: macros.go __unixEpochGroupAlias(n, 1h) = floor((n)/3600)*3600 AS "time"; __unixEpochFilter(n) = n >= from AND n <= to (Unix seconds)
-- columns: time, count
-- rows: 0.0
SELECT floor((n)/3600)*3600 AS "time", count(*) AS "count"
FROM entu.mid
WHERE n >= 0 AND n <= 1735603200
GROUP BY 1
ORDER BY 1
