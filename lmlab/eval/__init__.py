"""Stage 4: evaluation written once against the LanguageModel interface."""
