"""The one training loop on models that are not LMs (issue 9, the task-generic core): a toy
classifier written here, trained through the same Trainer, checkpoint files and kind registry
as the LMs.  Loss normalised by the step's item count, early stopping and the best checkpoint
on a higher-is-better metric, exact resume, the NaN guard, the gradient norm before clipping,
named vocabularies and label sets in a checkpoint, and loading a checkpoint as the wrong kind."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn

from lmlab.cli.main import main
from lmlab.errors import (
    ConfigError,
    KindMismatchError,
    ModelFormatError,
    TrainingDivergedError,
    VocabMismatchError,
)
from lmlab.models.neural import kinds
from lmlab.models.neural.checkpoint import load_checkpoint, read_tensors
from lmlab.models.neural.task import Batch, TaskModel
from lmlab.text.labels import LabelSet
from lmlab.text.vocab import Vocab
from lmlab.train.loop import Callback, StepInfo, TrainConfig, Trainer
from lmlab.train.run_folder import read_state
from lmlab.train.tasks import Task

SENTS = [("good film", "pos"), ("bad film", "neg"), ("a good plot", "pos"), ("a bad plot", "neg"),
         ("really good", "pos"), ("really bad", "neg"), ("good good", "pos"), ("bad bad film", "neg")] * 4
VOCAB = Vocab.build(s.split() for s, _ in SENTS)
LABELS = LabelSet.build(lab for _, lab in SENTS)
DATA = [(VOCAB.encode(s.split()), int(LABELS.id(lab))) for s, lab in SENTS]


class ToyClassifier(TaskModel):
    """Summed embeddings of the tokens -> dropout -> linear -> labels."""

    kind = "classify"

    def __init__(self, n_tokens: int, n_labels: int, dim: int = 4, dropout: float = 0.0):
        super().__init__()
        self.pad = n_tokens
        self.emb = nn.Embedding(n_tokens + 1, dim, padding_idx=n_tokens)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(dim, n_labels)
        self.dims = {"dim": dim, "dropout": dropout}
        self.poison_after = None  # a test makes the loss NaN from this step on

    def logits(self, batch: Batch) -> torch.Tensor:
        return self.out(self.drop(self.emb(batch["tokens"]).sum(1)))

    def loss(self, batch: Batch):
        total = nn.functional.cross_entropy(self.logits(batch), batch["labels"], reduction="sum")
        if self.poison_after is not None:
            self.poison_after -= 1
            if self.poison_after < 0:
                total = total * float("nan")
        return total, len(batch["labels"])

    @torch.no_grad()
    def predict(self, batch: Batch):
        return self.logits(batch).argmax(-1).tolist()

    def config_dict(self) -> dict:
        return dict(self.dims)

    @classmethod
    def from_config(cls, config, vocabs):
        return cls(len(vocabs["tokens"]), len(vocabs["labels"]), config["dim"], config["dropout"])


PAD = len(VOCAB)


def make_batch(rows, pad=PAD) -> Batch:
    T = max(len(t) for t, _ in rows)
    tokens = torch.full((len(rows), T), pad, dtype=torch.long)
    for i, (t, _) in enumerate(rows):
        tokens[i, : len(t)] = torch.as_tensor(t, dtype=torch.long)
    return Batch({"tokens": tokens, "labels": torch.tensor([lab for _, lab in rows])}, len(rows))


class ToyTask(Task):
    metric, higher_is_better, item = "accuracy", True, "sentence"

    def __init__(self, batch_size: int):
        self.batch_size = batch_size

    def train_batches(self, data, epoch, seed):
        order = np.random.default_rng(seed * 1000 + epoch).permutation(len(data))
        for i in range(0, len(data), self.batch_size):
            yield make_batch([data[j] for j in order[i : i + self.batch_size]])

    def n_train_batches(self, data):
        return -(-len(data) // self.batch_size)

    def evaluate(self, model, data, device="cpu", progress=False):
        was = model.training
        model.eval()
        try:
            pred = model.predict(make_batch(data))
        finally:
            model.train(was)
        return float(np.mean([p == lab for p, (_, lab) in zip(pred, data, strict=True)]))


class ScriptedTask(ToyTask):
    """The dev metric follows a script (the controller logic, checked by hand)."""

    def __init__(self, batch_size, values):
        super().__init__(batch_size)
        self.values = list(values)

    def evaluate(self, model, data, device="cpu", progress=False):
        return self.values.pop(0)


def make_toy_task(train_config, model):
    return ToyTask(train_config.batch_size)


@pytest.fixture
def toy_kind(monkeypatch):
    """The toy classifier registered as kind ``classify``, as a real classifier will be."""
    monkeypatch.setitem(kinds.REGISTRY, "classify", kinds.KindSpec(
        "classify", "a classifier", f"{__name__}:ToyClassifier", f"{__name__}:make_toy_task"))


def tcfg(**kw):
    return TrainConfig(**{"epochs": 3, "lr": 0.05, "optimizer": "adam", "batch_size": 5, "threads": 1,
                          "progress": False, "clip": 0.0, **kw})


def toy(seed=0, dropout=0.0):
    torch.manual_seed(seed)
    return ToyClassifier(len(VOCAB), len(LABELS), 4, dropout)


VOCABS = {"tokens": VOCAB, "labels": LABELS}


def grads(model):
    return {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}


# -- the loss is normalised by the step's item count ----------------------------------------------
def test_two_half_batches_give_the_gradient_of_one_batch(tmp_path):
    rows = DATA[:6]
    one = Trainer(toy(), tcfg(optimizer="sgd", lr=0.1), VOCABS, tmp_path / "a", task=ToyTask(6))
    two = Trainer(toy(), tcfg(optimizer="sgd", lr=0.1), VOCABS, tmp_path / "b", task=ToyTask(6))
    a = one.train_step([make_batch(rows)])
    b = two.train_step([make_batch(rows[:2]), make_batch(rows[2:])])  # halves of unequal size
    assert a.items == b.items == 6 and a.loss == pytest.approx(b.loss, abs=1e-6)
    ga, gb = grads(one.model), grads(two.model)
    assert set(ga) == set(gb) and ga
    for k in ga:
        torch.testing.assert_close(ga[k], gb[k], rtol=0, atol=1e-6)
    # and it is the gradient of the mean loss over the six sentences, computed by hand
    ref = toy()
    logits = ref.out(ref.emb(make_batch(rows)["tokens"]).sum(1))
    nn.functional.cross_entropy(logits, make_batch(rows)["labels"]).backward()
    for k, g in grads(ref).items():
        torch.testing.assert_close(ga[k], g, rtol=0, atol=1e-6)
    for (k, p), (_, q) in zip(one.model.named_parameters(), two.model.named_parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6)


def test_a_model_that_miscounts_its_items_is_refused(tmp_path):
    trainer = Trainer(toy(), tcfg(), VOCABS, tmp_path / "a", task=ToyTask(4))
    batch = make_batch(DATA[:4])
    batch.n_items = 3
    with pytest.raises(ValueError, match="counted 4 items in a batch of 3"):
        trainer.train_step([batch])


# -- the dev metric: early stopping, the best checkpoint, SGD's annealing ----------------------------
def test_early_stopping_and_best_checkpoint_on_a_higher_is_better_metric(tmp_path):
    saved = {}

    class Keep(Callback):
        def on_epoch(self, trainer, row):
            saved[row["epoch"]] = {k: v.clone() for k, v in trainer.model.state_dict().items()}

    values = [0.5, 0.75, 0.625, 0.7, 0.875]
    trainer = Trainer(toy(), tcfg(epochs=5, optimizer="sgd", lr=0.4, anneal=2.0, patience=2), VOCABS,
                      tmp_path / "r", task=ScriptedTask(5, values), hooks=[Keep()])
    hist = trainer.fit(DATA, DATA)
    assert [h["epoch"] for h in hist] == [1, 2, 3, 4]  # epochs 3 and 4 did not beat 0.75: stop
    assert [h["best"] for h in hist] == [True, True, False, False]
    assert [h["valid_accuracy"] for h in hist] == values[:4] and trainer.best == 0.75
    assert [h["lr"] for h in hist] == [0.4, 0.4, 0.4, 0.2]  # annealed after each epoch that did not improve
    assert trainer.lr == 0.1
    state, _ = read_tensors(tmp_path / "r" / "model.safetensors")
    assert all(torch.equal(state[k], saved[2][k]) for k in state)  # the best epoch's weights
    assert not all(torch.equal(state[k], saved[4][k]) for k in state)
    last, _ = read_tensors(tmp_path / "r" / "last.safetensors")
    assert all(torch.equal(last[k], saved[4][k]) for k in last)


def test_a_perfect_dev_metric_stops_early_stopping_at_once(tmp_path):
    """Accuracy 1 cannot be beaten: with patience the run stops there (the kept best model is the
    same as after waiting out the patience); without patience it trains every epoch."""
    class Accuracy(ScriptedTask):
        best_possible = 1.0

    values = [0.5, 1.0, 1.0, 1.0, 1.0]
    hist = Trainer(toy(), tcfg(epochs=5, patience=3), VOCABS, tmp_path / "a", task=Accuracy(5, values)).fit(DATA, DATA)
    assert [h["epoch"] for h in hist] == [1, 2]
    assert read_state(tmp_path / "a" / "trainer_state.json")["stopped_early"] is True  # what a benchmark reads
    hist = Trainer(toy(), tcfg(epochs=5, patience=0), VOCABS, tmp_path / "b", task=Accuracy(5, values)).fit(DATA, DATA)
    assert len(hist) == 5 and read_state(tmp_path / "b" / "trainer_state.json")["stopped_early"] is False
    hist = Trainer(toy(), tcfg(epochs=5, patience=3), VOCABS, tmp_path / "c",
                   task=ScriptedTask(5, values)).fit(DATA, DATA)  # no best possible value: the patience runs out
    assert len(hist) == 5


def test_lower_is_better_is_the_other_direction(tmp_path):
    class Loss(ScriptedTask):
        higher_is_better = False

    trainer = Trainer(toy(), tcfg(epochs=4, patience=1), VOCABS, tmp_path / "r", task=Loss(5, [3.0, 2.0, 2.5, 1.0]))
    hist = trainer.fit(DATA, DATA)
    assert [h["best"] for h in hist] == [True, True, False] and trainer.best == 2.0


def test_a_real_metric_improves(tmp_path):
    trainer = Trainer(toy(), tcfg(epochs=4, lr=0.1), VOCABS, tmp_path / "r", task=ToyTask(4))
    hist = trainer.fit(DATA, DATA)
    assert hist[-1]["valid_accuracy"] == 1.0 and trainer.best == 1.0
    log = [json.loads(x) for x in (tmp_path / "r" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2, 3, 4] and all("grad_norm" in r for r in log)


# -- exact resume --------------------------------------------------------------------------------
def test_resume_equals_uninterrupted(tmp_path, toy_kind):
    cfg = tcfg(epochs=4, lr=0.02)
    full = Trainer(toy(dropout=0.3), cfg, VOCABS, tmp_path / "full")  # the kind's own task (make_toy_task)
    full.fit(DATA, DATA[:8])
    part = Trainer(toy(dropout=0.3), tcfg(epochs=2, lr=0.02), VOCABS, tmp_path / "part")
    part.fit(DATA, DATA[:8])
    resumed = Trainer.resume(tmp_path / "part", VOCABS, epochs=4)
    assert isinstance(resumed.model, ToyClassifier) and resumed.epoch == 2
    resumed.fit(DATA, DATA[:8])
    for (k, a), (_, b) in zip(full.model.state_dict().items(), resumed.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    for name in ("model.safetensors", "last.safetensors", "optimizer.safetensors"):
        (a, meta_a), (b, meta_b) = read_tensors(tmp_path / "full" / name), read_tensors(tmp_path / "part" / name)
        assert meta_a == meta_b and a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    assert (tmp_path / "full" / "steps.jsonl").read_bytes() == (tmp_path / "part" / "steps.jsonl").read_bytes()
    strip = lambda h: [{k: v for k, v in r.items() if k not in ("seconds", "items_per_s")} for r in h]
    assert strip(full.history) == strip(resumed.history)


def test_resume_checks_the_label_set(tmp_path, toy_kind):
    Trainer(toy(), tcfg(epochs=1), VOCABS, tmp_path / "r").fit(DATA, DATA)
    with pytest.raises(VocabMismatchError, match="label set mismatch"):
        Trainer.resume(tmp_path / "r", {"labels": LabelSet(["neg", "pos", "neutral"])}, epochs=2)


# -- the NaN guard --------------------------------------------------------------------------------
def test_a_nan_loss_stops_training_naming_the_step(tmp_path):
    trainer = Trainer(toy(), tcfg(epochs=2), VOCABS, tmp_path / "r", task=ToyTask(4))
    trainer.fit(DATA, DATA)  # 8 steps per epoch
    good = (tmp_path / "r" / "model.safetensors").read_bytes()
    trainer.tcfg = tcfg(epochs=3)
    trainer.model.poison_after = 2  # the 3rd step of epoch 3 (step 19 of the run) gives NaN
    with pytest.raises(TrainingDivergedError, match=r"loss became nan at epoch 3, step 19;"):
        trainer.fit(DATA, DATA)
    assert (tmp_path / "r" / "model.safetensors").read_bytes() == good
    assert json.loads((tmp_path / "r" / "trainer_state.json").read_text())["epoch"] == 2
    steps = [json.loads(x) for x in (tmp_path / "r" / "steps.jsonl").read_text().splitlines()]
    assert [r["step"] for r in steps] == list(range(1, 20)) and steps[-1]["diverged"] == "loss"
    from lmlab.train.loop import read_steps

    at = json.loads((tmp_path / "r" / "trainer_state.json").read_text())["step"]
    assert at == 16 and len(read_steps(tmp_path / "r" / "steps.jsonl", at)) == 16  # what --resume reads


# -- the gradient norm before clipping, every step ---------------------------------------------------
class Dot(TaskModel):
    """loss of an item x = w . x: the gradient of the mean loss is the mean of the x."""

    kind = "classify"

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([1.0, -2.0]))

    def loss(self, batch):
        return (batch["x"] @ self.w).sum(), len(batch["x"])

    def predict(self, batch):
        return (batch["x"] @ self.w).tolist()

    def config_dict(self):
        return {}

    @classmethod
    def from_config(cls, config, vocabs):
        return cls()


class Fixed(ScriptedTask):
    def __init__(self, batches):
        super().__init__(1, [0.0] * 10)
        self.batches = batches

    def train_batches(self, data, epoch, seed):
        yield from self.batches

    def n_train_batches(self, data):
        return len(self.batches)


def test_an_infinite_gradient_is_caught_before_the_weights_change(tmp_path):
    """The loss is finite (1e38) but the gradient's norm overflows: the step is not applied."""
    x = torch.tensor([[3e38, 1e38]])
    trainer = Trainer(Dot(), tcfg(epochs=1, optimizer="sgd", lr=1.0, clip=0.0), {}, tmp_path / "r",
                      task=Fixed([Batch({"x": x}, 1)]))
    with pytest.raises(TrainingDivergedError, match=r"gradient norm became inf at epoch 1, step 1;"):
        trainer.fit(None, None)
    assert trainer.model.w.detach().tolist() == [1.0, -2.0] and trainer.step == 0
    # only the trace is kept: the step that diverged, with what became what (no model is written)
    assert [p.name for p in (tmp_path / "r").iterdir()] == ["steps.jsonl"]
    assert [json.loads(x) for x in (tmp_path / "r" / "steps.jsonl").read_text().splitlines()] == [
        {"epoch": 1, "step": 1, "loss": pytest.approx(1e38, rel=1e-6), "grad_norm": None, "lr": 1.0, "diverged": "gradient norm",
         "value": "inf", "clip": 0.0}]


