"""The README's Python section runs as written: every `python` block that
does not need Ray or Spark is executed (in order, one namespace, from the
repository root), and each `print(...)  # VALUE (note)` line must print
VALUE."""

from __future__ import annotations

import contextlib
import io
import re

from conftest import ROOT


def _section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Python\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", _section(), flags=re.S)


def _expected(block: str) -> list[str]:
    out = []
    for line in block.splitlines():
        m = re.match(r"\s*print\(.*\)\s+# (.*)$", line)
        if m:
            out.append(re.sub(r"\s+\(.*\)$", "", m.group(1)).strip())
    return out


def test_the_readme_examples_run_and_print_what_they_say():
    blocks = _blocks()
    runnable = [b for b in blocks if "import ray" not in b and "pyspark" not in b]
    assert len(runnable) >= 2 and len(blocks) > len(runnable)
    namespace: dict = {}
    checked = 0
    for block in runnable:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, "README.md", "exec"), namespace)
        printed = out.getvalue().splitlines()
        expected = _expected(block)
        assert printed == expected, block
        checked += len(expected)
    assert checked >= 6
    # The Ray and Spark blocks name the functions the runnable blocks define.
    wiring = "\n".join(b for b in blocks if b not in runnable)
    assert "add_token_counts" in wiring and "map_batches" in wiring and "pandas_udf" in wiring


def test_the_example_is_ten_lines():
    first = _blocks()[0]
    assert len(first.strip().splitlines()) <= 10
