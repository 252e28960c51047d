-- table: Seasonally adjusted exports and imports (X-13ARIMA-SEATS, X-11 method, SEATS as a cross-check) with the Lunar New Year handled, one row per source, reporter, partner (WLD and the main partners), flow, currency and month. Built on every refresh after the SQL models from every month the warehouse holds (concurrent adjustment: history is revised on each run). Moving-holiday windows (Chinese New Year or Tết; shifted by the shipping lag for imports from China) and working days are chosen per series by AICc and cached (spec_chosen_on). A combined January–February release gives both months the same level (Jan + Feb) / (f_Jan + f_Feb). Series shorter than 36 months or failing their diagnostics have NULL adjusted values and a note.
-- column source: Publisher: gacc, comtrade, imf, census, eurostat.
-- column reporter: Reporting country (ISO3) or aggregate code.
-- column partner: Partner country (ISO3) or WLD for the world total.
-- column flow: X (exports) or M (imports).
-- column currency: Currency of the values (ISO 4217), as published.
-- column period: First day of the month.
-- column value: Published (unadjusted) value of the month, whole units of `currency`; NULL in the two months of a combined January–February release (see value_combined).
-- column value_combined: On both rows of a combined January–February release: the published two-month total, whole units of `currency`; else NULL.
-- column value_sa: Seasonally and calendar adjusted value (X-11 table d11), whole units of `currency` per month; in a combined January–February release both months hold (Jan + Feb) / (f_Jan + f_Feb). NULL when the series was not adjusted (see note).
-- column seasonal_factor: X-11 seasonal factor (d10), ratio around 1.
-- column holiday_factor: Moving-holiday (Lunar New Year) factor from the regARIMA holiday regressors, ratio around 1; 1 when the series has no holiday term.
-- column calendar_factor: Combined calendar factor, holiday × working days (X-11 d18), ratio around 1.
-- column trend: Trend-cycle (X-11 d12), whole units of `currency` per month.
-- column balance_sa: value_sa of exports − value_sa of imports for the same source, reporter, partner, currency and month (the same on the X and M rows); NULL unless both are adjusted. Computed from the adjusted flows, never by adjusting the balance.
-- column mom: Month-on-month growth of value_sa, ratio (0.02 = +2 %); NULL without the previous month.
-- column growth_3m3m_ann: Annualised growth of the last 3 months of value_sa over the 3 months before, ((Σ t−2..t / Σ t−5..t−3)^4 − 1), ratio.
-- column method: Adjustment method: 'X-13 X-11' (the published one); NULL when not adjusted.
-- column model: The final regARIMA model chosen by automdl, e.g. (0 1 1)(0 1 1).
-- column spec: The spec in words: holiday and windows (days before / from New Year's day, lag in days) and the working-day regressor (cn = China's official working days, td = X-13's day-of-week contrasts, none).
-- column holiday: cny (Chinese New Year), tet (Vietnam) or none (no holiday term kept: AICc gain < 2).
-- column window_pre: Days before New Year's day in the "before" window (0 = no such window).
-- column window_post: Days from New Year's day in the "after" window (0 = no such window).
-- column lag_days: Shift of both windows in days (shipping lag for a partner's imports from China or Vietnam).
-- column trading_day: Working-day regressor: cn, td or none.
-- column spec_chosen_on: Date the spec was chosen by the AICc grid (re-chosen yearly or after 12 new months).
-- column aicc_gain: AICc of the model without holiday terms minus the chosen one (≥ 2 when a holiday term is kept).
-- column jan_feb: NULL for March–December; 'separate' when January and February are known separately; 'combined' for a combined release.
-- column separate_jan_feb_years: Years of separately known January and February in the series (own or from other sources' history); fewer than 8 makes combined rows low confidence.
-- column low_confidence: TRUE on combined January–February rows with fewer than 8 years of separate history.
-- column jan_feb_history: Sources whose separate January/February split the combined totals for X-13 (e.g. 'comtrade'); NULL when none was used.
-- column sliding_spans_unstable_pct: Sliding spans: share of months whose seasonal factors differ by more than 3 % across spans, percent (Census: above 25 % is unstable; NULL when the series is shorter than 8 years).
-- column residual_holiday_t: Residual New Year effect in value_sa: max |t| of Δln value_sa on the reference windows (pre 10 / post 20) over January–April; below 2 means no effect left.
-- column note: Why the series was not adjusted, or warnings (e.g. working-day calendar not covering the span).
SELECT
    source, reporter, partner, flow, currency, period, value, value_combined, value_sa,
    seasonal_factor, holiday_factor, calendar_factor, trend,
    sum(CASE WHEN flow = 'X' THEN value_sa ELSE -value_sa END) OVER pair
        * CASE WHEN count(value_sa) OVER pair = 2 THEN 1 END AS balance_sa,
    value_sa / lag(value_sa) OVER series - 1 AS mom,
    CASE WHEN count(value_sa) OVER last6 = 6 THEN power(
        sum(value_sa) OVER last3 / (sum(value_sa) OVER last6 - sum(value_sa) OVER last3), 4) - 1
    END AS growth_3m3m_ann,
    method, model, spec, holiday, window_pre, window_post, lag_days, trading_day, spec_chosen_on,
    aicc_gain, jan_feb, separate_jan_feb_years, low_confidence, jan_feb_history,
    sliding_spans_unstable_pct, residual_holiday_t, note
FROM intermediate.seasonal_adjustment
WINDOW
    pair AS (PARTITION BY source, reporter, partner, currency, period),
    series AS (PARTITION BY source, reporter, partner, flow, currency ORDER BY period),
    last3 AS (PARTITION BY source, reporter, partner, flow, currency ORDER BY period
              RANGE BETWEEN INTERVAL 2 MONTH PRECEDING AND CURRENT ROW),
    last6 AS (PARTITION BY source, reporter, partner, flow, currency ORDER BY period
              RANGE BETWEEN INTERVAL 5 MONTH PRECEDING AND CURRENT ROW)