def test_grad_norm_is_recorded_before_clipping(tmp_path):
    x = torch.tensor([[3.0, 0.0], [0.0, 4.0]])  # mean (1.5, 2): norm 2.5 by hand
    seen: list[StepInfo] = []
    trainer = Trainer(Dot(), tcfg(epochs=1, optimizer="sgd", lr=1.0, clip=1.0), {}, tmp_path / "r",
                      task=Fixed([Batch({"x": x}, 2)]), hooks=[seen.append])
    copy_ = copy.deepcopy(trainer.model)
    trainer.fit(None, None)
    assert len(seen) == 1 and seen[0].grad_norm == pytest.approx(2.5, rel=1e-6) and seen[0].step == 1
    (copy_.loss(Batch({"x": x}, 2))[0] / 2).backward()
    assert seen[0].grad_norm == float(nn.utils.clip_grad_norm_(copy_.parameters(), 1.0))
    assert float(trainer.model.w.grad.norm()) == pytest.approx(1.0, rel=1e-5)  # clipped after recording
    assert trainer.model.w.detach().tolist() == pytest.approx([1.0 - 1.5 / 2.5, -2.0 - 2.0 / 2.5], rel=1e-5)
    rec = json.loads((tmp_path / "r" / "steps.jsonl").read_text())
    assert rec == {"epoch": 1, "step": 1, "loss": pytest.approx((3.0 - 8.0) / 2), "items": 2,
                   "grad_norm": seen[0].grad_norm, "lr": 1.0}
    assert json.loads((tmp_path / "r" / "log.jsonl").read_text())["grad_norm"] == {"mean": seen[0].grad_norm,
                                                                                  "max": seen[0].grad_norm}
    unclipped = Trainer(Dot(), tcfg(epochs=1, optimizer="sgd", lr=1.0, clip=0.0), {}, tmp_path / "u",
                        task=Fixed([Batch({"x": x}, 2)]))
    unclipped.fit(None, None)
    assert unclipped.steps[0]["grad_norm"] == pytest.approx(2.5, rel=1e-6)


