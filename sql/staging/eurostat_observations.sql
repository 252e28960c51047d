-- table: Eurostat EU trade by partner (SDMX-CSV: ext_st_eu27_2020sitc / ext_st_easitc published in million EUR, Comext DS-045409 in EUR), monthly, latest vintage, whole EUR (exports FOB, imports CIF).
-- materialized: view (a filter of raw.observations: a table would only copy its rows)
-- Settled by the parser (flows/sources/eurostat.py, rules and sources in its docstring):
-- CN_X_HK -> CHN, WORLD -> WLD, EL/GR -> GRC; EU27_2020, EU28, EA20, EXT_EU27_2020 (extra-EU,
-- not WLD), INT_EU27_2020 and EU27_2020_NEA20 keep their codes (partner_kind 'aggregate';
-- EU27_2020 and EU28 never mixed); flags map to status (p provisional, e estimated,
-- c confidential, ...; several joined with '+'); a confidential cell without a value is a row
-- with a NULL value and its flag in status (missing is not zero). Values are EUR: convert month by month before combining with
-- USD sources. No cleaning is needed beyond the parser's.
SELECT *
FROM raw.observations
WHERE source = 'eurostat'
