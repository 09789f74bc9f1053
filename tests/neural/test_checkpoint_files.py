"""A model folder's files are checked on every load: the vocabulary against the fingerprint the
weights were saved with (issue 13 item 4), and every JSON file lmlab reads -- config.json,
vocab.json, trainer_state.json, a mixture file -- through one validating reader that names the
file and the problem in one line (item 10)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lmlab.cli.main import main  # noqa: E402
from lmlab.errors import ConfigError, LmlabError, ModelFormatError, VocabMismatchError  # noqa: E402
from lmlab.models.neural.adapter import TorchLM  # noqa: E402
from lmlab.models.neural.build import build_model  # noqa: E402
from lmlab.models.neural.checkpoint import read_tensors, save_model, save_tensors  # noqa: E402
from lmlab.models.neural.config import RNNLMConfig  # noqa: E402
from lmlab.text.vocab import Vocab  # noqa: E402
from lmlab.train.loop import TrainConfig, Trainer  # noqa: E402

LINES = ["the cat sat on the mat", "a dog saw the cat", "the dog sat", "a cat ran"] * 10
VOCAB = Vocab.build([s.split() for s in LINES])
CFG = RNNLMConfig(vocab_size=len(VOCAB), emsize=6, nhid=6, nlayers=1, dropout=0.0)


@pytest.fixture
def model_dir(tmp_path):
    torch.manual_seed(3)
    save_model(tmp_path / "m", build_model(CFG), CFG, VOCAB)
    (tmp_path / "t.txt").write_text("\n".join(LINES[:4]) + "\n")
    return tmp_path / "m"


def cli_error(capsys, argv) -> str:
    """Run the CLI; it must exit 2 with one line on stderr and no traceback.  Returns the line."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert err.count("\n") == 1 and err.endswith("\n") and "Traceback" not in err, err
    return err


def edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def swap_two_words(d):
    t = d["tokens"]
    i, j = t.index("cat"), t.index("dog")
    t[i], t[j] = t[j], t[i]


def scores(folder):
    lm = TorchLM.load(folder)
    return np.concatenate(lm.corpus_token_logprobs([VOCAB.encode(s.split()) for s in LINES[:4]]))


# -- item 4: the vocabulary fingerprint -------------------------------------------------------
def test_swapped_words_are_refused_by_the_vocab_files_own_fingerprint(model_dir, capsys):
    edit_json(model_dir / "vocab.json", swap_two_words)
    with pytest.raises(VocabMismatchError, match=r"vocab\.json: vocabulary fingerprint"):
        TorchLM.load(model_dir)
    err = cli_error(capsys, ["perplexity", model_dir, "--text", model_dir.parent / "t.txt"])
    assert "vocab.json" in err


@pytest.mark.parametrize("fingerprint", ["removed", "recomputed"])
def test_swapped_words_are_refused_by_the_weights_fingerprint(model_dir, capsys, fingerprint):
    """Without a fingerprint in vocab.json, or with one recomputed to match the edit, the
    fingerprint saved in model.safetensors' metadata still catches the swap."""

    def tamper(d):
        swap_two_words(d)
        if fingerprint == "removed":
            del d["fingerprint"]
        else:
            d["fingerprint"] = Vocab(d["tokens"]).fingerprint

    edit_json(model_dir / "vocab.json", tamper)
    with pytest.raises(VocabMismatchError, match=r"does not match .*model\.safetensors was trained with"):
        TorchLM.load(model_dir)
    err = cli_error(capsys, ["perplexity", model_dir, "--text", model_dir.parent / "t.txt"])
    assert str(model_dir / "vocab.json") in err and "model.safetensors" in err


def test_a_changed_tokenizer_is_refused(model_dir):
    edit_json(model_dir / "vocab.json", lambda d: (d["tokenizer"].update(lowercase=True), d.pop("fingerprint")))
    with pytest.raises(VocabMismatchError, match="vocab.json"):
        TorchLM.load(model_dir)


def test_an_untouched_vocab_without_its_fingerprint_still_loads(model_dir):
    before = scores(model_dir)
    edit_json(model_dir / "vocab.json", lambda d: d.pop("fingerprint"))
    assert np.array_equal(scores(model_dir), before)