def test_every_step_reaches_the_hooks_and_steps_jsonl(tmp_path):
    infos = []
    trainer = Trainer(toy(), tcfg(epochs=2, clip=0.5), VOCABS, tmp_path / "r", task=ToyTask(6), hooks=[infos.append])
    trainer.fit(DATA, DATA)
    lines = [json.loads(x) for x in (tmp_path / "r" / "steps.jsonl").read_text().splitlines()]
    assert [i.step for i in infos] == [r["step"] for r in lines] == list(range(1, trainer.step + 1))
    assert trainer.step == 2 * trainer.n_batches(DATA) == 12
    assert all(r["items"] in (6, 2) and r["grad_norm"] > 0 for r in lines)


def test_an_lm_run_records_grad_norms_too(tmp_path):
    from lmlab.models.neural.config import RNNLMConfig
    from lmlab.text.vocab import encode_corpus

    lines = [s.split() for s, _ in SENTS]
    ids, _ = encode_corpus(VOCAB, lines)
    cfg = RNNLMConfig(vocab_size=len(VOCAB), emsize=4, nhid=4, nlayers=1)
    trainer = Trainer(cfg, TrainConfig(epochs=1, bptt=3, batch_size=2, threads=1, progress=False), VOCAB,
                      tmp_path / "lm")
    trainer.fit(ids, ids)
    steps = [json.loads(x) for x in (tmp_path / "lm" / "steps.jsonl").read_text().splitlines()]
    assert len(steps) == trainer.step == trainer.n_batches(ids)
    rows = (len(ids) - 1) // 2  # the stream in 2 columns: every target but <s> is an item
    assert sum(s["items"] for s in steps) == int(np.count_nonzero(ids[1:][: rows * 2] != VOCAB.bos_id))
    assert trainer.history[0]["grad_norm"]["max"] == max(s["grad_norm"] for s in steps)


