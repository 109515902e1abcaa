"""Counts equal OpenAI's tiktoken (the reference) on the samples, the
repository's documents and hostile text, for every encoding.

tiktoken's rank files come from a host this machine cannot reach; its cache
is seeded with the same files from tiktoken-rs (checked against the hashes
tiktoken expects), as the benchmark does.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

import tokenscope

from conftest import ROOT

_spec = importlib.util.spec_from_file_location("bench_count", ROOT / "python/bench/bench_count.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

ENCODINGS = ["o200k_base", "cl100k_base", "p50k_base", "r50k_base"]
HOSTILE = [
    "",
    " ",
    "\n\n\n   \t",
    "<|endoftext|> and <|fim_prefix|>",
    "naïve café — 日本語のテキスト 🤖🏳️‍🌈 Ω≈ç√",
    "a" * 5000,
    " " * 1000 + "x",
    "1234567890" * 40,
    "\u0301\u0301e\u0301 mixed marks",
    "def f(x):\n    return x ** 2  # comment\n",
    "I'm here, they're 'quoted' DON'T shout",
]


@pytest.fixture(scope="module")
def tiktoken_module(tmp_path_factory):
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    for encoding in ENCODINGS:
        bench.seed_tiktoken_cache(cache, encoding)
    import tiktoken

    return tiktoken


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_counts_equal_tiktoken(tiktoken_module, encoding):
    enc = tiktoken_module.get_encoding(encoding)
    docs = bench.corpus() + HOSTILE
    expected = [len(t) for t in enc.encode_ordinary_batch(docs)]
    assert tokenscope.count(docs, encoding=encoding) == expected
    special = [len(enc.encode(d, allowed_special="all")) for d in HOSTILE]
    assert tokenscope.count(HOSTILE, encoding=encoding, allow_special=True) == special
