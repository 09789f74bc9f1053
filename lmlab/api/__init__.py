"""The Python API of lmlab's task models: :class:`~lmlab.api.tagger.SequenceTagger` (``lmlab train
--kind tag``), :class:`~lmlab.api.classifier.TextClassifier` (``--kind classify``) and
:class:`~lmlab.api.translator.Translator` (``--kind seq2seq``), each with ``fit``, ``predict``,
``evaluate``, ``save`` and ``load`` over the CLI's model folders (:mod:`lmlab.api.base`); ``from
lmlab import SequenceTagger, TextClassifier, Translator``.

The model classes they train are in :mod:`lmlab.models.neural` (``TaggingModel``, ``Classifier``,
``Seq2Seq``); a new kind (e.g. conditional-lm) plugs in with a ``TaskModelAPI`` subclass beside
these, over its run module in :mod:`lmlab.train`.
"""
