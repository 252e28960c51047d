-- Fails on duplicate keys in the imbalance marts added with issue 4 (one row per key).
SELECT 'mirror_gaps' AS mart, count(*) AS n
FROM marts.mirror_gaps
GROUP BY exporter, importer, period_start, period_end, exporter_source, importer_source
HAVING count(*) > 1
UNION ALL
SELECT 'peer_comparison', count(*)
FROM marts.peer_comparison
GROUP BY reporter, period_end
HAVING count(*) > 1
UNION ALL
SELECT 'imbalance_signals', count(*)
FROM marts.imbalance_signals
GROUP BY source, reporter, currency, run_start
HAVING count(*) > 1
UNION ALL
-- marts.commodity_drivers is a view with one row per headline detail row of
-- intermediate.observations: it is unique when the rows it reads and looks up (this period, the
-- same span a year earlier, the TOTAL rows) are unique on its key, checked here on the table
-- instead of computing the whole view.
SELECT 'commodity_drivers', count(*)
FROM intermediate.observations
WHERE is_headline AND flow IN ('X', 'M') AND period_type IN ('month', 'combined', 'year')
GROUP BY source, reporter, partner, flow, currency, period_type, period_start, period_end, commodity
HAVING count(*) > 1
UNION ALL
SELECT 'revisions', count(*)
FROM marts.revisions
GROUP BY source, reporter, partner, flow, period_start, period_end, commodity, currency, valuation
HAVING count(*) > 1