# -- checkpoints: kind, named vocabularies and label sets -----------------------------------------------
def test_a_toy_checkpoint_round_trips_with_its_label_set(tmp_path, toy_kind):
    trainer = Trainer(toy(), tcfg(epochs=2, lr=0.1), VOCABS, tmp_path / "r")
    trainer.fit(DATA, DATA)
    d = tmp_path / "r"
    assert sorted(p.name for p in d.iterdir() if p.name.endswith(".json")) == [
        "config.json", "labels.labels.json", "trainer_state.json", "vocab.json"]
    assert json.loads((d / "config.json").read_text()) == {"kind": "classify", "dim": 4, "dropout": 0.0}
    _, meta = read_tensors(d / "model.safetensors")
    assert meta == {"vocab_fingerprint": VOCAB.fingerprint, "labels_fingerprint.labels": LABELS.fingerprint}
    model, vocabs, _ = load_checkpoint(d, kind="classify")
    assert vocabs == {"tokens": VOCAB, "labels": LABELS} and vocabs["labels"].name == "labels"
    batch = make_batch(DATA)
    trainer.model.eval()
    assert model.predict(batch) == trainer.model.predict(batch)


def test_a_tampered_or_missing_label_set_is_refused(tmp_path, toy_kind):
    Trainer(toy(), tcfg(epochs=1), VOCABS, tmp_path / "r").fit(DATA, DATA)
    path = tmp_path / "r" / "labels.labels.json"
    data = json.loads(path.read_text())
    swapped = LabelSet(data["labels"][::-1])
    data.update(labels=list(swapped.labels), fingerprint=swapped.fingerprint)  # consistent with itself
    path.write_text(json.dumps(data))
    with pytest.raises(VocabMismatchError, match=r"labels\.labels\.json: label set fingerprint .* was trained with"):
        load_checkpoint(tmp_path / "r")
    path.unlink()
    with pytest.raises(ModelFormatError, match=r"missing labels\.labels\.json, which .*model\.safetensors was trained"):
        load_checkpoint(tmp_path / "r")


