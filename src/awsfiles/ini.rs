//! A lossless model of the shared credentials and config files.
//!
//! Every line is kept as its exact text and line end, so rendering an unedited document
//! gives back the input byte for byte. Lines are classified with the grammar of the AWS
//! SDK for Rust's profile parser; a file it refuses is read as the AWS CLI reads it
//! (botocore, through Python's `configparser`), which accepts more (`key: value`,
//! indented comments and settings, text after a header's `]`). Only a file that both
//! refuse is refused here: the user's bytes are kept whatever the grammar.

use std::collections::{BTreeMap, HashSet};

const WHITESPACE: &[char] = &[' ', '\t'];
const COMMENT: &[char] = &['#', ';'];

/// The comment line that marks a section as written by this project.
pub const MARKER: &str =
    "# managed by aws-sso-tray (delete this line to keep the section as your own)";
/// What identifies the marker when reading: its start, so rewording it later still works.
const MARKER_PREFIX: &str = "# managed by aws-sso-tray";
/// The start of the marker of a section generated for every role of an access portal
/// ([`generated_marker`]); the `[sso-session]` it was generated with follows.
const GENERATED_PREFIX: &str = "# managed by aws-sso-tray, generated with sso-session ";

/// The marker of a section generated with `[sso-session SESSION]` (a name without
/// blanks): managed, and known as generated for that session.
pub fn generated_marker(session: &str) -> String {
    format!("{GENERATED_PREFIX}{session} (delete this line to keep the section as your own)")
}

/// The session a generated section's marker names.
fn generated_origin(text: &str) -> Option<&str> {
    let rest = text.strip_prefix(GENERATED_PREFIX)?;
    let name = rest.split(WHITESPACE).next().unwrap_or_default();
    (!name.is_empty()).then_some(name)
}

/// Which of the two files a document is: they name their sections differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `~/.aws/credentials`: sections are `[NAME]`.
    Credentials,
    /// `~/.aws/config`: sections are `[profile NAME]` (and `[default]`).
    Config,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Eol {
    None,
    Lf,
    CrLf,
    /// A lone carriage return, which ends a line for the AWS CLI only.
    Cr,
}

impl Eol {
    fn as_str(self) -> &'static str {
        match self {
            Eol::None => "",
            Eol::Lf => "\n",
            Eol::CrLf => "\r\n",
            Eol::Cr => "\r",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Blank,
    Comment,
    /// `[prefix name]`, normalised as the SDK does.
    Header {
        prefix: Option<String>,
        name: String,
    },
    /// `key = value`; the key lower-cased, as the SDK reads it.
    Property {
        key: String,
    },
    /// An indented line continuing the property above it.
    Continuation,
}

#[derive(Debug, Clone)]
struct Line {
    text: String,
    eol: Eol,
    kind: Kind,
}

/// Why a file cannot be edited: the line (1-based) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The line number, from 1.
    pub line: usize,
    /// What is wrong, as a phrase.
    pub reason: &'static str,
    /// Who cannot read the file because of it, as a phrase.
    pub consequence: &'static str,
}

/// The consequence of a line that neither the AWS CLI nor the SDKs read.
pub const NOBODY_READS_IT: &str = "which the AWS CLI and SDKs cannot read either";

/// A same-named section this project did not write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Foreign {
    /// The line (1-based) of its header.
    pub line: usize,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// A new section at the end.
    Created,
    /// Our section, changed in place.
    Updated,
    /// A section that was not ours, replaced because the caller forced it.
    TookOver,
}

/// One section this project manages, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedSection {
    /// The profile name.
    pub name: String,
    /// Its properties (lower-cased keys; the last of duplicates wins, as in the SDK).
    pub values: BTreeMap<String, String>,
}

/// A parsed file.
#[derive(Debug, Clone)]
pub struct Document {
    kind: FileKind,
    lines: Vec<Line>,
}

/// A section's extent: `header` is its header line, `body_end` is one past its last line
/// that is not part of the comments and blank lines that trail it (those usually
/// introduce the next section), `end` is one past its last line.
#[derive(Debug, Clone, Copy)]
struct Span {
    header: usize,
    body_end: usize,
    managed: bool,
    /// The line of a generated section's marker.
    generated: Option<usize>,
}

