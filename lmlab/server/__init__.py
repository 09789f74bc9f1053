"""Stage 5: a JSON HTTP API and a small web page over one loaded model."""
