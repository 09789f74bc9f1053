"""Diagnostics that show why gated cells beat plain RNNs: gradient flow over distance
(:mod:`.gradients`), gate activity (:mod:`.gates`), perplexity against the context length
(:mod:`.context`), subject-verb agreement on real English (:mod:`.agreement`), cloze templates
(:mod:`.cloze`), the synthetic recall task (:mod:`.recall`) and the HTML report's page
(:mod:`.html`).  Only :mod:`.plots` imports matplotlib (an import-linter contract keeps it so)."""