/// A section as [`Document::survey`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Surveyed {
    /// Where it is, for [`Document::set_at`] and [`Document::remove_at`]: valid until
    /// the document changes above it. Its header's line is `at + 1`.
    pub at: usize,
    /// `profile`, `sso-session`, … (none for `[default]` and the credentials file's).
    pub prefix: Option<String>,
    /// Its name.
    pub name: String,
    /// Written by this project.
    pub managed: bool,
    /// Generated with this `[sso-session]` ([`generated_marker`]).
    pub generated_with: Option<String>,
    /// Its settings (later duplicates win).
    pub values: BTreeMap<String, String>,
}

impl Document {
    /// Parses `text`, refusing only what both the AWS SDK's profile parser and the AWS CLI
    /// refuse (with the SDK's reason), and a file the AWS CLI reads only while it holds
    /// no profile.
    ///
    /// A lone carriage return ends a line for the AWS CLI only (the SDK reads on to the
    /// next line feed, often seeing one long comment): there the AWS CLI's reading is
    /// taken first, so that its sections are the ones this file is edited by.
    pub fn parse(text: &str, kind: FileKind) -> Result<Self, ParseError> {
        let lone_cr = text.split("\r\n").any(|part| part.contains('\r'));
        if !lone_cr {
            return Self::parse_as_sdk(text, kind)
                .or_else(|e| Self::parse_as_cli(text, kind).map_err(|cli| cli.unwrap_or(e)));
        }
        Self::parse_as_cli(text, kind)
            .or_else(|cli| Self::parse_as_sdk(text, kind).map_err(|e| cli.unwrap_or(e)))
    }

    /// Parses `text` with the AWS SDK for Rust's grammar.
    pub(super) fn parse_as_sdk(text: &str, kind: FileKind) -> Result<Self, ParseError> {
        let mut lines = Vec::new();
        // Inside a section: `None` before its first property, else whether the last
        // property had an empty value (then continuation lines are sub-properties).
        let mut state: Option<Option<bool>> = None;
        for (index, (text, eol)) in split_lines(text).enumerate() {
            let error = |reason| ParseError {
                line: index + 1,
                reason,
                consequence: NOBODY_READS_IT,
            };
            let kind = if text.trim_matches(WHITESPACE).is_empty() {
                Kind::Blank
            } else if text.starts_with(COMMENT) {
                Kind::Comment
            } else if text.starts_with('[') {
                let inner = strip_comment(text, false)
                    .strip_prefix('[')
                    .and_then(|s| s.strip_suffix(']'))
                    .ok_or(error("a section header that does not end with ']'"))?;
                state = Some(None);
                let (prefix, name) = section_pair(inner);
                Kind::Header { prefix, name }
            } else if text.starts_with(WHITESPACE) {
                match state {
                    None => return Err(error("an indented line before the first [section]")),
                    Some(None) => {
                        return Err(error(
                            "an indented line that does not continue a setting (indented comments are not comments here)",
                        ))
                    }
                    Some(Some(true)) if !text.trim_matches(WHITESPACE).is_empty() => {
                        property(text).map_err(error)?;
                    }
                    Some(Some(_)) => {}
                }
                Kind::Continuation
            } else {
                if state.is_none() {
                    return Err(error("a setting before the first [section]"));
                }
                let (key, value) = property(text).map_err(error)?;
                state = Some(Some(value.is_empty()));
                Kind::Property { key }
            };
            lines.push(Line {
                text: text.to_owned(),
                eol,
                kind,
            });
        }
        Ok(Self { kind, lines })
    }

