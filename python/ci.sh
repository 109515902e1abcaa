#!/usr/bin/env bash
# CI for the Python package (python/), run by .ci/run after the root crate's
# tests: formatting and lints of the bindings, then a wheel built with
# maturin, installed into a fresh venv, and its pytest suite (which compares
# with the command line's target/debug/tokenscope, built by `cargo test`).
#
# The build shares the root target folder and uses the dev profile, which
# python/Cargo.toml lays out as the root's (dependencies optimised), so the
# dependencies `cargo test` compiled are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
venv="$root/target/py-venv"
export CARGO_TARGET_DIR="$root/target"
start=$(date +%s)

python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r python/requirements-test.txt
export PYO3_PYTHON="$venv/bin/python"

(cd python && cargo fmt --check && cargo clippy --all-targets -- -D warnings)

rm -rf target/py-wheels
"$venv/bin/maturin" build --profile dev --manifest-path python/Cargo.toml \
    --interpreter "$venv/bin/python" --out target/py-wheels
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps target/py-wheels/tokenscope-*.whl

if [ ! -x target/debug/tokenscope ]; then
    cargo build --bin tokenscope
fi
TOKENSCOPE_BIN="$root/target/debug/tokenscope" "$venv/bin/python" -m pytest -q python/tests
echo "python package: built and tested in $(( $(date +%s) - start )) s" >&2
