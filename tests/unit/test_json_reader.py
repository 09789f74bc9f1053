"""lmlab._json: the one reader of lmlab's JSON files (issue 13 item 10), and a check that no other
code parses a JSON file by itself (so the next JSON file lmlab reads is covered too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lmlab._json import INT, NUMBER, STR, check_fields, list_of, optional, read_json
from lmlab.errors import ConfigError, LmlabError, ModelFormatError

LMLAB = Path(__file__).resolve().parents[2] / "lmlab"

# Where lmlab may call json.load/json.loads itself, and why: each parses JSON that is not a whole
# file, or reads it through read_json's checks already.
ALLOWED = {
    "_json.py": "the reader itself",
    "text/vocab.py": "Vocab.from_json(text): a string from the caller, checked by from_dict",
    "text/labels.py": "LabelSet.from_json(text): a string from the caller, checked by from_dict",
    "models/neural/checkpoint.py": "the safetensors header, after safetensors has validated it",
    "models/ngram/arpa_text.py": "one '# lmlab:' comment line of an ARPA file, named by line number on error",
    "models/ngram/binary.py": "the binary model's header, inside its own format checks",
    "train/run_folder.py": "steps.jsonl: JSON lines, one record a line, each named by its line number on error",
}


def test_no_other_module_parses_json_files_itself():
    found = set()
    for path in LMLAB.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("load", "loads") and getattr(node.func.value, "id", None) == "json":
                found.add(path.relative_to(LMLAB).as_posix())
    assert found <= set(ALLOWED), f"read JSON files with lmlab._json.read_json: {sorted(found - set(ALLOWED))}"


@pytest.mark.parametrize("content,expected", [
    (b'{"a": 1,}', "not valid JSON (Expecting property name enclosed in double quotes at line 1, column 9)"),
    (b"\n\n  [1, 2]", "expected a thing (a JSON object), got list [1, 2]"),
    (b'"text"', 'got str "text"'),
    (b'{"a": "\xff"}', "line 1: invalid UTF-8 at byte 7"),
    (b"[" * 100_000, "nested too deeply"),
], ids=["trailing comma", "a list", "a string", "not UTF-8", "deep"])
def test_read_json_names_the_file_and_the_problem(tmp_path, content, expected):
    path = tmp_path / "f.json"
    path.write_bytes(content)
    with pytest.raises(ModelFormatError) as info:
        read_json(path, "a thing", ModelFormatError)
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and expected in msg and "\n" not in msg


def test_read_json_drops_a_byte_order_mark(tmp_path):
    """As every reader of user text does (issue 13 item 6): an editor's BOM is not part of the JSON."""
    path = tmp_path / "f.json"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}')
    assert read_json(path, "a thing", ModelFormatError) == {"a": 1}


def test_read_json_missing_file_and_folder(tmp_path):
    with pytest.raises(ConfigError, match=f"^{tmp_path / 'nope.json'}: no such file$"):
        read_json(tmp_path / "nope.json", "a thing", ConfigError)
    with pytest.raises(ConfigError, match="is a directory"):
        read_json(tmp_path, "a thing", ConfigError)
    (tmp_path / "ok.json").write_text('{"a": [1, 2]}')
    assert read_json(tmp_path / "ok.json", "a thing") == {"a": [1, 2]}


def test_check_fields_names_every_problem_at_once():
    fields = {"n": INT, "x": NUMBER, "name": optional(STR), "ids": list_of(INT)}
    with pytest.raises(LmlabError) as info:
        check_fields({"n": True, "x": "1", "ids": [1, "2"], "extra": 0}, fields, where="f.json",
                     error=LmlabError, required=("n", "name"))
    assert str(info.value) == (
        "f.json: missing field 'name'; unknown field 'extra'; field 'n' must be an integer, got true; "
        "field 'x' must be a number, got \"1\"; field 'ids' must be a list of integers, got [1, \"2\"]"
    )
    ok = {"n": 1, "x": 2.5, "name": None, "ids": []}
    assert check_fields(ok, fields, where="f.json", error=LmlabError, required=("n",)) is ok
    with pytest.raises(LmlabError, match=r"^f.json: expected a JSON object, got int 5$"):
        check_fields(5, fields, where="f.json", error=LmlabError)
