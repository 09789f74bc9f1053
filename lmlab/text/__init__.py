"""Stage 1: text -> tokens -> ids (tokenizer, vocabulary, special symbols)."""
