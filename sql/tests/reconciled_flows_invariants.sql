-- Fails where marts.reconciled_flows breaks an invariant of the reconciliation (docs/methods.md
-- §B6 R1, R2, R5): the exporter weight outside [0, 1], a freight margin outside [0, 0.20], the
-- reconciled value outside the two FOB-basis mirrors (allowance 1e-9 relative), or a row without
-- its method version, weight flag, margin basis or sources.
SELECT exporter, importer, period_start, period_end, exporter_source, importer_source,
    exports_usd, imports_fob_usd, exporter_weight, freight_margin, reconciled_usd
FROM marts.reconciled_flows
WHERE exporter_weight IS NULL OR exporter_weight < 0 OR exporter_weight > 1
    OR freight_margin IS NULL OR freight_margin < 0 OR freight_margin > 0.20
    OR reconciled_usd < least(exports_usd, imports_fob_usd)
        - 1e-9 * greatest(abs(exports_usd), abs(imports_fob_usd))
    OR reconciled_usd > greatest(exports_usd, imports_fob_usd)
        + 1e-9 * greatest(abs(exports_usd), abs(imports_fob_usd))
    OR method_version IS NULL OR weight_flag IS NULL OR freight_margin_basis IS NULL
    OR exporter_source IS NULL OR importer_source IS NULL