    /// Parses `text` as the AWS CLI does: botocore reads both files with Python's
    /// `configparser` (strict, no inline comments), then reads a setting whose value
    /// starts on the next lines as `key = value` sub-settings. `Err(None)` if it refuses
    /// the file, `Err(Some(_))` if it would once the file holds a profile.
    pub(super) fn parse_as_cli(text: &str, kind: FileKind) -> Result<Self, Option<ParseError>> {
        const DEFAULT: &str = "DEFAULT";
        let mut lines = Vec::new();
        let mut section: Option<String> = None;
        // The setting continuation lines belong to, and whether its value so far is empty
        // (then each continuation must be a sub-setting).
        let mut setting: Option<(String, bool)> = None;
        let mut indent_level = 0;
        let mut sections = HashSet::new();
        let mut settings = HashSet::new();
        let mut bad_nested = Vec::new();
        for (index, (text, eol)) in split_universal_lines(text).enumerate() {
            let stripped = text.trim_matches(py_space);
            let kind = if stripped.is_empty() {
                Kind::Blank
            } else if stripped.starts_with(COMMENT) {
                Kind::Comment
            } else {
                let indent = text.chars().take_while(|c| py_space(*c)).count();
                match (&section, &setting) {
                    (Some(s), Some((key, nested))) if indent > indent_level => {
                        if *nested && !stripped.contains('=') {
                            bad_nested.push((s.clone(), key.clone(), index + 1));
                        }
                        Kind::Continuation
                    }
                    _ => {
                        indent_level = indent;
                        if let Some(header) = cli_header(stripped) {
                            if header != DEFAULT && !sections.insert(header.to_owned()) {
                                return Err(None);
                            }
                            section = Some(header.to_owned());
                            setting = None;
                            let (prefix, name) = section_pair(header);
                            Kind::Header { prefix, name }
                        } else {
                            let s = section.as_ref().ok_or(None)?;
                            let at = stripped.find(['=', ':']).ok_or(None)?;
                            let key = stripped[..at].trim_end_matches(py_space).to_lowercase();
                            if key.is_empty() || !settings.insert((s.clone(), key.clone())) {
                                return Err(None);
                            }
                            let empty = stripped[at + 1..].trim_matches(py_space).is_empty();
                            setting = Some((key.clone(), empty));
                            Kind::Property { key }
                        }
                    }
                }
            };
            lines.push(Line {
                text: text.to_owned(),
                eol,
                kind,
            });
        }
        // Sub-settings are read for every section's settings, those of [DEFAULT]
        // included, which every other section inherits unless it sets its own: such a
        // file is read while no section inherits the setting, and a profile added to it
        // would make the AWS CLI refuse it.
        if let Some((_, _, line)) = bad_nested.first() {
            let refused_now = bad_nested.iter().any(|(s, key, _)| {
                s != DEFAULT
                    || sections
                        .iter()
                        .any(|other| !settings.contains(&(other.clone(), key.clone())))
            });
            return Err((!refused_now).then_some(ParseError {
                line: *line,
                reason: "a [DEFAULT] setting continued by lines that are not key = value",
                consequence: "which every profile inherits, and the AWS CLI refuses the file \
                              once it holds one",
            }));
        }
        Ok(Self { kind, lines })
    }

