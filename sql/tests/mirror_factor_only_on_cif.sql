-- Fails where marts.mirror_gaps deflated imports that are not valued CIF (FOB and US customs
-- value are already ex freight), did not apply the cif_fob_factor parameter to CIF imports, or
-- compared different period spans.
SELECT g.exporter, g.importer, g.period_start, g.period_end, g.importer_source,
    g.imports_valuation, g.cif_fob_factor, p.value_double AS parameter
FROM marts.mirror_gaps AS g
CROSS JOIN (SELECT value_double FROM meta.parameters WHERE name = 'cif_fob_factor') AS p
WHERE (g.imports_valuation = 'CIF' AND g.cif_fob_factor IS DISTINCT FROM p.value_double)
    OR (g.imports_valuation <> 'CIF' AND g.cif_fob_factor <> 1.0)
    OR abs(g.imports_fob_usd * g.cif_fob_factor - g.imports_usd) > 1e-6 * g.imports_usd
