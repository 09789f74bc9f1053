"""Stage 4b: training loops (may use eval/ and generate/)."""