def test_a_model_saved_over_another_leaves_none_of_its_vocabularies(model_dir):
    """--overwrite: the folder's named vocabularies are the new model's only (loading reads every
    one there is), an unrelated JSON file stays."""
    from lmlab.models.neural.checkpoint import load_checkpoint, save_checkpoint
    from lmlab.text.labels import LabelSet

    tags = LabelSet.build(["DET", "NOUN"], name="tags")
    (model_dir / "labels.tags.json").write_text(tags.to_json())
    (model_dir / "vocab.chars.json").write_text(VOCAB.to_json())
    (model_dir / "notes.json").write_text("{}")
    model, vocabs, _ = load_checkpoint(model_dir)
    assert set(vocabs) == {"tokens", "tags", "chars"}  # what a stale folder used to give
    save_checkpoint(model_dir, model, {"tokens": vocabs["tokens"]})
    assert not (model_dir / "labels.tags.json").exists() and not (model_dir / "vocab.chars.json").exists()
    assert (model_dir / "notes.json").exists() and set(load_checkpoint(model_dir)[1]) == {"tokens"}


def test_existing_checkpoints_keep_loading(model_dir):
    """The files as lmlab has always written them (vocab.json with its fingerprint, the weights
    with vocab_fingerprint metadata): loading is unchanged."""
    vocab = json.loads((model_dir / "vocab.json").read_text())
    assert set(vocab) == {"format", "version", "tokenizer", "fingerprint", "tokens"}
    _, meta = read_tensors(model_dir / "model.safetensors")
    assert meta == {"vocab_fingerprint": VOCAB.fingerprint}
    lm = TorchLM.load(model_dir)
    assert lm.vocab == VOCAB and np.isfinite(scores(model_dir)).all()


def test_weights_without_metadata_need_the_vocab_fingerprint(model_dir):
    tensors, _ = read_tensors(model_dir / "model.safetensors")
    save_tensors(model_dir / "model.safetensors", tensors)  # no metadata
    TorchLM.load(model_dir)  # vocab.json's own fingerprint checks it
    edit_json(model_dir / "vocab.json", lambda d: d.pop("fingerprint"))
    with pytest.raises(ModelFormatError, match="cannot be checked"):
        TorchLM.load(model_dir)


def test_resume_checks_the_vocabulary_too(tmp_path):
    t = Trainer(CFG, TrainConfig(epochs=1, lr=1.0, bptt=5, batch_size=2, threads=1, progress=False), VOCAB,
                tmp_path / "r")
    from lmlab.text.vocab import encode_corpus

    ids, _ = encode_corpus(VOCAB, [s.split() for s in LINES])
    t.fit(ids, ids)
    edit_json(tmp_path / "r" / "vocab.json", lambda d: (swap_two_words(d), d.pop("fingerprint")))
    with pytest.raises(VocabMismatchError, match="vocab.json"):
        Trainer.resume(tmp_path / "r", epochs=2)


# -- item 10: every JSON file through one validating reader ----------------------------------
BAD_VOCABS = {
    "invalid JSON": (b'{"format": "lmlab-vocab", "tokens": [', "not valid JSON"),
    "tokens a number": (b'{"format": "lmlab-vocab", "tokens": 5}', "field 'tokens' must be a list of strings, got 5"),
    "a token a number": (b'{"format": "lmlab-vocab", "tokens": ["<unk>", "<s>", "</s>", 7]}', "list of strings"),
    "no tokens": (b'{"format": "lmlab-vocab"}', "missing field 'tokens'"),
    "not an object": (b'["<unk>", "<s>", "</s>"]', "expected an lmlab vocabulary (a JSON object), got list"),
    "another format": (b'{"format": "other", "tokens": []}', "not an lmlab vocabulary"),
    "no specials": (b'{"format": "lmlab-vocab", "tokens": ["a", "b"]}', "must start with <unk>, <s>, </s>"),
    "duplicates": (b'{"format": "lmlab-vocab", "tokens": ["<unk>", "<s>", "</s>", "a", "a"]}', "duplicate"),
    "tokenizer not an object": (b'{"format": "lmlab-vocab", "tokenizer": 5, "tokens": []}',
                                "field 'tokenizer' must be an object"),
    "tokenizer field mistyped": ((b'{"format": "lmlab-vocab", "tokenizer": {"lowercase": "yes"}, '
                                  b'"tokens": ["<unk>", "<s>", "</s>"]}'), "'lowercase' must be true or false"),
    "unknown field": (b'{"format": "lmlab-vocab", "tokens": ["<unk>", "<s>", "</s>"], "colour": 1}',
                      "unknown field 'colour'"),
    "not UTF-8": (b'{"format": "lmlab-vocab", "tokens": ["\xff"]}', "invalid UTF-8"),
    "empty file": (b"", "not valid JSON"),
}


@pytest.mark.parametrize("content,expected", BAD_VOCABS.values(), ids=BAD_VOCABS.keys())
def test_malformed_vocab_json(model_dir, capsys, content, expected):
    (model_dir / "vocab.json").write_bytes(content)
    with pytest.raises(LmlabError) as info:
        TorchLM.load(model_dir)
    msg = str(info.value)
    assert msg.startswith(str(model_dir / "vocab.json")) and expected in msg and "\n" not in msg
    err = cli_error(capsys, ["perplexity", model_dir, "--text", model_dir.parent / "t.txt"])
    assert str(model_dir / "vocab.json") in err and expected in err


