"""Item sets from Python data and text, and the report object."""

from __future__ import annotations

import pickle

import pytest

import tokenscope


ITEM_SET = {
    "budget": {"model": "gpt-4o", "total": 40, "strategy": "greedy"},
    "sections": [{"name": "system", "share": 25}, {"name": "docs", "share": 75}],
    "items": [
        {"id": "rules", "section": "system", "text": "Answer briefly.", "pinned": True},
        {"id": "a", "section": "docs", "text": "alpha " * 10, "priority": 0.9},
        {"id": "b", "section": "docs", "text": "beta " * 40, "priority": 0.5},
        {"id": "c", "section": "docs", "text": "gamma " * 5, "priority": 0.1},
    ],
}


def test_a_dict_is_a_json_item_set():
    item_set = tokenscope.load(ITEM_SET)
    assert len(item_set) == 4
    assert item_set.sections == ["system", "docs"]
    assert item_set.ids == ["rules", "a", "b", "c"]
    assert item_set.origin == "<dict>" and item_set.paths == []
    report = tokenscope.pack(item_set)
    status = {i["id"]: i["status"] for i in report["items"]}
    assert status == {"rules": "pinned", "a": "included", "b": "excluded", "c": "included"}
    assert report["totals"]["used"] <= 40
    # The same set as a file gives the same report.
    assert tokenscope.pack(ITEM_SET) == report


def test_the_dict_and_its_json_text_agree(tmp_path):
    import json

    path = tmp_path / "set.json"
    path.write_text(json.dumps(ITEM_SET))
    assert tokenscope.pack(ITEM_SET, budget=30) == tokenscope.pack(str(path), budget=30)
    assert tokenscope.pack(tokenscope.loads(json.dumps(ITEM_SET)), budget=30) == tokenscope.pack(path, budget=30)


def test_records_are_jsonl():
    records = [
        {"id": "d1", "text": "the first retrieved chunk", "score": 0.9, "url": "https://x"},
        {"id": "d2", "text": "the second chunk " * 30, "score": 0.8},
        {"id": 7, "text": "the third", "score": 0.2},
    ]
    report = tokenscope.pack(records, budget=20)
    assert [i["id"] for i in report["items"]] == ["d1", "d2", "7"]
    assert [i["status"] for i in report["items"]] == ["included", "excluded", "included"]
    renamed = [{"body": r["text"], "sim": r["score"]} for r in records]
    report = tokenscope.pack(renamed, budget=20, jsonl_fields={"text": "body", "score": "sim"})
    assert report["totals"]["included"] == 2


def test_bad_records_name_the_record():
    with pytest.raises(tokenscope.InputError) as caught:
        tokenscope.load([{"text": "fine"}, {"txt": "oops"}])
    assert caught.value.path == "<records>"
    assert caught.value.line == 2
    with pytest.raises(TypeError, match=r"<records>\[1\]\.when: a value of type object"):
        tokenscope.load([{"text": "fine"}, {"text": "x", "when": object()}])
    with pytest.raises(ValueError, match="not a finite number"):
        tokenscope.load([{"text": "x", "score": float("nan")}])
    with pytest.raises(TypeError, match="mixes kinds"):
        tokenscope.load(["samples/rag/rag.toml", {"text": "x"}])
    with pytest.raises(TypeError, match="expected a path"):
        tokenscope.load(3.5)


def test_loads_detects_the_format():
    md = tokenscope.loads("## Intro\n\nHello there.\n\n## Details\n\nMore text.\n")
    assert md.sections == ["Intro", "Details"]
    toml = tokenscope.loads('[[items]]\nid = "x"\ntext = "hi"\n', name="inline.toml")
    assert toml.ids == ["x"]
    req = tokenscope.loads('{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}')
    assert req.is_request
    with pytest.raises(tokenscope.InputError, match=r"^inline\.toml:"):
        tokenscope.loads('[[items]]\nid = "x"\ntext = 3\n', name="inline.toml", input_format="toml")
    with pytest.raises(tokenscope.UsageError, match="yaml"):
        tokenscope.loads("x", input_format="yaml")


def test_options_are_checked():
    with pytest.raises(tokenscope.UsageError, match="budget must be a positive number of tokens, got -5"):
        tokenscope.pack(ITEM_SET, budget=-5)
    with pytest.raises(tokenscope.UsageError, match="budget must be a positive number of tokens, got True"):
        tokenscope.pack(ITEM_SET, budget=True)
    with pytest.raises(tokenscope.UsageError, match="unknown strategy `fast`"):
        tokenscope.pack(ITEM_SET, strategy="fast")
    with pytest.raises(tokenscope.UsageError, match="optimal_deadline"):
        tokenscope.pack(ITEM_SET, optimal_deadline=-1)
    with pytest.raises(tokenscope.UsageError, match="heading_level must be 1 to 6"):
        tokenscope.load("samples/README.md", heading_level=9)
    with pytest.raises(tokenscope.UsageError, match="loaded already"):
        tokenscope.pack(tokenscope.load(ITEM_SET), include="*.md")
    with pytest.raises(TypeError, match="unexpected keyword argument 'budgett'"):
        tokenscope.pack_json(ITEM_SET, budgett=3)
    assert tokenscope.pack(ITEM_SET, optimal_deadline=float("inf"), strategy="optimal")["totals"]["included"] == 3
    assert tokenscope.pack(ITEM_SET, optimal_deadline="250ms", strategy="optimal")["totals"]["included"] == 3


def test_a_report_pickles_as_a_dict():
    report = tokenscope.pack(ITEM_SET)
    back = pickle.loads(pickle.dumps(report))
    assert type(back) is dict and back == report


def test_a_request_report():
    request = {"model": "gpt-4o", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "old question " * 50},
        {"role": "assistant", "content": "old answer " * 50},
        {"role": "user", "content": "What now?"},
    ]}
    report = tokenscope.pack(request, budget=60)
    assert report.is_request
    trimmed = report.request()
    assert [m["role"] for m in trimmed["messages"]] == ["system", "user"]
    assert report["totals"]["context"] == tokenscope.count_chat(trimmed)
    assert trimmed == tokenscope.trim_request(request, 60)
