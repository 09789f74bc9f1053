"""Written with main's lmlab (84b0400): tiny LM checkpoints in the pre-task-generic format."""
import json, sys, numpy as np, torch
from lmlab.models.neural.build import build_model
from lmlab.models.neural.checkpoint import save_model
from lmlab.models.neural.config import RNNLMConfig, WindowLMConfig
from lmlab.models.neural.adapter import TorchLM
from lmlab.text.vocab import Vocab
out = sys.argv[1]
LINES = ["the cat sat on the mat", "a dog saw the cat", "the dog sat", "a cat ran"]
vocab = Vocab.build([s.split() for s in LINES])
res = {}
for name, cfg in {"lstm-tied": RNNLMConfig(vocab_size=len(vocab), emsize=4, nhid=4, nlayers=2, tied=True),
                  "window": WindowLMConfig(vocab_size=len(vocab), context=2, emsize=3, nhid=4)}.items():
    torch.manual_seed(7)
    m = build_model(cfg)
    save_model(f"{out}/{name}", m, cfg, vocab)
    lm = TorchLM.load(f"{out}/{name}")
    lp = lm.corpus_token_logprobs([vocab.encode(s.split()) for s in LINES])
    res[name] = [x.tolist() for x in lp]
json.dump({"lines": LINES, "logprobs": res}, open(f"{out}/expected.json", "w"), indent=1)
