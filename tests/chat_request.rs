//! Chat-completions requests as item sets: one item per message, sections by
//! role, tool calls grouped with their results, and a plan whose count is
//! what the API bills for the (trimmed) request.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{Value, json};
use tokenscope::engine::{ItemSet, ItemStatus, Overflow, PackContext, Plan, pack};
use tokenscope::input::{InputFormat, LoadOptions, load_path, load_paths};
use tokenscope::tokens::{
    ChatRequest, CountCache, ModelRegistry, chat_framing, chat_prompt_tokens,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(path: &Path) -> ItemSet {
    load_path(path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn load_str(text: &str) -> ItemSet {
    tokenscope::input::chat::parse(Path::new("request.json"), text)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Packs `set` for `model` within `total` tokens.
fn pack_for(set: &ItemSet, model: &str, total: usize) -> Plan {
    let registry = ModelRegistry::builtin();
    let spec = registry.get(model).unwrap();
    let tokenizer = spec.tokenizer().unwrap();
    let mut set = set.clone();
    set.budget.total = Some(total);
    let cache = CountCache::new();
    let ctx = PackContext {
        tokenizer: &tokenizer,
        cache: &cache,
        model: Some(spec.name.clone()),
        price_per_million: spec.input_price,
        framing: chat_framing(Some(spec), &tokenizer),
        optimal: Default::default(),
        summarizer: None,
    };
    pack(&set, &ctx).unwrap()
}

/// What the API bills for the request the plan renders.
fn billed(plan: &Plan, model: &str) -> usize {
    let request = ChatRequest::from_json(&plan.rendered).expect("the rendered request parses");
    let registry = ModelRegistry::builtin();
    chat_prompt_tokens(&request, registry.get(model).unwrap())
        .unwrap()
        .total
}

fn status(plan: &Plan, id: &str) -> ItemStatus {
    plan.items.iter().find(|i| i.id == id).unwrap().status
}

#[test]
fn cookbook_conversation_plan_equals_the_billed_count() {
    let path = root().join("tests/fixtures/chat/cookbook_conversation.json");
    let set = load(&path);
    for (model, expected) in [
        ("gpt-4o", 124),
        ("gpt-4o-mini", 124),
        ("gpt-4", 129),
        ("gpt-3.5-turbo", 129),
    ] {
        let plan = pack_for(&set, model, 100_000);
        assert_eq!(plan.totals.excluded, 0, "{model}");
        assert_eq!(plan.totals.context, expected, "{model}");
        assert_eq!(plan.totals.rendered, expected, "{model}");
        assert_eq!(
            plan.totals.used, expected,
            "{model}: sections add up to the billed count"
        );
        assert_eq!(billed(&plan, model), expected, "{model}");
    }
}

#[test]
fn cookbook_tools_plan_equals_the_billed_count() {
    let path = root().join("tests/fixtures/chat/cookbook_tools.json");
    let set = load(&path);
    assert!(
        set.items
            .iter()
            .any(|i| i.id == "tools" && i.section == "tools")
    );
    for (model, expected) in [("gpt-4o", 101), ("gpt-4", 105)] {
        let plan = pack_for(&set, model, 100_000);
        assert_eq!(plan.totals.context, expected, "{model}");
        assert_eq!(billed(&plan, model), expected, "{model}");
    }
}

#[test]
fn sections_by_role_groups_and_pins() {
    let set = load(&root().join("samples/chat/agent.json"));
    let names: Vec<&str> = set.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["system", "tools", "history", "latest"]);
    let item = |id: &str| set.items.iter().find(|i| i.id == id).unwrap();
    assert_eq!(item("m0-system").section, "system");
    assert!(item("m0-system").pinned);
    assert!(item("tools").pinned);
    assert_eq!(item("m10-user").section, "latest");
    assert!(item("m10-user").pinned);
    assert!(item("reply").pinned);
    assert_eq!(item("m1-user").section, "history");
    assert!(!item("m1-user").pinned);
    // A tool call and its results are one group.
    assert_eq!(item("m2-assistant").group.as_deref(), Some("call-m2"));
    assert_eq!(item("m3-tool").group.as_deref(), Some("call-m2"));
    assert_eq!(item("m6-assistant").group, item("m8-tool").group);
    assert_eq!(item("m7-tool").group.as_deref(), Some("call-m6"));
    assert_eq!(item("m4-assistant").group, None);
    // Recency: later history ranks higher.
    assert!(item("m9-assistant").priority > item("m5-user").priority);
    assert!(item("m5-user").priority > item("m1-user").priority);
    // The request's model and output reserve.
    assert_eq!(set.budget.model.as_deref(), Some("gpt-4o"));
    assert_eq!(set.budget.reserve_output, 1024);
    assert_eq!(item("m1-user").meta["role"], "user");
    assert_eq!(item("m1-user").meta["message"], 1);
}

#[test]
fn trimmed_history_keeps_the_newest_messages_and_bills_exactly() {
    let set = load(&root().join("samples/chat/agent.json"));
    let full = pack_for(&set, "gpt-4o", 100_000).totals.context;
    let mut seen_cut = false;
    for total in (200..full).step_by(7) {
        let plan = pack_for(&set, "gpt-4o", total);
        assert!(plan.totals.context <= total, "{total}");
        assert_eq!(
            billed(&plan, "gpt-4o"),
            plan.totals.context,
            "budget {total}"
        );
        // What is kept of the history is its most recent part.
        let history: Vec<bool> = plan
            .items
            .iter()
            .filter(|i| i.section == "history")
            .map(|i| i.status != ItemStatus::Excluded)
            .collect();
        let first_kept = history.iter().position(|&k| k).unwrap_or(history.len());
        assert!(
            history[first_kept..].iter().all(|&k| k),
            "budget {total}: {history:?}"
        );
        seen_cut |= first_kept > 0;
        // Groups whole.
        assert_eq!(
            status(&plan, "m2-assistant") == ItemStatus::Excluded,
            status(&plan, "m3-tool") == ItemStatus::Excluded
        );
        let request: Value = serde_json::from_str(&plan.rendered).unwrap();
        assert_eq!(request["temperature"], 0.2, "other fields are kept");
        assert_tool_results_follow_calls(&request);
    }
    assert!(seen_cut);
}

#[test]
fn a_truncated_message_is_written_into_the_request() {
    let long = "The deployment pipeline retries each failed stage three times. ".repeat(40);
    let request = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": long},
            {"role": "assistant", "content": [{"type": "text", "text": long}, {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]},
            {"role": "user", "content": "Summarize."}
        ]
    });
    let mut set = load_str(&request.to_string());
    set.sections
        .iter_mut()
        .find(|s| s.name == "history")
        .unwrap()
        .overflow = Some(Overflow::Truncate);
    // The linked image is billed at the assumed 2048 x 2048: 765 tokens.
    let plan = pack_for(&set, "gpt-4o", 700 + 765);
    assert_eq!(status(&plan, "m2-assistant"), ItemStatus::Included);
    assert_eq!(status(&plan, "m1-user"), ItemStatus::Truncated);
    assert_eq!(billed(&plan, "gpt-4o"), plan.totals.context);
    let out: Value = serde_json::from_str(&plan.rendered).unwrap();
    let cut = out["messages"][1]["content"].as_str().unwrap();
    assert!(cut.len() < long.len() && cut.ends_with('…'), "{cut}");
    // The image part is kept beside the text.
    assert_eq!(out["messages"][2]["content"][1]["type"], "image_url");
}

/// A tool result too large for the budget: `truncate` cuts the result (the
/// group's largest member), keeps its call whole beside it, and the request
/// written bills exactly what the plan says.
#[test]
fn an_oversized_tool_result_is_cut_and_its_call_kept() {
    let log: String = (0..300)
        .map(|i| format!("line {i}: compiling crate number {i} took {} ms\n", i * 3))
        .collect();
    let request = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a build assistant."},
            {"role": "user", "content": "Why is the build slow?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "read_log", "arguments": "{\"path\":\"build.log\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "c1", "content": log},
            {"role": "user", "content": "Which crate is the slowest?"}
        ]
    });
    let set = load_str(&request.to_string());
    let whole = pack_for(&set, "gpt-4o", 100_000);
    assert!(whole.totals.context > 2_000, "{}", whole.totals.context);
    let budget = 1_000;
    let mut truncating = set.clone();
    for s in &mut truncating.sections {
        s.overflow = Some(Overflow::Truncate);
    }
    let plan = pack_for(&truncating, "gpt-4o", budget);
    let tool = plan
        .items
        .iter()
        .find(|i| i.status == ItemStatus::Truncated)
        .expect("the tool result is truncated");
    let out: Value = serde_json::from_str(&plan.rendered).unwrap();
    let messages = out["messages"].as_array().unwrap();
    let result = messages.iter().find(|m| m["role"] == "tool").unwrap();
    assert_eq!(result["tool_call_id"], "c1", "{}", tool.id);
    let cut = result["content"].as_str().unwrap();
    assert!(cut.len() < log.len() && cut.contains('…'), "{cut}");
    // The call stays, whole, right before its result.
    assert_tool_results_follow_calls(&out);
    assert!(messages.iter().any(|m| m["tool_calls"][0]["id"] == "c1"));
    assert_eq!(billed(&plan, "gpt-4o"), plan.totals.context);
    assert!(plan.totals.context <= budget, "{}", plan.totals.context);
    // It fills the budget rather than dropping the whole group.
    assert!(
        plan.totals.context > budget * 9 / 10,
        "{}",
        plan.totals.context
    );
    // Without an overflow mode the group is out as a whole, and stays valid.
    let dropped = pack_for(&set, "gpt-4o", budget);
    let out: Value = serde_json::from_str(&dropped.rendered).unwrap();
    assert_tool_results_follow_calls(&out);
    assert!(
        out["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["role"] != "tool")
    );
}

#[test]
fn request_with_only_the_latest_turn_needs_no_history() {
    let path = root().join("tests/fixtures/chat/tool_round_trip.json");
    let set = load(&path);
    // No user message after the call: the latest turn starts at the user.
    assert!(
        set.items
            .iter()
            .filter(|i| i.id != "reply")
            .all(|i| i.section == "latest")
    );
    let plan = pack_for(&set, "gpt-4o-mini", 10_000);
    assert_eq!(billed(&plan, "gpt-4o-mini"), plan.totals.context);
}

#[test]
fn every_model_bills_its_own_framing() {
    let set = load(&root().join("samples/chat/agent.json"));
    for model in ["gpt-4o", "gpt-4", "claude-sonnet-4-5", "llama-3.1-8b"] {
        let plan = pack_for(&set, model, 1_000_000);
        assert_eq!(billed(&plan, model), plan.totals.context, "{model}");
    }
}

#[test]
fn detection_and_forced_format() {
    let path = root().join("samples/chat/agent.json");
    let forced = LoadOptions {
        format: Some(InputFormat::ChatRequest),
        ..LoadOptions::default()
    };
    assert!(load_path(&path, &forced).unwrap().chat.is_some());
    assert_eq!(
        "chat".parse::<InputFormat>().unwrap(),
        InputFormat::ChatRequest
    );
    // A chat request is not merged with other inputs.
    let e = load_paths(
        &[path, root().join("samples/docs/docs.toml")],
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("cannot be merged"), "{e}");
}

#[test]
fn malformed_requests_name_line_and_column() {
    let e = tokenscope::input::chat::parse(
        Path::new("r.json"),
        "{\n  \"messages\": [\n    {\"content\": \"hi\"}\n  ]\n}",
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with("r.json:3:"), "{text}");
    assert!(text.contains("role"), "{text}");
    let e = tokenscope::input::chat::parse(
        Path::new("r.json"),
        "{\"model\": \"gpt-4o\",\n \"messages\": []}",
    )
    .unwrap_err();
    assert_eq!((e.line(), e.column()), (Some(2), Some(2)), "{e}");
    assert!(e.to_string().contains("at least one message"));
    let e = tokenscope::input::chat::parse(
        Path::new("r.json"),
        "{\"messages\": [{\"role\": \"user\", \"content\": 5}]}",
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("a string or an array of content parts"),
        "{e}"
    );
}

#[test]
fn a_tool_result_without_its_call_is_warned_about() {
    let set = load_str(
        r#"{"messages": [{"role": "tool", "tool_call_id": "x", "content": "1"}, {"role": "user", "content": "go"}]}"#,
    );
    assert!(
        set.warnings.iter().any(|w| w.contains("`x`")),
        "{:?}",
        set.warnings
    );
}

/// Every `tool` message follows an assistant message that makes its call,
/// and every call has its result.
fn assert_tool_results_follow_calls(request: &Value) {
    let messages = request["messages"].as_array().unwrap();
    let mut open: Vec<String> = Vec::new();
    for m in messages {
        match m["role"].as_str().unwrap() {
            "assistant" => {
                assert!(open.is_empty(), "calls without results: {open:?}");
                open = m["tool_calls"]
                    .as_array()
                    .map(|calls| {
                        calls
                            .iter()
                            .map(|c| c["id"].as_str().unwrap().to_string())
                            .collect()
                    })
                    .unwrap_or_default();
            }
            "tool" => {
                let id = m["tool_call_id"].as_str().unwrap();
                let at = open
                    .iter()
                    .position(|c| c == id)
                    .unwrap_or_else(|| panic!("result `{id}` without its call"));
                open.remove(at);
            }
            _ => assert!(open.is_empty(), "calls without results: {open:?}"),
        }
    }
}

fn conversation() -> impl Strategy<Value = Value> {
    let text = "[a-zA-Z0-9 ,.!?\\n]{0,60}";
    let turn = prop_oneof![
        (text, any::<bool>()).prop_map(|(t, named)| {
            let mut m = json!({"role": "user", "content": t});
            if named {
                m["name"] = json!("dana");
            }
            vec![m]
        }),
        text.prop_map(|t| vec![json!({"role": "assistant", "content": t})]),
        (1usize..3, text, text).prop_map(|(n, args, result)| {
            let calls: Vec<Value> = (0..n)
                .map(|c| json!({"id": format!("c{c}"), "type": "function", "function": {"name": "lookup", "arguments": args}}))
                .collect();
            let mut out = vec![json!({"role": "assistant", "content": null, "tool_calls": calls})];
            for c in 0..n {
                out.push(json!({"role": "tool", "tool_call_id": format!("c{c}"), "content": result}));
            }
            out
        }),
    ];
    (proptest::option::of(text), proptest::collection::vec(turn, 0..10), text, any::<bool>()).prop_map(
        |(system, turns, last, tools)| {
            let mut messages = Vec::new();
            if let Some(s) = system {
                messages.push(json!({"role": "system", "content": s}));
            }
            // Tool call ids must be unique across the conversation.
            for (t, turn) in turns.into_iter().enumerate() {
                for mut m in turn {
                    if let Some(calls) = m["tool_calls"].as_array_mut() {
                        for c in calls {
                            c["id"] = json!(format!("t{t}-{}", c["id"].as_str().unwrap()));
                        }
                    }
                    if let Some(id) = m["tool_call_id"].as_str().map(str::to_string) {
                        m["tool_call_id"] = json!(format!("t{t}-{id}"));
                    }
                    messages.push(m);
                }
            }
            messages.push(json!({"role": "user", "content": last}));
            let mut request = json!({"model": "gpt-4o", "messages": messages});
            if tools {
                request["tools"] = json!([{"type": "function", "function": {
                    "name": "lookup", "description": "Looks a thing up.",
                    "parameters": {"type": "object", "properties": {"q": {"type": "string", "enum": ["a", "b"]}}}
                }}]);
            }
            request
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The plan's count is the billed count of the request it writes, for
    /// any conversation, budget, model and overflow mode; cut history never
    /// splits a tool call from its results.
    #[test]
    fn plan_count_is_the_billed_count_of_the_trimmed_request(
        request in conversation(),
        total in 0usize..600,
        model in proptest::sample::select(vec!["gpt-4o", "gpt-4", "claude-sonnet-4-5", "llama-3.1-8b"]),
        overflow in proptest::sample::select(vec![Overflow::Drop, Overflow::Truncate, Overflow::Degrade]),
    ) {
        let mut set = load_str(&request.to_string());
        set.budget.overflow = overflow;
        let plan = pack_for(&set, model, total);
        let kept_messages = plan.items.iter().any(|i| i.id.starts_with('m') && i.status != ItemStatus::Excluded);
        if kept_messages {
            prop_assert_eq!(billed(&plan, model), plan.totals.context);
        } else {
            // Nothing to send: the plan says so.
            prop_assert!(plan.warnings.iter().any(|w| w.contains("no message")), "{:?}", plan.warnings);
        }
        prop_assert_eq!(plan.totals.used, plan.totals.context);
        let pinned_only = plan.items.iter().all(|i| !i.pinned || i.status != ItemStatus::Excluded);
        if pinned_only && plan.totals.context > total {
            // Only pinned parts may exceed the total, and then they alone.
            prop_assert!(plan.items.iter().filter(|i| i.status != ItemStatus::Excluded).all(|i| i.pinned));
        }
        let out: Value = serde_json::from_str(&plan.rendered).unwrap();
        assert_tool_results_follow_calls(&out);
    }

    /// The loader never panics, whatever the text.
    #[test]
    fn loading_any_text_never_panics(text in "\\PC{0,300}") {
        let _ = tokenscope::input::chat::parse(Path::new("r.json"), &text);
    }

    /// Nor on any JSON shaped like a request.
    #[test]
    fn loading_request_shaped_json_never_panics(
        roles in proptest::collection::vec("(system|user|assistant|tool|function|developer|)", 1..8),
        ids in proptest::collection::vec(proptest::option::of("[a-c]"), 1..8),
    ) {
        let messages: Vec<Value> = roles.iter().zip(ids.iter().cycle()).map(|(r, id)| {
            let mut m = json!({"role": r, "content": "x"});
            if let Some(id) = id {
                m["tool_call_id"] = json!(id);
                m["tool_calls"] = json!([{"id": id, "function": {"name": "f", "arguments": "{}"}}]);
            }
            m
        }).collect();
        let set = tokenscope::input::chat::parse(Path::new("r.json"), &json!({"messages": messages}).to_string()).unwrap();
        let plan = pack_for(&set, "gpt-4o", 50);
        prop_assert_eq!(billed(&plan, "gpt-4o"), plan.totals.context);
    }
}

mod cli {
    use assert_cmd::Command;
    use predicates::prelude::*;

    fn tokenscope() -> Command {
        Command::cargo_bin("tokenscope").unwrap()
    }

    #[test]
    fn pack_format_request_writes_the_trimmed_request() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("agent.json");
        std::fs::copy(super::root().join("samples/chat/agent.json"), &input).unwrap();
        let before = std::fs::read(&input).unwrap();
        let out = tokenscope()
            .args(["pack", "--budget", "330", "--format", "request"])
            .arg(&input)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let request: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let roles: Vec<&str> = request["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles.first(), Some(&"system"));
        assert_eq!(roles.last(), Some(&"user"));
        assert!(roles.len() < 11, "history was cut: {roles:?}");
        // The billed count of what was written is the plan's count.
        let trimmed = dir.path().join("trimmed.json");
        std::fs::write(&trimmed, &out.stdout).unwrap();
        let json = tokenscope()
            .args(["pack", "--budget", "330", "--json"])
            .arg(&input)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        let count = tokenscope()
            .args(["count", "--chat", "--json", "--model", "gpt-4o"])
            .arg(&trimmed)
            .output()
            .unwrap();
        let count: serde_json::Value = serde_json::from_slice(&count.stdout).unwrap();
        assert_eq!(count["results"][0]["total"], report["totals"]["context"]);
        // -o with the request format, and the input untouched.
        let written = dir.path().join("out.json");
        tokenscope()
            .args(["pack", "--budget", "330", "--format", "request", "-o"])
            .arg(&written)
            .arg(&input)
            .assert()
            .success();
        assert_eq!(std::fs::read(&written).unwrap(), out.stdout);
        assert_eq!(std::fs::read(&input).unwrap(), before);
    }

    #[test]
    fn format_request_needs_a_chat_request() {
        tokenscope()
            .args(["pack", "--format", "request"])
            .arg(super::root().join("samples/docs/docs.toml"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains("not a chat request"));
    }

    #[test]
    fn a_broken_request_is_exit_2_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("req.json");
        std::fs::write(
            &input,
            "{\"messages\": [\n  {\"role\": \"user\", \"content\": 5}\n]}",
        )
        .unwrap();
        tokenscope()
            .arg("pack")
            .arg(&input)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("req.json:2:"));
    }
}
