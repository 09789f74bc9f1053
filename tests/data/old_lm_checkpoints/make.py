"""How the folders beside this file were made: with lmlab at 84b0400 (before the trainer and the
checkpoints became task-generic), ``PYTHONPATH=<that checkout> python make.py OUT``.  Kept as the
record of the fixture; the tests only read what it wrote."""

import json
import sys


def main(out: str) -> None:
    import torch

    from lmlab.models.neural.adapter import TorchLM
    from lmlab.models.neural.build import build_model
    from lmlab.models.neural.checkpoint import save_model
    from lmlab.models.neural.config import RNNLMConfig, WindowLMConfig
    from lmlab.text.vocab import Vocab

    lines = ["the cat sat on the mat", "a dog saw the cat", "the dog sat", "a cat ran"]
    vocab = Vocab.build([s.split() for s in lines])
    res = {}
    for name, cfg in {"lstm-tied": RNNLMConfig(vocab_size=len(vocab), emsize=4, nhid=4, nlayers=2, tied=True),
                      "window": WindowLMConfig(vocab_size=len(vocab), context=2, emsize=3, nhid=4)}.items():
        torch.manual_seed(7)
        save_model(f"{out}/{name}", build_model(cfg), cfg, vocab)
        lm = TorchLM.load(f"{out}/{name}")
        res[name] = [x.tolist() for x in lm.corpus_token_logprobs([vocab.encode(s.split()) for s in lines])]
    with open(f"{out}/expected.json", "w") as fh:
        json.dump({"lines": lines, "logprobs": res}, fh, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
