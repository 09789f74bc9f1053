"""What the Python API's task models share (:class:`~lmlab.api.tagger.SequenceTagger`,
:class:`~lmlab.api.classifier.TextClassifier`, :class:`~lmlab.api.translator.Translator`,
:class:`~lmlab.api.generator.ConditionalGenerator`):
the hyper-parameters, ``fit`` through the same run as ``lmlab train --kind K``
(:mod:`lmlab.train.runs`), the trained model, ``save``/``load`` over the CLI's model folder, and
the checks of in-memory data.

``fit(train, dev=None, *, save=None, overwrite=False, quiet=False, **options)``: ``options`` are
``lmlab train``'s training options with the kind's defaults -- ``epochs``, ``lr``, ``optimizer``,
``clip``, ``batch_size``, ``patience``, ``seed``, ``threads``, ``max_batches``, ``dry_run``,
``device``.  ``save``: the run's folder, exactly as ``lmlab train --save`` writes it (resumable
with ``lmlab train --resume``); without it the run goes to a temporary folder, removed after.
Either way the model kept is the best epoch's (the one in the folder's ``model.safetensors``).

``save(path)`` writes the model's files (``config.json``, its vocabularies and label sets,
``model.safetensors``): ``lmlab predict``/``translate``/``evaluate`` and ``load`` read them.  The
run's record (``trainer_state.json``, for ``--resume``) is what ``fit(save=...)`` writes.
This module imports no torch (``fit`` and ``load`` do).
"""

from __future__ import annotations

import dataclasses
import inspect
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from ..errors import ConfigError, CorpusError, InputTypeError, NotFittedError
from ..text.inputs import sentence_tokens, sentences_of


class TaskModelAPI:
    """Base class of the API's task models (see the module docstring)."""

    kind: ClassVar[str]  # the checkpoint kind (lmlab.models.neural.kinds)
    settings_class: ClassVar[type]

    def __init__(self, **settings):
        known = [f.name for f in dataclasses.fields(self.settings_class)]
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise ConfigError(f"{type(self).__name__}: unknown hyper-parameter{'s' * (len(unknown) > 1)} "
                              f"{', '.join(unknown)} (known: {', '.join(known)})")
        s = self.settings_class(**settings)
        problems = s.problems()
        if problems:
            raise ConfigError(problems)
        self.settings = s
        self.model = None
        self.vocabs: dict = {}
        self.config: dict = {}
        self.source: dict | None = None  # the data the model was trained on, as its run recorded it
        self.history: list[dict] = []
        self.device = "cpu"

    def __repr__(self) -> str:
        what = "untrained" if self.model is None else f"trained, {len(self.history)} epochs" if self.history \
            else "loaded"
        settings = self.settings.as_dict() if self.settings is not None else self.config
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in settings.items())}) [{what}]"

    def __init_subclass__(cls, **kw):
        """The constructor's signature is the kind's hyper-parameters (``help()`` shows them)."""
        super().__init_subclass__(**kw)
        if "settings_class" in cls.__dict__:
            params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
            params += [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default)
                       for f in dataclasses.fields(cls.settings_class)]

            def __init__(self, **settings):
                TaskModelAPI.__init__(self, **settings)

            __init__.__signature__ = inspect.Signature(params)
            __init__.__doc__ = cls.settings_class.__doc__
            cls.__init__ = __init__

    # -- training ---------------------------------------------------------------------------
    def _fit(self, start: Callable[..., Any], data: Callable[[Any], tuple[Any, Any]], save, overwrite: bool,
             quiet: bool, options: dict):
        """Train: ``start(folder, **run_options)`` makes the trainer, ``data(trainer)`` gives its
        training and dev data; then the best epoch's model is the one held."""
        if self.settings is None:
            raise ConfigError(f"{type(self).__name__}.fit: a loaded model is not trained again here; continue its "
                              "run with lmlab train --resume --save FOLDER, or fit a new "
                              f"{type(self).__name__}(...)")
        if "progress" in options:
            raise ConfigError(f"{type(self).__name__}.fit: progress is said with quiet (quiet=True: no progress)")
        options = dict(options, progress=not quiet)
        device = options.get("device") or "cpu"

        def train(folder: Path):
            trainer = start(folder, overwrite=overwrite, quiet=quiet, **options)
            history = trainer.fit(*data(trainer))
            self._hold(folder, device)
            self.history = history
            return self

        if save is not None:
            return train(Path(save))
        with tempfile.TemporaryDirectory(prefix="lmlab-fit-") as tmp:
            return train(Path(tmp) / "model")

    def _hold(self, folder, device) -> None:
        from ..models.neural.checkpoint import load_checkpoint
        from ..train.runs import recorded_source

        self.model, self.vocabs, self.config = load_checkpoint(folder, device, kind=self.kind)
        self.source, self.device = recorded_source(folder), device

    def _trained(self, what: str):
        if self.model is None:
            name = type(self).__name__
            raise NotFittedError(f"{name}.{what}: the model is not trained yet; call fit(...) first, or "
                                 f"{name}.load(FOLDER)")
        return self.model

    # -- files ----------------------------------------------------------------------------
    def save(self, path, *, overwrite: bool = False) -> None:
        """Write the model folder (``config.json``, vocabularies, label sets, ``model.safetensors``);
        a folder that holds a model already only with ``overwrite`` (its old files are removed)."""
        from ..models.neural.checkpoint import save_checkpoint
        from ..train.run_folder import check_save_dir

        model = self._trained("save")
        folder = Path(path)
        check_save_dir(folder, overwrite)
        if folder.is_dir():
            for p in folder.iterdir():
                if p.is_file() and _model_file(p.name):
                    p.unlink()
        save_checkpoint(folder, model, self.vocabs, self.config)

    @classmethod
    def load(cls, path, device: str = "cpu"):
        """The model in a folder that ``lmlab train --kind K`` (or :meth:`save`) wrote; a checkpoint
        of another kind is an error naming both kinds."""
        obj = cls.__new__(cls)
        obj.settings, obj.history = None, []
        obj._hold(path, device)
        return obj


