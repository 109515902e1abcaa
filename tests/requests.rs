//! Anthropic Messages, OpenAI Responses and Gemini requests as item sets:
//! detection, one item per message, groups, the trimmed request written
//! back (and billed as the plan says), images billed by each provider's
//! rule, and trimmed requests that stay valid for each provider.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{Value, json};
use tokenscope::engine::{ItemSet, ItemStatus, Overflow, PackContext, Plan, RequestFormat, pack};
use tokenscope::input::detect::load_text;
use tokenscope::input::{InputFormat, LoadOptions, load_path};
use tokenscope::tokens::{ChatCounter, CountCache, ModelRegistry, chat_framing};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sample(name: &str) -> PathBuf {
    root().join("samples/requests").join(name)
}

fn load(path: &Path) -> ItemSet {
    load_path(path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn load_as(text: &str, format: InputFormat) -> ItemSet {
    load_text(Path::new("r.json"), text, format, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

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

/// What the request the plan writes is billed, read back as `format`.
fn billed(plan: &Plan, model: &str, format: InputFormat) -> usize {
    let set = load_as(&plan.rendered, format);
    let layout = set.chat.as_ref().expect("a request");
    let registry = ModelRegistry::builtin();
    let spec = registry.get(model).unwrap();
    let tokenizer = spec.tokenizer().unwrap();
    ChatCounter::new(&tokenizer, chat_framing(Some(spec), &tokenizer))
        .with_images(layout.format.image_rule(Some(&spec.name)))
        .count(&layout.parsed)
        .total
}

fn item<'a>(set: &'a ItemSet, id: &str) -> &'a tokenscope::engine::Item {
    set.items
        .iter()
        .find(|i| i.id == id)
        .unwrap_or_else(|| panic!("no item {id}"))
}

#[test]
fn each_format_is_detected() {
    let cases = [
        (
            "anthropic.json",
            InputFormat::AnthropicRequest,
            RequestFormat::Anthropic,
        ),
        (
            "responses.json",
            InputFormat::ResponsesRequest,
            RequestFormat::Responses,
        ),
        (
            "gemini.json",
            InputFormat::GeminiRequest,
            RequestFormat::Gemini,
        ),
    ];
    for (name, input, format) in cases {
        let path = sample(name);
        assert_eq!(
            tokenscope::input::detect::detect(&path).unwrap(),
            input,
            "{name}"
        );
        let set = load(&path);
        assert_eq!(set.chat.as_ref().unwrap().format, format, "{name}");
        assert_eq!(input.name().parse::<InputFormat>().unwrap(), input);
    }
    // A chat-completions request stays one.
    let chat = root().join("samples/chat/agent.json");
    assert_eq!(
        tokenscope::input::detect::detect(&chat).unwrap(),
        InputFormat::ChatRequest
    );
    // `messages` with Anthropic blocks but no `system` is still Anthropic.
    let v = json!({"model": "x", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": "x"}]}]});
    assert_eq!(
        tokenscope::input::detect::request_format(&v),
        Some(InputFormat::AnthropicRequest)
    );
    let v = json!({"input": "hello", "model": "gpt-4.1"});
    assert_eq!(
        tokenscope::input::detect::request_format(&v),
        Some(InputFormat::ResponsesRequest)
    );
}

#[test]
fn anthropic_items_sections_and_turn_groups() {
    let set = load(&sample("anthropic.json"));
    let names: Vec<&str> = set.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["system", "tools", "history", "latest"]);
    assert_eq!(item(&set, "m0-system").section, "system");
    // The tool results message is shown as `tool`.
    assert_eq!(item(&set, "m3-tool").meta["role"], "tool");
    // A user turn and what answers it are one group.
    let g = item(&set, "m1-user").group.clone();
    assert!(g.is_some());
    for id in ["m2-assistant", "m3-tool", "m4-assistant"] {
        assert_eq!(item(&set, id).group, g, "{id}");
    }
    assert_eq!(item(&set, "m7-user").section, "latest");
    assert_eq!(set.budget.model.as_deref(), Some("claude-sonnet-4-5"));
    assert_eq!(set.budget.reserve_output, 1024);
    // The tool result's text is the message's text.
    assert!(item(&set, "m3-tool").text().contains("worker-1 job 1001"));
}

#[test]
fn anthropic_image_is_billed_by_its_rule() {
    // The sample's image is a 1000 x 1000 PNG: 1,334 tokens (Anthropic's
    // table).
    let set = load(&sample("anthropic.json"));
    let layout = set.chat.as_ref().unwrap();
    let image = &layout.parsed.messages[5].images[0];
    assert_eq!((image.width, image.height), (1000, 1000));
    assert!(image.assumed.is_none());
    let plan = pack_for(&set, "claude-sonnet-4-5", 1_000_000);
    let with = plan
        .items
        .iter()
        .find(|i| i.id == "m5-user")
        .unwrap()
        .tokens;
    let text_only = {
        let tokenizer = ModelRegistry::builtin()
            .get("claude-sonnet-4-5")
            .unwrap()
            .tokenizer()
            .unwrap();
        CountCache::new().count(&tokenizer, item(&set, "m5-user").text())
    };
    assert_eq!(with, text_only + 1334);
}

#[test]
fn every_sample_round_trips_and_bills_what_the_plan_says() {
    let cases = [
        (
            "anthropic.json",
            InputFormat::AnthropicRequest,
            "claude-sonnet-4-5",
        ),
        ("responses.json", InputFormat::ResponsesRequest, "gpt-4.1"),
        (
            "gemini.json",
            InputFormat::GeminiRequest,
            "gemini-2.5-flash",
        ),
        (
            "responses.json",
            InputFormat::ResponsesRequest,
            "gpt-4o-mini",
        ),
    ];
    for (name, format, model) in cases {
        let path = sample(name);
        let original: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let set = load(&path);
        // Everything fits: the request is written back as it was.
        let plan = pack_for(&set, model, 1_000_000);
        let out: Value = serde_json::from_str(&plan.rendered).unwrap();
        assert_eq!(out, original, "{name}");
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&out), keys(&original), "{name}: key order");
        assert_eq!(billed(&plan, model, format), plan.totals.context, "{name}");
        // Trimmed: still billed as the plan says, other fields unchanged.
        let full = plan.totals.context;
        let mut cut = false;
        for total in (full / 4..full).step_by((full / 20).max(1)) {
            let plan = pack_for(&set, model, total);
            let out: Value = serde_json::from_str(&plan.rendered).unwrap();
            assert_eq!(
                billed(&plan, model, format),
                plan.totals.context,
                "{name} at {total}"
            );
            for (k, v) in original.as_object().unwrap() {
                if !["messages", "input", "contents"].contains(&k.as_str()) && out.get(k).is_some()
                {
                    assert_eq!(&out[k], v, "{name}: field {k} unchanged");
                }
            }
            cut |= plan.items.iter().any(|i| i.status == ItemStatus::Excluded);
        }
        assert!(cut, "{name}: some budget cuts");
    }
}

#[test]
fn a_truncated_message_is_written_in_place() {
    let long = "The deployment pipeline retries each failed stage three times. ".repeat(40);
    let request = json!({"model": "gpt-4.1", "instructions": "Be brief.", "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "Read this: "}, {"type": "input_text", "text": long}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Done."}]},
        {"role": "user", "content": "Summarize."}
    ]});
    let mut set = load_as(&request.to_string(), InputFormat::ResponsesRequest);
    set.sections
        .iter_mut()
        .find(|s| s.name == "history")
        .unwrap()
        .overflow = Some(Overflow::Truncate);
    let plan = pack_for(&set, "gpt-4.1", 300);
    assert_eq!(
        plan.items
            .iter()
            .find(|i| i.id == "m1-user")
            .unwrap()
            .status,
        ItemStatus::Truncated
    );
    let out: Value = serde_json::from_str(&plan.rendered).unwrap();
    // The first part is kept as it was; the cut is in the second.
    let parts = out["input"][0]["content"].as_array().unwrap();
    assert_eq!(parts[0]["text"], "Read this: ");
    let cut = parts[1]["text"].as_str().unwrap();
    assert!(cut.len() < long.len() && cut.ends_with('…'), "{cut}");
    assert_eq!(
        billed(&plan, "gpt-4.1", InputFormat::ResponsesRequest),
        plan.totals.context
    );
}

