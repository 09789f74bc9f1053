"""Stage 3: everything that assigns probabilities to tokens."""
