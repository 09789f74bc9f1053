"""Stage 4: sampling, decoding and completion written once against LanguageModel."""
