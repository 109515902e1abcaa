"""`trim_request` writes what `pack --format request` writes; bad input
raises the exception the command line's exit status stands for, with the
same message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tokenscope

from conftest import ROOT

REQUESTS = {
    "samples/chat/agent.json": (330, None),
    "samples/requests/anthropic.json": (1500, None),
    "samples/requests/responses.json": (1500, None),
    "samples/requests/gemini.json": (1500, "gemini-2.5-flash"),
}


@pytest.mark.parametrize("path", sorted(REQUESTS))
def test_trim_request_is_format_request(cli, path):
    budget, model = REQUESTS[path]
    args = ["pack", path, "--budget", str(budget), "--format", "request"]
    if model:
        args += ["--model", model]
    run = cli(*args)
    assert run.code == 0, run.stderr
    text = open(path, encoding="utf-8").read()
    assert tokenscope.trim_request(text, budget, model) == run.stdout
    assert tokenscope.trim_request(Path(path), budget, model=model) == run.stdout
    trimmed = tokenscope.trim_request(json.loads(text), budget, model)
    assert trimmed == json.loads(run.stdout)
    assert list(trimmed) == list(json.loads(run.stdout)), "key order kept"
    # Something was cut, and what is left fits.
    assert trimmed != json.loads(text)
    assert tokenscope.count_chat(trimmed, model) <= budget


def test_trim_request_of_something_else():
    with pytest.raises(tokenscope.UsageError, match="not a chat request"):
        tokenscope.trim_request('{"items": [{"text": "hello"}]}', 100)
    with pytest.raises(tokenscope.UsageError, match="budget must be a positive number of tokens, got 0"):
        tokenscope.trim_request({"messages": [{"role": "user", "content": "hi"}]}, 0)
    with pytest.raises(TypeError):
        tokenscope.trim_request(42, 100)


INVALID = sorted(p for p in (ROOT / "tests/fixtures/invalid").iterdir() if p.is_file())


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_inputs_raise_the_command_lines_error(cli, path):
    rel = str(path.relative_to(ROOT))
    run = cli("pack", rel, "--format", "json")
    assert run.code == 2, run
    with pytest.raises(tokenscope.InputError) as caught:
        tokenscope.load(rel)
    e = caught.value
    assert run.stderr.strip() == f"tokenscope: {e}"
    assert e.exit_code == 2
    assert e.path is not None and e.path.endswith(path.name) or path.name == "missing_path.toml"
    if e.line is not None:
        assert f":{e.line}:{e.column}: " in str(e)
    with pytest.raises(tokenscope.InputError):
        tokenscope.pack(rel)


def test_input_error_has_the_position():
    with pytest.raises(tokenscope.InputError) as caught:
        tokenscope.load("tests/fixtures/invalid/unknown_strategy.toml")
    e = caught.value
    assert (e.path, e.line, e.column) == ("tests/fixtures/invalid/unknown_strategy.toml", e.line, e.column)
    assert isinstance(e.line, int) and isinstance(e.column, int)
    assert str(e).startswith(f"{e.path}:{e.line}:{e.column}: ")
    assert "^" in e.snippet
    assert isinstance(e, tokenscope.TokenscopeError) and isinstance(e, ValueError)


def test_missing_file():
    with pytest.raises(tokenscope.InputError, match="no/such/file.toml") as caught:
        tokenscope.load("no/such/file.toml")
    assert caught.value.path == "no/such/file.toml"
