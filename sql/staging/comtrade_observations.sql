-- table: UN Comtrade API v1 totals (motCode 0, customsCode C00, partner2Code 0), latest vintage, whole USD.
-- materialized: view (a filter of raw.observations: a table would only copy its rows)
SELECT *
FROM raw.observations
WHERE source = 'comtrade'
