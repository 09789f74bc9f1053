"""Special symbols and their fixed ids, defined once (the same ids KenLM uses)."""

UNK = "<unk>"
BOS = "<s>"
EOS = "</s>"
UNK_ID = 0
BOS_ID = 1
EOS_ID = 2
SPECIALS = (UNK, BOS, EOS)

# Padding outside every vocabulary and label set: a padded position of a batch of label ids holds
# PAD_ID, which no label or token has, and losses skip it (torch's cross_entropy ignore_index).
# Input ids are padded with ``Vocab.pad_id`` (= ``len(vocab)``: one row past the last token, so an
# embedding table of ``len(vocab) + 1`` rows can index it and its padding_idx masks it).
PAD_ID = -100
