"""``TextClassifier``: a sentence classifier (many-to-one: a label per sentence) from Python, the
model ``lmlab train --kind classify`` trains, with ``fit``/``predict``/``evaluate``/``save``/``load``::

    from lmlab import TextClassifier
    clf = TextClassifier(pooling="mean").fit("sst2", epochs=3)
    clf.predict(["a gorgeous , witty film", "dull and far too long"])   # ["1", "0"]
    clf.evaluate("sst2", split="test")["accuracy"]

Data is a named dataset (``"sst2"``, ``"sst5"``, ``"mr"`` with ``fold=K``) or a list of ``(text,
label)`` pairs: the text a string (split on whitespace) or a token list, the label a string.
"""

from __future__ import annotations

from ..errors import ConfigError, InputTypeError
from ..train.classify_run import ClassifySettings
from .base import TaskModelAPI, check_label, lines_of, named, no_dataset_option, pairs_of, text_of


class TextClassifier(TaskModelAPI):
    """A sentence classifier; the constructor's keywords are ``lmlab train --kind classify``'s model
    options, with their defaults (see :class:`lmlab.train.classify_run.ClassifySettings`)."""

    kind = "classify"
    settings_class = ClassifySettings

    def fit(self, train, dev=None, *, fold: int | None = None, save=None, overwrite: bool = False,
            quiet: bool = False, **options) -> TextClassifier:
        """Train on ``train`` (a dataset name or ``(text, label)`` pairs), choosing the best epoch
        on ``dev`` (default: the dataset's dev split, else one tenth of the training examples of
        each label, held out); ``options``: the training options of :mod:`lmlab.api.base`."""
        from ..train import classify_run

        name = named(train)
        if name is not None:
            _check_fold(name, fold, needed=True)
            src = classify_run.source(name, fold)
            train = None
        else:
            no_dataset_option("fold is a test fold of mr's cross-validation", fold=fold)
            src = classify_run.source()
            train = examples(train, "train")
        train, dev = classify_run.splits(src, train=train, dev=None if dev is None else examples(dev, "dev"))
        return self._fit(lambda folder, **kw: classify_run.start(train, self.settings, folder, source=src, **kw),
                         lambda trainer: (train, dev), save, overwrite, quiet, options)

    def predict(self, texts, *, batch_size: int = 64) -> list[str | None]:
        """The label of each text (a string or a token list), in order; a text without tokens
        gets None."""
        return self._trained("predict").classify(lines_of(texts, "texts"), batch_size=batch_size, device=self.device)

    def evaluate(self, data, *, split: str = "test", fold: int | None = None, batch_size: int = 64) -> dict:
        """The report of ``lmlab evaluate --json``: accuracy, macro F1, per-class precision, recall
        and F1, the confusion matrix; gold labels training never saw are counted.  ``fold``
        (mr) defaults to the one trained with."""
        from ..data.tasks import classification_split
        from ..eval.classification import evaluate_classifier

        model = self._trained("evaluate")
        name = named(data)
        if name is not None:
            recorded = (self.source or {}).get("fold")
            if fold is None and isinstance(recorded, int) and not isinstance(recorded, bool):
                fold = recorded
            _check_fold(name, fold, needed=split == "test")
            test = classification_split(name, split, fold)
        else:
            no_dataset_option("fold is a test fold of mr's cross-validation", fold=fold)
            test = examples(data, "data")
        return evaluate_classifier(model, test, batch_size=batch_size, device=self.device)


def _check_fold(name: str, fold, needed: bool) -> None:
    from ..data.tasks import MR_FOLDS, TASKS

    if name not in TASKS:
        raise ConfigError(f"unknown classification dataset {name!r}; known: {', '.join(TASKS)}")
    if name != "mr":
        no_dataset_option(f"{name} has its own splits (fold is mr's)", fold=fold)
    elif fold is None:
        if needed:
            raise ConfigError(f"mr has no test split: give fold=K (0..{MR_FOLDS - 1}), the test fold of its "
                              "cross-validation")
    elif isinstance(fold, bool) or not isinstance(fold, int) or not 0 <= fold < MR_FOLDS:
        raise ConfigError(f"fold must be an integer 0..{MR_FOLDS - 1}, got {fold!r}")


def examples(data, what: str) -> list[tuple[str, str]]:
    """In-memory ``(text, label)`` pairs as the ``(label, text)`` pairs lmlab's readers give."""
    out = []
    for i, (text, label) in enumerate(pairs_of(data, what, "text, label"), start=1):
        if not isinstance(label, str):
            raise InputTypeError(f"{what}: example {i}: a label is a string, got {type(label).__name__} {label!r}; "
                                 f"give str(label) (predictions are strings too)")
        out.append((check_label(label, f"{what}: example {i}"), text_of(text, f"{what}: example {i}")))
    return out
