"""Readers of the sequence-task data: CoNLL-U, CoNLL column files, SST/MR, Multi30k."""

from __future__ import annotations

from collections import Counter

import pytest

from lmlab.data.columns import TaggedSentence, conll2000, read_columns
from lmlab.data.conllu import read_conllu, ud_english_ewt
from lmlab.data.parallel import multi30k, read_parallel
from lmlab.data.tasks import classification_task, folds, mr_examples, stratified_folds, tagging_task
from lmlab.errors import ConfigError, CorpusError, DataFormatError

T = "\t"


def conllu_line(*fields: str) -> str:
    return T.join(fields)


SNIPPET = "\n".join([
    "# sent_id = s1",
    "# text = I don't know.",
    conllu_line("1", "I", "I", "PRON", "PRP", "_", "4", "nsubj", "_", "_"),
    conllu_line("2-3", "don't", "_", "_", "_", "_", "_", "_", "_", "_"),
    conllu_line("2", "do", "do", "AUX", "VBP", "_", "4", "aux", "_", "_"),
    conllu_line("3", "n't", "not", "PART", "RB", "_", "4", "advmod", "_", "_"),
    conllu_line("4", "know", "know", "VERB", "VB", "_", "0", "root", "_", "_"),
    conllu_line("4.1", "know", "know", "VERB", "VB", "_", "_", "_", "4:conj", "CopyOf=4"),
    conllu_line("5", ".", ".", "PUNCT", ".", "_", "4", "punct", "_", "_"),
    "",
    "# sent_id = s2",
    conllu_line("1", "Yes", "yes", "INTJ", "_", "_", "0", "root", "_", "_"),
    "",
]) + "\n"


def write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_text(text, encoding=encoding)
    return p


def test_conllu_snippet_multiword_token_and_empty_node(tmp_path):
    s1, s2 = read_conllu(write(tmp_path, "a.conllu", SNIPPET))
    assert s1.words == ("I", "do", "n't", "know", ".")  # the parts of "don't", no "4.1"
    assert s1.upos == ("PRON", "AUX", "PART", "VERB", "PUNCT")
    assert s1.xpos == ("PRP", "VBP", "RB", "VB", ".")
    assert s1.surface == ("I", "don't", "know", ".")
    assert (s1.sent_id, s1.line, s1.n_multiword, s1.n_empty) == ("s1", 1, 1, 1)
    assert (s2.words, s2.upos, s2.xpos, s2.line) == (("Yes",), ("INTJ",), ("_",), 11)
    # the last sentence needs no final blank line
    assert len(read_conllu(write(tmp_path, "b.conllu", SNIPPET.rstrip("\n")))) == 2


@pytest.mark.parametrize(("line_no", "replacement", "message"), [
    (3, "1\tI\tI\tPRON", "line 3: expected 10 tab-separated fields .* found 4"),
    (5, conllu_line("3", "do", "do", "AUX", "VBP", "_", "4", "aux", "_", "_"), "line 5: expected word ID 2 .* found 3"),
    (4, conllu_line("2-2", "don't", *["_"] * 8), "line 4: expected a multiword token range 2-N"),
    (7, conllu_line("x", "know", *["_"] * 8), "line 7: expected an ID"),
    (9, "   ", "line 9: expected an empty line between sentences"),
])
def test_conllu_broken_line_named(tmp_path, line_no, replacement, message):
    lines = SNIPPET.split("\n")
    lines[line_no - 1] = replacement
    path = write(tmp_path, "bad.conllu", "\n".join(lines))
    with pytest.raises(DataFormatError, match=f"bad.conllu: {message}"):
        read_conllu(path)


def test_conllu_range_without_its_words(tmp_path):
    text = "\n".join([conllu_line("1", "a", *["_"] * 8), conllu_line("2-3", "bc", *["_"] * 8),
                      conllu_line("2", "b", "_", "X", *["_"] * 6), "", ""])
    with pytest.raises(DataFormatError, match="line 2: a multiword token covering words up to 3"):
        read_conllu(write(tmp_path, "r.conllu", text))


@pytest.fixture(scope="module")
def ewt_train(data_root):
    return read_conllu(data_root / "ud-english-ewt" / "en_ewt-ud-train.conllu")


