//! `watch --json`: one JSON object per line (JSON Lines), schema
//! `tokenscope.watch/1`. Every object has `schema`, `event` and `time`
//! (RFC 3339, UTC):
//!
//! - `start`: the first plan: `inputs`, then the plan's figures (`used`,
//!   `total`, `context`, `included`, `excluded`);
//! - `change`: a new plan after an input changed: the figures, `used_delta`,
//!   `sections` (`name`, `used`, `delta`, or `removed: true`) that changed,
//!   and `items` (`id`, `before`, `after`, `reason`) whose status changed
//!   (`before` null for a new item, `after` null for one removed);
//! - `error`: an input is invalid (`message`); the last good plan is kept;
//! - `watch_error`: the file watcher reported an error (`message`).

use serde::Serialize;
use serde_json::{Value, json};

use crate::engine::Plan;

/// The schema tag of every `watch --json` line.
pub const WATCH_SCHEMA: &str = "tokenscope.watch/1";

/// The time now, RFC 3339 in UTC to the second.
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[derive(Serialize)]
struct Figures {
    used: usize,
    total: usize,
    context: usize,
    included: usize,
    excluded: usize,
}

fn figures(plan: &Plan) -> Figures {
    Figures {
        used: plan.totals.used,
        total: plan.budget.total,
        context: plan.totals.context,
        included: plan.totals.included,
        excluded: plan.totals.excluded,
    }
}

fn event(name: &str, mut fields: Value) -> String {
    let mut line = json!({"schema": WATCH_SCHEMA, "event": name, "time": now()});
    if let (Some(obj), Some(more)) = (line.as_object_mut(), fields.as_object_mut()) {
        obj.append(more);
    }
    line.to_string()
}

/// The `start` line.
pub fn start(plan: &Plan, inputs: &[String]) -> String {
    let mut fields = json!({"inputs": inputs});
    merge(&mut fields, &figures(plan));
    event("start", fields)
}

/// An `error` (or, with `watcher`, a `watch_error`) line.
pub fn error(message: &str, watcher: bool) -> String {
    let name = if watcher { "watch_error" } else { "error" };
    event(name, json!({"message": message}))
}

/// The `change` line from `old` to `new`.
pub fn change(old: &Plan, new: &Plan) -> String {
    let mut sections = Vec::new();
    for s in &new.sections {
        let before = old
            .sections
            .iter()
            .find(|o| o.name == s.name)
            .map_or(0, |o| o.used);
        let delta = s.used as i64 - before as i64;
        if delta != 0 {
            sections.push(json!({"name": s.name, "used": s.used, "delta": delta}));
        }
    }
    for s in &old.sections {
        if !new.sections.iter().any(|n| n.name == s.name) {
            sections.push(json!({"name": s.name, "removed": true}));
        }
    }
    let mut items = Vec::new();
    for it in &new.items {
        let before = old.items.iter().find(|o| o.id == it.id);
        if before.is_some_and(|b| b.status == it.status) {
            continue;
        }
        items.push(json!({
            "id": it.id,
            "before": before.map(|b| b.status.name()),
            "after": it.status.name(),
            "reason": it.reason,
        }));
    }
    for it in &old.items {
        if !new.items.iter().any(|n| n.id == it.id) {
            items.push(
                json!({"id": it.id, "before": it.status.name(), "after": null, "reason": null}),
            );
        }
    }
    let mut fields = json!({});
    merge(&mut fields, &figures(new));
    merge(
        &mut fields,
        &json!({
            "used_delta": new.totals.used as i64 - old.totals.used as i64,
            "sections": sections,
            "items": items,
        }),
    );
    event("change", fields)
}

fn merge(fields: &mut Value, extra: &impl Serialize) {
    if let (Some(obj), Ok(Value::Object(mut more))) =
        (fields.as_object_mut(), serde_json::to_value(extra))
    {
        obj.append(&mut more);
    }
}