def cli_error(capsys, argv) -> str:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_a_checkpoint_of_another_kind_is_refused_naming_both(tmp_path, toy_kind, capsys):
    Trainer(toy(), tcfg(epochs=1), VOCABS, tmp_path / "clf").fit(DATA, DATA)
    text = tmp_path / "t.txt"
    text.write_text("good film\n")
    for command in (["perplexity", tmp_path / "clf", "--text", text], ["generate", tmp_path / "clf"]):
        err = cli_error(capsys, command)
        assert "the checkpoint is a classifier (classify), not a language model (lm)" in err, err
    with pytest.raises(KindMismatchError, match="a classifier .classify., not a language model .lm."):
        from lmlab.models.neural.adapter import TorchLM

        TorchLM.load(tmp_path / "clf")
    # an LM loaded as a classifier
    from lmlab.models.neural.build import build_model
    from lmlab.models.neural.checkpoint import save_model
    from lmlab.models.neural.config import RNNLMConfig

    cfg = RNNLMConfig(vocab_size=len(VOCAB), emsize=4, nhid=4, nlayers=1)
    save_model(tmp_path / "lm", build_model(cfg), cfg, VOCAB)
    with pytest.raises(KindMismatchError, match=r"lm: the checkpoint is a language model \(lm\), not a classifier"):
        load_checkpoint(tmp_path / "lm", kind="classify")


