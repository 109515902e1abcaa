//! Prose, chat and Markdown forms.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// Runs of spaces and tabs become one space, lines are trimmed, and runs of
/// blank lines become one blank line.
pub(super) fn prose_compact(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let collapsed = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.is_empty() && out.last().is_none_or(|l: &String| l.is_empty()) {
            continue;
        }
        out.push(collapsed);
    }
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    out.join("\n")
}

/// The first and the last sentence, joined by ` … `.
pub(super) fn prose_outline(compact: &str) -> String {
    let flat = compact.split_whitespace().collect::<Vec<_>>().join(" ");
    let sentences = sentences(&flat);
    // A very short sentence ("Hi!", "Thanks.") takes its neighbour along.
    let words = |s: &[&str]| {
        s.iter()
            .map(|x| x.split_whitespace().count())
            .sum::<usize>()
    };
    let mut head = 1;
    while head < sentences.len() && words(&sentences[..head]) < MIN_WORDS {
        head += 1;
    }
    let mut tail = sentences.len().saturating_sub(1);
    while tail > head && words(&sentences[tail..]) < MIN_WORDS {
        tail -= 1;
    }
    if tail <= head {
        return sentences.join(" ");
    }
    format!(
        "{} … {}",
        sentences[..head].join(" "),
        sentences[tail..].join(" ")
    )
}

/// The fewest words the first and last parts of a prose outline keep.
const MIN_WORDS: usize = 5;

/// Splits text into sentences at `.`, `!`, `?`, `…` and their CJK forms when
/// followed by whitespace (or the end), not after common abbreviations,
/// initials or list numbers.
pub(super) fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let (i, c) = chars[k];
        let cjk = matches!(c, '。' | '！' | '？');
        if matches!(c, '.' | '!' | '?' | '…') || cjk {
            // Closing quotes and brackets belong to the sentence.
            let mut j = k + 1;
            while j < chars.len()
                && matches!(chars[j].1, '"' | '\'' | '”' | '’' | ')' | ']' | '*' | '_')
            {
                j += 1;
            }
            let at_break = j == chars.len() || chars[j].1.is_whitespace();
            if (at_break || cjk) && !(c == '.' && is_abbreviation(&text[start..i])) {
                let end = if j < chars.len() {
                    chars[j].0
                } else {
                    text.len()
                };
                let s = text[start..end].trim();
                if !s.is_empty() {
                    out.push(s);
                }
                start = end;
                k = j;
                continue;
            }
        }
        k += 1;
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    if word.is_empty() {
        return false;
    }
    let lower = word.to_lowercase();
    let known = [
        "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "st", "no", "fig", "cf", "approx",
        "jr", "sr", "inc", "ltd", "al", "resp", "ca", "incl",
    ];
    known.contains(&lower.as_str())
        // initials like "J." and list numbers like "3." at the start
        || (word.chars().count() == 1 && word.chars().all(char::is_uppercase))
        || (word.chars().all(|c| c.is_ascii_digit()) && before.trim() == word)
}

/// Markdown with runs of blank lines and spaces collapsed; code fences and
/// leading indentation are kept as they are.
pub(super) fn markdown_compact(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut fence: Option<(char, usize)> = None;
    for line in text.lines() {
        let t = line.trim_start();
        let fence_marker = |t: &str| {
            let c = t.chars().next()?;
            let n = t.chars().take_while(|&x| x == c).count();
            (matches!(c, '`' | '~') && n >= 3).then_some((c, n))
        };
        if let Some((c, n)) = fence {
            out.push(line.to_string());
            if fence_marker(t)
                .is_some_and(|(c2, n2)| c2 == c && n2 >= n && t.trim_end().chars().all(|x| x == c))
            {
                fence = None;
            }
            continue;
        }
        if let Some(m) = fence_marker(t) {
            fence = Some(m);
            out.push(line.trim_end().to_string());
            continue;
        }
        if t.is_empty() {
            if out.last().is_some_and(|l| !l.is_empty()) {
                out.push(String::new());
            }
            continue;
        }
        let lead = &line[..line.len() - t.len()];
        let body = t.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push(format!("{lead}{body}"));
    }
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    out.join("\n")
}