fn png(w: u32, h: u32) -> String {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    b.extend(w.to_be_bytes());
    b.extend(h.to_be_bytes());
    b.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
    base64::engine::general_purpose::STANDARD.encode(&b)
}

#[test]
fn images_never_go_uncounted() {
    // A linked image: the assumed size, with a warning that names it.
    let text = json!({"model": "gpt-4o", "input": [{"role": "user", "content": [
        {"type": "input_text", "text": "What is this?"},
        {"type": "input_image", "image_url": "https://example.com/a.png"},
        {"type": "input_image", "image_url": "data:image/png;base64,AAAAbroken"}
    ]}]})
    .to_string();
    let set = load_as(&text, InputFormat::ResponsesRequest);
    let plan = pack_for(&set, "gpt-4o", 100_000);
    let warnings = plan.warnings.join("\n");
    assert!(
        warnings.contains("input item 0, image 1") && warnings.contains("--image-size"),
        "{warnings}"
    );
    assert!(
        warnings.contains("input item 0, image 2") && warnings.contains("unreadable"),
        "{warnings}"
    );
    let m = plan.items.iter().find(|i| i.id == "m0-user").unwrap();
    assert!(m.tokens >= 2 * 765, "{}", m.tokens);
    // With --image-size, links are counted at that size.
    let options = LoadOptions {
        image_size: Some((512, 512)),
        ..LoadOptions::default()
    };
    let set = load_text(
        Path::new("r.json"),
        &text,
        InputFormat::ResponsesRequest,
        &options,
    )
    .unwrap();
    let image = &set.chat.as_ref().unwrap().parsed.messages[0].images[0];
    assert_eq!((image.width, image.height), (512, 512));
    // Gemini: a small inline image is 258 tokens.
    let text = json!({"contents": [{"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": png(300, 200)}}]}]}).to_string();
    let set = load_as(&text, InputFormat::GeminiRequest);
    let plan = pack_for(&set, "gemini-2.5-flash", 100_000);
    assert_eq!(
        plan.items
            .iter()
            .find(|i| i.id == "m0-user")
            .unwrap()
            .tokens,
        258
    );
}

