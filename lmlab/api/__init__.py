"""The Python API of lmlab's task models: :class:`~lmlab.api.tagger.SequenceTagger` (``lmlab train
--kind tag``), :class:`~lmlab.api.classifier.TextClassifier` (``--kind classify``) and
:class:`~lmlab.api.translator.Translator` (``--kind seq2seq``), each with ``fit``, ``predict``,
``evaluate``, ``save`` and ``load`` over the CLI's model folders (:mod:`lmlab.api.base`), and
:class:`~lmlab.api.generator.ConditionalGenerator` (``--kind conditional-lm``) with ``fit``,
``generate``, ``evaluate``, ``perplexity``, ``save`` and ``load``; ``from lmlab import
SequenceTagger, TextClassifier, Translator, ConditionalGenerator``.

The model classes they train are in :mod:`lmlab.models.neural` (``TaggingModel``, ``Classifier``,
``Seq2Seq``, ``ConditionalLM``); a new kind plugs in with a ``TaskModelAPI`` subclass beside
these, over its run module in :mod:`lmlab.train`.
"""
