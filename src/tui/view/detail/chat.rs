//! What an item of a chat request stands for, under the detail pane's
//! status line: a message's role, place and tool calls, and how its count
//! splits between the text and the rest the API bills for it; the tool
//! definitions (billed as the API renders them, not as the JSON shown); the
//! reply priming (no text: what it is and why it is always kept).

use ratatui::text::{Line, Span};

use crate::engine::{ChatLayout, ChatPart, ItemPlan, RequestFormat};
use crate::text::{escape, fit, thousands};
use crate::tokens::{Accuracy, ChatMessage};
use crate::tui::app::App;
use crate::tui::theme::Theme;

/// The chat lines of an item, and whether its text gets token marks.
pub(super) struct ChatDetail {
    /// Lines under the status line.
    pub(crate) lines: Vec<Line<'static>>,
    /// Whether the text shown is what is counted (token marks make sense).
    pub(crate) marks: bool,
}

/// The chat lines for the item at `index` of the plan, `None` when the
/// input is not a chat request or the item stands for no part of it.
pub(super) fn describe(
    app: &App,
    item: &ItemPlan,
    index: usize,
    cols: usize,
    accuracy: Accuracy,
) -> Option<ChatDetail> {
    let part = app.chat_part(index)?;
    let layout = app.item_set()?.chat.clone()?;
    let t = app.theme();
    let lines = match part {
        ChatPart::Message(k) => message(app, &layout, k, item, index, cols, accuracy, t),
        ChatPart::Tools => tools(&layout, item, accuracy, t),
        ChatPart::ReplyPriming => reply(app, item, index, t),
    };
    Some(ChatDetail {
        lines,
        marks: part != ChatPart::Tools,
    })
}

#[allow(clippy::too_many_arguments)]
fn message(
    app: &App,
    layout: &ChatLayout,
    k: usize,
    item: &ItemPlan,
    index: usize,
    cols: usize,
    accuracy: Accuracy,
    t: &Theme,
) -> Vec<Line<'static>> {
    let messages = &layout.parsed.messages;
    let Some(m) = messages.get(k) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut head = format!(
        "{} message {} of {}",
        escape::line(&m.role),
        k + 1,
        messages.len()
    );
    if let Some(name) = &m.name {
        head.push_str(&format!(" · name {}", escape::line(name)));
    }
    if layout.format != RequestFormat::Chat {
        head.push_str(&format!(" · {}", layout.format.label()));
    }
    if let Some(id) = &m.tool_call_id {
        head.push_str(&format!(" · answers {}", escape::line(id)));
        if let Some(f) = called_function(&messages[..k], id) {
            head.push_str(&format!(" ({})", escape::line(f)));
        }
    }
    out.push(Line::from(Span::styled(head, t.text)));

    // The count: the text, and the rest of what the API bills.
    let content = app
        .detail
        .cache
        .as_ref()
        .filter(|d| d.item == index)
        .and_then(|d| d.content_tokens);
    if let Some(content) = content {
        // The parts without the estimate's band: the total shows it.
        let rest = item.tokens.saturating_sub(content);
        out.push(Line::from(Span::styled(
            format!(
                "{} tok: {} text + {} {}",
                accuracy.count_label(item.tokens),
                thousands(content),
                thousands(rest),
                billed_besides_text(m, app.framing().is_some())
            ),
            t.muted,
        )));
    }
    // Images, each with what its provider bills for it.
    let rule = layout.format.image_rule(
        app.model()
            .map(|m| m.name.as_str())
            .or(layout.parsed.model.as_deref()),
    );
    for (n, image) in m.images.iter().enumerate() {
        let mut line = format!(
            "▣ image {} · {}x{} · {} tok",
            n + 1,
            image.width,
            image.height,
            thousands(rule.tokens(image.width, image.height, image.detail.as_deref()))
        );
        if let Some(detail) = &image.detail {
            line.push_str(&format!(" · detail {}", escape::line(detail)));
        }
        if image.assumed.is_some() {
            line.push_str(" · size assumed");
        }
        out.push(Line::from(Span::styled(
            fit(&line, cols).into_owned(),
            t.text,
        )));
    }
    let calls = calls(m);
    for (name, arguments) in &calls {
        let call = format!("→ {}({})", escape::line(name), escape::line(arguments));
        out.push(Line::from(Span::styled(
            fit(&call, cols).into_owned(),
            t.text,
        )));
    }
    if app.item_text(index).is_empty() && calls.is_empty() && m.images.is_empty() {
        out.push(Line::from(Span::styled("(no text content)", t.muted)));
    }
    out
}

