-- table: US Census international trade API (timeseries/intltrade exports/hs and imports/hs): US exports (FAS, ALL_VAL_MO) and general imports (customs value, GEN_VAL_MO) by partner, monthly, latest vintage, whole USD.
-- materialized: view (a filter of raw.observations: a table would only copy its rows)
-- Settled by the parser (flows/sources/census.py, rules and sources in its docstring):
-- CTY_CODE '-' -> WLD; Schedule C codes -> ISO3 (flows/data/census_schedule_c.csv); Census
-- groupings -> USMCA, ASEAN, APEC, PACIFIC_RIM, AFRICA or CENSUS_<code> (partner_kind
-- 'aggregate', never summed with countries); _YR year-to-date fields are never loaded.
-- Imports carry valuation 'CUSTOMS' (ex freight and insurance: not deflated again in mirror
-- comparisons); CIF imports (GEN_CIF_MO, valuation 'CIF') appear only when the run option
-- census_cif was set, and marts use CUSTOMS. No cleaning is needed beyond the parser's.
SELECT *
FROM raw.observations
WHERE source = 'census'