def test_ud_english_ewt_counts_equal_the_manifest(ewt_train):
    # MANIFEST.md / the treebank's stats.xml: sentences, syntactic words, surface tokens
    expected = {"dev": (2001, 25147, 24787), "test": (2077, 25094, 24740)}
    got = {split: ud_english_ewt(split, "upos") for split in expected}
    for split, (n_sent, n_words, _) in expected.items():
        assert (len(got[split]), sum(len(s.words) for s in got[split])) == (n_sent, n_words)
        assert all(len(s.words) == len(s.tags) for s in got[split])
    train = ewt_train
    assert (len(train), sum(len(s.words) for s in train), sum(len(s.surface) for s in train)) == \
        (12544, 204577, 201962)
    assert sum(s.n_multiword for s in train) == 2614 and sum(s.n_empty for s in train) == 37
    assert len({t for s in got["test"] for t in s.tags}) == 17
    xpos = tagging_task("ud-english-ewt", "test", "xpos")
    assert len({t for s in xpos for t in s.tags}) > 40  # PTB tags, not the 17 UPOS
    assert [s.words for s in xpos] == [s.words for s in got["test"]]


COLUMNS = """-DOCSTART- -X- -X- O

EU NNP B-NP I-ORG
rejects VBZ B-VP O
German JJ B-NP I-MISC
call NN I-NP O

Peter NNP B-NP I-PER
Blackburn NNP I-NP I-PER
"""


def test_column_file_columns_docstart_and_schemes(tmp_path):
    p = write(tmp_path, "ner.txt", COLUMNS)
    s1, s2 = read_columns(p)  # word column 1, label column -1 (the last)
    assert s1 == TaggedSentence(("EU", "rejects", "German", "call"), ("I-ORG", "O", "I-MISC", "O"), 3)
    assert s2.words == ("Peter", "Blackburn") and s2.line == 8
    assert read_columns(p, label_column=3)[0].tags == ("B-NP", "B-VP", "B-NP", "I-NP")
    assert read_columns(p, label_column=-2) == read_columns(p, label_column=3)
    assert read_columns(p, word_column=2, label_column=1)[1] == TaggedSentence(("NNP", "NNP"), ("Peter", "Blackburn"),
                                                                              8)
    conv = read_columns(p, scheme="iob1", to_scheme="iob2")
    assert conv[0].tags == ("B-ORG", "O", "B-MISC", "O") and conv[1].tags == ("B-PER", "I-PER")
    assert read_columns(p, scheme="iob1", to_scheme="iobes")[1].tags == ("B-PER", "E-PER")


def test_a_conllu_file_of_your_own_is_a_column_file_of_syntactic_words(tmp_path):
    """--train my.conllu --word_column 2 --label_column 4: the CoNLL-U reader's words (comments,
    multiword ranges and empty nodes handled), the column's tags; the same columns counted from the end."""
    p = write(tmp_path, "mine.conllu", SNIPPET)
    s1, s2 = read_columns(p, word_column=2, label_column=4)
    assert s1 == TaggedSentence(("I", "do", "n't", "know", "."), ("PRON", "AUX", "PART", "VERB", "PUNCT"), 1)
    assert s2.words == ("Yes",) and s2.tags == ("INTJ",)
    assert read_columns(p, word_column=2, label_column=-6)[0].tags == ("PRP", "VBP", "RB", "VB", ".")  # XPOS
    assert read_columns(p, word_column=-9, label_column=-7) == [s1, s2]
    assert read_columns(p) == [s1, s2]  # a .conllu file's defaults: FORM and UPOS (not 1, -1: ID and MISC)
    with pytest.raises(ConfigError, match=r"mine.conllu: --word_column 1 is not a CoNLL-U column a tagger reads; "
                                          r"they are 2 \(FORM\), 3 \(LEMMA\), 4 \(UPOS\)"):
        read_columns(p, word_column=1)
    with pytest.raises(DataFormatError, match=r"bad.conllu: line 1: expected 10 tab-separated fields"):
        read_columns(write(tmp_path, "bad.conllu", "a X B-NP\n"), word_column=2, label_column=4)


def test_words_are_never_read_as_their_own_tags(tmp_path):
    """A one-column file (words only), or both options naming one column, would train a tagger whose
    tags are its words: an error naming the file and the column, never a model."""
    words = write(tmp_path, "words.txt", "EU\nrejects\n\nPeter\n")
    with pytest.raises(ConfigError, match=r"words.txt: --word_column 1 and --label_column -1 are the same column "
                                          r"\(1 of its 1\): the words would be their own tags"):
        read_columns(words)
    with pytest.raises(ConfigError, match=r"ner.txt: --word_column 4 and --label_column -1 are the same column \(4 of its 4\)"):
        read_columns(write(tmp_path, "ner.txt", COLUMNS), word_column=4)
    with pytest.raises(ConfigError, match=r"u.conllu: --word_column 4 and --label_column -7 are the same column"):
        read_columns(write(tmp_path, "u.conllu", SNIPPET), word_column=4, label_column=-7)


