"""Vocabularies, the data contract, snapshots (write, verify, retain), the DuckDB store and derived tables."""
