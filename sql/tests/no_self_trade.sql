-- Fails on exports or imports of a reporter with itself.
SELECT source, reporter, partner, flow, period_start
FROM intermediate.observations
WHERE reporter = partner