#[test]
fn malformed_requests_name_line_and_column() {
    let e = load_text(
        Path::new("r.json"),
        "{\"system\": \"x\",\n \"messages\": [{\"role\": \"user\", \"content\": 5}]}",
        InputFormat::AnthropicRequest,
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("r.json:2:"), "{e}");
    assert!(
        e.to_string()
            .contains("a string or an array of content blocks"),
        "{e}"
    );
    let e = load_text(
        Path::new("r.json"),
        "{\"contents\": []}",
        InputFormat::GeminiRequest,
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("at least one content"), "{e}");
    let e = load_text(
        Path::new("r.json"),
        "{\"input\": 7}",
        InputFormat::ResponsesRequest,
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("r.json:1:"), "{e}");
    // Wrong shapes deeper in are tolerated, never a panic.
    for text in [
        r#"{"system": [{"type": "image"}], "messages": [{"role": "user", "content": [{"type": "tool_result", "content": 5}, {"type": "image", "source": 3}, {"type": "document", "source": {"type": "base64", "data": 9}}]}]}"#,
        r#"{"contents": [{"parts": [{"functionResponse": {"response": [1, {"a": null}]}}, {"inlineData": 4}, {"fileData": {"mimeType": "application/pdf"}}]}], "tools": [5, {"functionDeclarations": 3}]}"#,
        r#"{"input": [{"type": "function_call_output", "call_id": 5, "output": {"a": 1}}, {"type": "reasoning"}, {"type": "web_search_call"}], "tools": [{"type": "function"}], "max_output_tokens": 1e300}"#,
    ] {
        let format =
            tokenscope::input::detect::request_format(&serde_json::from_str(text).unwrap())
                .unwrap();
        let set = load_as(text, format);
        pack_for(&set, "gpt-4o", 1_000);
    }
}

