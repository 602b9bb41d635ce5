//! Docker's `config.json` (`~/.docker/config.json`, or in `$DOCKER_CONFIG`), changed as
//! text: one member added to `credHelpers` (the object made if there is none), every
//! other byte of the file kept as it was (keys, their order, spacing, other helpers,
//! `auths`). The new member copies the spacing of its neighbours. What was written is
//! read back and must be the old document plus that one member, or nothing is written.

use crate::error::{Error, Result};
use serde_json::Value;
use std::path::Path;

/// The largest config file read (16 MiB); a larger one is left alone.
const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// What became of the registry's entry in `credHelpers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelperEntry {
    /// It was added.
    Added,
    /// It was there already, naming this helper: nothing was written.
    AlreadyThere,
}

/// Why a config file is not changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It is not a JSON object docker would read (the detail says where).
    NotJson(String),
    /// `credHelpers` is there but is not an object.
    HelpersNotAnObject,
    /// The registry already has another helper.
    Taken(String),
}

/// The config file's text with `"host": "helper"` in `credHelpers`; `Ok(None)` when it
/// is there already. An empty (or all-whitespace) file is read as `{}`, as docker does.
pub fn add_cred_helper(
    text: &str,
    host: &str,
    helper: &str,
) -> std::result::Result<Option<String>, Refusal> {
    if text.trim_matches(WS).is_empty() {
        let member = format!("{}: {}", quoted(host), quoted(helper));
        return Ok(Some(format!(
            "{{\n\t\"credHelpers\": {{\n\t\t{member}\n\t}}\n}}\n"
        )));
    }
    let before: Value = serde_json::from_str(text).map_err(|e| Refusal::NotJson(e.to_string()))?;
    let Value::Object(document) = &before else {
        return Err(Refusal::NotJson("it is not a JSON object".into()));
    };
    match document.get("credHelpers") {
        None => {}
        Some(Value::Object(helpers)) => match helpers.get(host) {
            Some(Value::String(h)) if h == helper => return Ok(None),
            Some(other) => {
                let named = match other {
                    Value::String(h) => h.clone(),
                    v => v.to_string(),
                };
                return Err(Refusal::Taken(named));
            }
            None => {}
        },
        Some(_) => return Err(Refusal::HelpersNotAnObject),
    }
    let scan = Scanner::new(text);
    let lost = || Refusal::NotJson("its structure could not be followed".into());
    let open = scan.skip_ws(0);
    let top = scan.object(open).ok_or_else(lost)?;
    let layout = Layout {
        newline: if text.contains("\r\n") { "\r\n" } else { "\n" },
        // Lines of their own when the top-level members are on lines of their own.
        multiline: top
            .members
            .last()
            .is_none_or(|m| scan.gap_before(m.key_start).contains('\n')),
        unit: indent_unit(&scan, &top),
    };
    let edited = match top.members.iter().rev().find(|m| m.key == "credHelpers") {
        Some(m) => {
            let helpers = scan.object(m.value_start).ok_or_else(lost)?;
            let colon = scan.colon(&[&helpers, &top]);
            let member = format!("{}{colon}{}", quoted(host), quoted(helper));
            let outer = scan.line_indent(m.key_start);
            insert(&scan, &helpers, &member, &outer, &layout)
        }
        None => {
            let colon = scan.colon(&[&top]);
            let outer = scan.line_indent(open);
            let inner = format!("{outer}{}", layout.unit);
            let entry = format!("{}{colon}{}", quoted(host), quoted(helper));
            let object = if layout.multiline {
                let (nl, unit) = (layout.newline, &layout.unit);
                format!("{{{nl}{inner}{unit}{entry}{nl}{inner}}}")
            } else {
                format!("{{{entry}}}")
            };
            let member = format!("{}{colon}{object}", quoted("credHelpers"));
            insert(&scan, &top, &member, &outer, &layout)
        }
    };
    // Read back: the old document and the one member, nothing else.
    let after: Value = serde_json::from_str(&edited).map_err(|_| lost())?;
    let mut expected = before;
    if let Value::Object(doc) = &mut expected {
        let helpers = doc
            .entry("credHelpers")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(h) = helpers {
            h.insert(host.to_owned(), Value::String(helper.to_owned()));
        }
    }
    if after != expected {
        return Err(lost());
    }
    Ok(Some(edited))
}

