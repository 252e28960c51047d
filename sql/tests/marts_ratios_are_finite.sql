-- Fails on ±inf or NaN in any growth, gap, share, cover, contribution, correlation or ratio column
-- of the imbalance marts (a zero or negative base must give NULL, DESIGN.md §4).
SELECT 'trade_balance_monthly' AS mart, source, reporter, period_start, name, value
FROM (UNPIVOT (SELECT source, reporter, period_start,
        COLUMNS('_yoy|_share|gap|cover|contribution|correlation|_ratio')
    FROM marts.trade_balance_monthly)
    ON COLUMNS('_yoy|_share|gap|cover|contribution|correlation|_ratio') INTO NAME name VALUE value)
WHERE NOT isfinite(value)
UNION ALL
SELECT 'bilateral_balance_monthly', source, reporter, period_start, name, value
FROM (UNPIVOT (SELECT source, reporter, period_start,
        COLUMNS('_yoy|_share|gap|cover|contribution|correlation|_ratio')
    FROM marts.bilateral_balance_monthly)
    ON COLUMNS('_yoy|_share|gap|cover|contribution|correlation|_ratio') INTO NAME name VALUE value)
WHERE NOT isfinite(value)
UNION ALL
SELECT 'mirror_gaps', exporter_source, exporter, period_start, name, value
FROM (UNPIVOT (SELECT exporter_source, exporter, period_start,
        COLUMNS('_usd$|factor|gap_ratio')
    FROM marts.mirror_gaps)
    ON COLUMNS('_usd$|factor|gap_ratio') INTO NAME name VALUE value)
WHERE NOT isfinite(value)
UNION ALL
SELECT 'peer_comparison', source, reporter, period_start, name, value
FROM (UNPIVOT (SELECT source, reporter, period_start,
        COLUMNS('_yoy$|_share|gap_|correlation')
    FROM marts.peer_comparison)
    ON COLUMNS('_yoy$|_share|gap_|correlation') INTO NAME name VALUE value)
WHERE NOT isfinite(value)
UNION ALL
SELECT 'imbalance_signals', source, reporter, run_start, name, value
FROM (UNPIVOT (SELECT source, reporter, run_start, COLUMNS('gap|_yoy|balance')
    FROM marts.imbalance_signals)
    ON COLUMNS('gap|_yoy|balance') INTO NAME name VALUE value)
WHERE NOT isfinite(value)
UNION ALL
-- marts.commodity_drivers (a view) divides only by bases it has checked are > 0 (or ≠ 0), so its
-- ratios are finite when the values it reads are: checked on those instead of the whole view.
SELECT 'commodity_drivers', source, reporter, period_start, 'value', value
FROM intermediate.observations
WHERE is_headline AND flow IN ('X', 'M') AND NOT isfinite(value)
UNION ALL
SELECT 'revisions', source, reporter, period_start, name, value
FROM (UNPIVOT (SELECT source, reporter, period_start, COLUMNS('value$|change')
    FROM marts.revisions)
    ON COLUMNS('value$|change') INTO NAME name VALUE value)
WHERE NOT isfinite(value)