/// Anthropic's rules: the first message is a user message, roles
/// alternate, and every `tool_use` is answered in the next message by a
/// `tool_result` (and only then).
fn assert_valid_anthropic(request: &Value) {
    let messages = request["messages"].as_array().unwrap();
    if messages.is_empty() {
        return;
    }
    assert_eq!(messages[0]["role"], "user", "{request}");
    for pair in messages.windows(2) {
        assert_ne!(pair[0]["role"], pair[1]["role"], "alternation: {request}");
    }
    let ids = |m: &Value, kind: &str, field: &str| -> Vec<String> {
        m["content"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|b| b["type"] == kind)
            .map(|b| b[field].as_str().unwrap().to_string())
            .collect()
    };
    for (i, m) in messages.iter().enumerate() {
        let results = ids(m, "tool_result", "tool_use_id");
        let calls_before = i
            .checked_sub(1)
            .map(|p| ids(&messages[p], "tool_use", "id"))
            .unwrap_or_default();
        assert_eq!(results.is_empty(), calls_before.is_empty(), "{request}");
        for r in &results {
            assert!(
                calls_before.contains(r),
                "result {r} without its call: {request}"
            );
        }
    }
}

/// Gemini's: a user turn first, alternation, and a function response right
/// after the turn that calls it.
fn assert_valid_gemini(request: &Value) {
    let contents = request["contents"].as_array().unwrap();
    if contents.is_empty() {
        return;
    }
    assert_eq!(contents[0]["role"], "user", "{request}");
    for pair in contents.windows(2) {
        assert_ne!(pair[0]["role"], pair[1]["role"], "alternation: {request}");
        let responds = pair[1]["parts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.get("functionResponse").is_some());
        let calls = pair[0]["parts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.get("functionCall").is_some());
        assert_eq!(responds, calls, "{request}");
    }
}

/// Responses': every `function_call_output` follows its `function_call`,
/// and every call has its output.
fn assert_valid_responses(request: &Value) {
    let Some(items) = request["input"].as_array() else {
        return;
    };
    let mut open: Vec<&str> = Vec::new();
    for item in items {
        match item["type"].as_str() {
            Some("function_call") => open.push(item["call_id"].as_str().unwrap()),
            Some("function_call_output") => {
                let id = item["call_id"].as_str().unwrap();
                let at = open
                    .iter()
                    .position(|c| *c == id)
                    .unwrap_or_else(|| panic!("output {id} without its call: {request}"));
                open.remove(at);
            }
            _ => {}
        }
    }
    assert!(open.is_empty(), "calls without outputs: {request}");
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ,.!?\\n]{1,80}"
}

/// A conversation of turns: plain (user, assistant) or with tool calls
/// (user, assistant calls, results, assistant).
fn turns() -> impl Strategy<Value = Vec<(String, String, usize, String)>> {
    proptest::collection::vec((text(), text(), 0usize..3, text()), 0..8)
}

fn anthropic_request(
    system: Option<String>,
    turns: Vec<(String, String, usize, String)>,
    last: String,
    image: bool,
) -> Value {
    let mut messages = Vec::new();
    for (t, (q, a, calls, result)) in turns.into_iter().enumerate() {
        let mut content = vec![json!({"type": "text", "text": q})];
        if image && t == 0 {
            content.push(json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png(800, 600)}}));
        }
        messages.push(json!({"role": "user", "content": content}));
        if calls > 0 {
            let uses: Vec<Value> = (0..calls).map(|c| json!({"type": "tool_use", "id": format!("t{t}c{c}"), "name": "lookup", "input": {"q": a}})).collect();
            messages.push(json!({"role": "assistant", "content": uses}));
            let mut results: Vec<Value> = (0..calls).map(|c| json!({"type": "tool_result", "tool_use_id": format!("t{t}c{c}"), "content": result})).collect();
            if t % 2 == 1 {
                // Results beside another block: still answers, kept with
                // their calls.
                results.push(json!({"type": "text", "text": q}));
            }
            messages.push(json!({"role": "user", "content": results}));
        }
        messages.push(json!({"role": "assistant", "content": a}));
    }
    messages.push(json!({"role": "user", "content": last}));
    let mut r = json!({"model": "claude-sonnet-4-5", "max_tokens": 256, "messages": messages, "temperature": 0.5,
        "tools": [{"name": "lookup", "description": "Looks up.", "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}]});
    if let Some(s) = system {
        r["system"] = json!(s);
    }
    r
}

fn gemini_request(
    system: Option<String>,
    turns: Vec<(String, String, usize, String)>,
    last: String,
) -> Value {
    let mut contents = Vec::new();
    for (t, (q, a, calls, result)) in turns.into_iter().enumerate() {
        contents.push(json!({"role": "user", "parts": [{"text": q}]}));
        if calls > 0 {
            let c: Vec<Value> = (0..calls)
                .map(|_| json!({"functionCall": {"name": "lookup", "args": {"q": a}}}))
                .collect();
            contents.push(json!({"role": "model", "parts": c}));
            let mut r: Vec<Value> = (0..calls).map(|_| json!({"functionResponse": {"name": "lookup", "response": {"result": result}}})).collect();
            if t % 2 == 1 {
                r.push(json!({"text": q}));
            }
            contents.push(json!({"role": "user", "parts": r}));
        }
        contents.push(json!({"role": "model", "parts": [{"text": a}]}));
    }
    contents.push(json!({"role": "user", "parts": [{"text": last}]}));
    let mut r = json!({"contents": contents, "generationConfig": {"maxOutputTokens": 100}});
    if let Some(s) = system {
        r["systemInstruction"] = json!({"parts": [{"text": s}]});
    }
    r
}

fn responses_request(
    system: Option<String>,
    turns: Vec<(String, String, usize, String)>,
    last: String,
    reasoning: bool,
) -> Value {
    let mut input = Vec::new();
    for (t, (q, a, calls, result)) in turns.into_iter().enumerate() {
        input.push(json!({"role": "user", "content": q}));
        if calls > 0 {
            if reasoning {
                input.push(json!({"type": "reasoning", "id": format!("rs{t}"), "summary": [{"type": "summary_text", "text": a}]}));
            }
            for c in 0..calls {
                input.push(json!({"type": "function_call", "call_id": format!("t{t}c{c}"), "name": "lookup", "arguments": format!("{{\"q\": {:?}}}", a)}));
            }
            for c in 0..calls {
                input.push(json!({"type": "function_call_output", "call_id": format!("t{t}c{c}"), "output": result}));
            }
        }
        input.push(json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": a}]}));
    }
    input.push(json!({"role": "user", "content": [{"type": "input_text", "text": last}, {"type": "input_image", "image_url": format!("data:image/png;base64,{}", png(1024, 1024)), "detail": "high"}]}));
    let mut r = json!({"model": "gpt-4o", "input": input, "store": false,
        "tools": [{"type": "function", "name": "lookup", "description": "Looks up.", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}]});
    if let Some(s) = system {
        r["instructions"] = json!(s);
    }
    r
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Responses (an OpenAI format, counted exactly): the plan's count is
    /// the billed count of the request it writes, and calls keep their
    /// outputs.
    #[test]
    fn responses_billed_equals_plan_and_stays_valid(
        system in proptest::option::of(text()),
        turns in turns(),
        last in text(),
        reasoning in any::<bool>(),
        total in 0usize..1500,
        model in proptest::sample::select(vec!["gpt-4o", "gpt-4.1-mini", "o3"]),
        overflow in proptest::sample::select(vec![Overflow::Drop, Overflow::Truncate, Overflow::Degrade]),
    ) {
        let request = responses_request(system, turns, last, reasoning);
        let mut set = load_as(&request.to_string(), InputFormat::ResponsesRequest);
        set.budget.overflow = overflow;
        let plan = pack_for(&set, model, total);
        let out: Value = serde_json::from_str(&plan.rendered).unwrap();
        assert_valid_responses(&out);
        if out["input"].as_array().is_some_and(|i| !i.is_empty()) || out.get("instructions").is_some() {
            prop_assert_eq!(billed(&plan, model, InputFormat::ResponsesRequest), plan.totals.context);
        }
        prop_assert_eq!(out["store"].clone(), json!(false));
    }

    /// Anthropic: trimmed requests start with a user message, alternate and
    /// answer every tool_use; the estimate of the written request is the
    /// plan's count.
    #[test]
    fn anthropic_trimmed_requests_stay_valid(
        system in proptest::option::of(text()),
        turns in turns(),
        last in text(),
        image in any::<bool>(),
        total in 0usize..2500,
        overflow in proptest::sample::select(vec![Overflow::Drop, Overflow::Truncate, Overflow::Degrade]),
    ) {
        let request = anthropic_request(system, turns, last, image);
        let mut set = load_as(&request.to_string(), InputFormat::AnthropicRequest);
        set.budget.overflow = overflow;
        let plan = pack_for(&set, "claude-sonnet-4-5", total);
        let out: Value = serde_json::from_str(&plan.rendered).unwrap();
        assert_valid_anthropic(&out);
        if out["messages"].as_array().is_some_and(|m| !m.is_empty()) {
            prop_assert_eq!(billed(&plan, "claude-sonnet-4-5", InputFormat::AnthropicRequest), plan.totals.context);
        }
    }

    /// Gemini: the same rules for turns and function calls.
    #[test]
    fn gemini_trimmed_requests_stay_valid(
        system in proptest::option::of(text()),
        turns in turns(),
        last in text(),
        total in 0usize..1500,
        overflow in proptest::sample::select(vec![Overflow::Drop, Overflow::Truncate, Overflow::Degrade]),
    ) {
        let request = gemini_request(system, turns, last);
        let mut set = load_as(&request.to_string(), InputFormat::GeminiRequest);
        set.budget.overflow = overflow;
        let plan = pack_for(&set, "gemini-2.5-flash", total);
        let out: Value = serde_json::from_str(&plan.rendered).unwrap();
        assert_valid_gemini(&out);
        if out["contents"].as_array().is_some_and(|m| !m.is_empty()) {
            prop_assert_eq!(billed(&plan, "gemini-2.5-flash", InputFormat::GeminiRequest), plan.totals.context);
        }
    }
}

#[test]
fn the_cli_trims_each_format_and_refuses_bad_input_with_exit_2() {
    use assert_cmd::Command;
    for (name, model) in [
        ("anthropic.json", "claude-sonnet-4-5"),
        ("responses.json", "gpt-4.1"),
        ("gemini.json", "gemini-2.5-flash"),
    ] {
        let out = Command::cargo_bin("tokenscope")
            .unwrap()
            .args([
                "pack", "--budget", "1500", "--model", model, "--format", "request",
            ])
            .arg(sample(name))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let trimmed: Value = serde_json::from_slice(&out.stdout).unwrap();
        let original: Value =
            serde_json::from_str(&std::fs::read_to_string(sample(name)).unwrap()).unwrap();
        assert_ne!(trimmed, original, "{name}: something is cut at 1,500");
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
    for (text, expect) in [
        (
            "{\"system\": \"x\",\n \"messages\": [{\"role\": \"user\", \"content\": 7}]}"
                .to_string(),
            "bad.json:2:",
        ),
        (
            format!("{{\"contents\": [{{\"parts\": {deep}}}]}}"),
            "bad.json:1:",
        ),
        (
            format!("{{\"input\": [{{\"role\": \"user\", \"content\": {deep}}}]}}"),
            "bad.json:1:",
        ),
    ] {
        std::fs::write(&bad, &text).unwrap();
        let out = Command::cargo_bin("tokenscope")
            .unwrap()
            .args(["pack", "--budget", "100"])
            .arg(&bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{err}");
    }
}

#[test]
fn anthropic_tools_include_the_tool_use_system_prompt() {
    let text = std::fs::read_to_string(sample("anthropic.json")).unwrap();
    let tools_tokens = |text: &str| {
        let set = load_as(text, InputFormat::AnthropicRequest);
        let plan = pack_for(&set, "claude-sonnet-4-5", 1_000_000);
        plan.items.iter().find(|i| i.id == "tools").unwrap().tokens
    };
    let auto = tools_tokens(&text);
    let mut forced: Value = serde_json::from_str(&text).unwrap();
    forced["tool_choice"] = json!({"type": "any"});
    // Anthropic's pricing page: 346 tokens with `auto`, 313 with `any`.
    assert_eq!(auto - tools_tokens(&forced.to_string()), 346 - 313);
    let set = load_as(&text, InputFormat::AnthropicRequest);
    assert_eq!(set.chat.as_ref().unwrap().parsed.tool_prompt, 346);
    assert!(auto > 346);
}

#[test]
fn count_chat_reads_every_request_format() {
    use assert_cmd::Command;
    for (name, model) in [
        ("anthropic.json", "claude-sonnet-4-5"),
        ("responses.json", "gpt-4.1"),
        ("gemini.json", "gemini-2.5-flash"),
    ] {
        let out = Command::cargo_bin("tokenscope")
            .unwrap()
            .args(["count", "--chat", "--json", "--model", model])
            .arg(sample(name))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let text = report.to_string();
        // The plan of the whole request counts the same.
        let set = load(&sample(name));
        let plan = pack_for(&set, model, 1_000_000);
        assert!(
            text.contains(&format!("\"total\":{}", plan.totals.context)),
            "{name}: {text}"
        );
        // The image is in the per-message breakdown.
        assert!(text.contains("\"extra\":"), "{name}");
    }
}

#[test]
fn a_plain_claude_conversation_is_an_anthropic_request() {
    let v = json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "Hello"}]});
    assert_eq!(
        tokenscope::input::detect::request_format(&v),
        Some(InputFormat::AnthropicRequest)
    );
    // Through a router, or with chat-only roles, it is a chat request.
    let v = json!({"model": "anthropic/claude-sonnet-4-5", "messages": [{"role": "user", "content": "Hello"}]});
    assert_eq!(
        tokenscope::input::detect::request_format(&v),
        Some(InputFormat::ChatRequest)
    );
    let v = json!({"model": "claude-sonnet-4-5", "messages": [{"role": "system", "content": "x"}, {"role": "user", "content": "Hello"}]});
    assert_eq!(
        tokenscope::input::detect::request_format(&v),
        Some(InputFormat::ChatRequest)
    );
}

#[test]
fn chat_requests_with_images_bill_what_the_plan_says() {
    let image = |w, h, detail: &str| json!({"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{}", png(w, h)), "detail": detail}});
    let mut messages = vec![json!({"role": "system", "content": "Describe images."})];
    for (i, (w, h, d)) in [
        (1024, 1024, "high"),
        (2048, 4096, "high"),
        (640, 480, "low"),
        (300, 200, "auto"),
    ]
    .into_iter()
    .enumerate()
    {
        messages.push(json!({"role": "user", "content": [{"type": "text", "text": format!("Picture {i}.")}, image(w, h, d)]}));
        messages.push(json!({"role": "assistant", "content": format!("A picture, number {i}.")}));
    }
    messages.push(json!({"role": "user", "content": [{"type": "text", "text": "And this link?"}, {"type": "image_url", "image_url": {"url": "https://example.com/x.png"}}]}));
    let text = json!({"model": "gpt-4o", "messages": messages}).to_string();
    let set = load_as(&text, InputFormat::ChatRequest);
    let mut checked = 0;
    for model in ["gpt-4o", "gpt-4.1-mini", "o3", "gpt-4o-mini"] {
        let full = pack_for(&set, model, 10_000_000).totals.context;
        for total in (0..full + 50).step_by((full / 37).max(1)) {
            let plan = pack_for(&set, model, total);
            let request = tokenscope::tokens::ChatRequest::from_json(&plan.rendered).unwrap();
            if request.messages.is_empty() {
                continue;
            }
            let spec = ModelRegistry::builtin().get(model).unwrap().clone();
            let billed = tokenscope::tokens::chat_prompt_tokens(&request, &spec)
                .unwrap()
                .total;
            assert_eq!(billed, plan.totals.context, "{model} at {total}");
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked}");
    // Published examples inside a request (gpt-4o): 765, 1,105, 85, and a
    // 300 x 200 image in one tile (255).
    let plan = pack_for(&set, "gpt-4o", 10_000_000);
    let layout = set.chat.as_ref().unwrap();
    let rule = layout.format.image_rule(Some("gpt-4o"));
    let costs: Vec<usize> = (1..=7)
        .step_by(2)
        .map(|k| {
            let i = &layout.parsed.messages[k].images[0];
            rule.tokens(i.width, i.height, i.detail.as_deref())
        })
        .collect();
    assert_eq!(costs, [765, 1105, 85, 255]);
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("message 9, image 1"))
    );
}

