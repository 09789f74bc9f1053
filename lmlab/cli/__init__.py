"""Stage 5: the ``lmlab`` command line (thin: parse, call the API, print)."""
