"""``build_model(config)``: the one place configs meet modules."""

from __future__ import annotations

from ...text.specials import BOS_ID
from .config import ModelConfig, RNNLMConfig, WindowLMConfig
from .lm import NeuralLM
from .rnn import RNNLM
from .window import WindowLM


def build_model(config: ModelConfig) -> NeuralLM:
    if isinstance(config, RNNLMConfig):
        emb, between, out = config.dropouts()
        model = RNNLM(config.vocab_size, config.emsize, config.nhid, config.nlayers, config.cell,
                      config.dropout, config.tied, config.init, BOS_ID, tuple(config.adaptive_cutoffs),
                      dropout_emb=emb, dropout_between=between, dropout_out=out)
        if config.freeze_embeddings:
            model.encoder.weight.requires_grad_(False)
        model.config = config
        return model
    if isinstance(config, WindowLMConfig):
        model = WindowLM(config.vocab_size, config.context, config.emsize, config.nhid, config.dropout,
                         config.direct, BOS_ID)
        model.config = config
        return model
    raise TypeError(f"no model for {type(config).__name__}")