@pytest.fixture
def unbuilt_kind(monkeypatch):
    """A kind registered without its model (as conditional-lm was before it was written): what a
    kind not in lmlab yet looks like to the loader and to lmlab train."""
    monkeypatch.setitem(kinds.REGISTRY, "future", kinds.KindSpec("future", "a future model", None))


def test_a_kind_not_in_lmlab_yet_is_named_too(tmp_path, capsys, unbuilt_kind):
    """A folder of a kind whose model is not in this lmlab, given to an LM command."""
    d = tmp_path / "fut"
    d.mkdir()
    (d / "config.json").write_text('{"kind": "future", "nhid": 4}')
    err = cli_error(capsys, ["perplexity", d, "--text", d / "config.json"])
    assert "the checkpoint is a future model (future), not a language model (lm)" in err
    with pytest.raises(Exception, match="of kind future, which this lmlab cannot load yet"):
        load_checkpoint(d)


def test_a_conditional_lm_folder_given_to_an_lm_command_names_both_kinds(tmp_path, capsys):
    d = tmp_path / "clm"
    d.mkdir()
    (d / "config.json").write_text('{"kind": "conditional-lm", "nhid": 4}')
    err = cli_error(capsys, ["perplexity", d, "--text", d / "config.json"])
    assert "the checkpoint is a conditional language model (conditional-lm), not a language model (lm)" in err