    /// The file's bytes.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(self.lines.iter().map(|l| l.text.len() + 2).sum());
        for l in &self.lines {
            out.push_str(&l.text);
            out.push_str(l.eol.as_str());
        }
        out
    }

    /// The sections the SDK reads as profile `name`, in file order.
    fn spans(&self, name: &str) -> Vec<Span> {
        let mut spans = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            if let Kind::Header { prefix, name: n } = &line.kind {
                if self.names_profile(prefix.as_deref(), n, name) {
                    spans.push(self.span_at(i));
                }
            }
        }
        spans
    }

    fn names_profile(&self, prefix: Option<&str>, section: &str, profile: &str) -> bool {
        match self.kind {
            FileKind::Credentials => prefix.is_none() && section == profile,
            FileKind::Config => match prefix {
                Some("profile") => section == profile,
                None => profile == "default" && section == "default",
                Some(_) => false,
            },
        }
    }

    fn span_at(&self, header: usize) -> Span {
        let mut body_end = header + 1;
        let mut managed = false;
        let mut generated = None;
        for (i, line) in self.lines.iter().enumerate().skip(header + 1) {
            match &line.kind {
                Kind::Header { .. } => break,
                Kind::Comment if line.text.starts_with(MARKER_PREFIX) => {
                    managed = true;
                    if generated_origin(&line.text).is_some() {
                        generated = Some(i);
                    }
                    body_end = i + 1;
                }
                Kind::Property { .. } | Kind::Continuation => body_end = i + 1,
                Kind::Comment | Kind::Blank => {}
            }
        }
        Span {
            header,
            body_end,
            managed,
            generated,
        }
    }

    /// Every section, in file order, with what a generator needs to know of it.
    pub fn survey(&self) -> Vec<Surveyed> {
        let mut out = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            let Kind::Header { prefix, name } = &line.kind else {
                continue;
            };
            let span = self.span_at(i);
            out.push(Surveyed {
                at: i,
                prefix: prefix.clone(),
                name: name.clone(),
                managed: span.managed,
                generated_with: span
                    .generated
                    .and_then(|m| generated_origin(&self.lines[m].text))
                    .map(str::to_owned),
                values: self.values_in(i, span.body_end),
            });
        }
        out
    }

    /// Sets `entries` in our section whose header is at `at` ([`Surveyed::at`]), as
    /// [`Self::upsert`] does in place. Sections above `at` keep their places.
    pub fn set_at(&mut self, at: usize, entries: &[(&str, &str)]) {
        self.update_in_place(at, entries);
    }

    /// Removes our section whose header is at `at`, as [`Self::remove`] does. Sections
    /// above `at` keep their places.
    pub fn remove_at(&mut self, at: usize) {
        let span = self.span_at(at);
        if span.managed {
            self.remove_span(span);
        }
    }

    /// Appends `[prefix name]` (or `[name]`) with `marker` as its first line, then
    /// `entries`, as new sections are added.
    pub fn append(
        &mut self,
        prefix: Option<&str>,
        name: &str,
        marker: &str,
        entries: &[(&str, &str)],
    ) {
        let header = match prefix {
            Some(p) => format!("[{p} {name}]"),
            None => format!("[{name}]"),
        };
        self.append_lines(prefix, name, header, marker, entries);
    }

    fn values_in(&self, header: usize, body_end: usize) -> BTreeMap<String, String> {
        self.lines[header + 1..body_end]
            .iter()
            .filter(|l| matches!(l.kind, Kind::Property { .. }))
            .filter_map(|l| property(&l.text).ok())
            .collect()
    }

    /// The first section named `name` that is not ours.
    pub fn foreign(&self, name: &str) -> Option<Foreign> {
        self.spans(name)
            .into_iter()
            .find(|s| !s.managed)
            .map(|s| Foreign { line: s.header + 1 })
    }

    /// The first of `keys` set in a section named `name` that is not ours, with its line.
    pub fn foreign_key(&self, name: &str, keys: &[&str]) -> Option<(usize, String)> {
        self.spans(name)
            .into_iter()
            .filter(|s| !s.managed)
            .flat_map(|s| (s.header + 1..s.body_end).map(|i| (i, &self.lines[i].kind)))
            .find_map(|(i, kind)| match kind {
                Kind::Property { key } if keys.contains(&key.as_str()) => {
                    Some((i + 1, key.clone()))
                }
                _ => None,
            })
    }

    /// Writes profile `name` with `entries` (each key once, in this order, no line breaks
    /// in keys or values). Our own section is edited in place: only lines with our keys
    /// change, anything the user added stays. A same-named section that is not ours is an
    /// error unless `force`, which replaces it. Later duplicates of the name are removed.
    pub fn upsert(
        &mut self,
        name: &str,
        entries: &[(&str, &str)],
        force: bool,
    ) -> Result<Upserted, Foreign> {
        let spans = self.spans(name);
        if !force {
            if let Some(f) = spans.iter().find(|s| !s.managed) {
                return Err(Foreign { line: f.header + 1 });
            }
        }
        let Some(first) = spans.first().copied() else {
            self.append_section(name, entries);
            return Ok(Upserted::Created);
        };
        for span in spans[1..].iter().rev() {
            self.remove_span(*span);
        }
        if first.managed {
            self.update_in_place(first.header, entries);
            Ok(Upserted::Updated)
        } else {
            let eol = self.dominant_eol();
            let header = &mut self.lines[first.header];
            if header.eol == Eol::None {
                header.eol = eol;
            }
            let body = std::iter::once(self.line(MARKER.to_owned(), Kind::Comment))
                .chain(entries.iter().map(|(k, v)| self.property_line(k, v)))
                .collect::<Vec<_>>();
            self.lines.splice(first.header + 1..first.body_end, body);
            Ok(Upserted::TookOver)
        }
    }

    /// Removes our sections named `name`; returns how many. Sections that are not ours stay.
    pub fn remove(&mut self, name: &str) -> usize {
        let ours: Vec<Span> = self.spans(name).into_iter().filter(|s| s.managed).collect();
        for span in ours.iter().rev() {
            self.remove_span(*span);
        }
        ours.len()
    }

    /// Every section as the SDK reads it: `(prefix, name, values)`, duplicates merged in
    /// file order (later values win), in order of first appearance.
    pub fn sections(&self) -> Vec<(Option<String>, String, BTreeMap<String, String>)> {
        let mut out: Vec<(Option<String>, String, BTreeMap<String, String>)> = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            let Kind::Header { prefix, name } = &line.kind else {
                continue;
            };
            let values = self.values_in(i, self.span_at(i).body_end);
            match out.iter_mut().find(|(p, n, _)| p == prefix && n == name) {
                Some((_, _, existing)) => existing.extend(values),
                None => out.push((prefix.clone(), name.clone(), values)),
            }
        }
        out
    }

    /// Our sections, in file order.
    pub fn managed(&self) -> Vec<ManagedSection> {
        let mut out = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            let Kind::Header { prefix, name } = &line.kind else {
                continue;
            };
            if !self.names_profile(prefix.as_deref(), name, name) {
                continue;
            }
            let span = self.span_at(i);
            if !span.managed {
                continue;
            }
            let values = self.values_in(i, span.body_end);
            out.push(ManagedSection {
                name: name.clone(),
                values,
            });
        }
        out
    }

    fn update_in_place(&mut self, header: usize, entries: &[(&str, &str)]) {
        let span = self.span_at(header);
        let mut cursor = (header + 1..span.body_end)
            .find(|&i| self.lines[i].text.starts_with(MARKER_PREFIX))
            .unwrap_or(header);
        for (key, value) in entries {
            let body_end = self.span_at(header).body_end;
            let hits: Vec<usize> = (header + 1..body_end)
                .filter(|&i| matches!(&self.lines[i].kind, Kind::Property { key: k } if k.eq_ignore_ascii_case(key)))
                .collect();
            for &extra in hits.iter().skip(1).rev() {
                self.remove_property(extra);
            }
            match hits.first() {
                Some(&at) => {
                    self.remove_continuations(at);
                    self.lines[at].text = format!("{key} = {value}");
                    cursor = at;
                }
                None => {
                    let at = self.past_continuations(cursor + 1);
                    let eol = self.dominant_eol();
                    if self.lines[at - 1].eol == Eol::None {
                        self.lines[at - 1].eol = eol;
                    }
                    let line = self.property_line(key, value);
                    self.lines.insert(at, line);
                    cursor = at;
                }
            }
        }
    }

    /// The indices from `start` of the lines that still continue the property above:
    /// continuation lines, which may follow comments and blank lines (the SDK skips those).
    fn continuations(&self, start: usize) -> Vec<usize> {
        let mut found = Vec::new();
        for (i, line) in self.lines.iter().enumerate().skip(start) {
            match line.kind {
                Kind::Continuation => found.push(i),
                Kind::Comment | Kind::Blank => {}
                Kind::Header { .. } | Kind::Property { .. } => break,
            }
        }
        found
    }

    /// Where a new line can go at or after `at` without cutting a property from its
    /// continuation lines.
    fn past_continuations(&self, at: usize) -> usize {
        self.continuations(at).last().map_or(at, |&i| i + 1)
    }

    fn remove_continuations(&mut self, property: usize) {
        for i in self.continuations(property + 1).into_iter().rev() {
            self.lines.remove(i);
        }
    }

    fn remove_property(&mut self, at: usize) {
        self.remove_continuations(at);
        self.lines.remove(at);
    }

    /// New sections go at the end, after one blank line; [`Self::remove_span`] undoes
    /// exactly that, so writing and then removing a profile gives the file back.
    fn append_section(&mut self, name: &str, entries: &[(&str, &str)]) {
        let (prefix, header) = match (self.kind, name) {
            (FileKind::Credentials, _) | (FileKind::Config, "default") => {
                (None, format!("[{name}]"))
            }
            (FileKind::Config, _) => (Some("profile"), format!("[profile {name}]")),
        };
        self.append_lines(prefix, name, header, MARKER, entries);
    }

    fn append_lines(
        &mut self,
        prefix: Option<&str>,
        name: &str,
        header: String,
        marker: &str,
        entries: &[(&str, &str)],
    ) {
        // Once per section, not per line: a generator appends thousands.
        let eol = self.dominant_eol();
        let line = |text: String, kind| Line { text, eol, kind };
        if let Some(last) = self.lines.last_mut() {
            if last.eol == Eol::None {
                last.eol = eol;
            }
            self.lines.push(line(String::new(), Kind::Blank));
        }
        let header = line(
            header,
            Kind::Header {
                prefix: prefix.map(str::to_owned),
                name: name.to_owned(),
            },
        );
        self.lines.push(header);
        self.lines.push(line(marker.to_owned(), Kind::Comment));
        for (k, v) in entries {
            self.lines.push(line(
                format!("{k} = {v}"),
                Kind::Property {
                    key: k.to_ascii_lowercase(),
                },
            ));
        }
    }

    fn remove_span(&mut self, span: Span) {
        let (mut start, mut stop) = (span.header, span.body_end);
        let blank = |i: usize| self.lines.get(i).is_some_and(|l| l.kind == Kind::Blank);
        if start > 0 && blank(start - 1) {
            start -= 1;
        } else if blank(stop) {
            stop += 1;
        }
        self.lines.drain(start..stop);
    }

    fn line(&self, text: String, kind: Kind) -> Line {
        Line {
            text,
            eol: self.dominant_eol(),
            kind,
        }
    }

    fn property_line(&self, key: &str, value: &str) -> Line {
        self.line(
            format!("{key} = {value}"),
            Kind::Property {
                key: key.to_ascii_lowercase(),
            },
        )
    }

    /// The line end most lines have (LF on a tie): a new line must not end differently,
    /// or a lone CR before an LF would read back as one CRLF, merging two lines.
    fn dominant_eol(&self) -> Eol {
        let count = |eol| self.lines.iter().filter(|l| l.eol == eol).count();
        let (crlf, lf, cr) = (count(Eol::CrLf), count(Eol::Lf), count(Eol::Cr));
        if crlf > lf && crlf >= cr {
            Eol::CrLf
        } else if cr > lf && cr > crlf {
            Eol::Cr
        } else {
            Eol::Lf
        }
    }
}

