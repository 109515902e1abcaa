"""Shared fixtures: the repository root and the `tokenscope` binary the
Python results are compared with.

The binary is `$TOKENSCOPE_BIN`, else `target/debug/tokenscope` or
`target/release/tokenscope` under the repository (`cargo build` makes it;
`.ci/run` runs `cargo test` first, which does). Tests that need it fail,
not skip, when it is missing: they are the point of the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import List, NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Run(NamedTuple):
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


def _binary() -> Path:
    env = os.environ.get("TOKENSCOPE_BIN")
    if env:
        return Path(env)
    for profile in ("debug", "release"):
        candidate = ROOT / "target" / profile / "tokenscope"
        if candidate.is_file():
            return candidate
    pytest.fail(
        "no tokenscope binary: run `cargo build` at the repository root or set TOKENSCOPE_BIN",
        pytrace=False,
    )


class Cli:
    def __init__(self, binary: Path) -> None:
        self.binary = binary

    def __call__(self, *args: str, stdin: str | None = None) -> Run:
        done = subprocess.run(
            [str(self.binary), *args],
            cwd=ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
            timeout=120,
        )
        return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def cli() -> Cli:
    return Cli(_binary())


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths in the tests are relative to the repository root, as in the
    command line runs they are compared with."""
    monkeypatch.chdir(ROOT)


def sample_inputs() -> List[str]:
    """Every file and folder under samples/, relative to the root."""
    out = []
    for path in sorted((ROOT / "samples").rglob("*")):
        out.append(str(path.relative_to(ROOT)))
    out.append("samples")
    return out
