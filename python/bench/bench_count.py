"""Batch token counting: tokenscope.count against tiktoken's encode_ordinary_batch.

The corpus is this repository's own text files (every file git tracks that
is UTF-8 text: Rust sources, tests, snapshots, docs, samples), each file one
document: code and prose, a few hundred documents and a few MB. Every
figure is checked first: tokenscope's count of each document must equal
len(tiktoken's encode_ordinary) of it.

tiktoken downloads its rank files from a host this machine cannot reach;
the script seeds tiktoken's cache (TIKTOKEN_CACHE_DIR, one file per
encoding named by the SHA-1 of its download address) with the same rank
files as tiktoken-rs ships them (the crate the root crate's build script
reads), after checking each against the SHA-256 that tiktoken itself
expects (read from tiktoken_ext.openai_public).

    python python/bench/bench_count.py                     # o200k_base, every core
    python python/bench/bench_count.py --encoding cl100k_base --rounds 7
    RAYON_NUM_THREADS=1 python python/bench/bench_count.py --threads 1   # one core each
    python python/bench/bench_count.py --corpus short      # 300,000 short documents

Needs `pip install ./python tiktoken` (python/requirements-bench.txt).
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODELS = {"o200k_base": "gpt-4o", "cl100k_base": "gpt-4"}


def corpus() -> list[str]:
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    docs = []
    for name in files:
        path = ROOT / name.decode()
        if not name or not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue
        try:
            docs.append(data.decode("utf-8"))
        except UnicodeDecodeError:
            continue
    return docs


def short_corpus() -> list[str]:
    """Many short documents (rows of a table): 300,000 lines of about 70
    characters."""
    return [
        f"document number {i}: the quick brown fox jumps over the lazy dog {i * 7}"
        for i in range(300_000)
    ]


def tiktoken_rs_assets() -> Path:
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--manifest-path", str(ROOT / "Cargo.toml")],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    for package in json.loads(meta)["packages"]:
        if package["name"] == "tiktoken-rs":
            return Path(package["manifest_path"]).parent / "assets"
    sys.exit("tiktoken-rs is not among the root crate's dependencies (cargo metadata)")


def seed_tiktoken_cache(cache_dir: Path, encoding: str) -> None:
    """Puts `encoding`'s rank file where tiktoken looks for it, checked
    against the hash tiktoken expects."""
    import tiktoken_ext.openai_public as public

    source = inspect.getsource(getattr(public, encoding))
    url = re.search(r'"(https://[^"]+\.tiktoken)"', source).group(1)
    expected = re.search(r'expected_hash="([0-9a-f]{64})"', source).group(1)
    data = (tiktoken_rs_assets() / f"{encoding}.tiktoken").read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        sys.exit(f"{encoding}: the local rank file's sha256 {actual} is not tiktoken's {expected}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / hashlib.sha1(url.encode()).hexdigest()).write_bytes(data)


def best_and_median(fn, rounds: int) -> tuple[float, float]:
    fn()  # warm up: tables loaded, threads started
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoding", default="o200k_base", choices=sorted(MODELS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--corpus", default="repo", choices=["repo", "short"])
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count(),
        help="tiktoken's num_threads (tokenscope: set RAYON_NUM_THREADS to the same)",
    )
    args = parser.parse_args()

    cache = Path(os.environ.get("TIKTOKEN_CACHE_DIR") or Path(tempfile.gettempdir()) / "tokenscope-bench-tiktoken")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    seed_tiktoken_cache(cache, args.encoding)

    import tiktoken
    import tokenscope

    enc = tiktoken.get_encoding(args.encoding)
    model = MODELS[args.encoding]
    docs = corpus() if args.corpus == "repo" else short_corpus()
    size = sum(len(d.encode("utf-8")) for d in docs)

    ours = tokenscope.count(docs, model=model)
    theirs = [len(t) for t in enc.encode_ordinary_batch(docs, num_threads=args.threads)]
    if ours != theirs:
        bad = next(i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b)
        sys.exit(f"counts differ on document {bad}: tokenscope {ours[bad]}, tiktoken {theirs[bad]}")

    runs = {
        "tokenscope.count(docs)": lambda: tokenscope.count(docs, model=model),
        f"tiktoken encode_ordinary_batch(num_threads={args.threads}) + len": lambda: [
            len(t) for t in enc.encode_ordinary_batch(docs, num_threads=args.threads)
        ],
        f"tiktoken encode_batch(num_threads={args.threads}) + len": lambda: [
            len(t) for t in enc.encode_batch(docs, num_threads=args.threads, disallowed_special=())
        ],
        "tokenscope.count(d) per document": lambda: [tokenscope.count(d, model=model) for d in docs],
        "tiktoken len(encode_ordinary(d)) per document": lambda: [len(enc.encode_ordinary(d)) for d in docs],
    }
    print(
        f"corpus: {len(docs)} documents, {size / 1e6:.2f} MB, {sum(ours):,} tokens ({args.encoding}); "
        f"{os.cpu_count()} cores, RAYON_NUM_THREADS={os.environ.get('RAYON_NUM_THREADS', 'unset')}; "
        f"best and median of {args.rounds} rounds"
    )
    print(f"{'':58} {'best MB/s':>10} {'median MB/s':>12}")
    for name, fn in runs.items():
        best, median = best_and_median(fn, args.rounds)
        print(f"{name:58} {size / best / 1e6:10.1f} {size / median / 1e6:12.1f}")


if __name__ == "__main__":
    main()
