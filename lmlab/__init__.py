"""lmlab: language modelling from n-grams to RNNs, with one LanguageModel interface.

The public API (torch-free; the neural models live in ``lmlab.models.neural``)::

    from lmlab import NgramLM, Vocab, Tokenizer, evaluate, complete, load
    lm = NgramLM(order=5, smoothing="modified_kneser_ney").fit(lines)
    lm.perplexity(test_lines)

and the task models (``lmlab.api``; torch is imported when one is trained or loaded)::

    from lmlab import SequenceTagger, TextClassifier, Translator, ConditionalGenerator
    tagger = SequenceTagger().fit("ud-english-ewt", labels="upos")
    tagger.predict(["The cat sat ."]); tagger.evaluate("ud-english-ewt")["accuracy"]
"""

from ._version import __version__

__all__ = ["NgramLM", "NltkLM", "MixtureLM", "Vocab", "Tokenizer", "evaluate", "complete", "load",
           "SequenceTagger", "TextClassifier", "Translator", "ConditionalGenerator", "__version__"]

# the task models of the Python API: name -> module of lmlab.api
_TASK_MODELS = {"SequenceTagger": "tagger", "TextClassifier": "classifier", "Translator": "translator",
                "ConditionalGenerator": "generator"}


def __getattr__(name: str):
    # Lazy re-exports: importing lmlab stays cheap, and nothing inside lmlab imports this module.
    if name == "NgramLM":
        from .models.ngram.model import NgramLM

        return NgramLM
    if name == "NltkLM":
        from .models.ngram.nltk_lm import NltkLM

        return NltkLM
    if name == "MixtureLM":
        from .models.mixture import MixtureLM

        return MixtureLM
    if name == "Vocab":
        from .text.vocab import Vocab

        return Vocab
    if name == "Tokenizer":
        from .text.tokenize import Tokenizer

        return Tokenizer
    if name == "evaluate":
        from .eval.perplexity import evaluate

        return evaluate
    if name == "complete":
        from .generate.complete import complete

        return complete
    if name == "load":
        from .models.loading import load

        return load
    if name in _TASK_MODELS:
        import importlib

        return getattr(importlib.import_module(f".api.{_TASK_MODELS[name]}", __name__), name)
    raise AttributeError(f"module 'lmlab' has no attribute {name!r}")
