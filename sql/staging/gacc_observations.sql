-- table: China customs (GACC) preliminary-release table (4) by country/region, CNY and USD editions, as loaded (latest vintage). Values in whole units of `currency`.
-- materialized: view (a filter of raw.observations: a table would only copy its rows)
-- Both editions are kept: they are two publications of the same facts and are never summed.
SELECT *
FROM raw.observations
WHERE source = 'gacc'
