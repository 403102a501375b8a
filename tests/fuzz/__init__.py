"""Fuzz targets and their driver (see docs/fuzzing.md)."""
