//! Strings where they land: what an image config, a generated Dockerfile or a terminal can take,
//! and how a string is shown so that nothing in it is invisible or acts on the terminal.

use std::borrow::Cow;

/// Whether `c` must never be shown as it is: control characters (C0, DEL, C1), the bidi
/// controls (which reorder what a terminal shows: "Trojan Source"), and invisible format
/// characters (zero-width space and joiners, word joiner, BOM, soft hyphen, …).
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00ad}'                    // soft hyphen
            | '\u{034f}'                  // combining grapheme joiner
            | '\u{061c}'                  // arabic letter mark (bidi)
            | '\u{115f}' | '\u{1160}'     // hangul fillers
            | '\u{17b4}' | '\u{17b5}'
            | '\u{180b}'..='\u{180f}'     // mongolian variation selectors, vowel separator
            | '\u{200b}'..='\u{200f}'     // zero-width space/joiners, LRM, RLM
            | '\u{2028}' | '\u{2029}'     // line and paragraph separators
            | '\u{202a}'..='\u{202e}'     // bidi embeddings and overrides
            | '\u{2060}'..='\u{206f}'     // word joiner, invisible operators, bidi isolates
            | '\u{3164}'                  // hangul filler
            | '\u{fe00}'..='\u{fe0f}'     // variation selectors
            | '\u{feff}'                  // BOM, zero-width no-break space
            | '\u{ffa0}'
            | '\u{fff9}'..='\u{fffb}'     // interlinear annotations
            | '\u{e0000}'..='\u{e007f}'   // tags
            | '\u{e0100}'..='\u{e01ef}'   // variation selectors supplement
        )
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| hidden(c) && !(keep_newlines && c == '\n'))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if hidden(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` as one line for a step name, a log line or a terminal: control, bidi and invisible
/// characters escaped (`pa\u{200b}th`, `a\nb`), everything else as it is.
pub fn shown(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// Like [`shown`], keeping line breaks: for multi-line messages (errors with snippets).
pub fn shown_lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// Why `text` cannot land in an image config field (env names, workdir, volumes, stop signal,
/// label keys, user names): it holds NUL, a line break or another control character.
pub fn config_text_problem(text: &str) -> Option<String> {
    let bad = text.chars().find(|c| c.is_control())?;
    Some(match bad {
        '\0' => "it holds a NUL character".to_owned(),
        '\n' | '\r' => "it holds a line break".to_owned(),
        c => format!("it holds the control character {}", shown(&c.to_string())),
    })
}

/// Why `text` cannot be a value anywhere (any string of the spec or any build arg value): NUL
/// ends strings in the kernel's argv and env, so what runs would not be what the spec says.
pub fn value_problem(text: &str) -> Option<String> {
    text.contains('\0')
        .then(|| "it holds a NUL character".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_bidi_and_control_characters_are_escaped() {
        assert_eq!(shown("pa\u{200b}th"), "pa\\u{200b}th");
        assert_eq!(shown("a\nb\rc\td"), "a\\nb\\rc\\td");
        assert_eq!(shown("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(shown("abc\u{202e}def"), "abc\\u{202e}def");
        assert_eq!(shown("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(shown("\u{feff}bom"), "\\u{feff}bom");
        assert_eq!(shown("\u{9b}csi"), "\\u{9b}csi");
        assert_eq!(shown("\0"), "\\u{0}");
        // Printable text, non-ASCII included, is left alone (and not copied).
        assert!(matches!(shown("café ünïcode 日本 ✓"), Cow::Borrowed(_)));
        assert_eq!(shown_lines("a\nb\u{200b}"), "a\nb\\u{200b}");
    }

    #[test]
    fn config_text_refuses_controls() {
        assert_eq!(config_text_problem("/app"), None);
        assert_eq!(config_text_problem("日本"), None);
        assert!(config_text_problem("a\0b").is_some_and(|p| p.contains("NUL")));
        assert!(config_text_problem("/app\nRUN x").is_some_and(|p| p.contains("line break")));
        assert!(config_text_problem("SIG\u{1b}").is_some_and(|p| p.contains("\\u{1b}")));
        assert_eq!(value_problem("a\nb"), None);
        assert!(value_problem("a\0b").is_some());
    }
}
