"""``Translator``: an encoder-decoder (sequence to sequence, with or without attention) from Python,
the model ``lmlab train --kind seq2seq`` trains, with ``fit``/``predict``/``evaluate``/``save``/``load``::

    from lmlab import Translator
    mt = Translator(attention="bahdanau").fit("multi30k", source="de", target="en", epochs=10)
    mt.predict(["ein mann fährt fahrrad ."], beam=5)      # ["a man rides a bike ."]
    mt.evaluate("multi30k", split="test", beam=5)["tokenized"]["score"]   # BLEU, with its signature

Data is ``"multi30k"`` (with ``source`` and ``target`` languages: the tokenised, lowercased files)
or a list of ``(source, target)`` pairs of tokenised sentences (strings split on whitespace, or
token lists).
"""

from __future__ import annotations

from ..train.seq2seq_run import Seq2SeqSettings
from .base import TaskModelAPI, check_decoding, lines_of, named, no_dataset_option, pairs_of, text_of


class Translator(TaskModelAPI):
    """An encoder-decoder; the constructor's keywords are ``lmlab train --kind seq2seq``'s model
    options, with their defaults (see :class:`lmlab.train.seq2seq_run.Seq2SeqSettings`)."""

    kind = "seq2seq"
    settings_class = Seq2SeqSettings

    def fit(self, train, dev=None, *, source: str | None = None, target: str | None = None, dev_metric: str = "ppl",
            save=None, overwrite: bool = False, quiet: bool = False, **options) -> Translator:
        """Train on ``train`` (``"multi30k"`` or ``(source, target)`` pairs), choosing the best
        epoch on ``dev`` (default: the dataset's dev split, else the last 1000 training pairs) by
        ``dev_metric`` (``ppl``: dev target perplexity; ``bleu``: greedy dev BLEU);
        ``options``: the training options of :mod:`lmlab.api.base`."""
        from ..train import seq2seq_run

        name = named(train)
        if name is not None:
            src = seq2seq_run.source(name, source or "en", target or "de")
            train = None
        else:
            no_dataset_option("source and target name multi30k's languages", source=source, target=target)
            src = seq2seq_run.source()
            train = sentence_pairs(train, "train")
        train, dev = seq2seq_run.splits(src, where="", give_dev="give dev=[(source, target), ...]", train=train,
                                        dev=None if dev is None else sentence_pairs(dev, "dev"))
        return self._fit(lambda folder, **kw: seq2seq_run.start(train, self.settings, folder, dev_metric=dev_metric,
                                                                 source=src, **kw),
                         lambda trainer: (train, dev), save, overwrite, quiet, options)

    def predict(self, sentences, *, beam: int = 1, alpha: float = 0.0, max_len: int | None = None,
                batch_size: int = 64) -> list[str]:
        """The best translation of each source sentence (a string or a token list) as a line of
        tokens, in order: greedy (``beam=1``) or beam search ranked by GNMT's length-normalised
        score (``alpha``); an empty sentence gives an empty line."""
        from ..generate.translate import best_translations

        model = self._trained("predict")
        check_decoding(beam, alpha, max_len)
        return best_translations(model, lines_of(sentences), beam=beam, alpha=alpha, max_len=max_len,
                                 batch_size=batch_size, device=self.device)

    def evaluate(self, data, *, split: str = "test", source: str | None = None, target: str | None = None,
                 beam: int = 1, alpha: float = 0.0, max_len: int | None = None, batch_size: int = 64) -> dict:
        """The report of ``lmlab evaluate --json``: sacrebleu's BLEU with its signature, ``-tok none``
        against the tokenised references and (multi30k) ``-lc`` on detokenised output against
        the raw ones.  multi30k's languages default to the ones trained on."""
        from ..data.parallel import multi30k
        from ..errors import ConfigError
        from ..train.seq2seq_run import bleu_of

        model = self._trained("evaluate")
        check_decoding(beam, alpha, max_len)
        name = named(data)
        if name is None:
            no_dataset_option("source and target name multi30k's languages", source=source, target=target)
            return bleu_of(model, sentence_pairs(data, "data"), beam=beam, alpha=alpha, max_len=max_len,
                           batch_size=batch_size, device=self.device)
        if name != "multi30k":
            raise ConfigError(f"unknown parallel dataset {name!r}; known: multi30k")
        recorded = self.source if self.source is not None and self.source.get("data") == "multi30k" else {}
        source, target = source or recorded.get("source"), target or recorded.get("target")
        if source is None or target is None:
            raise ConfigError("the model's run does not record multi30k languages: give source= and target=")
        pairs = multi30k(split, source, target)
        raw = [t for _, t in multi30k(split, source, target, tokenized=False)]
        return bleu_of(model, pairs, raw, lang=target, beam=beam, alpha=alpha, max_len=max_len, batch_size=batch_size,
                       device=self.device)


def sentence_pairs(data, what: str) -> list[tuple[str, str]]:
    """In-memory ``(source, target)`` pairs as lines of tokens; an empty source is an error, and in
    training pairs (``what`` "train") an empty target too."""
    from ..train.seq2seq_run import check_sources

    pairs = [(text_of(s, f"{what}: pair {i}: source"), text_of(t, f"{what}: pair {i}: target"))
             for i, (s, t) in enumerate(pairs_of(data, what, "source, target"), start=1)]
    check_sources(pairs, lambda i: f"{what}: pair {i}", (lambda i: f"{what}: pair {i}") if what == "train" else None)
    return pairs
