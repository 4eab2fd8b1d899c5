//! Small text helpers: HTML to plain text, HTML escaping, slugs, templates.

/// Converts message HTML into plain text: block ends and `<br>` become line breaks, tags are
/// dropped, entities decoded, runs of blank lines collapsed. Never fails; plain text passes
/// through unchanged (apart from entity decoding).
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let Some(end) = after.find('>') else {
            out.push_str(after);
            rest = "";
            break;
        };
        let tag = after[1..end].trim().to_ascii_lowercase();
        let name = tag.trim_start_matches('/').split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or("");
        match name {
            "br" => out.push('\n'),
            "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "pre" | "ul"
            | "ol"
                if tag.starts_with('/') =>
            {
                out.push('\n')
            }
            "li" => out.push_str("- "),
            _ => {}
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    let decoded = html_escape::decode_html_entities(&out).into_owned();
    collapse_blank_lines(&decoded)
}

fn collapse_blank_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank_run = 0;
    for line in s.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_string()
}

/// Escapes text for inclusion in HTML.
pub fn escape_html(text: &str) -> String {
    html_escape::encode_text(text).into_owned()
}

/// A Zendesk-friendly tag: lower case, spaces and punctuation become `_`, at most 80 chars.
pub fn slug(tag: &str) -> String {
    let mut out = String::new();
    let mut last_us = false;
    for c in tag.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || c == '-' {
            out.push(c);
            last_us = false;
        } else if !last_us && !out.is_empty() {
            out.push('_');
            last_us = true;
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out.chars().take(80).collect()
}

/// Replaces `{name}` placeholders with values; unknown placeholders stay as written.
pub fn render(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// True when `text` contains `word` as a whole word, ignoring case.
pub fn contains_word(text: &str, word: &str) -> bool {
    let text = text.to_lowercase();
    let word = word.trim().to_lowercase();
    if word.is_empty() {
        return false;
    }
    let mut from = 0;
    while let Some(pos) = text[from..].find(&word) {
        let start = from + pos;
        let end = start + word.len();
        let before_ok = text[..start].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after_ok = text[end..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        if before_ok && after_ok {
            return true;
        }
        from = start + word.len().max(1);
        while from < text.len() && !text.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_readable_text() {
        let html = "<p>Hello &amp; welcome</p><p>Line<br>two</p><ul><li>a</li><li>b</li></ul>";
        assert_eq!(html_to_text(html), "Hello & welcome\nLine\ntwo\n- a\n- b");
    }

    #[test]
    fn unterminated_tag_does_not_panic() {
        assert_eq!(html_to_text("a < b"), "a < b");
        assert_eq!(html_to_text("<p"), "<p");
    }

    #[test]
    fn slug_normalises() {
        assert_eq!(slug("  VIP Customer! "), "vip_customer");
        assert_eq!(slug("billing-issue"), "billing-issue");
    }

    #[test]
    fn whole_words_only() {
        assert!(contains_word("I want a REFUND now", "refund"));
        assert!(!contains_word("refunds are great", "refund"));
        assert!(contains_word("refund.", "refund"));
        assert!(!contains_word("é", "e"));
    }
}
