-- table: IMF IMTS (SDMX 3.0, dataflow IMF.STA/IMTS) exports FOB (XG_FOB_USD) and imports CIF (MG_CIF_USD) by reporter and counterpart, latest vintage, whole USD (OBS_VALUE as published; the SCALE attribute is a display scale and is not applied).
-- materialized: view (a filter of raw.observations: a table would only copy its rows)
-- Settled by the parser (flows/sources/imf/sdmxml.py, rules and sources in its docstring): G001 -> WLD,
-- G998 -> EU27_2020 (an inference: equals the retired DOT "B0" EU series), every other IMF group
-- (G###, GX###, TX###) -> IMF_<code> with partner_kind 'aggregate'; TBG_USD balances are not
-- loaded; status 'estimated' for DERIVATION_TYPE M/SE/SP/... and 'reported' for O/OU/R/none.
-- Annual (period_type 'year') and monthly rows both pass through: they cover different periods
-- and are never summed into one another. raw.observations already holds one row per key (the
-- latest vintage), so no de-duplication is needed here.
SELECT *
FROM raw.observations
WHERE source = 'imf'