/// Headings, and the first sentence of each paragraph, list item and quote.
/// Code blocks, HTML and rules are dropped; a table keeps its header row.
pub(super) fn markdown_outline(compact: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut out: Vec<String> = Vec::new();
    // Nesting depth of container blocks (lists, items, quotes).
    let mut stack: Vec<Tag> = Vec::new();
    let mut skip_item_rest = false;
    for (event, range) in Parser::new_ext(compact, options).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                let src = &compact[range.clone()];
                match &tag {
                    Tag::Heading { level, .. } => {
                        if !out.is_empty() {
                            out.push(String::new());
                        }
                        out.push(heading_line(src, *level));
                    }
                    Tag::Paragraph => {
                        let in_item = stack.iter().any(|t| matches!(t, Tag::Item));
                        let in_quote = stack.iter().any(|t| matches!(t, Tag::BlockQuote(_)));
                        if in_item {
                            // The item's text was taken at the item start.
                        } else if in_quote {
                            out.push(format!("> {}", first_sentence(&strip_quote_markers(src))));
                        } else {
                            out.push(first_sentence(src));
                        }
                    }
                    Tag::Item => {
                        let depth = stack.iter().filter(|t| matches!(t, Tag::List(_))).count();
                        if !skip_item_rest {
                            out.push(item_line(src, depth.saturating_sub(1)));
                        }
                        stack.push(tag);
                        continue;
                    }
                    Tag::Table(_) => {
                        if let Some(header) = src.lines().next() {
                            out.push(header.trim().to_string());
                        }
                    }
                    _ => {}
                }
                if is_container(&tag) {
                    stack.push(tag);
                }
            }
            Event::End(end) => {
                if matches!(
                    end,
                    TagEnd::Item
                        | TagEnd::List(_)
                        | TagEnd::BlockQuote(_)
                        | TagEnd::FootnoteDefinition
                ) {
                    stack.pop();
                }
                skip_item_rest = false;
            }
            _ => {}
        }
    }
    out.join("\n")
}

fn is_container(tag: &Tag) -> bool {
    matches!(
        tag,
        Tag::List(_) | Tag::BlockQuote(_) | Tag::FootnoteDefinition(_)
    )
}

fn heading_line(src: &str, level: HeadingLevel) -> String {
    let first = src.lines().next().unwrap_or("").trim();
    if first.starts_with('#') {
        first.trim_end_matches('#').trim_end().to_string()
    } else {
        format!("{} {first}", "#".repeat(level as usize))
    }
}

fn strip_quote_markers(src: &str) -> String {
    src.lines()
        .map(|l| l.trim_start().trim_start_matches('>').trim_start())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first sentence of a paragraph's source, whitespace collapsed.
fn first_sentence(src: &str) -> String {
    let flat = src.split_whitespace().collect::<Vec<_>>().join(" ");
    sentences(&flat)
        .first()
        .map_or_else(String::new, |s| s.to_string())
}

/// A list item's marker and the first sentence of its first paragraph.
fn item_line(src: &str, depth: usize) -> String {
    let t = src.trim_start();
    let marker_len = if t.starts_with(['-', '*', '+']) {
        1
    } else {
        t.bytes().take_while(u8::is_ascii_digit).count() + 1
    };
    let marker = t.get(..marker_len).unwrap_or(t);
    let mut text = String::new();
    for line in t[marker.len()..].lines() {
        let l = line.trim();
        let nested = l.starts_with(['-', '*', '+']) && l[1..].starts_with(' ')
            || (l.bytes().take_while(u8::is_ascii_digit).count() > 0
                && l.trim_start_matches(|c: char| c.is_ascii_digit())
                    .starts_with(['.', ')']));
        if (!text.is_empty() && (l.is_empty() || nested)) || l.starts_with("```") {
            break;
        }
        text.push(' ');
        text.push_str(l);
    }
    let sentence = first_sentence(&text);
    format!("{}{marker} {sentence}", "  ".repeat(depth))
}
