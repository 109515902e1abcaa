//! Chat prompt-token counting against the figures in OpenAI's cookbook
//! notebook "How to count tokens with tiktoken", which were checked there
//! against `usage.prompt_tokens` from the API.

use tokenscope::tokens::{
    ChatCounter, ChatFraming, ChatRequest, CountCache, Encoding, MessageContent, ModelRegistry,
    Tokenizer, chat_prompt_tokens,
};

fn fixture(name: &str) -> ChatRequest {
    let path = format!("{}/tests/fixtures/chat/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    ChatRequest::from_json(&text).unwrap()
}

#[test]
fn cookbook_conversation_cl100k_models_bill_129() {
    let request = fixture("cookbook_conversation.json");
    let registry = ModelRegistry::builtin();
    for model in ["gpt-3.5-turbo", "gpt-4-0613", "gpt-4"] {
        let count = chat_prompt_tokens(&request, registry.get(model).unwrap()).unwrap();
        assert_eq!(count.total, 129, "{model}");
        assert!(count.exact, "{model}: {:?}", count.notes);
    }
}

#[test]
fn cookbook_conversation_gpt4o_models_bill_124() {
    let request = fixture("cookbook_conversation.json");
    let registry = ModelRegistry::builtin();
    for model in ["gpt-4o", "gpt-4o-mini"] {
        let count = chat_prompt_tokens(&request, registry.get(model).unwrap()).unwrap();
        assert_eq!(count.total, 124, "{model}");
        assert!(count.exact, "{model}: {:?}", count.notes);
    }
}

#[test]
fn cookbook_tools_example() {
    let request = fixture("cookbook_tools.json");
    let registry = ModelRegistry::builtin();
    for (model, billed) in [
        ("gpt-3.5-turbo", 105),
        ("gpt-4", 105),
        ("gpt-4o", 101),
        ("gpt-4o-mini", 101),
    ] {
        let count = chat_prompt_tokens(&request, registry.get(model).unwrap()).unwrap();
        assert_eq!(count.total, billed, "{model}");
        assert!(count.exact, "{model}: {:?}", count.notes);
    }
}

#[test]
fn breakdown_adds_up_and_overhead_is_the_framing() {
    let request = fixture("cookbook_conversation.json");
    let spec = ModelRegistry::builtin().get("gpt-4o").unwrap().clone();
    let count = chat_prompt_tokens(&request, &spec).unwrap();
    assert_eq!(count.messages.len(), 6);
    assert_eq!(count.reply_priming, 3);
    assert_eq!(count.tools, 0);
    let sum: usize = count.messages.iter().map(|m| m.total).sum();
    assert_eq!(sum + count.reply_priming + count.tools, count.total);

    let tok = spec.tokenizer().unwrap();
    // system message without a name: 3 per message + "system" (1 token).
    let first = &count.messages[0];
    assert_eq!(first.overhead, 3 + tok.count("system"));
    assert_eq!(first.content, tok.count(&content_text(&request, 0)));
    // With a name: + the name's tokens + 1.
    let second = &count.messages[1];
    assert_eq!(second.name.as_deref(), Some("example_user"));
    assert_eq!(
        second.overhead,
        3 + tok.count("system") + tok.count("example_user") + 1
    );
    for m in &count.messages {
        assert_eq!(m.total, m.content + m.tool_calls + m.overhead);
    }
}

fn content_text(request: &ChatRequest, i: usize) -> String {
    match &request.messages[i].content {
        Some(MessageContent::Text(t)) => t.clone(),
        other => panic!("expected text content, got {other:?}"),
    }
}

#[test]
fn tools_count_is_the_difference_the_cookbook_shows() {
    // 101 with tools, and the same messages alone are 3+1+15 + 3+1+9 + 3.
    let request = fixture("cookbook_tools.json");
    let registry = ModelRegistry::builtin();
    let with_tools = chat_prompt_tokens(&request, registry.get("gpt-4o").unwrap()).unwrap();
    let mut bare = request.clone();
    bare.tools.clear();
    let without = chat_prompt_tokens(&bare, registry.get("gpt-4o").unwrap()).unwrap();
    assert_eq!(with_tools.total - without.total, with_tools.tools);
    assert!(with_tools.tools > 12);
}

#[test]
fn encoding_framing_matches_the_model_framing() {
    let request = fixture("cookbook_conversation.json");
    let o200k = Tokenizer::Exact(Encoding::O200kBase);
    let cl100k = Tokenizer::Exact(Encoding::Cl100kBase);
    let count =
        ChatCounter::new(&o200k, ChatFraming::for_encoding(Encoding::O200kBase)).count(&request);
    assert_eq!(count.total, 124);
    let count =
        ChatCounter::new(&cl100k, ChatFraming::for_encoding(Encoding::Cl100kBase)).count(&request);
    assert_eq!(count.total, 129);
    assert_eq!(ChatFraming::for_encoding(Encoding::P50kBase), None);
}

#[test]
fn a_private_cache_gives_the_same_counts() {
    let request = fixture("cookbook_tools.json");
    let cache = CountCache::new();
    let tok = Tokenizer::Exact(Encoding::Cl100kBase);
    let count = ChatCounter::new(&tok, Some(ChatFraming::OPENAI_CL100K))
        .with_cache(&cache)
        .count(&request);
    assert_eq!(count.total, 105);
    assert!(cache.tokenized() > 0);
}

#[test]
fn text_parts_bill_as_their_concatenation() {
    let parts = ChatRequest::from_json(
        r#"{"messages": [{"role": "user", "content": [{"type": "text", "text": "What's the weather "}, {"type": "text", "text": "in Paris?"}]}]}"#,
    )
    .unwrap();
    let plain = ChatRequest::from_json(
        r#"{"messages": [{"role": "user", "content": "What's the weather in Paris?"}]}"#,
    )
    .unwrap();
    let spec = ModelRegistry::builtin().get("gpt-4o").unwrap().clone();
    let a = chat_prompt_tokens(&parts, &spec).unwrap();
    let b = chat_prompt_tokens(&plain, &spec).unwrap();
    assert_eq!(a.total, b.total);
    assert!(a.exact);
}

#[test]
fn tool_calls_and_tool_results_are_counted_and_marked_approximate() {
    let request = fixture("tool_round_trip.json");
    let spec = ModelRegistry::builtin().get("gpt-4o-mini").unwrap().clone();
    let tok = spec.tokenizer().unwrap();
    let count = chat_prompt_tokens(&request, &spec).unwrap();
    let call = &count.messages[1];
    assert_eq!(call.content, 0);
    assert_eq!(
        call.tool_calls,
        tok.count("get_current_weather") + tok.count(r#"{"location": "Paris, France"}"#)
    );
    let result = &count.messages[2];
    assert_eq!(result.role, "tool");
    assert_eq!(
        result.content,
        tok.count(r#"{"temperature": 18, "unit": "celsius"}"#)
    );
    assert_eq!(result.overhead, 3 + tok.count("tool"));
    assert!(!count.exact);
    assert!(
        count.notes.iter().any(|n| n.contains("tool calls")),
        "{:?}",
        count.notes
    );
    assert!(
        count.notes.iter().any(|n| n.contains("`tool` messages")),
        "{:?}",
        count.notes
    );
}

#[test]
fn linked_images_are_billed_at_the_assumed_size_with_a_note() {
    let request = ChatRequest::from_json(
        r#"{"messages": [{"role": "user", "content": [{"type": "text", "text": "Describe"}, {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}]}"#,
    )
    .unwrap();
    let count =
        chat_prompt_tokens(&request, ModelRegistry::builtin().get("gpt-4o").unwrap()).unwrap();
    assert!(!count.exact);
    assert!(
        count.notes[0].contains("message 0, image 1") && count.notes[0].contains("--image-size"),
        "{:?}",
        count.notes
    );
    assert_eq!(count.messages[0].content, 1);
    // 2048 x 2048 assumed: fit 2048, shortest side 768, 4 tiles (gpt-4o).
    assert_eq!(count.messages[0].extra, 85 + 4 * 170);
}

#[test]
fn inline_images_are_billed_from_their_header() {
    // A 1024 x 1024 PNG header, high detail: 765 tokens (OpenAI's example).
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend(1024u32.to_be_bytes());
    png.extend(1024u32.to_be_bytes());
    png.extend([8, 6, 0, 0, 0]);
    use base64::Engine as _;
    let data = base64::engine::general_purpose::STANDARD.encode(&png);
    let text = format!(
        r#"{{"messages": [{{"role": "user", "content": [{{"type": "image_url", "image_url": {{"url": "data:image/png;base64,{data}", "detail": "high"}}}}, {{"type": "image_url", "image_url": {{"url": "data:image/png;base64,{data}", "detail": "low"}}}}]}}]}}"#
    );
    let request = ChatRequest::from_json(&text).unwrap();
    let registry = ModelRegistry::builtin();
    let count = chat_prompt_tokens(&request, registry.get("gpt-4o").unwrap()).unwrap();
    assert_eq!(count.messages[0].extra, 765 + 85);
    assert!(count.exact, "{:?}", count.notes);
    // gpt-4.1-mini bills 32-pixel patches times 1.62.
    let count = chat_prompt_tokens(&request, registry.get("gpt-4.1-mini").unwrap()).unwrap();
    assert_eq!(
        count.messages[0].extra,
        2 * (1024 * 1620usize).div_ceil(1000)
    );
}

#[test]
fn models_without_framing_count_text_only() {
    let request = fixture("cookbook_conversation.json");
    let registry = ModelRegistry::builtin();
    let claude = registry.get("claude-sonnet-4-5").unwrap();
    let count = chat_prompt_tokens(&request, claude).unwrap();
    assert_eq!(count.reply_priming, 0);
    let tok = claude.tokenizer().unwrap();
    let expected: usize = request
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            tok.count(&content_text(&request, i)) + m.name.as_deref().map_or(0, |n| tok.count(n))
        })
        .sum();
    assert_eq!(count.total, expected);
    assert!(!count.exact);
    assert!(
        count.notes[0].contains("no chat framing"),
        "{:?}",
        count.notes
    );
}

#[test]
fn legacy_functions_count_like_tools() {
    let tools = fixture("cookbook_tools.json");
    let functions: Vec<_> = tools
        .tools
        .iter()
        .filter_map(|t| t.function.clone())
        .collect();
    let mut legacy = tools.clone();
    legacy.tools.clear();
    legacy.functions = functions;
    let spec = ModelRegistry::builtin().get("gpt-4").unwrap().clone();
    assert_eq!(chat_prompt_tokens(&legacy, &spec).unwrap().total, 105);
}

#[test]
fn invalid_requests_name_line_column_and_expectation() {
    let dir = format!("{}/tests/fixtures/chat", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(format!("{dir}/invalid_content.json")).unwrap();
    let e = ChatRequest::from_json(&text).unwrap_err();
    assert_eq!(e.line, 4);
    assert!(
        e.message
            .contains("expected a string or an array of content parts"),
        "{}",
        e.message
    );

    let text = std::fs::read_to_string(format!("{dir}/trailing_comma.json")).unwrap();
    let e = ChatRequest::from_json(&text).unwrap_err();
    assert_eq!(e.line, 5);
    assert!(e.message.contains("trailing comma"), "{}", e.message);

    let e = ChatRequest::from_json(r#"{"model": "gpt-4o"}"#).unwrap_err();
    assert!(
        e.message.contains("missing field `messages`"),
        "{}",
        e.message
    );
    assert_eq!(e.line, 1);

    let e = ChatRequest::from_json("").unwrap_err();
    assert_eq!((e.line, e.column), (1, 1));
    assert!(e.message.contains("EOF"), "{}", e.message);
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let r = ChatRequest::from_json("\u{feff}{\"messages\": []}").unwrap();
    assert!(r.messages.is_empty());
}

mod properties {
    use proptest::prelude::*;
    use tokenscope::tokens::{ChatRequest, ModelRegistry, chat_prompt_tokens};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,200}") {
            let _ = ChatRequest::from_json(&text);
        }

        #[test]
        fn totals_add_up_for_any_conversation(
            messages in proptest::collection::vec(
                ("(system|user|assistant|tool|developer)", "\\PC{0,40}", proptest::option::of("[a-z_]{1,12}")),
                0..8,
            ),
            with_tool in any::<bool>(),
            model in proptest::sample::select(vec!["gpt-4o", "gpt-4", "claude-sonnet-4-5", "llama-3.1-8b"]),
        ) {
            let msgs: Vec<serde_json::Value> = messages
                .iter()
                .map(|(role, content, name)| {
                    let mut m = serde_json::json!({"role": role, "content": content});
                    if let Some(n) = name {
                        m["name"] = serde_json::json!(n);
                    }
                    m
                })
                .collect();
            let mut request = serde_json::json!({"messages": msgs});
            if with_tool {
                request["tools"] = serde_json::json!([{"type": "function", "function": {
                    "name": "f", "description": "Does f.",
                    "parameters": {"type": "object", "properties": {"x": {"type": "string", "enum": ["a", "b"]}}}
                }}]);
            }
            let request = ChatRequest::from_json(&request.to_string()).unwrap();
            let registry = ModelRegistry::builtin();
            let count = chat_prompt_tokens(&request, registry.get(model).unwrap()).unwrap();
            let sum: usize = count.messages.iter().map(|m| m.total).sum();
            prop_assert_eq!(sum + count.tools + count.reply_priming, count.total);
            prop_assert_eq!(count.messages.len(), messages.len());
            prop_assert_eq!(with_tool, count.tools > 0);
        }
    }
}
