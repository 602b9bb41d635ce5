//! Names from the service (accounts, roles, e-mail addresses), and any text from a file
//! or a reply, are data: shown, they must never change what a screen says. A bidi
//! control reverses the text after it (a different account id, "tfel nim 3"), a control
//! character can clear a terminal or retitle it, a newline splits a menu item, `&` is a
//! mnemonic marker in a menu, `<` starts markup in a notification. These make each safe
//! where it goes; every face shows such text through them.

use std::borrow::Cow;

/// The first `shown` of `items`, joined with commas, and how many more there are
/// (`a, b, c and 4 more`).
pub fn some_of(items: &[impl AsRef<str>], shown: usize) -> String {
    let mut s = items
        .iter()
        .take(shown)
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > shown {
        s.push_str(&format!(" and {} more", items.len() - shown));
    }
    s
}

/// Characters that reorder the text around them (Unicode bidi controls and marks).
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Whether `c` would act rather than show.
fn acts(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// `text` with every control character and bidi control shown as an escape
/// (`\u{202e}`, `\n`), so that it reads as what it is and changes nothing around it.
pub fn text(text: &str) -> Cow<'_, str> {
    if !text.chars().any(acts) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if acts(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// At most `max` characters of [`text`]`(s)`, ending in `…` when cut.
pub fn capped(s: &str, max: usize) -> String {
    let shown = text(s);
    if shown.chars().count() <= max {
        return shown.into_owned();
    }
    let mut out: String = shown.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A menu item's label: [`capped`], with `&` doubled (a single one marks a mnemonic).
pub fn menu_label(s: &str, max: usize) -> String {
    capped(s, max).replace('&', "&&")
}

/// Text for a body a desktop may render as markup (notifications): [`text`], with the
/// characters markup gives meaning to escaped.
pub fn markup_text(s: &str) -> String {
    text(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_and_control_characters_show_as_escapes() {
        assert!(matches!(text("payments-prod"), Cow::Borrowed(_)));
        assert_eq!(text("evil\u{202e}dorp"), "evil\\u{202e}dorp");
        assert_eq!(text("a\u{2066}b\u{200f}"), "a\\u{2066}b\\u{200f}");
        assert_eq!(
            text("two\nlines\x1b]0;title\x07"),
            "two\\nlines\\u{1b}]0;title\\u{7}"
        );
        assert_eq!(text("ümlaut 名前"), "ümlaut 名前");
    }

    #[test]
    fn labels_are_capped_and_keep_their_ampersands() {
        assert_eq!(menu_label("R&D", 40), "R&&D");
        let long = "x".repeat(500);
        let label = capped(&long, 40);
        assert_eq!(label.chars().count(), 40);
        assert!(label.ends_with('…'));
        assert_eq!(markup_text("<b>R&D</b>"), "&lt;b&gt;R&amp;D&lt;/b&gt;");
    }
}
