"""``from lmlab import kenlm``: KenLM's Python API on lmlab models (see models/ngram/kenlm_api)."""

from .models.ngram.kenlm_api import Config, FullScoreReturn, LanguageModel, Model, State

__all__ = ["Config", "FullScoreReturn", "LanguageModel", "Model", "State"]
