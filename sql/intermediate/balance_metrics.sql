-- table: Balance metrics of every series (source, reporter, partner, currency, basis) and published period (month, combined Jan–Feb, year): levels, year-to-date and rolling 3- and 12-month sums and their year-on-year growth. Rules (DESIGN.md §4): a period is compared with the same span one year earlier and the same period_type (a combined Jan–Feb period only with a combined one); growth is NULL when the base is missing or ≤ 0; balance growth only when both balances are > 0 (balance_*_change gives the level change); never ±inf/NaN. Year to date: the publisher's own cumulative when printed (ytd_basis 'published': a ytd row, a combined Jan–Feb row or a January month), else the sum of this year's month/combined rows when they cover every month from January (a combined Jan–Feb period counts as its 2 months), else NULL. Rolling N-month sums (N = 3, 12): the sum of the month/combined rows ending in the N calendar months up to period_end, only when those rows cover exactly those N months with a value in each (a combined Jan–Feb period counts as its 2 months and cannot be split: the 3-month window ending in April, February–April, is NULL when only a combined Jan–Feb is published). Rolling growth compares with the window ending 12 months earlier, which covers the same calendar months. Year rows carry no ytd or rolling values. Year-to-date growth compares the cumulative January-to-month spans of both years however they were published (a combined Jan–Feb cumulative against January + February of the year before covers the same months). Columns not described here mean what the same-named column of marts.trade_balance_monthly means.
-- column source: Publisher.
-- column reporter: Reporting country (ISO3) or aggregate code.
-- column partner: Partner (ISO3), WLD for the world, or aggregate code.
-- column currency: Currency of the values (ISO 4217).
-- column basis: 'published' or 'usd_converted' (see intermediate.balances).
-- column period_type: month, combined or year.
-- column ytd_basis: 'published' (the publisher's cumulative) or 'sum of months'; NULL when no year-to-date value.
-- column exports_3m: Exports summed over the 3 months ending at period_end, whole units of `currency`; NULL unless the rows cover exactly those months.
-- column exports_12m: Exports summed over the 12 months ending at period_end; NULL unless covered exactly.
-- column exports_prev_year: Exports of the same span one year earlier (same period_type).
-- column exports_ytd_prev_year: Year-to-date exports through the same month one year earlier.
WITH periods AS (
    SELECT
        *,
        exports - imports AS balance,
        exports + imports AS total_trade,
        exports_usd - imports_usd AS balance_usd
    FROM intermediate.balances
    WHERE period_type IN ('month', 'combined', 'year')
),
monthly AS (
    SELECT
        source, reporter, partner, currency, basis, period_start, period_end, end_idx,
        CASE WHEN sum(months) OVER wy = month(period_end)
                AND min(start_idx) OVER wy = year(period_end) * 12
                AND count(exports) OVER wy = count(*) OVER wy
            THEN sum(exports) OVER wy END AS exports_ytd_summed,
        CASE WHEN sum(months) OVER wy = month(period_end)
                AND min(start_idx) OVER wy = year(period_end) * 12
                AND count(imports) OVER wy = count(*) OVER wy
            THEN sum(imports) OVER wy END AS imports_ytd_summed,
        CASE WHEN sum(months) OVER w3 = 3 AND min(start_idx) OVER w3 = end_idx - 2
                AND count(exports) OVER w3 = count(*) OVER w3
            THEN sum(exports) OVER w3 END AS exports_3m,
        CASE WHEN sum(months) OVER w3 = 3 AND min(start_idx) OVER w3 = end_idx - 2
                AND count(imports) OVER w3 = count(*) OVER w3
            THEN sum(imports) OVER w3 END AS imports_3m,
        CASE WHEN sum(months) OVER w12 = 12 AND min(start_idx) OVER w12 = end_idx - 11
                AND count(exports) OVER w12 = count(*) OVER w12
            THEN sum(exports) OVER w12 END AS exports_12m,
        CASE WHEN sum(months) OVER w12 = 12 AND min(start_idx) OVER w12 = end_idx - 11
                AND count(imports) OVER w12 = count(*) OVER w12
            THEN sum(imports) OVER w12 END AS imports_12m
    FROM periods
    WHERE period_type IN ('month', 'combined')
    WINDOW
        wy AS (PARTITION BY source, reporter, partner, currency, basis, year(period_end)
               ORDER BY end_idx ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
        w3 AS (PARTITION BY source, reporter, partner, currency, basis
               ORDER BY end_idx RANGE BETWEEN 2 PRECEDING AND CURRENT ROW),
        w12 AS (PARTITION BY source, reporter, partner, currency, basis
                ORDER BY end_idx RANGE BETWEEN 11 PRECEDING AND CURRENT ROW)
    -- overlapping rows of one series (flagged by sql/tests/series_periods_do_not_overlap.sql)
    -- never cover a window exactly; keep one row per window end so that lookups do not fan out
    QUALIFY row_number() OVER (
        PARTITION BY source, reporter, partner, currency, basis, end_idx ORDER BY period_start
    ) = 1
),
published_ytd AS (
    SELECT
        source, reporter, partner, currency, basis, period_end,
        exports, imports, exports_yoy_published, imports_yoy_published
    FROM intermediate.balances
    WHERE period_type IN ('month', 'combined', 'ytd')
        AND month(period_start) = 1
        AND year(period_start) = year(period_end)
),
ytd AS (
    SELECT
        coalesce(p.source, m.source) AS source,
        coalesce(p.reporter, m.reporter) AS reporter,
        coalesce(p.partner, m.partner) AS partner,
        coalesce(p.currency, m.currency) AS currency,
        coalesce(p.basis, m.basis) AS basis,
        coalesce(p.period_end, m.period_end) AS period_end,
        CASE WHEN p.period_end IS NOT NULL THEN 'published' ELSE 'sum of months' END AS ytd_basis,
        CASE WHEN p.period_end IS NOT NULL THEN p.exports ELSE m.exports_ytd_summed END
            AS exports_ytd,
        CASE WHEN p.period_end IS NOT NULL THEN p.imports ELSE m.imports_ytd_summed END
            AS imports_ytd,
        p.exports_yoy_published AS exports_ytd_yoy_published,
        p.imports_yoy_published AS imports_ytd_yoy_published
    FROM published_ytd AS p
    FULL JOIN monthly AS m
        ON m.source = p.source AND m.reporter = p.reporter AND m.partner = p.partner
        AND m.currency = p.currency AND m.basis = p.basis AND m.period_end = p.period_end
    WHERE p.period_end IS NOT NULL
        OR m.exports_ytd_summed IS NOT NULL
        OR m.imports_ytd_summed IS NOT NULL
),
cur AS (
    SELECT
        b.*,
        y.ytd_basis,
        y.exports_ytd,
        y.imports_ytd,
        y.exports_ytd - y.imports_ytd AS balance_ytd,
        y.exports_ytd + y.imports_ytd AS total_trade_ytd,
        y.exports_ytd_yoy_published,
        y.imports_ytd_yoy_published,
        w.exports_3m,
        w.imports_3m,
        w.exports_3m - w.imports_3m AS balance_3m,
        w.exports_3m + w.imports_3m AS total_trade_3m,
        w.exports_12m,
        w.imports_12m,
        w.exports_12m - w.imports_12m AS balance_12m,
        w.exports_12m + w.imports_12m AS total_trade_12m
    FROM periods AS b
    LEFT JOIN monthly AS w
        ON w.source = b.source AND w.reporter = b.reporter AND w.partner = b.partner
        AND w.currency = b.currency AND w.basis = b.basis
        AND w.period_start = b.period_start AND w.period_end = b.period_end
    LEFT JOIN ytd AS y
        ON b.period_type IN ('month', 'combined')
        AND y.source = b.source AND y.reporter = b.reporter AND y.partner = b.partner
        AND y.currency = b.currency AND y.basis = b.basis AND y.period_end = b.period_end
),
growth AS (
    SELECT
        c.*,
        p.exports AS exports_prev_year,
        p.imports AS imports_prev_year,
        CASE WHEN p.exports > 0 THEN c.exports / p.exports - 1 END AS exports_yoy,
        CASE WHEN p.imports > 0 THEN c.imports / p.imports - 1 END AS imports_yoy,
        CASE WHEN c.balance > 0 AND p.balance > 0 THEN c.balance / p.balance - 1 END AS balance_yoy,
        c.balance - p.balance AS balance_change,
        CASE WHEN p.total_trade > 0 THEN c.total_trade / p.total_trade - 1 END AS total_trade_yoy,
        yp.exports_ytd AS exports_ytd_prev_year,
        yp.imports_ytd AS imports_ytd_prev_year,
        CASE WHEN yp.exports_ytd > 0 THEN c.exports_ytd / yp.exports_ytd - 1 END AS exports_ytd_yoy,
        CASE WHEN yp.imports_ytd > 0 THEN c.imports_ytd / yp.imports_ytd - 1 END AS imports_ytd_yoy,
        CASE WHEN c.balance_ytd > 0 AND yp.exports_ytd - yp.imports_ytd > 0
            THEN c.balance_ytd / (yp.exports_ytd - yp.imports_ytd) - 1 END AS balance_ytd_yoy,
        c.balance_ytd - (yp.exports_ytd - yp.imports_ytd) AS balance_ytd_change,
        CASE WHEN yp.exports_ytd + yp.imports_ytd > 0
            THEN c.total_trade_ytd / (yp.exports_ytd + yp.imports_ytd) - 1
        END AS total_trade_ytd_yoy,
        CASE WHEN r.exports_3m > 0 THEN c.exports_3m / r.exports_3m - 1 END AS exports_3m_yoy,
        CASE WHEN r.imports_3m > 0 THEN c.imports_3m / r.imports_3m - 1 END AS imports_3m_yoy,
        CASE WHEN c.balance_3m > 0 AND r.exports_3m - r.imports_3m > 0
            THEN c.balance_3m / (r.exports_3m - r.imports_3m) - 1 END AS balance_3m_yoy,
        c.balance_3m - (r.exports_3m - r.imports_3m) AS balance_3m_change,
        CASE WHEN r.exports_3m + r.imports_3m > 0
            THEN c.total_trade_3m / (r.exports_3m + r.imports_3m) - 1 END AS total_trade_3m_yoy,
        CASE WHEN r.exports_12m > 0 THEN c.exports_12m / r.exports_12m - 1 END AS exports_12m_yoy,
        CASE WHEN r.imports_12m > 0 THEN c.imports_12m / r.imports_12m - 1 END AS imports_12m_yoy,
        CASE WHEN c.balance_12m > 0 AND r.exports_12m - r.imports_12m > 0
            THEN c.balance_12m / (r.exports_12m - r.imports_12m) - 1 END AS balance_12m_yoy,
        c.balance_12m - (r.exports_12m - r.imports_12m) AS balance_12m_change,
        CASE WHEN r.exports_12m + r.imports_12m > 0
            THEN c.total_trade_12m / (r.exports_12m + r.imports_12m) - 1 END AS total_trade_12m_yoy
    FROM cur AS c
    LEFT JOIN periods AS p
        ON p.source = c.source AND p.reporter = c.reporter AND p.partner = c.partner
        AND p.currency = c.currency AND p.basis = c.basis AND p.period_type = c.period_type
        AND p.period_start = CAST(c.period_start - INTERVAL 1 YEAR AS DATE)
        AND p.period_end = CAST(c.period_end - INTERVAL 1 YEAR AS DATE)
    LEFT JOIN ytd AS yp
        ON c.period_type IN ('month', 'combined')
        AND yp.source = c.source AND yp.reporter = c.reporter AND yp.partner = c.partner
        AND yp.currency = c.currency AND yp.basis = c.basis
        AND yp.period_end = CAST(c.period_end - INTERVAL 1 YEAR AS DATE)
    LEFT JOIN monthly AS r
        ON c.period_type IN ('month', 'combined')
        AND r.source = c.source AND r.reporter = c.reporter AND r.partner = c.partner
        AND r.currency = c.currency AND r.basis = c.basis AND r.end_idx = c.end_idx - 12
)
SELECT
    *,
    exports_yoy - imports_yoy AS growth_gap,
    exports_ytd_yoy - imports_ytd_yoy AS growth_gap_ytd,
    exports_3m_yoy - imports_3m_yoy AS growth_gap_3m,
    exports_12m_yoy - imports_12m_yoy AS growth_gap_12m,
    CASE WHEN exports > 0 THEN imports / exports END AS import_cover,
    CASE WHEN total_trade > 0 THEN balance / total_trade END AS balance_share,
    CASE WHEN ytd_basis IS NOT NULL THEN month(period_end) END AS ytd_months
FROM growth
