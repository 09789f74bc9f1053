"""Data-parallel training (``torchrun --nproc_per_node 2``, gloo on CPU): two ranks with half the
batch each follow the loss curve of one process with the whole batch, step by step (the LM in
stream mode, where each rank carries its own columns through truncated BPTT, and in sentence
mode; a classifier whose last batch leaves one rank without rows); a resumed two-rank run ends
with the weights of an uninterrupted one; a world size that does not divide the batch and a
resume in another world size are refused in one line."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from lmlab.models.neural.checkpoint import read_tensors  # noqa: E402
from lmlab.train.distributed import World, shard  # noqa: E402
from lmlab.train.lm_task import _batch  # noqa: E402
from tests.cli_run import cli, cli_error  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
WORDS = "the a cat dog sat on mat ran fast slow big small red blue".split()
LM = ["--emsize", "12", "--nhid", "12", "--nlayers", "1", "--dropout", "0", "--batch_size", "4", "--threads", "1",
      "--lr", "2", "--quiet"]
CLASSIFY = ["--kind", "classify", "--emsize", "8", "--nhid", "8", "--nlayers", "1", "--dropout", "0", "--lr", "0.05",
            "--batch_size", "4", "--threads", "1", "--quiet"]


def sentences(n: int, seed: int) -> list[str]:
    r = random.Random(seed)
    return [" ".join(r.choice(WORDS) for _ in range(r.randint(2, 8))) for _ in range(n)]


def runs(tmp_path: Path) -> dict[str, list[str]]:
    """Each run's ``lmlab`` arguments, without ``--save``."""
    lm_train, lm_valid, cl_train, cl_valid = (str(tmp_path / f) for f in ("lm_train", "lm_valid", "cl_train", "cl_valid"))
    Path(lm_train).write_text("\n".join(sentences(200, 1)) + "\n")
    Path(lm_valid).write_text("\n".join(sentences(20, 2)) + "\n")
    labelled = [f"{int('cat' in s)} {s}" for s in sentences(41, 3)]  # 41 = 10 batches of 4 and one of 1
    Path(cl_train).write_text("\n".join(labelled) + "\n")
    Path(cl_valid).write_text("\n".join(labelled[:10]) + "\n")
    lm = ["train", "--train", lm_train, "--valid", lm_valid, *LM]
    return {"stream": [*lm, "--bptt", "5", "--epochs", "1", "--max_batches", "20"],
            "sentence": [*lm, "--mode", "sentence", "--epochs", "1", "--max_batches", "20"],
            "classify": ["train", "--train", cl_train, "--valid", cl_valid, *CLASSIFY, "--epochs", "2"],
            "full": [*lm, "--bptt", "5", "--epochs", "2", "--max_batches", "8"],
            "part": [*lm, "--bptt", "5", "--epochs", "1", "--max_batches", "8"]}


def losses(folder: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (folder / "steps.jsonl").read_text().splitlines()]


def weights(folder: Path) -> dict:
    return read_tensors(folder / "last.safetensors")[0]


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    """The runs trained by 2 ranks (in ``tmp/two``) and by 1 process (``tmp/one``); the worker's
    records of each rank."""
    tmp = tmp_path_factory.mktemp("ddp")
    spec = runs(tmp)
    two = {name: [*argv, "--save", str(tmp / "two" / name)] for name, argv in spec.items()}
    i = two["sentence"].index("--threads")  # this one on the default threads
    del two["sentence"][i : i + 2]
    two["resume"] = ["train", "--resume", "--save", str(tmp / "two" / "part"), "--epochs", "2", "--quiet"]
    two["odd_batch"] = [*spec["stream"], "--batch_size", "3", "--save", str(tmp / "two" / "odd")]
    two["other_world"] = ["train", "--resume", "--save", str(tmp / "one" / "part"), "--epochs", "2", "--quiet"]
    for name in ("stream", "sentence", "classify", "part"):  # one process first: the worker resumes "part"
        assert cli_main([*spec[name], "--save", str(tmp / "one" / name)]) == 0
    (tmp / "runs.json").write_text(json.dumps(two))
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           str(ROOT / "tests" / "neural" / "ddp_runs.py"), str(tmp), str(tmp / "runs.json")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    print(f"torchrun: {time.perf_counter() - t0:.1f}s")
    records = {(name, r): json.loads((tmp / f"{name}.rank{r}.json").read_text()) for name in two for r in (0, 1)}
    return tmp, records


