"""Stage 5: results -> tables, JSON and BENCHMARKS.md rows."""