/// Splits as `str::lines` does (the SDK's reader), remembering each line's end.
fn split_lines(text: &str) -> impl Iterator<Item = (&str, Eol)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, eol, next) = match rest.find('\n') {
            Some(i) => match rest[..i].strip_suffix('\r') {
                Some(l) => (l, Eol::CrLf, &rest[i + 1..]),
                None => (&rest[..i], Eol::Lf, &rest[i + 1..]),
            },
            None => (rest, Eol::None, ""),
        };
        rest = next;
        Some((line, eol))
    })
}

/// Splits at `\n`, `\r\n` and a lone `\r`, as Python reads a text file.
fn split_universal_lines(text: &str) -> impl Iterator<Item = (&str, Eol)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        Some(match rest.find(['\n', '\r']) {
            Some(i) if rest[i..].starts_with("\r\n") => {
                let line = (&rest[..i], Eol::CrLf);
                rest = &rest[i + 2..];
                line
            }
            Some(i) => {
                let eol = if rest.as_bytes()[i] == b'\n' {
                    Eol::Lf
                } else {
                    Eol::Cr
                };
                let line = (&rest[..i], eol);
                rest = &rest[i + 1..];
                line
            }
            None => (std::mem::take(&mut rest), Eol::None),
        })
    })
}

/// Whitespace as Python's `str.strip` sees it.
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// The name in a section header as `configparser` reads one: `[`, at least one character,
/// and the line's last `]`, anything after it ignored.
fn cli_header(stripped: &str) -> Option<&str> {
    let end = stripped.strip_prefix('[').map(|_| stripped.rfind(']'))??;
    (end > 1).then(|| &stripped[1..end])
}

