//! Property tests of the editor: generated files and edit sequences, checked against a
//! model and against the AWS SDK's own parser.

use super::ini::{Document, FileKind};
use aws_config::profile::ProfileSet;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Names the edits use; `m3` also appears among the user's own sections sometimes.
const OURS: [&str; 3] = ["m1", "m2", "m3"];
const THEIRS: [&str; 5] = ["default", "f1", "f2", "m3", "team/dev@x"];
const KEYS: [&str; 4] = [
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "x_security_token_expires",
];

fn sdk(text: &str, kind: FileKind) -> Result<ProfileSet, String> {
    let kind = match kind {
        FileKind::Credentials => EnvConfigFileKind::Credentials,
        FileKind::Config => EnvConfigFileKind::Config,
    };
    let files = EnvConfigFiles::builder()
        .with_contents(kind, text.to_owned())
        .build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| e.to_string())?;
    runtime
        .block_on(aws_config::profile::load(
            &aws_types::os_shim_internal::Fs::from_slice(&[]),
            &aws_types::os_shim_internal::Env::from_slice(&[]),
            &files,
            None,
        ))
        .map_err(|e| e.to_string())
}

fn eol() -> impl Strategy<Value = &'static str> {
    prop_oneof![4 => Just("\n"), 1 => Just("\r\n")]
}

fn blanks() -> impl Strategy<Value = String> {
    "[ \t]{0,3}"
}

fn comment() -> impl Strategy<Value = String> {
    ("[#;]", "[^\r\n]{0,20}").prop_map(|(c, t)| format!("{c}{t}"))
}

/// A `key = value` line in any spacing, with an occasional trailing comment.
fn property() -> impl Strategy<Value = String> {
    (
        "[A-Za-z_][A-Za-z0-9_]{0,12}",
        blanks(),
        blanks(),
        "[^\r\n \t]{0,4}([^\r\n]{0,16}[^\r\n \t])?",
        proptest::option::of(comment()),
    )
        .prop_map(|(k, a, b, v, c)| {
            let comment = c.map(|c| format!(" {c}")).unwrap_or_default();
            format!("{k}{a}={b}{v}{comment}")
        })
}

/// A section header for the name at `index`, in that name's spacing (the SDK merges
/// `[a]` and `[ a ]` in hash order, so one name keeps one spelling within a file).
fn header(
    kind: FileKind,
    index: usize,
    spacing: &(String, String),
    comment: Option<String>,
) -> String {
    let name = THEIRS[index];
    let (a, b) = spacing;
    let inner = match kind {
        FileKind::Config if name != "default" => format!("profile{a} {name}"),
        _ => name.to_owned(),
    };
    let comment = comment.map(|c| format!(" {c}")).unwrap_or_default();
    format!("[{a}{inner}{b}]{comment}")
}

/// A section: which name, a header comment, and body lines (continuation lines only
/// after a setting).
fn section() -> impl Strategy<Value = (usize, Option<String>, Vec<Vec<String>>)> {
    (
        0..THEIRS.len(),
        proptest::option::of(comment()),
        proptest::collection::vec(
            prop_oneof![
                3 => property().prop_map(|p| vec![p]),
                1 => comment().prop_map(|c| vec![c]),
                1 => blanks().prop_map(|b| vec![b]),
                1 => ("[a-z_]{1,8}", "[^\r\n#;]{0,8}", "[ \t]{1,3}", "[^\r\n]{1,12}")
                    .prop_map(|(k, v, i, t)| vec![format!("{k} = x{v}"), format!("{i}{t}")]),
            ],
            0..6,
        ),
    )
}

/// A whole file the SDK accepts: a preamble of comments and blanks, then sections, each
/// line with its own line end, and maybe no final one.
fn file(kind: FileKind) -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(prop_oneof![comment(), blanks()], 0..3),
        proptest::collection::vec((blanks(), blanks()), THEIRS.len()),
        proptest::collection::vec(section(), 0..5),
        proptest::collection::vec(eol(), 64),
        any::<bool>(),
    )
        .prop_map(move |(pre, spacing, sections, eols, final_eol)| {
            let lines: Vec<String> = pre
                .into_iter()
                .chain(sections.into_iter().flat_map(|(i, c, body)| {
                    std::iter::once(header(kind, i, &spacing[i], c))
                        .chain(body.into_iter().flatten())
                }))
                .collect();
            let mut out = String::new();
            for (i, l) in lines.iter().enumerate() {
                out.push_str(l);
                if i + 1 < lines.len() || final_eol {
                    out.push_str(eols[i % eols.len()]);
                }
            }
            out
        })
}

#[derive(Debug, Clone)]
enum Op {
    Write(usize, u32),
    Remove(usize),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(
        prop_oneof![
            3 => (0..OURS.len(), 0u32..4).prop_map(|(n, v)| Op::Write(n, v)),
            1 => (0..OURS.len()).prop_map(Op::Remove),
        ],
        1..10,
    )
}

