-- table: UN Comtrade API v1 totals (motCode 0, customsCode C00, partner2Code 0), latest vintage, whole USD.
SELECT *
FROM raw.observations
WHERE source = 'comtrade'