# -- old checkpoints ------------------------------------------------------------------------------
OLD = __import__("pathlib").Path(__file__).parents[1] / "data" / "old_lm_checkpoints"


@pytest.mark.parametrize("name", ["lstm-tied", "window"])
def test_checkpoints_written_before_the_generic_core_load_with_identical_scores(name):
    """Folders written by lmlab before the trainer was task-generic (made by make.py beside them
    with that code): no kind but the architecture's in config.json, vocab.json, the fingerprint in
    the weights' metadata.  They load as kind lm and score exactly as they did."""
    from lmlab.models.neural.adapter import TorchLM

    expected = json.loads((OLD / "expected.json").read_text())
    lm = TorchLM.load(OLD / name)
    got = lm.corpus_token_logprobs([lm.vocab.encode(s.split()) for s in expected["lines"]])
    for g, e in zip(got, expected["logprobs"][name], strict=True):  # float32 kernels differ by CPU (AMD vs Intel)
        assert g.tolist() == pytest.approx(e, rel=1e-6, abs=1e-6)
    _, vocabs, config = load_checkpoint(OLD / name, kind="lm")
    assert list(vocabs) == ["tokens"] and kinds.kind_of_config(config) == "lm"


# -- lmlab train --kind -----------------------------------------------------------------------------
def test_train_refuses_kinds_not_in_lmlab_yet(tmp_path, unbuilt_kind):
    with pytest.raises(ConfigError, match="--kind future: a future model is not in lmlab yet .*kinds that train "
                                          "today: lm, tag, classify, seq2seq, conditional-lm"):
        kinds.spec("future")
    assert "conditional-lm" in [k for k, v in kinds.REGISTRY.items() if v.available]


def test_train_kind_lm_is_the_default(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("\n".join(s for s, _ in SENTS) + "\n")
    common = ["train", "--train", text, "--emsize", "4", "--nhid", "4", "--nlayers", "1", "--bptt", "3",
              "--batch_size", "2", "--threads", "1", "--quiet", "--epochs", "1"]
    assert main([str(a) for a in [*common, "--save", tmp_path / "a"]]) == 0
    assert main([str(a) for a in [*common, "--kind", "lm", "--save", tmp_path / "b"]]) == 0
    capsys.readouterr()
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()
