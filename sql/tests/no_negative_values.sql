-- Fails on negative or non-finite exports/imports values (trade flows are never negative).
SELECT source, reporter, partner, flow, period_start, value
FROM intermediate.observations
WHERE value < 0 OR NOT isfinite(value) OR value_usd < 0 OR NOT isfinite(value_usd)
