"""`count` and `count_chat` give the command line's counts."""

from __future__ import annotations

import json
import threading
import time

import pytest

import tokenscope

from conftest import ROOT, sample_inputs

FILES = [p for p in sample_inputs() if (ROOT / p).is_file()]
REQUESTS = ["samples/chat/agent.json"] + [f"samples/requests/{n}.json" for n in ("anthropic", "responses", "gemini")]


def _cli_counts(cli, args):
    run = cli("count", *args, "--json")
    assert run.code == 0, run.stderr
    return run.json()["results"]


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4", "gpt-3.5-turbo", "claude-sonnet-4-5", "gemini-2.5-flash"])
def test_count_is_count_for_every_sample_file(cli, model):
    (result,) = _cli_counts(cli, ["--model", model, *FILES])
    expected = {f["path"]: f["tokens"] for f in result["files"]}
    texts = [open(p, encoding="utf-8").read() for p in FILES]
    assert tokenscope.count(texts, model=model) == [expected[p] for p in FILES]
    assert [tokenscope.count(t, model=model) for t in texts] == [expected[p] for p in FILES]


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base", "p50k_base", "r50k_base"])
def test_count_with_an_encoding(cli, encoding):
    (result,) = _cli_counts(cli, ["-e", encoding, *FILES])
    expected = [f["tokens"] for f in sorted(result["files"], key=lambda f: FILES.index(f["path"]))]
    texts = [open(p, encoding="utf-8").read() for p in FILES]
    assert tokenscope.count(texts, encoding=encoding) == expected


def test_long_text_counted_in_parallel_chunks_is_exact(cli, tmp_path):
    # Over 512 KiB: the library cuts it at safe points and counts the
    # pieces on all cores; the count is the whole text's.
    text = "".join(open(p, encoding="utf-8").read() for p in FILES) * 12
    assert len(text.encode()) > 600_000
    path = tmp_path / "long.txt"
    path.write_text(text, encoding="utf-8")
    (result,) = _cli_counts(cli, [str(path)])
    assert tokenscope.count(text) == result["total"]


def test_special_tokens():
    assert tokenscope.count("<|endoftext|>") > 1
    assert tokenscope.count("<|endoftext|>", allow_special=True) == 1


def test_any_iterable_of_str_and_empty():
    assert tokenscope.count(("a b", "c")) == [2, 1]
    assert tokenscope.count(iter(["hello world"])) == [2]
    assert tokenscope.count([]) == []
    assert tokenscope.count("") == 0


@pytest.mark.parametrize(
    "bad,kind,message",
    [
        (b"bytes", TypeError, "got bytes"),
        (3, TypeError, "expected a str or an iterable of str"),
        (["a", None], TypeError, "item 1 is NoneType"),
    ],
)
def test_bad_text(bad, kind, message):
    with pytest.raises(kind, match=message):
        tokenscope.count(bad)


def test_unknown_model_and_encoding():
    with pytest.raises(tokenscope.UsageError, match="unknown model `gpt-17`"):
        tokenscope.count("x", model="gpt-17")
    with pytest.raises(tokenscope.UsageError, match="o200k_base"):
        tokenscope.count("x", encoding="o300k")


def test_count_releases_the_gil():
    # While one thread counts a large batch, another Python thread runs.
    texts = [open(p, encoding="utf-8").read() for p in FILES] * 60
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=tick)
    start = time.perf_counter()
    t.start()
    tokenscope.count(texts, model="gpt-4")
    tokenscope.count(texts, model="gpt-4o")
    end = time.perf_counter()
    stop.set()
    t.join()
    during = [x for x in ticks if start < x < end]
    assert len(during) >= 3, (len(during), end - start)


@pytest.mark.parametrize("path", REQUESTS)
def test_count_chat_is_count_chat(cli, path):
    (result,) = _cli_counts(cli, ["--chat", path])
    request = json.loads(open(path, encoding="utf-8").read())
    assert tokenscope.count_chat(request) == result["total"]
    assert tokenscope.count_chat(open(path, encoding="utf-8").read()) == result["total"]


@pytest.mark.parametrize("path", REQUESTS)
@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4.1", "claude-sonnet-4-5"])
def test_count_chat_for_a_model(cli, path, model):
    (result,) = _cli_counts(cli, ["--chat", "--model", model, path])
    request = json.loads(open(path, encoding="utf-8").read())
    assert tokenscope.count_chat(request, model=model) == result["total"]


def test_count_chat_bad_request():
    with pytest.raises(tokenscope.InputError) as caught:
        tokenscope.count_chat('{"messages": [{"role": "user", "content": 3}]}')
    e = caught.value
    assert e.path == "<request>" and e.line == 1 and e.column is not None
    assert str(e).startswith("<request>:1:")
    with pytest.raises(TypeError, match="expected a dict or the request's JSON text"):
        tokenscope.count_chat(["not", "a", "request"])
