-- table: The reporters of the peer_set parameter (meta.parameters, default CHN, VNM, IND, USA, EU27_2020) side by side per calendar month, all in US dollars so that growth is comparable: 3- and 12-month export and import growth, growth gap, balance share, how synchronously imports and exports grow, and ranks within the set. One series per reporter: the first source by priority that has any USD value (the reporter's own national publisher gacc/census/eurostat, then imf, then comtrade), its USD edition where published, else its figures converted at ECB monthly reference rates (usd_basis). Rows are the series' month and combined (Jan–Feb) periods; a combined period is ranked with the other reporters' periods ending in the same month (its 3- and 12-month windows cover the same calendar months). Ranks: 1 = highest value among the peers with a value that month; NULL when the value is NULL.
-- column period_end: First day of the last month covered; the calendar month peers are ranked in.
-- column period_start: First day of the first month of the reporter's published period (January for a combined Jan–Feb period).
-- column months: Months covered by the published period (1, or 2 for combined Jan–Feb).
-- column period_type: month or combined.
-- column reporter: Peer (ISO3 or aggregate code such as EU27_2020).
-- column source: Publisher of the series used for this reporter.
-- column published_currency: Currency the series was published in.
-- column usd_basis: 'published in USD' or 'converted at ECB reference rates' (from published_currency).
-- column exports_3m_yoy: Exports over the 3 months to period_end against the same months a year earlier, ratio (USD basis); NULL unless both windows are fully covered and the base > 0.
-- column imports_3m_yoy: Imports 3-month growth, ratio (USD basis).
-- column growth_gap_3m: exports_3m_yoy − imports_3m_yoy, ratio (0.03 = 3 percentage points).
-- column exports_12m_yoy: Exports over the 12 months to period_end against the previous 12 months, ratio (USD basis).
-- column imports_12m_yoy: Imports 12-month growth, ratio (USD basis).
-- column growth_gap_12m: exports_12m_yoy − imports_12m_yoy, ratio.
-- column balance_share_3m: 3-month balance ÷ 3-month total trade, ratio (USD basis).
-- column balance_share_12m: 12-month balance ÷ 12-month total trade, ratio (USD basis; 0.17 = surplus of 17 % of trade).
-- column sync_periods_12m: Published periods ending in the 12 months to period_end with both an export and an import year-on-year growth (a combined Jan–Feb period counts once).
-- column both_grow_share_12m: Synchronicity measure 1: share of those periods in which exports and imports both grew year on year (0 to 1); NULL with fewer than 6 such periods.
-- column yoy_correlation_12m: Synchronicity measure 2: Pearson correlation of the period export and import year-on-year growth over those periods (−1 to 1); NULL with fewer than 6 periods or when either growth is constant.
-- column peers_in_period: Number of peers with a row in this calendar month.
-- column exports_3m_yoy_rank: Rank of exports_3m_yoy among the peers this month (1 = fastest growth).
-- column imports_3m_yoy_rank: Rank of imports_3m_yoy (1 = fastest growth).
-- column growth_gap_3m_rank: Rank of growth_gap_3m (1 = exports most ahead of imports).
-- column exports_12m_yoy_rank: Rank of exports_12m_yoy (1 = fastest growth).
-- column imports_12m_yoy_rank: Rank of imports_12m_yoy (1 = fastest growth).
-- column growth_gap_12m_rank: Rank of growth_gap_12m (1 = exports most ahead of imports).
-- column balance_share_12m_rank: Rank of balance_share_12m (1 = largest surplus relative to trade).
-- column both_grow_share_12m_rank: Rank of both_grow_share_12m (1 = imports most often grow alongside exports).
-- column vintage: Latest release date (or fetch date) of the figures on the row.
WITH peer_set AS (
    SELECT DISTINCT trim(unnest(string_split(value, ','))) AS reporter
    FROM meta.parameters
    WHERE name = 'peer_set'
),
usd_rows AS (
    SELECT
        m.*,
        CASE m.source
            WHEN 'gacc' THEN 1 WHEN 'census' THEN 1 WHEN 'eurostat' THEN 1
            WHEN 'imf' THEN 2 WHEN 'comtrade' THEN 3 ELSE 4
        END AS source_priority
    FROM intermediate.balance_metrics AS m
    JOIN peer_set AS p ON p.reporter = m.reporter
    WHERE m.partner = 'WLD'
        AND m.currency = 'USD'
        AND m.period_type IN ('month', 'combined')
),
chosen AS (
    SELECT reporter, source, basis, published_currency
    FROM usd_rows
    GROUP BY reporter, source, basis, published_currency, source_priority
    QUALIFY row_number() OVER (
        PARTITION BY reporter
        ORDER BY count(exports) = 0, source_priority, basis = 'usd_converted', count(exports) DESC,
            source, published_currency
    ) = 1
),
series AS (
    SELECT
        u.*,
        count(*) FILTER (WHERE u.exports_yoy IS NOT NULL AND u.imports_yoy IS NOT NULL)
            OVER w12 AS sync_periods_12m,
        count(*) FILTER (WHERE u.exports_yoy > 0 AND u.imports_yoy > 0) OVER w12 AS both_grow_12m,
        corr(u.exports_yoy, u.imports_yoy) OVER w12 AS yoy_corr,
        var_samp(u.exports_yoy) FILTER (WHERE u.imports_yoy IS NOT NULL) OVER w12
            AS exports_yoy_var,
        var_samp(u.imports_yoy) FILTER (WHERE u.exports_yoy IS NOT NULL) OVER w12
            AS imports_yoy_var
    FROM usd_rows AS u
    JOIN chosen AS c
        ON c.reporter = u.reporter AND c.source = u.source AND c.basis = u.basis
        AND c.published_currency = u.published_currency
    WINDOW w12 AS (
        PARTITION BY u.reporter ORDER BY u.end_idx RANGE BETWEEN 11 PRECEDING AND CURRENT ROW
    )
),
measures AS (
    SELECT
        period_end, period_start, months, period_type, reporter, source, published_currency,
        CASE WHEN basis = 'published' THEN 'published in USD'
            ELSE 'converted at ECB reference rates' END AS usd_basis,
        exports_3m_yoy, imports_3m_yoy, growth_gap_3m,
        exports_12m_yoy, imports_12m_yoy, growth_gap_12m,
        CASE WHEN total_trade_3m > 0 THEN balance_3m / total_trade_3m END AS balance_share_3m,
        CASE WHEN total_trade_12m > 0 THEN balance_12m / total_trade_12m END AS balance_share_12m,
        sync_periods_12m,
        CASE WHEN sync_periods_12m >= 6 THEN both_grow_12m / sync_periods_12m END
            AS both_grow_share_12m,
        CASE WHEN sync_periods_12m >= 6 AND exports_yoy_var > 0 AND imports_yoy_var > 0
            AND isfinite(yoy_corr) THEN yoy_corr END AS yoy_correlation_12m,
        vintage
    FROM series
)
SELECT
    period_end, period_start, months, period_type, reporter, source, published_currency, usd_basis,
    exports_3m_yoy, imports_3m_yoy, growth_gap_3m,
    exports_12m_yoy, imports_12m_yoy, growth_gap_12m,
    balance_share_3m, balance_share_12m,
    sync_periods_12m, both_grow_share_12m, yoy_correlation_12m,
    count(*) OVER (PARTITION BY period_end) AS peers_in_period,
    CASE WHEN exports_3m_yoy IS NOT NULL THEN rank() OVER (
        PARTITION BY period_end ORDER BY exports_3m_yoy DESC NULLS LAST) END AS exports_3m_yoy_rank,
    CASE WHEN imports_3m_yoy IS NOT NULL THEN rank() OVER (
        PARTITION BY period_end ORDER BY imports_3m_yoy DESC NULLS LAST) END AS imports_3m_yoy_rank,
    CASE WHEN growth_gap_3m IS NOT NULL THEN rank() OVER (
        PARTITION BY period_end ORDER BY growth_gap_3m DESC NULLS LAST) END AS growth_gap_3m_rank,
    CASE WHEN exports_12m_yoy IS NOT NULL THEN rank() OVER (
        PARTITION BY period_end ORDER BY exports_12m_yoy DESC NULLS LAST)
    END AS exports_12m_yoy_rank,
    CASE WHEN imports_12m_yoy IS NOT NULL THEN rank() OVER (
        PARTITION BY period_end ORDER BY imports_12m_yoy DESC NULLS LAST)
    END AS imports_12m_yoy_rank,
    CASE WHEN growth_gap_12m IS NOT NULL THEN rank() OVER (
        PARTITION BY period_end ORDER BY growth_gap_12m DESC NULLS LAST) END AS growth_gap_12m_rank,
    CASE WHEN balance_share_12m IS NOT NULL THEN rank() OVER (
        PARTITION BY period_end ORDER BY balance_share_12m DESC NULLS LAST)
    END AS balance_share_12m_rank,
    CASE WHEN both_grow_share_12m IS NOT NULL THEN rank() OVER (
        PARTITION BY period_end ORDER BY both_grow_share_12m DESC NULLS LAST)
    END AS both_grow_share_12m_rank,
    vintage
FROM measures
