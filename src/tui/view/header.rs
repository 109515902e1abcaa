//! The header: inputs, model and encoding, budget settings, the used/total
//! gauge and the input cost.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{BudgetBar, safe, spinner};
use crate::text::{self, thousands};
use crate::tokens::Accuracy;
use crate::tui::app::App;

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    let inputs = if app.inputs.is_empty() {
        "(no input)".to_string()
    } else {
        app.inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let sep = || Span::styled(" │ ", t.border);
    let mut first = vec![
        Span::styled(" tokenscope", t.header),
        sep(),
        safe(&inputs, t.text),
        sep(),
    ];
    match app.model() {
        Some(m) => {
            first.push(Span::styled("model ", t.muted));
            first.push(safe(&m.name, t.header));
        }
        None => first.push(Span::styled("no model", t.muted)),
    }
    first.push(Span::styled(" · ", t.muted));
    // `o200k_base exact`, or `≈ o200k_base*1.2 ±10%` as `models` and
    // `count` show an estimate; while the chosen model's tokenizer file
    // loads, that (the plan below is still the previous one).
    let loading = app
        .loading_tokenizer()
        .map(|load| format!("loading tokenizer file {} ", load.file.name()));
    push_tokenizer(&mut first, app, loading);
    let Some(plan) = app.plan() else {
        let lines = vec![Line::from(first), no_plan_line(app)];
        frame.render_widget(Paragraph::new(lines), area);
        return;
    };
    // The cost is the named model's: not shown while its tokenizer loads.
    let cost = plan
        .totals
        .cost_usd
        .filter(|_| app.loading_tokenizer().is_none());
    if let Some(cost) = cost {
        // The band once more only when the line has room for it.
        let used: usize = first.iter().map(|s| text::width(&s.content)).sum();
        let full = plan.accuracy().label(&text::usd(cost));
        let room = (area.width as usize).saturating_sub(used + 3 + "input ".len());
        let shown = if text::width(&full) <= room || plan.exact {
            full
        } else {
            Accuracy::Estimate(None).label(&text::usd(cost))
        };
        first.push(sep());
        // Without the label rather than with the figure cut (`≈$0.`).
        if text::width(&shown) <= room {
            first.push(Span::styled("input ", t.muted));
        }
        first.push(Span::styled(shown, t.text));
    }
    let b = &plan.budget;
    let on_off = |v: bool| if v { "on" } else { "off" };
    let kv = |k: &'static str, v: String| {
        [
            Span::styled(k, t.muted),
            Span::styled(v, t.text),
            Span::styled("  ", t.muted),
        ]
    };
    // The settings line; when it does not fit, a shorter form with the
    // in/out counts second: `budget 16,000  10 in / 4 out  reserve 4,096
    // greedy · drop · realloc on`.
    let settings = |compact: bool| {
        let mut line = vec![Span::raw(" ")];
        line.extend(kv("budget ", thousands(b.total)));
        if compact {
            line.push(Span::styled(
                format!("{} in / {} out", plan.totals.included, plan.totals.excluded),
                t.text,
            ));
            line.push(Span::styled("  ", t.muted));
        }
        // The output reserve comes out of the model's window: the budget is
        // at most the window minus the reserve (`?` explains).
        line.extend(kv("reserve ", thousands(b.reserve_output)));
        if b.reserved > 0 {
            line.extend(kv("pool ", thousands(b.reserved)));
        }
        let gap = plan.totals.optimality_gap.map(|gap| {
            // The `optimal` search stopped before proving its choice best.
            Span::styled(
                format!(" gap {}", crate::engine::gap_percent(gap)),
                t.truncated,
            )
        });
        if compact {
            line.push(Span::styled(b.strategy.name().to_string(), t.text));
            if let Some(g) = gap {
                line.push(g);
            }
            line.push(Span::styled(" · ", t.muted));
            line.push(Span::styled(b.overflow.name().to_string(), t.text));
            line.push(Span::styled(" · realloc ", t.muted));
            line.push(Span::styled(on_off(b.reallocate).to_string(), t.text));
            return line;
        }
        line.extend(kv("strategy ", b.strategy.name().to_string()));
        if let Some(g) = gap {
            line.pop();
            line.push(g);
            line.push(Span::styled("  ", t.muted));
        }
        line.extend(kv("overflow ", b.overflow.name().to_string()));
        line.extend(kv("reallocate ", on_off(b.reallocate).to_string()));
        line.extend(kv(
            "items ",
            format!("{} in / {} out", plan.totals.included, plan.totals.excluded),
        ));
        line
    };
    let mut second = settings(false);
    let full_w: usize = second.iter().map(|s| text::width(&s.content)).sum();
    // The trailing spaces may be cut.
    if full_w.saturating_sub(2) > area.width as usize {
        second = settings(true);
    }
    // Gauge line: label, bar, figures.
    let total = b.total.max(1);
    // `used` is what the plan charges against the budget (the sections'
    // sum); `context` is the exact count of what is sent, shown when it
    // differs (pieces can merge where they join).
    let ratio = plan.totals.used as f64 / total as f64;
    let mut figures = format!(
        " {} / {} ({:.1}%)",
        plan.accuracy().count_label(plan.totals.used),
        thousands(b.total),
        ratio * 100.0
    );
    let label = " used ";
    let elapsed = app
        .engine
        .elapsed
        .map(|e| format!("  {:.1} ms", e.as_secs_f64() * 1000.0));
    let extra = elapsed.as_deref().map_or(0, text::width) + if app.engine.slow { 3 } else { 0 };
    if plan.totals.context != plan.totals.used {
        let context = format!(
            " · context {}",
            plan.accuracy().count_label(plan.totals.context)
        );
        // Only while the bar keeps a readable length.
        let width = label.len() + text::width(&figures) + text::width(&context) + extra + 1;
        if (area.width as usize).saturating_sub(width) >= MIN_BAR {
            figures.push_str(&context);
        }
    }
    let bar_w = (area.width as usize)
        .saturating_sub(label.len() + text::width(&figures) + extra + 1)
        .min(60) as u16;
    let lines = vec![Line::from(first), Line::from(second)];
    frame.render_widget(
        Paragraph::new(lines),
        Rect {
            height: 2.min(area.height),
            ..area
        },
    );
    if area.height >= 3 {
        let y = area.y + 2;
        let over = plan.totals.context > b.total || plan.totals.used > b.total;
        frame.render_widget(
            Paragraph::new(Span::styled(label, t.muted)),
            Rect::new(area.x, y, label.len() as u16, 1),
        );
        let bar_area = Rect::new(area.x + label.len() as u16, y, bar_w, 1);
        frame.render_widget(
            BudgetBar {
                ratio,
                fill: t.bar_for(ratio, over),
                empty: t.bar_empty,
            },
            bar_area,
        );
        let rest = Rect::new(
            bar_area.x + bar_w,
            y,
            area.width.saturating_sub(label.len() as u16 + bar_w),
            1,
        );
        let mut spans = vec![Span::styled(
            figures,
            if over { t.over_budget } else { t.text },
        )];
        if let Some(e) = elapsed {
            spans.push(Span::styled(e, t.muted));
        }
        if app.engine.slow {
            spans.push(Span::styled(
                format!("  {}", spinner(app.ticks)),
                t.progress,
            ));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), rest);
    }
}

