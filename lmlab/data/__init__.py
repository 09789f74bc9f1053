"""Stage 1: where text comes from (named datasets, readers)."""
