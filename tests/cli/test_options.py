"""Every option of every command: described, with its default, no RST in --help (item 19); both
spellings of every multi-word flag, bad values refused, two sources of one text refused (item 21)."""

from __future__ import annotations

import argparse

import pytest

from lmlab.cli._common import _other_spelling
from lmlab.cli.main import COMMANDS, build_parser, main


def subparsers():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser, sub.choices


def test_every_command_has_a_description_and_every_option_help():
    parser, subs = subparsers()
    assert set(subs) == set(COMMANDS)
    missing = []
    for name, sp in subs.items():
        assert sp.description and sp.description.strip(), f"{name} has no description"
        help_text = sp.format_help()
        for bad in ("``", ":mod:", ":class:", ":func:", ":meth:"):
            assert bad not in help_text, f"lmlab {name} --help shows RST markup {bad!r}"
        for action in sp._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            label = f"{name} {'/'.join(action.option_strings) or action.dest}"
            if not (action.help or "").strip():
                missing.append(label)
                continue
            shown = sp._get_formatter()._expand_help(action)
            if "\n" in action.help:
                missing.append(f"{label}: more than one line")
            if action.option_strings and action.default not in (None, argparse.SUPPRESS) and \
                    not isinstance(action.default, bool):
                assert "default" in shown, f"{label}: the help does not give the default {action.default!r}"
                assert "%(" not in shown
    assert not missing, missing
    assert "``" not in parser.format_help()


def test_score_and_rerank_have_their_own_descriptions():
    _, subs = subparsers()
    assert subs["score"].description != subs["rerank"].description
    assert "re-rank" in subs["rerank"].description and "n-best" in subs["rerank"].description
    for name in ("query", "prune", "convert"):
        assert ".lmbin" in subs[name].format_help(), f"{name} --help should say it takes .lmbin"


def test_help_exits_0_and_shows_defaults(capsys):
    assert main(["generate", "--help"]) == 0
    out = capsys.readouterr().out
    assert "(default: 30)" in out and "number of samples (default: 1)" in out and "``" not in out


def multiword_options():
    _, subs = subparsers()
    for name, sp in subs.items():
        for action in sp._actions:
            for opt in action.option_strings:
                if _other_spelling(opt) is not None:
                    yield name, sp, action, opt


def test_there_are_multiword_flags_of_both_styles():
    opts = {opt for _, _, _, opt in multiword_options()}
    assert {"--max_tokens", "--no-stop", "--dry-run", "--per-token", "--lm_weight"} <= opts


def test_every_multiword_flag_takes_both_spellings():
    checked = 0
    for name, sp, action, opt in multiword_options():
        alt = _other_spelling(opt)
        assert alt not in sp._option_string_actions or sp._option_string_actions[alt] is action
        # the other spelling reaches the same action: parse it alone and see that action consumed it
        args = [alt] + (["1"] * (action.nargs if isinstance(action.nargs, int) else 1)
                        if action.nargs != 0 and action.nargs not in ("?", "*") else [])
        rewritten = []

        def spy(arg_strings, namespace, *rest, _seen=rewritten):
            _seen.extend(arg_strings)
            raise SystemExit(0)

        sp._parse_known_args = spy
        try:
            with pytest.raises(SystemExit):
                sp.parse_known_args(args)
        finally:
            del sp._parse_known_args
        assert rewritten[0] == opt, f"lmlab {name} {alt} is not taken as {opt}"
        checked += 1
    assert checked >= 20


def test_both_spellings_parse_to_the_same_values():
    parser, _ = subparsers()
    a = parser.parse_args(["generate", "m", "--max_tokens", "7", "--no-stop", "--top_k", "3"])
    b = parser.parse_args(["generate", "m", "--max-tokens", "7", "--no_stop", "--top-k", "3"])
    c = parser.parse_args(["generate", "m", "--max-tokens=7", "--no_stop", "--top-k=3"])
    assert vars(a) == vars(b) == vars(c) and a.max_tokens == 7 and a.stop is False and a.top_k == 3
    d = parser.parse_args(["train", "--save", "x", "--dry_run", "--batch-size", "4", "--dropout-emb", "0.1"])
    assert d.dry_run and d.batch_size == 4 and d.dropout_emb == 0.1
    e = parser.parse_args(["score", "m", "--per_token"])
    assert e.per_token


@pytest.mark.parametrize("argv, message", [
    (["generate", "m", "-n", "-1"], "-n/--num: -1 is not a positive integer"),
    (["generate", "m", "--max_tokens", "-5"], "--max_tokens: -5 is not a positive integer"),
    (["generate", "m", "--max-tokens", "0"], "--max_tokens: 0 is not a positive integer"),
    (["generate", "m", "--top_p", "0"], "--top_p: 0 is not a probability"),
    (["generate", "m", "--temperature", "-1"], "--temperature: -1 is not a positive number"),
    (["complete", "m", "the", "-k", "0"], "-k: 0 is not a positive integer"),
    (["demo", "--order", "0"], "--order: 0 is not a positive integer"),
    (["perplexity", "m", "--text", "t", "--data", "ptb"], "--text: not allowed with argument --data"),
    (["compare", "m", "--text", "t", "--data", "ptb"], "--text: not allowed with argument --data"),
    (["ngram", "-o", "3", "--text", "t", "--data", "ptb"], "--text: not allowed with argument --data"),
    (["train", "--train", "t", "--data", "ptb", "--save", "x"], "--train: not allowed with argument --data"),
    (["train", "--valid", "v", "--data", "ptb", "--save", "x"], "--valid: not allowed with argument --data"),
])
def test_bad_values_refused(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith(f"lmlab {argv[0]}: error: ")


def test_an_unknown_option_names_its_command(capsys):
    """``lmlab predict M --zzz``: the error is the subcommand's, pointing to its own --help."""
    from lmlab.cli.main import COMMANDS, main

    named = 0
    for command in COMMANDS:
        assert main([command, "x", "--zzz-not-an-option"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"lmlab {command}: error: "), err
        if "unrecognized arguments" in err:  # (else a required option is missing, said first)
            named += 1
            assert "--zzz-not-an-option" in err and f"(see 'lmlab {command} --help')" in err, err
    assert named >= len(COMMANDS) // 2


def test_train_valid_help_states_each_kinds_hold_out_rule():
    """--valid's default differs by kind (lmlab.train.runs.hold_out, lmlab.data.tasks.hold_out_dev):
    the help says each rule, not only the LM's."""
    train = next(a for a in build_parser("train")._actions if a.dest == "command").choices["train"]
    text = " ".join(next(a for a in train._actions if a.dest == "valid").help.split())
    assert "--kind lm: its last 1000 lines" in text and "tag: its last 1000 sentences, when it has more" in text
    assert "classify, conditional-lm: 1 example in 10 of each label" in text