#[test]
fn server_side_state_is_warned_about() {
    let set = load_as(
        r#"{"model": "gpt-4.1", "previous_response_id": "resp_1", "input": "And then?"}"#,
        InputFormat::ResponsesRequest,
    );
    assert!(
        set.warnings
            .iter()
            .any(|w| w.contains("previous_response_id")),
        "{:?}",
        set.warnings
    );
    let set = load_as(
        r#"{"model": "claude-sonnet-4-5", "max_tokens": 5, "mcp_servers": [{"type": "url", "url": "https://x", "name": "x"}], "messages": [{"role": "user", "content": "hi"}]}"#,
        InputFormat::AnthropicRequest,
    );
    assert!(
        set.warnings.iter().any(|w| w.contains("mcp_servers")),
        "{:?}",
        set.warnings
    );
}

#[test]
fn pdf_files_are_estimated_by_their_pages() {
    let pdf = base64::engine::general_purpose::STANDARD.encode(
        b"%PDF-1.7\n<< /Type /Pages >>\n<< /Type /Page >>\n<< /Type /Page >>\n<< /Type /Page >>\n",
    );
    let chat = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "Summarize."},
        {"type": "file", "file": {"filename": "a.pdf", "file_data": format!("data:application/pdf;base64,{pdf}")}}
    ]}]})
    .to_string();
    let gemini = json!({"contents": [{"role": "user", "parts": [
        {"text": "Summarize."}, {"inlineData": {"mimeType": "application/pdf", "data": pdf}}
    ]}]})
    .to_string();
    for (text, format, model, per_page) in [
        (chat, InputFormat::ChatRequest, "gpt-4o", 3_000 + 765),
        (gemini, InputFormat::GeminiRequest, "gemini-2.5-flash", 258),
    ] {
        let set = load_as(&text, format);
        let plan = pack_for(&set, model, 1_000_000);
        let warnings = plan.warnings.join("\n");
        assert!(warnings.contains("a PDF of 3 page(s)"), "{warnings}");
        let m = plan.items.iter().find(|i| i.id == "m0-user").unwrap();
        assert!(
            m.tokens >= 3 * per_page && m.tokens < 3 * per_page + 20,
            "{model}: {}",
            m.tokens
        );
    }
}
