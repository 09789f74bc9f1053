"""``SequenceTagger``: a tagger (many-to-many: a tag per token) from Python, the model ``lmlab train
--kind tag`` trains, with ``fit``/``predict``/``evaluate``/``save``/``load``::

    from lmlab import SequenceTagger
    tagger = SequenceTagger(nhid=64, crf=True).fit("ud-english-ewt", labels="upos", epochs=3)
    tagger.predict(["The cat sat .", ["A", "dog", "ran"]])   # [["DET", "NOUN", "VERB", "PUNCT"], [...]]
    tagger.evaluate("ud-english-ewt", split="test")["accuracy"]

Data is a named dataset (``"ud-english-ewt"`` with ``labels="upos"|"xpos"``, ``"conll2000"``) or
a list of ``(words, tags)`` pairs (each a list of strings, or a whitespace-separated string), or
:class:`~lmlab.data.columns.TaggedSentence` objects (``lmlab.data.columns.read_columns`` of a
file).  ``scheme="iob1"|"iob2"|"iobes"`` says in-memory tags are chunks: span F1 (conlleval) is
then the dev metric and in the report.
"""

from __future__ import annotations

from ..errors import CorpusError
from ..text.inputs import sentences_of
from ..train.tag_run import TagSettings
from .base import TaskModelAPI, named, no_dataset_option, pairs_of, tokens_of


class SequenceTagger(TaskModelAPI):
    """A tagger; the constructor's keywords are ``lmlab train --kind tag``'s model options, with
    their defaults (see :class:`lmlab.train.tag_run.TagSettings`)."""

    kind = "tag"
    settings_class = TagSettings

    def fit(self, train, dev=None, *, labels: str | None = None, scheme: str | None = None, save=None,
            overwrite: bool = False, quiet: bool = False, **options) -> SequenceTagger:
        """Train on ``train`` (a dataset name or ``(words, tags)`` pairs), choosing the best epoch
        on ``dev`` (default: the dataset's dev split, else the last 1000 training sentences);
        ``options``: the training options of :mod:`lmlab.api.base`.  Returns ``self``."""
        from ..train import tag_run

        name = named(train)
        if name is not None:
            no_dataset_option("a named dataset has its own chunk scheme", scheme=scheme)
            src = tag_run.source(name, labels)
        else:
            no_dataset_option("labels names a dataset's tag column; in-memory data brings its tags", labels=labels)
            src = tag_run.source(scheme=_scheme(scheme))
            train = sentences(train, "train", src["scheme"])
        if dev is not None:
            dev = sentences(dev, "dev", tag_run.scheme_of(src))
        train, dev = tag_run.splits(src, where="", give_dev="give dev=[(words, tags), ...]",
                                    train=None if name is not None else train, dev=dev)
        return self._fit(lambda folder, **kw: tag_run.start(train, self.settings, folder, scheme=tag_run.scheme_of(src),
                                                             source=src, **kw),
                         lambda trainer: (tag_run.training_data(train, trainer.vocabs), dev), save, overwrite,
                         quiet, options)

    def predict(self, sentences, *, batch_size: int = 64) -> list[list[str]]:
        """The tags of each sentence (a list of words, or a whitespace-separated string), in order;
        a sentence without words gets no tags."""
        from ..text.inputs import sentences_tokens

        model = self._trained("predict")
        return model.tag(sentences_tokens(sentences, str.split), batch_size=batch_size, device=self.device)

    def evaluate(self, data, *, split: str = "test", labels: str | None = None, scheme: str | None = None,
                 batch_size: int = 64) -> dict:
        """The report of ``lmlab evaluate --json``: token accuracy, macro F1, per-tag precision,
        recall and F1, unseen gold tags counted; span figures (conlleval) for chunk tags
        (conll2000's chunks, or ``scheme``).  ``labels`` defaults to the ones trained on, and
        ``scheme`` for in-memory data to the one trained with."""
        from ..data.tasks import tagging_task
        from ..eval.tagging import evaluate_tagger
        from ..train import tag_run

        model = self._trained("evaluate")
        name = named(data)
        if name is not None:
            if labels is None and self.source is not None and isinstance(self.source.get("labels"), str):
                labels = self.source["labels"]
            scheme = tag_run.chunk_scheme(name, labels) if scheme is None else _scheme(scheme)
            test = tagging_task(name, split, labels, scheme)
        else:
            no_dataset_option("labels names a dataset's tag column; in-memory data brings its tags", labels=labels)
            scheme = tag_run.scheme_of(self.source) if scheme is None else _scheme(scheme)
            test = sentences(data, "data", scheme)
        return evaluate_tagger(model, test, scheme=scheme, batch_size=batch_size, device=self.device)


def _scheme(scheme: str | None) -> str | None:
    from ..data.tagschemes import check_scheme

    return None if scheme is None else check_scheme(scheme)


def sentences(data, what: str, scheme: str | None = None) -> list:
    """In-memory tagged sentences as ``(words, tags)`` pairs (TaggedSentence objects kept), each
    checked: as many tags as words, and with ``scheme`` every tag a chunk tag of it."""
    from ..data.tagschemes import check_tag
    from ..errors import ConfigError

    items = list(sentences_of(data, what))
    if items and all(hasattr(s, "words") and hasattr(s, "tags") for s in items):
        pairs = [(s.words, s.tags) for s in items]
    else:
        pairs = pairs_of(items, what, "words, tags")
    out = []
    for i, (w, t) in enumerate(pairs, start=1):
        words, tags = tokens_of(w, f"{what}: sentence {i}: words"), tokens_of(t, f"{what}: sentence {i}: tags")
        if len(words) != len(tags):
            raise CorpusError(f"{what}: sentence {i}: {len(words)} words but {len(tags)} tags")
        if scheme is not None:
            for j, tag in enumerate(tags, start=1):
                try:
                    check_tag(tag, scheme)
                except ConfigError as exc:
                    raise ConfigError(f"{what}: sentence {i}, word {j}: {exc}") from None
        out.append((words, tags))
    if not any(out_words for out_words, _ in out):
        raise CorpusError(f"{what}: no sentence has words")
    return out