def cli_main(argv) -> int:
    from lmlab.cli.main import main

    return main(argv)


@pytest.mark.parametrize("name", ["stream", "sentence", "classify"])
def test_two_ranks_follow_the_curve_of_one_process_with_the_whole_batch(two_ranks, name):
    tmp, records = two_ranks
    assert records[(name, 0)]["code"] == records[(name, 1)]["code"] == 0
    one, two = losses(tmp / "one" / name), losses(tmp / "two" / name)
    assert len(one) == len(two) >= 20
    assert max(abs(a - b) for a, b in zip(one[:20], two[:20], strict=True)) < 1e-5
    assert len(set(one)) > 10  # a curve, not a constant


def test_only_rank_0_writes_and_speaks(two_ranks):
    tmp, records = two_ranks
    assert "best valid perplexity" in records[("stream", 0)]["out"]
    assert "best dev accuracy" in records[("classify", 0)]["out"]
    assert all(records[(name, 1)]["out"] == records[(name, 1)]["err"] == "" for name in ("stream", "classify"))
    state = json.loads((tmp / "two" / "stream" / "trainer_state.json").read_text())
    assert state["world_size"] == 2 and state["threads"] == 1
    # without --threads: the free cores shared among the node's 2 ranks (1 each on 2 cores)
    default = json.loads((tmp / "two" / "sentence" / "trainer_state.json").read_text())["threads"]
    assert 1 <= default <= max(1, (os.cpu_count() or 1) // 2)


def test_a_resumed_two_rank_run_ends_as_the_uninterrupted_one(two_ranks):
    tmp, records = two_ranks
    assert records[("resume", 0)]["code"] == records[("resume", 1)]["code"] == 0
    a, b = weights(tmp / "two" / "full"), weights(tmp / "two" / "part")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert losses(tmp / "two" / "full") == losses(tmp / "two" / "part")


def test_a_world_size_that_does_not_divide_the_batch_is_refused_by_every_rank(two_ranks):
    tmp, records = two_ranks
    for r in (0, 1):
        rec = records[("odd_batch", r)]
        assert rec["code"] == 2 and rec["err"].count("\n") == 1 and "Traceback" not in rec["err"]
        assert "--batch_size 3" in rec["err"] and "WORLD_SIZE=2" in rec["err"]
    assert not (tmp / "two" / "odd").exists()


def test_resuming_in_another_world_size_is_refused(two_ranks, capsys, monkeypatch):
    tmp, records = two_ranks
    rec = records[("other_world", 0)]
    assert rec["code"] == 2 and "trained by 1 process and this is 2" in rec["err"], rec
    # and the other way round: a two-rank run resumed by one process
    err = cli_error(capsys, "train", "--resume", "--save", tmp / "two" / "stream", "--epochs", "2", "--quiet")
    assert "trained by 2 processes and this is 1" in err


def test_the_batch_check_names_both_numbers_in_one_line(tmp_path, capsys, monkeypatch):
    spec = runs(tmp_path)
    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("RANK", "0")
    err = cli_error(capsys, *spec["stream"], "--save", tmp_path / "r")
    assert "--batch_size 4" in err and "WORLD_SIZE=3" in err


def test_a_shard_is_a_contiguous_slice_of_the_columns_with_its_own_items():
    inputs = torch.arange(12).reshape(3, 4)  # (T, B): 4 columns
    targets = inputs.clone()
    targets[0, 3] = -100
    batch = _batch(inputs, targets, carry=True)
    halves = [shard(batch, World(r, 2), rows_axis=1) for r in (0, 1)]
    assert [h["inputs"].tolist() for h in halves] == [inputs[:, :2].tolist(), inputs[:, 2:].tolist()]
    assert [h.n_items for h in halves] == [6, 5] and all(h.carry for h in halves)
    one_row = _batch(inputs[:, :1], targets[:, :1])
    stand_in = shard(one_row, World(0, 2), rows_axis=1), shard(one_row, World(1, 2), rows_axis=1)
    assert [s.n_items for s in stand_in] == [0, 3]  # rank 0 has no row: a stand-in counting nothing
    with pytest.raises(ValueError, match="scored tensor"):
        shard(_batch(inputs, targets), World(0, 2), rows_axis=1, scored="inputs")


# -- every kind: the ranks' shards of a batch add up to the batch --------------------------------
def _conditional_files(tmp_path):
    f = tmp_path / "cond.txt"
    f.write_text("".join("A a a b\n" if i % 3 else "B b b\n" for i in range(21)))
    return ["--train", f, "--valid", f], f


def _kind_cases():
    from tests.neural import test_task_model_api as t

    cases = {kind: (kind, flags, files) for kind, (_, flags, _, files, _) in t.KINDS.items()}
    cases.update({name: (kind, flags, t.KINDS[kind][3]) for name, (kind, flags, _) in t.VARIANTS.items()})
    cases["conditional-lm"] = ("conditional-lm", ["--emsize", 8, "--nhid", 8, "--dropout", 0], _conditional_files)
    return cases


KIND_CASES = _kind_cases()


@pytest.mark.parametrize("case", list(KIND_CASES))
def test_each_kinds_shards_sum_to_its_batch(case, tmp_path, capsys, monkeypatch):
    """For every kind, each training batch split over 2, 3 and 5 ranks: the shards' summed losses
    and items are the batch's (so the ranks' gradients sum to the batch's), whatever padding a
    shard keeps from the whole batch; the short batch leaves a rank without rows at 5."""
    from lmlab.models.neural.checkpoint import load_checkpoint
    from lmlab.train import loop

    kind, flags, files = KIND_CASES[case]
    seen = []

    def spy(batch, world, rows_axis=0, scored="targets"):
        seen.append((batch, rows_axis, scored))
        return shard(batch, world, rows_axis, scored)

    monkeypatch.setattr(loop, "shard", spy)
    data_flags, _ = files(tmp_path)
    code, _, err = cli(capsys, "train", "--kind", kind, *data_flags, *flags, "--dropout", 0, "--epochs", 1,
                       "--batch_size", 6, "--threads", 1, "--quiet", "--save", tmp_path / "m")
    assert code == 0, err
    model, _, _ = load_checkpoint(tmp_path / "m")
    model.eval()
    assert min(len(b) for b, _, _ in seen) < 5  # a short batch: at 5 ranks one gets no rows
    with torch.no_grad():
        for batch, axis, scored in seen:
            whole, n = model.loss(batch)
            for size in (2, 3, 5):
                parts = [shard(batch, World(r, size), axis, scored) for r in range(size)]
                assert sum(p.n_items for p in parts) == n == batch.n_items
                total = sum(float(model.loss(p)[0]) for p in parts if p.n_items)
                assert total == pytest.approx(float(whole), rel=1e-5, abs=1e-5)


def test_the_world_is_read_from_torchruns_environment():
    from lmlab.errors import ConfigError
    from lmlab.train.distributed import world_from_env

    assert world_from_env({}) == World()
    w = world_from_env({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"})
    assert (w.rank, w.size, w.local_rank, w.local_size, w.main, w.parallel) == (3, 4, 1, 2, False, True)
    assert world_from_env({"RANK": "0", "WORLD_SIZE": "2"}).local_size == 2  # one node unless told
    with pytest.raises(ConfigError, match="RANK='x' is not a whole number"):
        world_from_env({"RANK": "x", "WORLD_SIZE": "2"})
    with pytest.raises(ConfigError, match="RANK=2 is not a rank of WORLD_SIZE=2"):
        world_from_env({"RANK": "2", "WORLD_SIZE": "2"})


def test_a_world_without_a_rendezvous_point_is_one_line(tmp_path, capsys, monkeypatch):
    spec = runs(tmp_path)
    for key, value in (("WORLD_SIZE", "2"), ("RANK", "0")):
        monkeypatch.setenv(key, value)
    for key in ("MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(key, raising=False)
    err = cli_error(capsys, *spec["stream"], "--save", tmp_path / "r")
    assert "MASTER_ADDR and MASTER_PORT are not" in err and "torchrun" in err