/// What a message's count has besides its text: with no chat framing known
/// for the model, only its tool calls.
fn billed_besides_text(m: &ChatMessage, framed: bool) -> String {
    let calls = !m.tool_calls.is_empty() || m.function_call.is_some();
    let mut parts = Vec::new();
    if calls {
        parts.push("tool calls");
    }
    if !m.images.is_empty() {
        parts.push("images");
    }
    if !m.hidden.is_empty() || !m.estimated.is_empty() {
        parts.push("other parts");
    }
    if !framed {
        return if parts.is_empty() {
            "(no chat framing is known for this model)".to_string()
        } else {
            format!(
                "{} (no chat framing is known for this model)",
                parts.join(", ")
            )
        };
    }
    let mut what = vec!["framing", "role"];
    if m.name.is_some() {
        what.push("name");
    }
    what.extend(parts);
    if m.refusal.is_some() {
        what.push("refusal");
    }
    let last = what.pop().unwrap_or("framing");
    if what.is_empty() {
        last.to_string()
    } else {
        format!("{} and {last}", what.join(", "))
    }
}

/// The message's tool calls (and legacy function call): name, arguments.
fn calls(m: &ChatMessage) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = m
        .tool_calls
        .iter()
        .filter_map(|c| c.function.as_ref())
        .map(|f| (f.name.clone(), escape::one_line(&f.arguments)))
        .collect();
    if let Some(f) = &m.function_call {
        out.push((f.name.clone(), escape::one_line(&f.arguments)));
    }
    out
}

/// The function a tool call id names, from the messages before.
fn called_function<'a>(before: &'a [ChatMessage], id: &str) -> Option<&'a str> {
    before.iter().rev().find_map(|m| {
        m.tool_calls
            .iter()
            .find(|c| c.id.as_deref() == Some(id))
            .and_then(|c| c.function.as_ref())
            .map(|f| f.name.as_str())
    })
}

fn tools(
    layout: &ChatLayout,
    item: &ItemPlan,
    accuracy: Accuracy,
    t: &Theme,
) -> Vec<Line<'static>> {
    let names: Vec<String> = layout
        .parsed
        .tools
        .iter()
        .filter_map(|tool| tool.function.as_ref())
        .chain(layout.parsed.functions.iter())
        .map(|f| escape::line(&f.name).into_owned())
        .collect();
    let n = names.len();
    vec![
        Line::from(Span::styled(
            format!(
                "tool definitions: {n} function{}: {}",
                if n == 1 { "" } else { "s" },
                names.join(", ")
            ),
            t.text,
        )),
        Line::from(Span::styled(
            format!(
                "{} tok as the API bills them (not the JSON below); kept or dropped whole",
                accuracy.count_label(item.tokens)
            ),
            t.muted,
        )),
    ]
}

fn reply(app: &App, item: &ItemPlan, index: usize, t: &Theme) -> Vec<Line<'static>> {
    let note = app
        .loaded_item_of(index)
        .and_then(|i| i.meta.get("note"))
        .and_then(|v| v.as_str())
        .unwrap_or("the tokens that prime the reply");
    let mut out = vec![
        Line::from(Span::styled(
            format!("reply priming: {}", escape::line(note)),
            t.text,
        )),
        Line::from(Span::styled(
            "billed once with every request, so it is always kept; it has no text",
            t.muted,
        )),
    ];
    if item.tokens == 0 && app.framing().is_none() {
        out.push(Line::from(Span::styled(
            "no chat framing is known for this model: counted as 0",
            t.truncated,
        )));
    }
    out
}
