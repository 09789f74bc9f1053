"""One error hierarchy for lmlab.

Every error a user can cause (bad input, bad file, bad option) is an :class:`LmlabError`.
The CLI turns any of them into exit code 2 and a one-line message; library users can catch
the specific subclass.  Messages say what was found, where, and what was expected.
"""

from __future__ import annotations


class LmlabError(Exception):
    """Base class of every error lmlab raises on purpose."""


class ConfigError(LmlabError, ValueError):
    """An option or configuration value is invalid (lists every problem at once)."""

    def __init__(self, problems: list[str] | str):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class CorpusError(LmlabError, ValueError):
    """Training or evaluation text is unusable: empty, too small, or not valid UTF-8."""


class InvalidUTF8Error(CorpusError):
    """A text file holds bytes that are not valid UTF-8."""

    def __init__(self, path: str, line_no: int, byte_offset: int, detail: str):
        self.path, self.line_no, self.byte_offset = path, line_no, byte_offset
        super().__init__(
            f"{path}: line {line_no}: invalid UTF-8 at byte {byte_offset} of the file ({detail})"
        )


class ArpaFormatError(LmlabError, ValueError):
    """An ARPA file is malformed; names the line number, the line and what was expected."""

    def __init__(self, path: str, line_no: int, line: str, expected: str):
        self.path, self.line_no, self.line, self.expected = path, line_no, line, expected
        shown = line if len(line) <= 120 else line[:117] + "..."
        super().__init__(f"{path}: line {line_no}: {expected}; got {shown!r}")


class ModelFormatError(LmlabError, ValueError):
    """A model file (binary n-gram model, checkpoint) is truncated, tampered or of another format."""


class VocabMismatchError(LmlabError, ValueError):
    """Two objects that must share a vocabulary do not (different fingerprints)."""


class NotFittedError(LmlabError, RuntimeError):
    """A model was used before ``fit`` was called."""


class DiscountError(LmlabError, ValueError):
    """Modified Kneser-Ney discounts cannot be computed from the counts-of-counts."""


class NotNormalizedError(LmlabError, ValueError):
    """An operation needs probabilities but the model only gives unnormalised scores."""


class InputTypeError(LmlabError, TypeError):
    """An API argument of the wrong kind: e.g. a plain string where a sequence of sentences or of
    words is expected (it would be read as its characters)."""


class NotALanguageModelError(LmlabError, AttributeError):
    """An lmlab LanguageModel operation was asked of a model that has another contract (NltkLM)."""


class DataUnavailableError(LmlabError, FileNotFoundError):
    """A named dataset is not on disk and cannot be downloaded."""


class ChecksumError(LmlabError, ValueError):
    """A downloaded or cached file does not have the expected sha256."""


class TrainingDivergedError(LmlabError, RuntimeError):
    """The training loss became NaN or infinite."""


class DataFormatError(LmlabError, ValueError):
    """A data file (CoNLL-U, column file, parallel text) is malformed: names the file, the line
    number and what was expected there."""

    def __init__(self, path: str, line_no: int, expected: str, line: str | None = None):
        self.path, self.line_no, self.expected, self.line = str(path), line_no, expected, line
        got = ""
        if line is not None:
            got = f"; got {line if len(line) <= 120 else line[:117] + '...'!r}"
        super().__init__(f"{path}: line {line_no}: {expected}{got}")


class UnknownLabelError(LmlabError, ValueError):
    """A label (tag, class) that the label set was not built with: names the label."""


class KindMismatchError(ModelFormatError):
    """A checkpoint of one kind (``lm``, ``tag``, ...) was loaded as another."""
