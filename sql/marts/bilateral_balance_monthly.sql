-- table: Bilateral trade balance of each reporter with each partner country or named aggregate (aggregates such as EU27_2020, ASEAN overlap countries: never sum across partner_kind = 'aggregate'), per source, currency and published period. Values in whole units of `currency`; growth as ratios. The same rules and columns as marts.trade_balance_monthly (combined Jan–Feb compared with combined only; YoY NULL when the base is missing or ≤ 0; balance YoY only when both balances are > 0; ytd published or summed; rolling sums only over exact 3/12-month coverage), plus the partner's shares of the reporter's exports and imports and its contribution to the reporter's headline growth, both only against the reporter's world total from the same source, currency and period.
-- column source: Publisher: gacc, comtrade, imf, census, eurostat.
-- column reporter: Reporting country, ISO 3166-1 alpha-3 (or an aggregate code such as EU27_2020).
-- column partner: Partner country (ISO3) or named aggregate code (aggregates such as EU27_2020, ASEAN overlap countries: never sum them with countries).
-- column partner_kind: country or aggregate.
-- column currency: Currency of publication (ISO 4217).
-- column period_start: First day of the first month covered.
-- column period_end: First day of the last month covered.
-- column months: Months covered: 1, 2 (combined January–February release) or 12 (annual).
-- column period_type: month, combined (Jan–Feb published as one period) or year.
-- column exports: Reporter's exports to the partner, whole units of `currency`.
-- column imports: Reporter's imports from the partner (by origin), whole units of `currency`.
-- column balance: exports − imports, whole units of `currency` (positive = surplus).
-- column exports_yoy: Exports year-on-year growth as a ratio (same span one year earlier); NULL when the base is missing or ≤ 0.
-- column imports_yoy: Imports year-on-year growth as a ratio; NULL when the base is missing or ≤ 0.
-- column growth_gap: exports_yoy − imports_yoy, ratio (0.04 = 4 percentage points).
-- column exports_usd: Exports in whole US dollars (converted with usd_rate when not published in USD; NULL without a rate).
-- column imports_usd: Imports in whole US dollars.
-- column balance_usd: exports_usd − imports_usd, whole US dollars.
-- column vintage: Latest release date (or fetch date) of the figures on the row.
-- column exports_valuation: Valuation basis of exports (FOB, FAS).
-- column imports_valuation: Valuation basis of imports (CIF, CUSTOMS = US customs value ex freight).
-- column total_trade: exports + imports, whole units of `currency`.
-- column balance_yoy: Balance year-on-year growth, ratio; only when this and last year's balances are both > 0, else NULL.
-- column balance_change: balance − balance of the same span one year earlier, whole units of `currency` (the level change; reported whatever the signs).
-- column total_trade_yoy: Total trade year-on-year growth, ratio; NULL when the base is missing or ≤ 0.
-- column import_cover: imports ÷ exports, ratio (1.0 = balanced); NULL when exports are 0 or missing.
-- column balance_share: balance ÷ total_trade, ratio between −1 and 1 (0.17 = surplus of 17 % of total trade); NULL when total trade is 0 or missing.
-- column exports_yoy_published: Export year-on-year change printed by the publisher for this very period, ratio (rounded as printed, GACC: 0.1 point); a cross-check of exports_yoy, never used as data.
-- column imports_yoy_published: Import year-on-year change printed by the publisher for this period, ratio; cross-check only.
-- column ytd_months: Months in the year-to-date span (January to period_end); NULL when there is no year-to-date value.
-- column ytd_basis: 'published' (the publisher's own cumulative: a ytd table column, a combined Jan–Feb period or a January month) or 'sum of months' (this year's rows from January summed, all months present); NULL when neither exists.
-- column exports_ytd: Exports January to period_end of the year, whole units of `currency`.
-- column imports_ytd: Imports January to period_end, whole units of `currency`.
-- column balance_ytd: exports_ytd − imports_ytd, whole units of `currency`.
-- column total_trade_ytd: exports_ytd + imports_ytd, whole units of `currency`.
-- column exports_ytd_yoy: Year-to-date exports growth against January to the same month one year earlier (cumulative spans, however published: a combined Jan–Feb cumulative is compared with Jan + Feb of the year before), ratio; NULL when the base is missing or ≤ 0.
-- column imports_ytd_yoy: Year-to-date imports growth, ratio; NULL when the base is missing or ≤ 0.
-- column balance_ytd_yoy: Year-to-date balance growth, ratio; only when both year-to-date balances are > 0.
-- column balance_ytd_change: balance_ytd − year-to-date balance one year earlier, whole units of `currency`.
-- column total_trade_ytd_yoy: Year-to-date total trade growth, ratio.
-- column growth_gap_ytd: exports_ytd_yoy − imports_ytd_yoy, ratio.
-- column exports_ytd_yoy_published: Year-to-date export growth printed by the publisher (GACC's cumulative YoY column), ratio; cross-check of exports_ytd_yoy only.
-- column imports_ytd_yoy_published: Year-to-date import growth printed by the publisher, ratio; cross-check only.
-- column exports_3m: Exports over the 3 calendar months ending at period_end, whole units of `currency`; NULL unless month/combined rows cover exactly those months.
-- column imports_3m: Imports over the 3 months ending at period_end, whole units of `currency`.
-- column balance_3m: exports_3m − imports_3m, whole units of `currency`.
-- column total_trade_3m: exports_3m + imports_3m, whole units of `currency`.
-- column exports_3m_yoy: exports_3m against the same 3 months one year earlier, ratio; NULL when the base is missing or ≤ 0.
-- column imports_3m_yoy: imports_3m against the same 3 months one year earlier, ratio.
-- column balance_3m_yoy: balance_3m growth, ratio; only when both 3-month balances are > 0.
-- column balance_3m_change: balance_3m − the same 3 months' balance one year earlier, whole units of `currency`.
-- column total_trade_3m_yoy: total_trade_3m growth, ratio.
-- column growth_gap_3m: exports_3m_yoy − imports_3m_yoy, ratio (the quantity marts.imbalance_signals watches).
-- column exports_12m: Exports over the 12 calendar months ending at period_end, whole units of `currency`; NULL unless covered exactly.
-- column imports_12m: Imports over the 12 months ending at period_end, whole units of `currency`.
-- column balance_12m: exports_12m − imports_12m, whole units of `currency`.
-- column total_trade_12m: exports_12m + imports_12m, whole units of `currency`.
-- column exports_12m_yoy: exports_12m against the previous 12 months ending one year earlier, ratio.
-- column imports_12m_yoy: imports_12m growth, ratio.
-- column balance_12m_yoy: balance_12m growth, ratio; only when both 12-month balances are > 0.
-- column balance_12m_change: balance_12m − the 12-month balance one year earlier, whole units of `currency`.
-- column total_trade_12m_yoy: total_trade_12m growth, ratio.
-- column growth_gap_12m: exports_12m_yoy − imports_12m_yoy, ratio.
-- column world_exports: The reporter's exports to the world (partner WLD) in the same source, currency and period, whole units of `currency`; the denominator of exports_share.
-- column world_imports: The reporter's imports from the world in the same source, currency and period, whole units of `currency`.
-- column exports_share: exports ÷ world_exports: the partner's share of the reporter's exports, ratio (0.15 = 15 %); only against the world total of the same source, currency and period.
-- column imports_share: imports ÷ world_imports: the partner's share of the reporter's imports, ratio.
-- column exports_ytd_share: exports_ytd ÷ the reporter's year-to-date exports to the world (same source, currency, period), ratio.
-- column imports_ytd_share: imports_ytd ÷ the reporter's year-to-date imports from the world, ratio.
-- column exports_contribution: Contribution of this partner to the reporter's headline export growth (world exports_yoy): (exports − exports a year earlier) ÷ world exports a year earlier, as a ratio of the world base (0.012 = 1.2 percentage points); over all partner countries these add up to the world growth. NULL when a value is missing or the world base ≤ 0.
-- column imports_contribution: Contribution to the reporter's headline import growth, ratio of the world base (0.012 = 1.2 percentage points).
-- column exports_ytd_contribution: Contribution to the reporter's year-to-date export growth (world exports_ytd_yoy), ratio of the world base one year earlier (percentage points ÷ 100).
-- column imports_ytd_contribution: Contribution to the reporter's year-to-date import growth, ratio of the world base (percentage points ÷ 100).
SELECT
    b.source, b.reporter, b.partner, b.partner_kind, b.currency, b.period_start, b.period_end,
    b.months, b.period_type,
    b.exports, b.imports, b.balance,
    b.exports_yoy, b.imports_yoy, b.growth_gap,
    b.exports_usd, b.imports_usd, b.balance_usd, b.vintage,
    b.exports_valuation, b.imports_valuation, b.total_trade, b.balance_yoy, b.balance_change,
    b.total_trade_yoy, b.import_cover, b.balance_share, b.exports_yoy_published,
    b.imports_yoy_published, b.ytd_months, b.ytd_basis, b.exports_ytd, b.imports_ytd,
    b.balance_ytd, b.total_trade_ytd, b.exports_ytd_yoy, b.imports_ytd_yoy, b.balance_ytd_yoy,
    b.balance_ytd_change, b.total_trade_ytd_yoy, b.growth_gap_ytd, b.exports_ytd_yoy_published,
    b.imports_ytd_yoy_published, b.exports_3m, b.imports_3m, b.balance_3m, b.total_trade_3m,
    b.exports_3m_yoy, b.imports_3m_yoy, b.balance_3m_yoy, b.balance_3m_change,
    b.total_trade_3m_yoy, b.growth_gap_3m, b.exports_12m, b.imports_12m, b.balance_12m,
    b.total_trade_12m, b.exports_12m_yoy, b.imports_12m_yoy, b.balance_12m_yoy,
    b.balance_12m_change, b.total_trade_12m_yoy, b.growth_gap_12m,
    w.exports AS world_exports,
    w.imports AS world_imports,
    CASE WHEN w.exports > 0 THEN b.exports / w.exports END AS exports_share,
    CASE WHEN w.imports > 0 THEN b.imports / w.imports END AS imports_share,
    CASE WHEN w.exports_ytd > 0 THEN b.exports_ytd / w.exports_ytd END AS exports_ytd_share,
    CASE WHEN w.imports_ytd > 0 THEN b.imports_ytd / w.imports_ytd END AS imports_ytd_share,
    CASE WHEN w.exports_prev_year > 0
        THEN (b.exports - b.exports_prev_year) / w.exports_prev_year END AS exports_contribution,
    CASE WHEN w.imports_prev_year > 0
        THEN (b.imports - b.imports_prev_year) / w.imports_prev_year END AS imports_contribution,
    CASE WHEN w.exports_ytd_prev_year > 0
        THEN (b.exports_ytd - b.exports_ytd_prev_year) / w.exports_ytd_prev_year
    END AS exports_ytd_contribution,
    CASE WHEN w.imports_ytd_prev_year > 0
        THEN (b.imports_ytd - b.imports_ytd_prev_year) / w.imports_ytd_prev_year
    END AS imports_ytd_contribution
FROM intermediate.balance_metrics AS b
LEFT JOIN intermediate.balance_metrics AS w
    ON w.partner = 'WLD' AND w.basis = b.basis
    AND w.source = b.source AND w.reporter = b.reporter AND w.currency = b.currency
    AND w.period_type = b.period_type
    AND w.period_start = b.period_start AND w.period_end = b.period_end
WHERE b.partner <> 'WLD' AND b.basis = 'published'
