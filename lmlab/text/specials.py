"""Special symbols and their fixed ids, defined once (the same ids KenLM uses)."""

UNK = "<unk>"
BOS = "<s>"
EOS = "</s>"
UNK_ID = 0
BOS_ID = 1
EOS_ID = 2
SPECIALS = (UNK, BOS, EOS)