BAD_CONFIGS = {
    "invalid JSON": ("{'kind': 'rnnlm'}", "not valid JSON (Expecting property name"),
    "nhid a string": ('{"vocab_size": 12, "nhid": "big"}', "field 'nhid' must be an integer, got \"big\""),
    "cutoffs a number": ('{"vocab_size": 12, "adaptive_cutoffs": 5}', "'adaptive_cutoffs' must be a list of integers"),
    "kind a list": ('{"vocab_size": 12, "kind": [1]}', "unknown model kind [1]"),
    "tied a string": ('{"vocab_size": 12, "tied": "yes"}', "'tied' must be true or false"),
    "dropout null": ('{"vocab_size": 12, "dropout": null}', "'dropout' must be a number"),
    "no vocab_size": ('{"kind": "rnnlm"}', "missing field 'vocab_size'"),
    "not an object": ("[12]", "expected an lmlab model config (a JSON object), got list"),
}


@pytest.mark.parametrize("content,expected", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_malformed_config_json(model_dir, capsys, content, expected):
    (model_dir / "config.json").write_text(content)
    with pytest.raises(ConfigError) as info:
        TorchLM.load(model_dir)
    assert str(info.value).startswith(str(model_dir / "config.json")) and expected in str(info.value)
    err = cli_error(capsys, ["perplexity", model_dir, "--text", model_dir.parent / "t.txt"])
    assert str(model_dir / "config.json") in err and expected in err


@pytest.mark.parametrize("content,expected", [
    ("{", "not valid JSON"),
    ('[{"path": "m", "weight": 1}]', "expected a mixture file (a JSON object), got list"),
    ('{"kind": "mixture", "components": 5}', "components must be a non-empty list"),
], ids=["invalid JSON", "a list", "components a number"])
def test_malformed_mixture_json(model_dir, capsys, content, expected):
    mix = model_dir.parent / "mix.json"
    mix.write_text(content)
    err = cli_error(capsys, ["perplexity", mix, "--text", model_dir.parent / "t.txt"])
    assert str(mix) in err and expected in err


@pytest.fixture
def run_dir(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("\n".join(LINES) + "\n")
    assert main(["train", "--train", str(text), "--valid", str(text), "--save", str(tmp_path / "r"), "--quiet",
                 "--emsize", "6", "--nhid", "6", "--nlayers", "1", "--bptt", "5", "--batch_size", "2",
                 "--epochs", "1", "--threads", "1", "--lr", "1"]) == 0
    capsys.readouterr()
    return tmp_path / "r"


BAD_STATES = {
    "invalid JSON": (lambda s: "{", "not valid JSON"),
    "epoch a string": (lambda s: json.dumps(dict(s, epoch="one")), "field 'epoch' must be an integer"),
    "no history": (lambda s: json.dumps({k: v for k, v in s.items() if k != "history"}), "missing field 'history'"),
    "train_config mistyped": (lambda s: json.dumps(dict(s, train_config=dict(s["train_config"], lr="fast"))),
                              "train_config: field 'lr' must be a number"),
    "train_config unknown field": (lambda s: json.dumps(dict(s, train_config=dict(s["train_config"], colour=1))),
                                   "train_config: unknown field 'colour'"),
    "source mistyped": (lambda s: json.dumps(dict(s, source=dict(s["source"], train=3))),
                        "source: field 'train' must be a string or null"),
}


@pytest.mark.parametrize("change,expected", BAD_STATES.values(), ids=BAD_STATES.keys())
def test_malformed_trainer_state(run_dir, capsys, change, expected):
    path = run_dir / "trainer_state.json"
    path.write_text(change(json.loads(path.read_text())))
    err = cli_error(capsys, ["train", "--resume", "--save", run_dir, "--epochs", "2"])
    assert str(path) in err and expected in err


def test_a_vocabulary_or_label_set_of_another_format_version_is_refused():
    from lmlab.errors import ConfigError, ModelFormatError
    from lmlab.text.labels import LabelSet
    from lmlab.text.vocab import Vocab

    data = Vocab.from_tokens(["a", "b"]).to_dict()
    with pytest.raises(ModelFormatError, match="version 99"):
        Vocab.from_dict({**data, "version": 99}, "v.json")
    labels = LabelSet.build(["x", "y"]).to_dict()
    with pytest.raises(ConfigError, match="version 2"):
        LabelSet.from_dict({**labels, "version": 2})
    assert Vocab.from_dict(data).tokens == Vocab.from_tokens(["a", "b"]).tokens