fn entries(kind: FileKind, v: u32) -> Vec<(&'static str, String)> {
    match kind {
        FileKind::Credentials => KEYS.iter().map(|k| (*k, format!("{k}-{v}"))).collect(),
        FileKind::Config => vec![("region", format!("eu-west-{}", v + 1))],
    }
}

fn check_edits(kind: FileKind, original: &str, ops: &[Op]) -> Result<(), TestCaseError> {
    let before = sdk(original, kind).map_err(TestCaseError::reject)?;
    let mut doc = Document::parse(original, kind)
        .map_err(|e| TestCaseError::fail(format!("the SDK reads it but we refuse: {e:?}")))?;
    prop_assert_eq!(doc.render(), original);
    let foreign: Vec<&str> = before.profiles().collect();
    let mut model: BTreeMap<&str, u32> = BTreeMap::new();
    let mut appended = false;
    for op in ops {
        let text = doc.render();
        match *op {
            Op::Write(n, v) => {
                let name = OURS[n];
                let e = entries(kind, v);
                let e: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let result = doc.upsert(name, &e, false);
                if foreign.contains(&name) {
                    prop_assert!(result.is_err(), "{name} is the user's");
                    prop_assert_eq!(doc.render(), text);
                    continue;
                }
                prop_assert!(result.is_ok());
                appended = true;
                model.insert(name, v);
                let once = doc.render();
                doc.upsert(name, &e, false)
                    .map_err(|f| TestCaseError::fail(format!("{f:?}")))?;
                prop_assert_eq!(doc.render(), once, "idempotent");
            }
            Op::Remove(n) => {
                let removed = doc.remove(OURS[n]);
                prop_assert_eq!(removed > 0, model.remove(OURS[n]).is_some());
            }
        }
        let text = doc.render();
        let reparsed = Document::parse(&text, kind);
        prop_assert!(reparsed.is_ok(), "{:?}", reparsed.err());
        let after = sdk(&text, kind).map_err(TestCaseError::fail)?;
        for name in &foreign {
            prop_assert_eq!(before.get_profile(name), after.get_profile(name));
        }
        for (name, v) in &model {
            let profile = after.get_profile(name);
            prop_assert!(profile.is_some(), "{} is there", name);
            for (k, value) in entries(kind, *v) {
                prop_assert_eq!(profile.and_then(|p| p.get(k)), Some(value.as_str()));
            }
        }
        let mut managed: Vec<String> = doc.managed().into_iter().map(|m| m.name).collect();
        managed.sort();
        prop_assert_eq!(
            managed,
            model.keys().map(|k| k.to_string()).collect::<Vec<_>>()
        );
    }
    for name in OURS {
        doc.remove(name);
    }
    let mut expected = original.to_owned();
    if appended && !original.is_empty() && !original.ends_with('\n') {
        expected.push_str(
            if original.matches("\r\n").count() * 2 > original.matches('\n').count() {
                "\r\n"
            } else {
                "\n"
            },
        );
    }
    prop_assert_eq!(
        doc.render(),
        expected,
        "removing all of ours gives the file back"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn credentials_edits_keep_the_users_file(original in file(FileKind::Credentials), ops in ops()) {
        check_edits(FileKind::Credentials, &original, &ops)?;
    }

    #[test]
    fn config_edits_keep_the_users_file(original in file(FileKind::Config), ops in ops()) {
        check_edits(FileKind::Config, &original, &ops)?;
    }

    /// Line soup from the characters that matter to the grammar: we accept everything the
    /// SDK accepts, more only where the AWS CLI's grammar reads the file (botocore's own
    /// parser is compared in the integration tests), and what we accept renders back
    /// byte for byte.
    #[test]
    fn accepts_what_the_sdk_accepts_and_more_only_as_the_aws_cli_reads(
        lines in proptest::collection::vec(("[\\[\\]=#; \\tab\\r]{0,7}", eol()), 0..8),
        config in any::<bool>(),
    ) {
        let kind = if config { FileKind::Config } else { FileKind::Credentials };
        let text: String = lines.iter().map(|(l, e)| format!("{l}{e}")).collect();
        let ours = Document::parse(&text, kind);
        let theirs = sdk(&text, kind);
        let as_sdk = Document::parse_as_sdk(&text, kind);
        prop_assert_eq!(as_sdk.is_ok(), theirs.is_ok(), "{:?}: ours {:?}, SDK {:?}", text, as_sdk.as_ref().err(), theirs.as_ref().err());
        let cli = Document::parse_as_cli(&text, kind).is_ok();
        prop_assert_eq!(ours.is_ok(), theirs.is_ok() || cli, "{:?}: AWS CLI {}", text, cli);
        if let Ok(doc) = ours {
            prop_assert_eq!(doc.render(), text.clone());
        }
        super::fuzzing::edit_round_trip(text.as_bytes());
    }
}