/// The line without surrounding blanks and without a trailing comment. In a property a
/// comment must follow whitespace (`a = b#c` keeps `#c`); in a header it need not.
fn strip_comment(line: &str, comments_need_whitespace: bool) -> &str {
    let line = line.trim_matches(WHITESPACE);
    let mut prev_whitespace = false;
    for (i, c) in line.char_indices() {
        if COMMENT.contains(&c) && (prev_whitespace || !comments_need_whitespace) {
            return line[..i].trim_matches(WHITESPACE);
        }
        prev_whitespace = c.is_whitespace();
    }
    line
}

/// `key = value` as the SDK reads it: the key lower-cased, both trimmed.
fn property(line: &str) -> Result<(String, String), &'static str> {
    let (k, v) = strip_comment(line, true)
        .split_once('=')
        .ok_or("a line that is not a [section], a comment, or a key = value setting")?;
    let k = k.trim_matches(WHITESPACE);
    if k.is_empty() {
        return Err("a setting with no name before '='");
    }
    Ok((
        k.to_ascii_lowercase(),
        v.trim_matches(WHITESPACE).to_owned(),
    ))
}

/// `[profile dev]` → (`profile`, `dev`); `[dev]` → (none, `dev`).
fn section_pair(inner: &str) -> (Option<String>, String) {
    let inner = inner.trim_matches(WHITESPACE);
    match inner.split_once(WHITESPACE) {
        Some((prefix, name)) => (Some(prefix.trim().to_owned()), name.trim().to_owned()),
        None => (None, inner.trim().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: [(&str, &str); 2] = [("aws_access_key_id", "AKIA1"), ("aws_session_token", "T1")];

    fn creds(text: &str) -> Document {
        Document::parse(text, FileKind::Credentials).unwrap()
    }

    #[test]
    fn unedited_documents_render_byte_for_byte() {
        for text in [
            "",
            "\n",
            "[a]\r\nk=v\r\n",
            "[a]\nk = v",
            "# só ; 注释\n\n[a] # c\nk\t=\tv\n\tk2 = x\n",
            "[a]\nk=\n  sub = 1\n\n; trailing\n",
            "[a]\nk=v\r",
        ] {
            assert_eq!(creds(text).render(), text, "{text:?}");
        }
    }

    #[test]
    fn refuses_what_both_the_sdk_and_the_aws_cli_refuse_with_the_line() {
        for (text, line) in [
            ("[a\nk=v\n", 1),
            ("k=v\n[a]\n", 1),
            ("[a]\nno equals here\n", 2),
            ("[a]\n = v\n", 2),
            ("# c\n\n  x = 1\n", 3),
            ("[a]\nk: v\nK = w\n", 2),
            ("[a]\nk =\n  not a sub property\n", 3),
            ("\u{feff}[a]\n", 1),
        ] {
            let err = Document::parse(text, FileKind::Credentials).unwrap_err();
            assert_eq!(err.line, line, "{text:?}: {err:?}");
        }
    }

    #[test]
    fn reads_what_only_the_aws_cli_reads_and_writes_beside_it() {
        for text in [
            "[a]\nregion: eu-west-1\n",
            "[a]\n  # an indented comment\nk = v\n",
            "  # a note before the first section\n[a]\nk = v\n",
            "[a] trailing words\nk = v\n",
            "[a]\n  k = v\n  j = w\n",
            "[a]\rk=v\r",
            "[a]\nk = v\n  more\n    # comment in a value\nj: w\n",
        ] {
            assert!(
                Document::parse_as_sdk(text, FileKind::Credentials).is_err(),
                "{text:?}"
            );
            let mut doc = creds(text);
            assert_eq!(doc.render(), text, "{text:?}");
            doc.upsert("p", &KEYS, false).unwrap();
            assert!(doc.render().starts_with(text), "{text:?}: {}", doc.render());
            assert_eq!(doc.managed().len(), 1, "{text:?}");
            assert_eq!(doc.remove("p"), 1);
            assert_eq!(doc.render(), text, "{text:?}");
        }
        // A section the AWS CLI names `p` is the user's.
        let mut doc = creds("[p] mine\nk: v\n");
        assert_eq!(doc.upsert("p", &KEYS, false), Err(Foreign { line: 1 }));
    }

    #[test]
    fn write_then_remove_gives_the_file_back() {
        for text in [
            "",
            "[other]\nk=v\n",
            "[other]\nk=v\n\n",
            "# only a comment\n",
            "[x]\r\nk=v\r\n",
        ] {
            let mut doc = creds(text);
            doc.upsert("p", &KEYS, false).unwrap();
            doc.upsert("q", &KEYS, false).unwrap();
            assert_eq!(doc.remove("p"), 1);
            assert_eq!(doc.remove("q"), 1);
            assert_eq!(doc.render(), text, "{text:?}");
        }
    }

    #[test]
    fn new_sections_follow_the_files_line_ends() {
        let mut doc = creds("[x]\r\nk=v");
        doc.upsert("p", &KEYS, false).unwrap();
        assert_eq!(
            doc.render(),
            format!("[x]\r\nk=v\r\n\r\n[p]\r\n{MARKER}\r\naws_access_key_id = AKIA1\r\naws_session_token = T1\r\n")
        );
    }

    #[test]
    fn our_section_changes_in_place_and_keeps_the_users_lines() {
        let text = format!(
            "[p]\n{MARKER}\n# my note\nAWS_ACCESS_KEY_ID=old\nregion = eu-west-1\naws_session_token = a\naws_session_token = b\n\n# next\n[n]\n"
        );
        let mut doc = creds(&text);
        assert_eq!(doc.upsert("p", &KEYS, false), Ok(Upserted::Updated));
        assert_eq!(
            doc.render(),
            format!("[p]\n{MARKER}\n# my note\naws_access_key_id = AKIA1\nregion = eu-west-1\naws_session_token = T1\n\n# next\n[n]\n")
        );
        let again = doc.render();
        doc.upsert("p", &KEYS, false).unwrap();
        assert_eq!(doc.render(), again);
    }

    #[test]
    fn continuation_lines_stay_with_their_setting() {
        // The SDK skips comments and blank lines inside a value, so the indented lines
        // continue `s3` and `aws_session_token`: nothing may be put between.
        let text = format!(
            "[p]\ns3 =\n{MARKER}\n  max_queue_size = 10\n\n  addressing_style = path\naws_session_token = old\n# c\n  stale continuation\nk = v\n"
        );
        let mut doc = creds(&text);
        doc.upsert("p", &KEYS, false).unwrap();
        assert_eq!(
            doc.render(),
            format!("[p]\ns3 =\n{MARKER}\n  max_queue_size = 10\n\n  addressing_style = path\naws_access_key_id = AKIA1\naws_session_token = T1\n# c\nk = v\n")
        );
    }

    #[test]
    fn foreign_sections_are_refused_unless_forced() {
        let text = "[p]\n# mine\nk=v\n\n# about q\n[q]\nk=v\n";
        let mut doc = creds(text);
        assert_eq!(doc.upsert("p", &KEYS, false), Err(Foreign { line: 1 }));
        assert_eq!(doc.remove("p"), 0);
        assert_eq!(doc.render(), text);
        assert_eq!(doc.upsert("p", &KEYS, true), Ok(Upserted::TookOver));
        assert_eq!(
            doc.render(),
            format!("[p]\n{MARKER}\naws_access_key_id = AKIA1\naws_session_token = T1\n\n# about q\n[q]\nk=v\n")
        );
        assert_eq!(doc.managed().len(), 1);
    }

    #[test]
    fn names_follow_the_sdk() {
        let doc = Document::parse(
            "[ p ]\nk=v\n[profile q]\nk=v\n[default]\nk=v\n",
            FileKind::Credentials,
        )
        .unwrap();
        assert!(doc.foreign("p").is_some());
        assert!(
            doc.foreign("q").is_none(),
            "profile prefix is ignored there"
        );
        let doc = Document::parse(
            "[profile\tp]\nk=v\n[q]\nk=v\n[default]\nsso_session = s\n",
            FileKind::Config,
        )
        .unwrap();
        assert!(doc.foreign("p").is_some());
        assert!(doc.foreign("q").is_none(), "needs the prefix in config");
        assert_eq!(
            doc.foreign_key("default", &["sso_session"]),
            Some((6, "sso_session".to_owned()))
        );
    }

    #[test]
    fn duplicates_collapse_into_the_first() {
        let mut doc = creds(
            "[p]\n# managed by aws-sso-tray\nk=1\n\n[x]\n\n[p]\n# managed by aws-sso-tray\nk=2\n",
        );
        doc.upsert("p", &[("k", "3")], false).unwrap();
        assert_eq!(
            doc.render(),
            "[p]\n# managed by aws-sso-tray\nk = 3\n\n[x]\n"
        );
    }
}
