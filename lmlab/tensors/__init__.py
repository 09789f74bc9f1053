"""Stage 2b: ids -> torch tensors (BPTT streams, fixed-window examples, padded batches)."""
