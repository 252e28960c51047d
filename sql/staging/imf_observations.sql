-- IMF IMTS observations (parser: flows/sources/imf.py), same columns as raw.observations.
--
-- Already settled by the parser (see its module docstring for sources): values are whole USD
-- (SDMX 3.0 OBS_VALUE, SCALE not applied), G001 -> WLD, G998 -> EU27_2020 (an inference),
-- other IMF groups -> IMF_<code> with partner_kind 'aggregate', TBG_USD balances not loaded.
--
-- Cleaning done here: every run re-requests a trailing revision window, and the IMF revises
-- recent months, so raw.observations can hold the same observation from several fetches
-- (several payloads). Keep the figure of the most recent fetch for each observation key
-- (flows.schema.OBSERVATION_KEY); ties broken by the later vintage, then by payload hash so the
-- result is deterministic. Annual (period_type 'year') and monthly rows have different periods
-- and are both kept; they are never summed into one another.
SELECT
    source,
    reporter,
    partner,
    partner_kind,
    flow,
    period_start,
    period_end,
    months,
    period_type,
    commodity,
    value,
    currency,
    valuation,
    status,
    published_yoy,
    release,
    vintage,
    payload_sha256,
    fetched_at
FROM raw.observations
WHERE source = 'imf'
QUALIFY row_number() OVER (
    PARTITION BY source, reporter, partner, flow, period_start, period_end, commodity, currency
    ORDER BY fetched_at DESC, vintage DESC NULLS LAST, payload_sha256
) = 1
