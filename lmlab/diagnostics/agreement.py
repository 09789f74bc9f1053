"""Subject-verb number agreement on real English (Linzen et al. 2016), built from UD treebanks.

**The cases.**  For each word whose relation is ``nsubj`` (the nominal subject of an active
clause), that is a noun (``NOUN`` or ``PROPN``) and whose ``Number`` is marked (``Sing`` or
``Plur``), the *number-bearing verb* is the first word after the subject among its head and the
head's ``aux`` and ``cop`` children (``the books are read``: the head is *read*, the verb that
agrees is the ``aux`` *are*) that shows number: a present-tense finite verb (``VBZ``/``VBP``) or
*was*/*were*.  A case whose verb disagrees with its subject in the treebank (web text has typos)
is left out and counted.  The *wrong form* is the same verb with the other number:

* *be*, *have*, *do* by a fixed table (is/are, was/were, 's/'re, has/have, does/do);
* any other lemma: the most frequent form of that lemma with the other tag (``VBZ`` <-> ``VBP``)
  in the treebanks read, else the ``-s`` rule (goes/go, tries/try, watches/watch, sees/see).

The *intervening words* are the words strictly between subject and verb; the *attractors* are
the nouns (``NOUN``/``PROPN``) among them whose ``Number`` is the other one.

**The prefix** is the sentence's words before the verb, normalised as the model's training text
(``ptb``: lower case, a number -> ``N``, other digits -> ``N``, punctuation dropped, as Mikolov's
PTB; ``none``: as written).

**The evaluation** (:func:`evaluate`) compares P(correct form) with P(wrong form) after the
prefix (from ``<s>``) for any :class:`~lmlab.models.base.LanguageModel`; a case where either form
is outside the model's vocabulary is not scored for that model and is counted.  Accuracy is
bucketed by attractors and by intervening words, with Wilson 95% intervals.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields

from ..data.conllu import ConlluSentence, read_conllu
from ..errors import ConfigError
from ..eval.metrics import wilson_interval
from ..models.base import LanguageModel
from ..text.specials import UNK_ID
from .normalize import NORMALIZATIONS, normalize_words

SUBJECT_RELATIONS = ("nsubj",)
SUBJECT_UPOS = ("NOUN", "PROPN")
VERB_CHILDREN = ("aux", "cop")  # (and their subtypes, aux:pass)
NUMBER_TAGS = {"VBZ": "Sing", "VBP": "Plur"}
PAST_BE = {"was": "Sing", "were": "Plur"}
FIXED = {"is": "are", "are": "is", "was": "were", "were": "was", "'s": "'re", "'re": "'s",
         "has": "have", "have": "has", "does": "do", "do": "does"}
FIXED_LEMMAS = ("be", "have", "do")


@dataclass(frozen=True)
class AgreementCase:
    sent_id: str
    line: int  # of the sentence in its CoNLL-U file
    subject: str
    subject_index: int  # word positions from 0
    number: str  # Sing / Plur
    verb: str  # the correct form, as in the sentence (lower case)
    verb_index: int
    verb_relation: str  # head, aux, aux:pass or cop
    wrong: str  # the form with the other number
    wrong_source: str  # table, data or rule
    intervening: int
    attractors: int
    prefix: str  # normalised words before the verb, space-separated

    @property
    def prefix_words(self) -> list[str]:
        return self.prefix.split()


@dataclass
class Build:
    cases: list[AgreementCase]
    sentences: int
    subjects: int  # nominal subjects with a marked number
    disagreeing: int  # left out: the treebank's verb has the other number
    no_wrong_form: int  # left out: no other-number form to trust (see _wrong_form)

    def summary(self) -> str:
        one = sum(c.attractors == 1 for c in self.cases)
        more = sum(c.attractors >= 2 for c in self.cases)
        heads = sum(c.verb_relation == "head" for c in self.cases)
        return (f"{len(self.cases)} agreement cases from {self.sentences} sentences ({heads} with the head as the "
                f"verb, {len(self.cases) - heads} an aux/cop child; {one} with one attractor, {more} with two or "
                f"more); left out: {self.disagreeing} whose verb disagrees in the treebank, {self.no_wrong_form} "
                "with no wrong form to trust")

    def explain_empty(self) -> str:
        return (f"no agreement cases in {self.sentences} sentences: {self.subjects} noun subjects (nsubj) with a "
                f"marked Number ({self.disagreeing} with a disagreeing verb); a case needs a present-tense verb "
                "or was/were after the subject, as its head or the head's aux/cop")


def _fine(x: str) -> str:
    return x.split(":")[0]


def s_rule(form: str, to: str) -> str:
    """The other number of a regular present-tense verb: ``to`` "Plur" strips -s, "Sing" adds it.

    >>> [s_rule(w, "Plur") for w in ("goes", "tries", "watches", "sees", "runs", "raises", "buzzes")]
    ['go', 'try', 'watch', 'see', 'run', 'raise', 'buzz']
    >>> [s_rule(w, "Sing") for w in ("go", "try", "watch", "see", "run", "play", "buzz")]
    ['goes', 'tries', 'watches', 'sees', 'runs', 'plays', 'buzzes']
    """
    if to == "Plur":
        if re.search(r"[^aeiou]ies\Z", form):
            return form[:-3] + "y"
        if re.search(r"(ch|sh|ss|x|zz|[^aeiou]o)es\Z", form):
            return form[:-2]
        return form[:-1] if form.endswith("s") else form
    if re.search(r"[^aeiou]y\Z", form):
        return form[:-1] + "ies"
    if re.search(r"(ch|sh|ss|x|zz|[^aeiou]o)\Z", form):
        return form + "es"
    return form + "s"


def verb_forms(sentences: Iterable[ConlluSentence]) -> dict[tuple[str, str], Counter]:
    """(lemma, number) -> Counter of the lower-cased forms tagged VBZ (Sing) or VBP (Plur)."""
    table: dict[tuple[str, str], Counter] = {}
    for s in sentences:
        for w, lemma, x in zip(s.words, s.lemmas, s.xpos, strict=True):
            if x in NUMBER_TAGS:
                table.setdefault((lemma.lower(), NUMBER_TAGS[x]), Counter())[w.lower()] += 1
    return table


def _wrong_form(form: str, lemma: str, number: str, forms) -> tuple[str, str] | None:
    """(wrong form, where it came from), or None where there is none to trust: a form of *be*,
    *have* or *do* outside the table (``ai`` of *ain't*) or a form that is not a word (```s``)."""
    other = "Plur" if number == "Sing" else "Sing"
    if form in FIXED and (lemma in FIXED_LEMMAS or form in PAST_BE):
        return FIXED[form], "table"
    if lemma in FIXED_LEMMAS or not form.isalpha():
        return None
    seen = [f for f, _ in forms.get((lemma, other), Counter()).most_common() if f != form]
    if seen:
        return seen[0], "data"
    return s_rule(form, other), "rule"


def _number_of(s: ConlluSentence, j: int) -> str | None:
    if s.xpos[j] in NUMBER_TAGS:
        return NUMBER_TAGS[s.xpos[j]]
    return PAST_BE.get(s.words[j].lower()) if s.lemmas[j].lower() == "be" else None


def build_cases(sentences: Sequence[ConlluSentence], normalize: str = "ptb") -> Build:
    """The agreement cases of ``sentences`` (see the module docstring)."""
    if normalize not in NORMALIZATIONS:
        raise ConfigError(f"normalisation {normalize!r} is not one of {', '.join(NORMALIZATIONS)}")
    forms = verb_forms(sentences)
    cases: list[AgreementCase] = []
    subjects = disagreeing = no_form = 0
    for s in sentences:
        children: dict[int, list[int]] = {}
        for j, (h, rel) in enumerate(zip(s.heads, s.deprels, strict=True)):
            if _fine(rel) in VERB_CHILDREN:
                children.setdefault(h - 1, []).append(j)
        for i, rel in enumerate(s.deprels):
            if rel not in SUBJECT_RELATIONS or s.upos[i] not in SUBJECT_UPOS:
                continue
            number = s.features(i).get("Number")
            if number not in ("Sing", "Plur") or s.heads[i] < 1:
                continue
            subjects += 1
            head = s.heads[i] - 1
            verb = next((j for j in sorted([head, *children.get(head, [])]) if j > i and _number_of(s, j)), None)
            if verb is None:
                continue
            if _number_of(s, verb) != number:
                disagreeing += 1
                continue
            form = s.words[verb].lower()
            wrong = _wrong_form(form, s.lemmas[verb].lower(), number, forms)
            if wrong is None:
                no_form += 1
                continue
            wrong, source = wrong
            between = range(i + 1, verb)
            attractors = sum(s.upos[j] in SUBJECT_UPOS and s.features(j).get("Number") not in (None, number)
                             for j in between)
            before = normalize_words(s.words[:verb], normalize, s.upos[:verb])
            cases.append(AgreementCase(s.sent_id, s.line, s.words[i], i, number, form, verb,
                                       "head" if verb == head else s.deprels[verb], wrong, source, len(between),
                                       attractors, " ".join(before)))
    return Build(cases, len(sentences), subjects, disagreeing, no_form)


def read_treebanks(paths: Sequence[str | os.PathLike]) -> list[ConlluSentence]:
    return [s for p in paths for s in read_conllu(p)]


# -- the cases file ----------------------------------------------------------------------------
COLUMNS = tuple(f.name for f in fields(AgreementCase))


def cases_tsv(cases: Sequence[AgreementCase]) -> str:
    """The cases as a TSV a user can read (one header line, one case a line)."""
    rows = ["\t".join(COLUMNS)]
    rows += ["\t".join(str(v) for v in asdict(c).values()) for c in cases]
    return "\n".join(rows) + "\n"


# -- evaluation ----------------------------------------------------------------------------------
ATTRACTOR_BUCKETS = ((0, 0), (1, 1), (2, 2), (3, None))
INTERVENING_BUCKETS = ((0, 0), (1, 1), (2, 2), (3, 4), (5, 9), (10, None))


def _bucket_name(lo: int, hi: int | None) -> str:
    return f"{lo}+" if hi is None else str(lo) if lo == hi else f"{lo}-{hi}"


def score_cases(lm: LanguageModel, cases: Sequence[AgreementCase]) -> list[bool | None]:
    """Per case: P(correct) > P(wrong) after the prefix, or None where either form is out of the
    model's vocabulary (``<unk>``) or the model's scores are equal."""
    vocab = lm.vocab
    out: list[bool | None] = [None] * len(cases)
    seqs, index = [], []
    for n, c in enumerate(cases):
        good, bad = vocab.lookup(c.verb), vocab.lookup(c.wrong)
        if UNK_ID in (good, bad) or good == bad:
            continue
        prefix = [vocab.lookup(w) for w in c.prefix_words]
        seqs += [[*prefix, good], [*prefix, bad]]
        index.append(n)
    if seqs:
        lps = lm.corpus_token_logprobs(seqs)
        for k, n in enumerate(index):
            a, b = lps[2 * k][-2], lps[2 * k + 1][-2]  # (the last entry is </s>)
            out[n] = None if a == b else bool(a > b)
    return out


def evaluate(model: str, lm: LanguageModel, cases: Sequence[AgreementCase]) -> list[dict]:
    """Records per bucket (``all``, by ``attractors``, by ``intervening`` words): cases scored,
    correct, accuracy and its Wilson 95% interval; ``not_scored`` counts cases left out."""
    results = score_cases(lm, cases)
    groups = [("all", "all", lambda c: True)]
    groups += [("attractors", _bucket_name(lo, hi), _within("attractors", lo, hi)) for lo, hi in ATTRACTOR_BUCKETS]
    groups += [("intervening", _bucket_name(lo, hi), _within("intervening", lo, hi))
               for lo, hi in INTERVENING_BUCKETS]
    records = []
    for kind, name, test in groups:
        mine = [r for c, r in zip(cases, results, strict=True) if test(c)]
        scored = [r for r in mine if r is not None]
        right = sum(scored)
        low, high = wilson_interval(right, len(scored))
        records.append({"model": model, "bucket_kind": kind, "bucket": name, "cases": len(scored),
                        "correct": right, "accuracy": right / len(scored) if scored else None,
                        "ci_low": low, "ci_high": high, "not_scored": len(mine) - len(scored)})
    return records


def _within(attr: str, lo: int, hi: int | None):
    return lambda c: getattr(c, attr) >= lo and (hi is None or getattr(c, attr) <= hi)