def test_column_file_errors_name_the_line(tmp_path):
    p = write(tmp_path, "bad.txt", "a X B-NP\nb X\n")
    with pytest.raises(DataFormatError, match=r"bad.txt: line 2: expected 3 whitespace-separated columns "
                                              r"\(as on line 1\), found 2"):
        read_columns(p)
    p = write(tmp_path, "s.txt", "a B-NP\nb S-NP\n")
    with pytest.raises(DataFormatError, match="s.txt: line 2: tag 'S-NP' is not an IOB2 chunk tag"):
        read_columns(p, scheme="iob2")
    with pytest.raises(ConfigError, match="needs the file's own scheme"):
        read_columns(p, to_scheme="iobes")
    with pytest.raises(ConfigError, match="counts columns from 1"):
        read_columns(p, word_column=0)
    with pytest.raises(ConfigError, match="--label_column 5 is out of range: its lines have 2 columns"):
        read_columns(p, label_column=5)


def test_conll2000_counts(data_root):
    train, test = conll2000("train"), conll2000("test")
    assert (len(train), sum(len(s.words) for s in train)) == (8936, 211727)
    assert (len(test), sum(len(s.words) for s in test)) == (2012, 47377)
    assert test[0].tags[:3] == ("B-NP", "I-NP", "I-NP") and test[0].words[0] == "Rockwell"
    assert conll2000("test", labels="pos")[0].tags[0] == "NNP"


def test_sst_splits_and_labels(data_root):
    counts = {("sst2", "train"): 6920, ("sst2", "dev"): 872, ("sst2", "test"): 1821,
              ("sst5", "train"): 8544, ("sst5", "valid"): 1101, ("sst5", "test"): 2210}
    for (name, split), n in counts.items():
        rows = classification_task(name, split)
        assert len(rows) == n
    assert Counter(label for label, _ in classification_task("sst5", "test")) == \
        {"0": 279, "1": 633, "2": 389, "3": 510, "4": 399}


def test_stratified_folds_partition_by_hand():
    labels = list("aababbbaac")
    parts = stratified_folds(labels, 3)
    assert sorted(i for f in parts for i in f) == list(range(10))
    # a: 0 1 3 7 8 -> folds 0 1 2 0 1; b: 2 4 5 6 -> 0 1 2 0; c: 9 -> 0
    assert parts == [[0, 2, 6, 7, 9], [1, 4, 8], [3, 5]]


def test_mr_folds_partition_fixed_and_balanced(data_root):
    rows = mr_examples()
    assert len(rows) == 10662 and rows[0] == ("0", "simplistic , silly and tedious .")
    assert any("clichés" in text for _, text in rows)  # Latin-1 file decoded, not mojibake
    parts = folds(10)
    flat = [i for f in parts for i in f]
    assert len(parts) == 10 and len(flat) == len(set(flat)) == len(rows)  # a partition
    assert folds(10) == parts  # fixed
    for f in parts:
        per_label = Counter(rows[i][0] for i in f)
        assert set(per_label.values()) <= {533, 534}  # 5,331 of each label over 10 folds
    test3, train3 = classification_task("mr", "test", fold=3), classification_task("mr", "train", fold=3)
    assert len(test3) + len(train3) == len(rows) and test3 == [rows[i] for i in parts[3]]
    with pytest.raises(ConfigError, match=r"mr has no fixed split: .* test fold 0..9 \(--fold K; fold=K from Python\)"):
        classification_task("mr", "train")
    with pytest.raises(ConfigError, match="fold= is only for mr"):
        classification_task("sst2", "train", fold=1)


def test_multi30k_pairs(data_root):
    sizes = {"train": 29000, "val": 1014, "test": 1000}
    for split, n in sizes.items():
        assert len(multi30k(split)) == n
    src, tgt = multi30k("test", "en", "de")[0]
    assert src == "a man in an orange hat starring at something ."
    de_en = multi30k("test_2016_flickr", source="de", target="en")[0]
    assert de_en == (tgt, src)
    raw_src, _ = multi30k("test", tokenized=False)[0]
    assert raw_src == "A man in an orange hat starring at something."
    with pytest.raises(ConfigError, match="--source 'fr' is not one"):
        multi30k("test", "fr", "de")


def test_parallel_files_of_different_lengths(tmp_path):
    a, b = write(tmp_path, "s.en", "a\nb\nc\n"), write(tmp_path, "t.de", "x\ny\n")
    with pytest.raises(CorpusError, match=r"s.en has 3 lines but .*t.de has 2"):
        read_parallel(a, b)
    assert read_parallel(a, write(tmp_path, "u.de", "x\n\nz\n")) == [("a", "x"), ("b", ""), ("c", "z")]
