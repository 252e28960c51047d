-- Fails where marts.mirror_gaps deflated imports that are not valued CIF (FOB and US customs
-- value are already ex freight), deflated CIF imports by anything but 1 + freight_margin when no
-- published FOB value was used, used a freight margin outside [0, 0.20] or without a basis, or
-- where imports_fob_usd × cif_fob_factor does not give back the raw imports_usd.
SELECT g.exporter, g.importer, g.period_start, g.period_end, g.importer_source,
    g.imports_valuation, g.imports_fob_basis, g.cif_fob_factor, g.freight_margin,
    g.freight_margin_basis
FROM marts.mirror_gaps AS g
WHERE (g.imports_valuation <> 'CIF' AND g.cif_fob_factor <> 1.0)
    OR (g.imports_fob_basis = 'CIF / (1 + freight_margin)'
        AND abs(g.cif_fob_factor - (1 + g.freight_margin)) > 1e-12)
    OR g.freight_margin IS NULL OR g.freight_margin_basis IS NULL
    OR g.freight_margin < 0 OR g.freight_margin > 0.20
    OR abs(g.imports_fob_usd * g.cif_fob_factor - g.imports_usd) > 1e-6 * g.imports_usd
