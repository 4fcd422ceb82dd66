"""Data layer: one pipeline per input kind (schema, quarantine, reconciliation, lineage)."""
