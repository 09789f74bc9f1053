"""``ConditionalGenerator``: a conditional LM (one-to-many: a sentence from one input) from Python,
the model ``lmlab train --kind conditional-lm`` trains, with ``fit``/``generate``/``evaluate``/
``perplexity``/``save``/``load``::

    from lmlab import ConditionalGenerator
    gen = ConditionalGenerator(nhid=256).fit("sst2", epochs=5)
    gen.generate(label="1", n=5, seed=1)                  # five positive movie-review sentences
    gen.evaluate("sst2")["perplexity"]["flipped"]         # ppl given the true/flipped label, unconditionally
    gen.perplexity(["a gorgeous , witty film ."], label="1")

Data is a named classification dataset (``"sst2"``, ``"sst5"``: the condition is the sentence's
label), a list of ``(text, label)`` pairs (labels are strings), a list of ``(text, vector)`` pairs
(a vector: a sequence of floats, the same dimension for all), or texts with ``features=`` an
``(N, F)`` array, one row per text (as ``--train FILE --features FILE``).  Texts are strings
(tokenised as ``lmlab train`` does) or token lists.

The name: the other task models are named for what they do (``SequenceTagger``,
``TextClassifier``, ``Translator``), and this one generates text from a condition; the torch
module it trains is :class:`lmlab.models.neural.conditional.ConditionalLM`, and one name for both
would make ``from lmlab import ConditionalLM`` and that class two different things.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ConfigError, InputTypeError
from ..text.inputs import sentences_of
from ..train.conditional_run import ConditionalSettings
from .base import TaskModelAPI, check_label, lines_of, named, no_dataset_option, pairs_of, text_of


NAMED_FEATURES = "features go with in-memory texts (a named dataset's condition is its label)"


class ConditionalGenerator(TaskModelAPI):
    """A conditional LM; the constructor's keywords are ``lmlab train --kind conditional-lm``'s
    model options, with their defaults (see :class:`lmlab.train.conditional_run.ConditionalSettings`)."""

    kind = "conditional-lm"
    settings_class = ConditionalSettings

    def fit(self, train, dev=None, *, features=None, dev_features=None, save=None, overwrite: bool = False,
            quiet: bool = False, **options) -> ConditionalGenerator:
        """Train on ``train`` (a dataset name, ``(text, label)`` or ``(text, vector)`` pairs, or
        texts with ``features``), choosing the best epoch by the perplexity of ``dev`` (the same
        forms; default: the dataset's dev split, else one tenth of each label's training examples,
        or the last tenth of feature-conditioned ones); ``options``: the training options of
        :mod:`lmlab.api.base`."""
        from ..train import conditional_run

        name = named(train)
        if name is not None:
            no_dataset_option(NAMED_FEATURES, features=features)
            src, train = conditional_run.source(name), None
        else:
            src, train = conditional_run.source(), conditional_data(train, features, "train")
        if dev is not None:
            dev = conditional_data(dev, dev_features, "dev", like=train, labels=name is not None)
        else:
            no_dataset_option("the features of dev texts go with dev=", dev_features=dev_features)
        train, dev = conditional_run.splits(src, where="", give_dev="give dev=[(text, condition), ...]",
                                            train=train, dev=dev)
        return self._fit(lambda folder, **kw: conditional_run.start(train, self.settings, folder, source=src, **kw),
                         lambda trainer: (train, dev), save, overwrite, quiet, options)

    # -- generation -------------------------------------------------------------------------
    def generate(self, label: str | None = None, features=None, *, n: int = 1, prompt="", max_tokens: int = 30,
                 greedy: bool = False, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, seed: int | None = None, beam: int | None = None, stop: bool = True,
                 scores: bool = False, nbest: int = 1, alpha: float = 0.0) -> list:
        """Sentences generated given ``label`` (a label-conditioned model; None: from the labels'
        mixture with the training prior) or ``features`` (a feature-conditioned model: one vector,
        or an ``(M, F)`` array, ``n`` sentences per row in row order), exactly what ``lmlab generate
        --label/--features`` prints (:func:`lmlab.generate.decode.generated`, the LMs' own code):
        ``n`` samples (sample ``i`` seeded ``seed + i``; ``temperature``, ``top_k``, ``top_p``) or
        ``greedy``, or the best hypothesis of a ``beam`` search (its ``nbest`` best, with GNMT
        length normalisation ``alpha``, as ``--nbest``/``--alpha``).  ``scores``: ``(sentence,
        log10-probability)`` pairs, as ``--scores``."""
        import math

        from ..generate.decode import generated

        lms = self._conditioned(label, features, "generate")
        out = generated(lms, prompt, n=n, beam=beam, max_tokens=max_tokens, greedy=greedy, temperature=temperature,
                        top_k=top_k, top_p=top_p, seed=seed, stop_at_eos=stop, nbest=nbest, alpha=alpha)
        return [(text, lp / math.log(10)) if scores else text for text, lp in out]

    def _conditioned(self, label, features, what: str) -> list:
        """The model given ``label`` (None: the labels' mixture) or each row of ``features``, as
        LanguageModels (:mod:`lmlab.models.neural.conditioned`)."""
        from ..models.neural.conditioned import ConditionedLM, label_marginal

        model = self._condition_checked(label, features, what)
        if model.condition == "features":
            return [ConditionedLM(model, features=v) for v in vectors(features, "features", model.feature_size, True)]
        return [label_marginal(model) if label is None else ConditionedLM(model, label=label)]

    def _condition_checked(self, label, features, what: str):
        """The trained model, after refusing a condition it does not take (a label of a
        feature-conditioned model, features of a label-conditioned one, no features for the
        first, a label that is not a string)."""
        model = self._trained(what)
        if model.condition == "label":
            if features is not None:
                raise ConfigError(f"features: this model is conditioned on labels ({_labels(model)}); give label=")
            if label is not None and not isinstance(label, str):
                raise InputTypeError(f"label: a label is a string, got {type(label).__name__} {label!r} (the "
                                     f"model's labels: {_labels(model)})")
        elif label is not None:
            raise ConfigError(f"label: this model is conditioned on feature vectors of dimension {model.feature_size}; "
                              "give features=")
        elif features is None:
            raise ConfigError(f"this model is conditioned on feature vectors of dimension {model.feature_size}: "
                              "give features=VECTOR (or an array, one vector a row)")
        return model

    # -- scores -----------------------------------------------------------------------------
    def evaluate(self, data, *, split: str = "test", features=None, batch_size: int = 64) -> dict:
        """The report of ``lmlab evaluate --json``: the perplexity of the data's sentences given
        their own label, the flipped label (two labels), each label and unconditionally (the
        labels' mixture with the training prior); for a feature-conditioned model given each
        sentence's own vector and the next one's (shuffled).  ``data``: a dataset name (with
        ``split``) or the forms ``fit`` takes."""
        from ..data.tasks import classification_split
        from ..eval.conditional import conditional_perplexities
        from ..train.conditional_run import check_dataset, labelled_data

        model = self._trained("evaluate")
        name = named(data)
        if name is not None:
            no_dataset_option(NAMED_FEATURES, features=features)
            if model.condition != "label":
                raise ConfigError(f"{name}: a labelled dataset, but this model is conditioned on feature vectors")
            check_dataset(name)
            test = labelled_data(classification_split(name, split))
        else:
            test = self._data(data, features, "data")
        return conditional_perplexities(model, test.texts, test.conditions, batch_size=batch_size)

    def perplexity(self, texts, *, label: str | None = None, features=None, batch_size: int = 64) -> float:
        """The perplexity of ``texts`` (``</s>`` included; an OOV scored as ``<unk>``) given
        ``label`` (None: unconditionally, the labels' mixture) or ``features`` (one vector for
        all, or one row per text)."""
        from ..eval.conditional import perplexity_given

        model = self._condition_checked(label, features, "perplexity")
        lines = lines_of(texts, "texts")
        if model.condition == "label":
            conditions = None if label is None else [label] * len(lines)
        else:
            conditions = vectors(features, "features", model.feature_size, rows=True)
            if len(conditions) == 1:
                conditions = np.repeat(conditions, len(lines), axis=0)
            elif len(conditions) != len(lines):
                raise ConfigError(f"{len(lines)} texts but {len(conditions)} feature vectors (give one vector for "
                                  "all, or one a text)")
        return perplexity_given(model, lines, conditions, batch_size=batch_size)["perplexity"]

    def _data(self, data, features, what: str):
        """In-memory data for this model: its kind of condition (a label, or a vector of its dimension)."""
        model = self._trained(what)
        out = conditional_data(data, features, what)
        if (model.condition == "label") != isinstance(out.conditions, list):
            have = "labels" if model.condition == "label" else f"feature vectors of dimension {model.feature_size}"
            raise ConfigError(f"{what}: this model is conditioned on {have}; the data's conditions are not")
        if model.condition == "features":
            vectors(out.conditions, what, model.feature_size)
        return out


def _labels(model) -> str:
    return ", ".join(model.labels.labels)


def _label(model, label) -> str:
    if not isinstance(label, str):
        raise InputTypeError(f"label: a label is a string, got {type(label).__name__} {label!r} (the model's "
                             f"labels: {_labels(model)})")
    return label


# -- in-memory data -------------------------------------------------------------------------
def vectors(value, what: str, dim: int | None = None, rows: bool = False) -> np.ndarray:
    """``value`` as an ``(N, F)`` float64 array of finite numbers, ``F == dim`` if given; ``rows``:
    one vector (1-D) is one row."""
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputTypeError(f"{what}: expected feature vectors (numbers, one vector a row), got "
                             f"{type(value).__name__}") from None
    if rows and a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise InputTypeError(f"{what}: expected {'a vector or ' if rows else ''}an array of vectors (N, F), got "
                             f"shape {a.shape}")
    if dim is not None and a.shape[1] != dim:
        raise ConfigError(f"{what}: vectors of dimension {a.shape[1]}, but the model's are of dimension {dim}")
    if not np.isfinite(a).all():
        row = int(np.nonzero(~np.isfinite(a).all(axis=1))[0][0]) + 1
        raise ConfigError(f"{what}: vector {row}: a value that is not a finite number")
    return a


def conditional_data(data, features, what: str, *, like=None, labels: bool = False):
    """In-memory data as :class:`~lmlab.train.conditional_task.ConditionalData`: ``(text, label)``
    or ``(text, vector)`` pairs, or texts with ``features`` (one row each); ``like``: the training
    data, whose kind of condition (and dimension) this must have; ``labels``: it must be labelled."""
    out = _pairs(data, what) if features is None else _texts_and_features(data, features, what)
    is_labelled = isinstance(out.conditions, list)
    if labels and not is_labelled:
        raise ConfigError(f"{what}: a labelled dataset trains on labels; give (text, label) pairs")
    if like is not None:
        if isinstance(like.conditions, list) != is_labelled:
            kinds = ("labels", "feature vectors") if not is_labelled else ("feature vectors", "labels")
            raise ConfigError(f"{what}: the training data's conditions are {kinds[0]}, these are {kinds[1]}")
        if not is_labelled:
            vectors(out.conditions, what, like.conditions.shape[1])
    return out


def _texts_and_features(data, features, what: str):
    from ..train.conditional_task import ConditionalData

    items = list(sentences_of(data, what))
    if not items:
        raise ConfigError(f"{what}: no texts")
    spaced = next((i for i, t in enumerate(items, start=1) if not isinstance(t, str) and isinstance(t, Sequence)
                   and any(isinstance(w, str) and len(w.split()) != 1 for w in t)), None)
    if spaced is not None:
        raise InputTypeError(f"{what}: text {spaced}: a token with a space (or none): with features= the data is "
                             "texts (strings or token lists), not (text, condition) pairs")
    texts = lines_of(items, what)
    vecs = vectors(features, f"{what} features")
    if len(vecs) != len(texts):
        raise ConfigError(f"{what}: {len(texts)} texts but {len(vecs)} feature vectors")
    return ConditionalData(texts, vecs)


def _pairs(data, what: str):
    """``(text, label)`` or ``(text, vector)`` pairs: the first pair's kind of condition is all's."""
    from ..train.conditional_task import ConditionalData

    pairs = pairs_of(data, what, "text, label or vector")
    texts = [text_of(t, f"{what}: example {i}") for i, (t, _) in enumerate(pairs, start=1)]
    conditions = [c for _, c in pairs]
    labelled = isinstance(conditions[0], str)
    if not labelled and not _is_vector(conditions[0]):
        raise InputTypeError(f"{what}: example 1: a condition is a label (a string) or a feature vector (a "
                             f"sequence of numbers), got {type(conditions[0]).__name__} {_shown(conditions[0])}")
    kind = "a label (a string)" if labelled else "a feature vector (a sequence of numbers)"
    bad = next((i for i, c in enumerate(conditions, start=1)
                if isinstance(c, str) != labelled or not (labelled or _is_vector(c))), None)
    if bad is not None:
        c = conditions[bad - 1]
        raise InputTypeError(f"{what}: example {bad}: {kind} as example 1's, got {type(c).__name__} {_shown(c)}")
    if labelled:
        for i, c in enumerate(conditions, start=1):
            check_label(c, f"{what}: example {i}")
        return ConditionalData(texts, conditions)
    odd = next((i for i, c in enumerate(conditions, start=1) if len(c) != len(conditions[0])), None)
    if odd is not None:
        raise ConfigError(f"{what}: example {odd}: a vector of dimension {len(conditions[odd - 1])}, but example 1's "
                          f"is of dimension {len(conditions[0])}")
    return ConditionalData(texts, vectors(conditions, what))


def _is_vector(c) -> bool:
    if isinstance(c, (str, bytes)) or not isinstance(c, (Sequence, np.ndarray)):
        return False
    return np.ndim(c) == 1 and len(c) > 0 and all(isinstance(x, (int, float, np.number)) and not isinstance(x, bool)
                                                  for x in c)


def _shown(c) -> str:
    r = repr(c)
    return r if len(r) <= 40 else r[:37] + "..."


__all__ = ["ConditionalGenerator"]
