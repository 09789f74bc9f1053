"""N-gram language models: estimation, backoff tables, ARPA and binary files, pruning."""
