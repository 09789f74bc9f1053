"""Stage 2a: ids -> n-gram statistics (numpy only; never torch)."""
