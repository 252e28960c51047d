"""Package data: reference tables shipped with the pipeline (CSV)."""