def _model_file(name: str) -> bool:
    """A file of a model folder or of its run (what ``save`` replaces)."""
    from ..models.neural.checkpoint import CONFIG, VOCAB, WEIGHTS
    from ..train.run_folder import LAST, LOG, OPTIM, STATE, STEPS

    vocab = name.endswith(".json") and name.count(".") == 2 and name.split(".")[0] in ("vocab", "labels")
    return vocab or name in (CONFIG, VOCAB, WEIGHTS, LAST, OPTIM, STATE, LOG, STEPS)


# -- in-memory data -------------------------------------------------------------------------
def pairs_of(data, what: str, names: str) -> list[tuple[Any, Any]]:
    """``data`` as a non-empty list of pairs (``names``: what a pair holds, for messages)."""
    items = list(sentences_of(data, what))
    if not items:
        raise CorpusError(f"{what}: no examples; give a list of ({names}) pairs")
    out = []
    for i, item in enumerate(items, start=1):
        if isinstance(item, (str, bytes)) or not isinstance(item, Sequence) or len(item) != 2:
            shown = repr(item) if len(repr(item)) <= 60 else repr(item)[:57] + "..."
            raise InputTypeError(f"{what}: item {i}: expected a ({names}) pair, got {shown}")
        out.append((item[0], item[1]))
    return out


def tokens_of(value, what: str) -> list[str]:
    """A sentence's tokens: a string split on whitespace, or a sequence of strings."""
    return sentence_tokens(value, str.split, what)


def check_label(label: str, where: str) -> str:
    """A label as lmlab's files hold it: one non-empty token (a ``LABEL TEXT`` line's first field).
    A label with spaces is refused: it is almost always a text, from pairs given the wrong way round."""
    if not label.strip():
        raise ConfigError(f"{where}: an empty label")
    if len(label.split()) > 1:
        raise ConfigError(f"{where}: the label {label[:60]!r} has spaces, but a label is one token (a LABEL TEXT "
                          "file's first field); examples are (text, label) pairs: were they given as (label, text)?")
    return label


def text_of(value, what: str) -> str:
    """A sentence as one line of whitespace-separated tokens (a token list is joined)."""
    return value if isinstance(value, str) else " ".join(tokens_of(value, what))


def lines_of(sentences: Iterable, what: str = "sentences") -> list[str]:
    """Sentences to predict for, each a string or a token list, as lines."""
    return [text_of(s, f"{what}: sentence {i}") for i, s in enumerate(sentences_of(sentences, what), start=1)]


def check_decoding(beam, alpha, max_len) -> None:
    problems = []
    if isinstance(beam, bool) or not isinstance(beam, int) or beam < 1:
        problems.append(f"beam must be an integer >= 1, got {beam!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha < float("inf"):
        problems.append(f"alpha must be a number >= 0, got {alpha!r}")
    if max_len is not None and (isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1):
        problems.append(f"max_len must be an integer >= 1 or None, got {max_len!r}")
    if not problems and alpha != 0 and beam == 1:  # as lmlab translate/evaluate/generate: --alpha needs --beam
        problems.append(f"alpha {alpha} has no effect with beam=1 (greedy decoding ranks nothing): give beam > 1")
    if problems:
        raise ConfigError(problems)


def named(data) -> str | None:
    """The dataset name when ``data`` is one (a string), else None (in-memory data)."""
    if isinstance(data, str):
        if not data:
            raise ConfigError("an empty dataset name")
        return data
    return None


def no_dataset_option(what: str, **given) -> None:
    """Options that name a part of a named dataset, refused with in-memory data."""
    bad = [k for k, v in given.items() if v is not None]
    if bad:
        raise ConfigError(f"{', '.join(f'{k}=' for k in bad)}: {what}")
