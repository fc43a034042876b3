use std::fmt::Write as _;

/// Encodes a list of strings as Go's `json.Marshal([]string)` does, byte for byte, because the
/// result becomes a source attribute and so part of the op digest. Go escapes `<`, `>`, `&`,
/// U+2028 and U+2029 (HTML safety), which serde_json does not.
pub(crate) fn go_json_string_array(items: &[String]) -> String {
    let mut out = String::from("[");
    for (position, item) in items.iter().enumerate() {
        if position > 0 {
            out.push(',');
        }
        go_json_string(&mut out, item);
    }
    out.push(']');
    out
}

fn go_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::go_json_string_array;

    #[test]
    fn matches_go_encoding() {
        let items = vec![
            "src/**".to_owned(),
            "a<b>&c".to_owned(),
            "quote\"back\\slash".to_owned(),
            "tab\tnl\n\u{1}".to_owned(),
            "ünï\u{2028}".to_owned(),
        ];
        assert_eq!(
            go_json_string_array(&items),
            r#"["src/**","a\u003cb\u003e\u0026c","quote\"back\\slash","tab\tnl\n\u0001","ünï\u2028"]"#
        );
        assert_eq!(go_json_string_array(&[]), "[]");
    }
}