/// The line in place of the budget figures while there is no plan: what is
/// awaited, or why there is none.
fn no_plan_line(app: &App) -> Line<'static> {
    let t = app.theme();
    let msg = if app.loading_tokenizer().is_some() {
        format!("waiting for the tokenizer file {}", spinner(app.ticks))
    } else if app.load.loading {
        format!("loading {}", spinner(app.ticks))
    } else if app.load_error().is_some() {
        "no plan: the inputs could not be loaded".to_string()
    } else if let Some(e) = app.refusal() {
        // The engine refused these settings: no spinner, the reason.
        format!("no plan: {e}")
    } else {
        format!("computing {}", spinner(app.ticks))
    };
    let style = if app.refusal().is_some() {
        t.status_error
    } else {
        t.muted
    };
    Line::from(safe(&format!(" {msg}"), style))
}

/// The compact layout's two-line header: the model and how it counts (and
/// the input cost when there is room), then the budget used of the total
/// with the items in and out, and a bar in what width is left.
pub(super) fn draw_compact(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    let mut first = vec![Span::raw(" ")];
    match app.model() {
        Some(m) => first.push(safe(&m.name, t.header)),
        None => first.push(Span::styled("no model", t.muted)),
    }
    first.push(Span::styled(" · ", t.muted));
    let loading = app
        .loading_tokenizer()
        .map(|_| "loading tokenizer ".to_string());
    push_tokenizer(&mut first, app, loading);
    let Some(plan) = app.plan() else {
        let lines = vec![Line::from(first), no_plan_line(app)];
        frame.render_widget(Paragraph::new(lines), area);
        return;
    };
    if let Some(cost) = plan
        .totals
        .cost_usd
        .filter(|_| app.loading_tokenizer().is_none())
    {
        let used: usize = first.iter().map(|s| text::width(&s.content)).sum();
        let cost = plan.accuracy().label(&text::usd(cost));
        if used + 3 + text::width(&cost) <= area.width as usize {
            first.push(Span::styled(" · ", t.muted));
            first.push(Span::styled(cost, t.text));
        }
    }
    let b = &plan.budget;
    let ratio = plan.totals.used as f64 / b.total.max(1) as f64;
    let over = plan.totals.context > b.total || plan.totals.used > b.total;
    let counts = format!(
        " · {} in / {} out",
        plan.totals.included, plan.totals.excluded
    );
    // The figures, shorter until the counts fit beside them: without the
    // percentage, then with the estimate's band as a bare `≈`.
    let used_full = plan.accuracy().count_label(plan.totals.used);
    let used_short = if plan.exact {
        thousands(plan.totals.used)
    } else {
        format!("≈{}", thousands(plan.totals.used))
    };
    let room = (area.width as usize).saturating_sub(text::width(&counts));
    let figures = [
        // Whole percents, rounded down: 99.8 % is not shown as full.
        format!(
            " {used_full} / {} ({}%)",
            thousands(b.total),
            (ratio * 100.0).floor()
        ),
        format!(" {used_full} / {}", thousands(b.total)),
        format!(" {used_short} / {}", thousands(b.total)),
    ]
    .into_iter()
    .find(|f| text::width(f) <= room)
    .unwrap_or_else(|| format!(" {used_short} / {}", thousands(b.total)));
    let mut second = vec![
        Span::styled(figures, if over { t.over_budget } else { t.text }),
        Span::styled(counts, t.muted),
    ];
    let used: usize = second.iter().map(|s| text::width(&s.content)).sum();
    let bar_w = (area.width as usize).saturating_sub(used + 2).min(40) as u16;
    if bar_w >= 6 {
        second.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(vec![Line::from(first)]), area);
    if area.height < 2 {
        return;
    }
    let y = area.y + 1;
    frame.render_widget(
        Paragraph::new(Line::from(second)),
        Rect::new(area.x, y, area.width, 1),
    );
    if bar_w >= 6 {
        let x = area.x + (used as u16 + 1).min(area.width);
        frame.render_widget(
            BudgetBar {
                ratio,
                fill: t.bar_for(ratio, over),
                empty: t.bar_empty,
            },
            Rect::new(x, y, bar_w.min(area.width.saturating_sub(x)), 1),
        );
    }
}

/// The shortest budget bar worth keeping the `context` figure beside.
const MIN_BAR: usize = 12;

/// The tokenizer as the header names it: `o200k_base exact`, an estimate as
/// `models` and `count` show it, or `loading` (with a spinner) while the
/// chosen model's tokenizer file loads.
fn push_tokenizer(spans: &mut Vec<Span<'static>>, app: &App, loading: Option<String>) {
    let t = app.theme();
    if let Some(label) = loading {
        spans.push(Span::styled(label, t.progress));
        spans.push(Span::styled(spinner(app.ticks), t.progress));
    } else if app.tokenizer().accuracy().is_exact() {
        spans.push(Span::styled(app.tokenizer().name(), t.text));
        spans.push(Span::styled(" exact", t.included));
    } else {
        spans.push(Span::styled(app.tokenizer().to_string(), t.truncated));
    }
}