/// Adds `"host": "helper"` to `credHelpers` of the config file at `path` (through a
/// symlink to its target): under the file's lock, re-read under it, replaced atomically
/// with its mode kept (0600 for a new file, its directory made 0700 if missing). A file
/// that is not JSON, or names another helper for `host`, is left as it is.
pub fn add_cred_helper_to_file(path: &Path, host: &str, helper: &str) -> Result<HelperEntry> {
    let write_failed = |source| Error::WriteFailed {
        path: path.to_owned(),
        source,
    };
    let lock = crate::atomic_file::lock_for_update(path).map_err(write_failed)?;
    let read_error = |source| Error::Io {
        action: "read",
        path: path.to_owned(),
        source,
    };
    let text = match std::fs::File::open(lock.target()) {
        Ok(file) => {
            use std::io::Read as _;
            let mut bytes = Vec::new();
            file.take(MAX_CONFIG_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(read_error)?;
            if bytes.len() as u64 > MAX_CONFIG_BYTES {
                return Err(Error::DockerConfig {
                    path: path.to_owned(),
                    detail: "it is larger than 16 MiB".into(),
                });
            }
            String::from_utf8(bytes).map_err(|_| Error::DockerConfig {
                path: path.to_owned(),
                detail: "it is not UTF-8 text".into(),
            })?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(read_error(e)),
    };
    match add_cred_helper(&text, host, helper) {
        Ok(None) => Ok(HelperEntry::AlreadyThere),
        Ok(Some(edited)) => {
            lock.replace(edited.as_bytes()).map_err(write_failed)?;
            Ok(HelperEntry::Added)
        }
        Err(Refusal::Taken(other)) => Err(Error::DockerHelperTaken {
            path: path.to_owned(),
            registry: host.to_owned(),
            helper: other.chars().take(100).collect(),
        }),
        Err(Refusal::NotJson(detail)) => Err(Error::DockerConfig {
            path: path.to_owned(),
            detail: format!("it is not a JSON object ({detail})"),
        }),
        Err(Refusal::HelpersNotAnObject) => Err(Error::DockerConfig {
            path: path.to_owned(),
            detail: "its credHelpers is not a JSON object".into(),
        }),
    }
}

const WS: &[char] = &[' ', '\t', '\n', '\r'];

fn quoted(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// One indentation step of the file: the top-level members' own indentation (a file
/// docker wrote uses a tab), else a tab.
fn indent_unit(scan: &Scanner<'_>, top: &Object) -> String {
    top.members
        .first()
        .map(|m| scan.line_indent(m.key_start))
        .filter(|i| !i.is_empty())
        .map_or("\t".to_owned(), |i| i)
}

/// How the file lays out its members.
struct Layout {
    newline: &'static str,
    multiline: bool,
    unit: String,
}

/// The text with `member` (`"key": value`, spaced as its neighbours are) after the last
/// member of `object`, separated as that one is from the one before; or, in an empty
/// object, as its only member (on a line of its own, indented one step more than
/// `outer`, when the file's members are on lines of their own).
fn insert(
    scan: &Scanner<'_>,
    object: &Object,
    member: &str,
    outer: &str,
    layout: &Layout,
) -> String {
    let text = scan.text;
    match object.members.last() {
        Some(last) => {
            let gap = scan.gap_before(last.key_start);
            let separator = if gap.contains('\n') {
                format!("{}{}", layout.newline, scan.line_indent(last.key_start))
            } else if object.members.len() > 1 {
                gap
            } else {
                // One member on one line: what follows `{` is no separator; spaced as
                // the member is around its colon.
                let colon = &text[last.key_end..last.value_start];
                if colon.contains(' ') { " " } else { "" }.to_owned()
            };
            let at = last.value_end;
            format!("{},{separator}{member}{}", &text[..at], &text[at..])
        }
        None => {
            // An empty object: its inside (whitespace only) becomes the one member.
            let inside = if layout.multiline {
                let nl = layout.newline;
                format!("{nl}{outer}{}{member}{nl}{outer}", layout.unit)
            } else {
                member.to_owned()
            };
            format!(
                "{}{{{inside}}}{}",
                &text[..object.open],
                &text[object.close + 1..]
            )
        }
    }
}

/// A member of an object: where its key and value are.
#[derive(Debug)]
struct Member {
    key: String,
    key_start: usize,
    key_end: usize,
    value_start: usize,
    value_end: usize,
}

/// An object: its braces, and its members in order.
#[derive(Debug)]
struct Object {
    open: usize,
    close: usize,
    members: Vec<Member>,
}

/// Walks JSON text that serde_json has already accepted, to find where things are.
struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            bytes: text.as_bytes(),
        }
    }

    fn skip_ws(&self, mut i: usize) -> usize {
        while i < self.bytes.len() && matches!(self.bytes[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        i
    }

    /// The end of the string that starts at `i` (just past its closing quote).
    fn string_end(&self, i: usize) -> Option<usize> {
        if self.bytes.get(i) != Some(&b'"') {
            return None;
        }
        let mut j = i + 1;
        while j < self.bytes.len() {
            match self.bytes[j] {
                b'\\' => j += 2,
                b'"' => return Some(j + 1),
                _ => j += 1,
            }
        }
        None
    }

    /// The end of the value that starts at `i`.
    fn value_end(&self, i: usize) -> Option<usize> {
        match *self.bytes.get(i)? {
            b'"' => self.string_end(i),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut j = i;
                while j < self.bytes.len() {
                    match self.bytes[j] {
                        b'"' => {
                            j = self.string_end(j)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(j + 1);
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                None
            }
            _ => {
                let mut j = i;
                while j < self.bytes.len()
                    && !matches!(
                        self.bytes[j],
                        b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'
                    )
                {
                    j += 1;
                }
                Some(j)
            }
        }
    }

    /// The object whose `{` is at `open`.
    fn object(&self, open: usize) -> Option<Object> {
        if self.bytes.get(open) != Some(&b'{') {
            return None;
        }
        let mut members = Vec::new();
        let mut i = self.skip_ws(open + 1);
        if self.bytes.get(i) == Some(&b'}') {
            return Some(Object {
                open,
                close: i,
                members,
            });
        }
        loop {
            let key_start = i;
            let key_end = self.string_end(i)?;
            let key: String = serde_json::from_str(&self.text[key_start..key_end]).ok()?;
            i = self.skip_ws(key_end);
            if self.bytes.get(i) != Some(&b':') {
                return None;
            }
            let value_start = self.skip_ws(i + 1);
            let value_end = self.value_end(value_start)?;
            members.push(Member {
                key,
                key_start,
                key_end,
                value_start,
                value_end,
            });
            i = self.skip_ws(value_end);
            match self.bytes.get(i)? {
                b',' => i = self.skip_ws(i + 1),
                b'}' => {
                    return Some(Object {
                        open,
                        close: i,
                        members,
                    })
                }
                _ => return None,
            }
        }
    }

    /// The whitespace just before `at`.
    fn gap_before(&self, at: usize) -> String {
        let start = self.text[..at]
            .rfind(|c: char| !WS.contains(&c))
            .map_or(0, |i| i + 1);
        self.text[start..at].to_owned()
    }

    /// The indentation of the line `at` is on, up to the first non-blank character.
    fn line_indent(&self, at: usize) -> String {
        let line_start = self.text[..at].rfind('\n').map_or(0, |i| i + 1);
        self.text[line_start..]
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect()
    }

    /// What stands between a key and its value in the last member of the first of
    /// `objects` that has members (`": "` if none has).
    fn colon(&self, objects: &[&Object]) -> String {
        objects
            .iter()
            .find_map(|o| o.members.last())
            .map_or(": ".to_owned(), |m| {
                self.text[m.key_end..m.value_start].to_owned()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

    fn added(text: &str) -> String {
        add_cred_helper(text, HOST, "aws-sso")
            .unwrap()
            .expect("a change")
    }

    #[test]
    fn a_file_docker_wrote_gets_the_object_at_its_end_and_keeps_every_other_byte() {
        let text = "{\n\t\"auths\": {\n\t\t\"ghcr.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}\n\t},\n\t\"credsStore\": \"desktop\",\n\t\"currentContext\": \"default\"\n}";
        assert_eq!(
            added(text),
            "{\n\t\"auths\": {\n\t\t\"ghcr.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}\n\t},\n\t\"credsStore\": \"desktop\",\n\t\"currentContext\": \"default\",\n\t\"credHelpers\": {\n\t\t\"123456789012.dkr.ecr.eu-west-1.amazonaws.com\": \"aws-sso\"\n\t}\n}"
        );
    }

    #[test]
    fn other_helpers_stay_and_the_new_one_follows_them_spaced_alike() {
        let text = "{\n  \"credHelpers\" : {\n    \"gcr.io\" : \"gcloud\",\n    \"public.ecr.aws\" : \"ecr-login\"\n  },\n  \"auths\" : {}\n}\n";
        assert_eq!(
            added(text),
            "{\n  \"credHelpers\" : {\n    \"gcr.io\" : \"gcloud\",\n    \"public.ecr.aws\" : \"ecr-login\",\n    \"123456789012.dkr.ecr.eu-west-1.amazonaws.com\" : \"aws-sso\"\n  },\n  \"auths\" : {}\n}\n"
        );
    }

    #[test]
    fn an_empty_helpers_object_and_an_empty_file_and_one_line() {
        assert_eq!(
            added("{\n    \"credHelpers\": {}\n}\n"),
            "{\n    \"credHelpers\": {\n        \"123456789012.dkr.ecr.eu-west-1.amazonaws.com\": \"aws-sso\"\n    }\n}\n"
        );
        let fresh = "{\n\t\"credHelpers\": {\n\t\t\"123456789012.dkr.ecr.eu-west-1.amazonaws.com\": \"aws-sso\"\n\t}\n}\n";
        assert_eq!(added(""), fresh);
        assert_eq!(added(" \n"), fresh);
        assert_eq!(added("{}"), fresh.trim_end());
        assert_eq!(
            added(r#"{"auths":{"x":{}}}"#),
            r#"{"auths":{"x":{}},"credHelpers":{"123456789012.dkr.ecr.eu-west-1.amazonaws.com":"aws-sso"}}"#
        );
        assert_eq!(
            added(r#"{"credHelpers": {}, "x": 1}"#),
            r#"{"credHelpers": {"123456789012.dkr.ecr.eu-west-1.amazonaws.com": "aws-sso"}, "x": 1}"#
        );
    }

    #[test]
    fn crlf_lines_escapes_and_braces_in_strings() {
        let text = "{\r\n\t\"a\\\"{\": \"}{,\\\\\",\r\n\t\"n\": [1, {\"b\": null}]\r\n}\r\n";
        assert_eq!(
            added(text),
            "{\r\n\t\"a\\\"{\": \"}{,\\\\\",\r\n\t\"n\": [1, {\"b\": null}],\r\n\t\"credHelpers\": {\r\n\t\t\"123456789012.dkr.ecr.eu-west-1.amazonaws.com\": \"aws-sso\"\r\n\t}\r\n}\r\n"
        );
    }

    #[test]
    fn there_already_taken_or_not_json_changes_nothing() {
        let there = format!("{{\"credHelpers\": {{\"{HOST}\": \"aws-sso\"}}}}");
        assert_eq!(add_cred_helper(&there, HOST, "aws-sso"), Ok(None));
        let taken = format!("{{\"credHelpers\": {{\"{HOST}\": \"ecr-login\"}}}}");
        assert_eq!(
            add_cred_helper(&taken, HOST, "aws-sso"),
            Err(Refusal::Taken("ecr-login".into()))
        );
        for bad in [
            "{",
            "[]",
            "\"x\"",
            "{\"a\": 1,}",
            "\u{feff}{}",
            "{} {}",
            "// c\n{}",
        ] {
            assert!(
                matches!(
                    add_cred_helper(bad, HOST, "aws-sso"),
                    Err(Refusal::NotJson(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            add_cred_helper("{\"credHelpers\": []}", HOST, "aws-sso"),
            Err(Refusal::HelpersNotAnObject)
        );
    }

    #[test]
    fn the_last_of_two_same_named_objects_is_the_one_docker_reads_and_changed() {
        let text = "{\"credHelpers\": {\"a\": \"b\"}, \"credHelpers\": {\"c\": \"d\"}}";
        assert_eq!(
            added(text),
            format!("{{\"credHelpers\": {{\"a\": \"b\"}}, \"credHelpers\": {{\"c\": \"d\", \"{HOST}\": \"aws-sso\"}}}}")
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_file_keeps_its_mode_a_new_one_is_private_and_a_second_run_changes_nothing() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let fresh = home.path().join("new/.docker/config.json");
        assert_eq!(
            add_cred_helper_to_file(&fresh, HOST, "aws-sso").unwrap(),
            HelperEntry::Added
        );
        assert_eq!(mode(&fresh), 0o600);
        assert_eq!(mode(fresh.parent().unwrap()), 0o700);
        let before = std::fs::read(&fresh).unwrap();
        assert_eq!(
            add_cred_helper_to_file(&fresh, HOST, "aws-sso").unwrap(),
            HelperEntry::AlreadyThere
        );
        assert_eq!(std::fs::read(&fresh).unwrap(), before);

        let shared = home.path().join("config.json");
        std::fs::write(&shared, "{\"auths\": {}}").unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o644)).unwrap();
        add_cred_helper_to_file(&shared, HOST, "aws-sso").unwrap();
        assert_eq!(mode(&shared), 0o644);

        let broken = home.path().join("broken.json");
        std::fs::write(&broken, "{not json").unwrap();
        let e = add_cred_helper_to_file(&broken, HOST, "aws-sso").unwrap_err();
        assert!(matches!(e, Error::DockerConfig { .. }), "{e}");
        assert!(e.to_string().contains("broken.json"), "{e}");
        assert_eq!(std::fs::read_to_string(&broken).unwrap(), "{not json");

        // A link (a dotfile manager's) stays a link; its target changes.
        let target = home.path().join("dotfiles-config.json");
        std::fs::write(&target, "{}").unwrap();
        let link = home.path().join("linked/config.json");
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        add_cred_helper_to_file(&link, HOST, "aws-sso").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let v: Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
        assert_eq!(v["credHelpers"][HOST], "aws-sso");
    }
}
