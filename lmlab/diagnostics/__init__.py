"""Diagnostics that show why gated cells beat plain RNNs: gradient flow over distance
(:mod:`.gradients`), subject-verb agreement on real English (:mod:`.agreement`), cloze templates
(:mod:`.cloze`) and the synthetic recall task (:mod:`.recall`).  Only :mod:`.plots` imports
matplotlib (an import-linter contract keeps it so)."""
