"""The Python report is the command line's report: `pack_json` gives the
text `tokenscope pack ... --format json` writes, byte for byte, and `pack`
the same document as a dict, on every sample and with the flags that
change a plan (profiles, budgets, strategies, overflows, splits, models).

Nothing is normalised: a `tokenscope.report/1` report carries no time or
other run-dependent field for these inputs (the `optimal` runs below finish
their search well inside the deadline, so `optimality_gap` is null in
both).
"""

from __future__ import annotations

import json

import pytest

import tokenscope

from conftest import sample_inputs

SAMPLES = sample_inputs()


def _compare(cli, path_args, **options):
    flags = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, dict):
            value = ",".join(f"{k}={v}" for k, v in value.items())
        flags += [flag, str(value)]
    run = cli("pack", *path_args, *flags, "--format", "json")
    source = path_args[0] if len(path_args) == 1 else list(path_args)
    if run.code != 0:
        with pytest.raises(tokenscope.TokenscopeError) as caught:
            tokenscope.pack_json(source, **options)
        assert caught.value.exit_code == run.code
        assert run.stderr.strip() == f"tokenscope: {caught.value}", (run.stderr, str(caught.value))
        return False
    assert tokenscope.pack_json(source, **options) == run.stdout
    report = tokenscope.pack(source, **options)
    assert report == run.json()
    assert report.json() == run.stdout
    return True


def test_every_sample_packs_as_on_the_command_line(cli):
    accepted = [p for p in SAMPLES if _compare(cli, [p])]
    # The item sets, the requests but Gemini (no model), the prompt files
    # and the folders: far more than half of them.
    assert "samples/docs/docs.toml" in accepted
    assert "samples/chat/agent.json" in accepted
    assert "samples/docs" in accepted
    assert len(accepted) >= 40, accepted


@pytest.mark.parametrize("path", SAMPLES)
@pytest.mark.parametrize("budget", [300])
def test_every_sample_at_a_budget(cli, path, budget):
    _compare(cli, [path], budget=budget)


@pytest.mark.parametrize(
    "options",
    [
        {"profile": "ci"},
        {"profile": "tight"},
        {"profile": "tight", "budget": 5000, "strategy": "density"},
        {"budget": 8000, "strategy": "optimal"},
        {"budget": 6000, "strategy": "strict", "overflow": "truncate"},
        {"budget": 6000, "strategy": "balanced", "overflow": "degrade"},
        {"budget": 9000, "overflow": "priority-cut"},
        {"budget": 7000, "split": {"header": 10, "concepts": 50, "pages": 20, "examples": 15, "footer": 5}},
        {"model": "claude-sonnet-4-5", "budget": 9000},
        {"model": "gpt-4o-mini", "reserve_output": 120000},
        {"encoding": "cl100k_base", "budget": 4000},
        {"profile": "nope"},
        {"strategy": "fastest"},
        {"split": {"nowhere": 20}},
        {"model": "gpt-5"},
    ],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()),
)
def test_flags_and_profiles_as_on_the_command_line(cli, options):
    _compare(cli, ["samples/docs/docs.toml"], **options)


@pytest.mark.parametrize(
    "path,options",
    [
        ("samples/rag/rag.toml", {"profile": "tight"}),
        ("samples/agent-memory/memory.toml", {"strategy": "optimal", "budget": 1500}),
        ("samples/chat/agent.json", {"budget": 330}),
        ("samples/requests/anthropic.json", {"budget": 1500}),
        ("samples/requests/responses.json", {"budget": 1500, "image_size": "1024x768"}),
        ("samples/requests/gemini.json", {"model": "gemini-2.5-flash", "budget": 1500}),
        ("samples/docs", {"budget": 5000, "include": "**/concepts/**"}),
    ],
)
def test_other_inputs_as_on_the_command_line(cli, path, options):
    if "image_size" in options:
        w, h = options["image_size"].split("x")
        run = cli("pack", path, "--budget", "1500", "--image-size", options["image_size"], "--format", "json")
        assert run.code == 0, run.stderr
        assert tokenscope.pack_json(path, budget=1500, image_size=(int(w), int(h))) == run.stdout
        return
    assert _compare(cli, [path], **options)


def test_several_paths_merge_as_on_the_command_line(cli):
    paths = ["samples/docs/header/system.md", "samples/docs/pages", "samples/rag/rag.toml"]
    assert _compare(cli, paths, budget=3000)


def test_a_loaded_item_set_packs_as_its_paths(cli):
    item_set = tokenscope.load("samples/docs/docs.toml")
    run = cli("pack", "samples/docs/docs.toml", "--profile", "tight", "--format", "json")
    assert tokenscope.pack(item_set, profile="tight") == run.json()
    assert tokenscope.pack_json(item_set, profile="tight") == run.stdout


def test_data_packs_as_the_file_it_came_from(cli):
    # A request given as a dict is the request read from its file.
    request = json.loads(open("samples/chat/agent.json").read())
    run = cli("pack", "samples/chat/agent.json", "--budget", "330", "--format", "json")
    assert tokenscope.pack(request, budget=330) == run.json()


def test_report_forms_match_the_command_line(cli):
    report = tokenscope.pack("samples/rag/rag.toml")
    assert report.context == cli("pack", "samples/rag/rag.toml", "--format", "context").stdout
    assert report.render("md") == cli("pack", "samples/rag/rag.toml", "--format", "md").stdout
    assert report.render("csv") == cli("pack", "samples/rag/rag.toml", "--format", "csv").stdout
    assert report["schema"] == "tokenscope.report/1"
    assert not report.is_request
    with pytest.raises(tokenscope.UsageError, match="not a chat request"):
        report.request()
    with pytest.raises(tokenscope.UsageError, match="unknown report format `yaml`"):
        report.render("yaml")
