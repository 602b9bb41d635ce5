//! The invariants a fuzzer checks on arbitrary input; not part of the API.
//!
//! For any bytes: if they parse as a credentials or config file, rendering gives them
//! back; writing a profile either is refused (a same-named section of the user's) and
//! changes nothing, or gives a file that parses, holds exactly our values, is unchanged
//! by writing the same again, and still parses once the profile is removed.

use super::ini::{Document, FileKind};

const NAME: &str = "fuzz";
const ENTRIES: [(&str, &str); 2] = [("aws_access_key_id", "ASIAFUZZ"), ("region", "eu-west-1")];

/// Panics if an invariant fails for `data`.
pub fn edit_round_trip(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in [FileKind::Credentials, FileKind::Config] {
        let Ok(mut doc) = Document::parse(text, kind) else {
            continue;
        };
        assert_eq!(doc.render(), text, "render of an unedited file");
        let users = doc.foreign(NAME).is_some();
        if doc.upsert(NAME, &ENTRIES, false).is_err() {
            assert!(users, "refused without a section of the user's");
            assert_eq!(doc.render(), text, "a refused write changed the text");
            continue;
        }
        let written = doc.render();
        let reread = Document::parse(&written, kind).expect("our output parses");
        let ours = reread
            .managed()
            .into_iter()
            .find(|m| m.name == NAME)
            .expect("our section is there");
        for (k, v) in ENTRIES {
            assert_eq!(ours.values.get(k).map(String::as_str), Some(v), "{k}");
        }
        doc.upsert(NAME, &ENTRIES, false).expect("ours now");
        assert_eq!(doc.render(), written, "idempotent");
        doc.remove(NAME);
        let removed = doc.render();
        let reread = Document::parse(&removed, kind).expect("parses after removal");
        assert!(reread.managed().iter().all(|m| m.name != NAME));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_fixture_holds_the_fuzz_invariants() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aws-files");
        let mut seen = 0;
        for dir in ["accepted", "refused"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                super::edit_round_trip(&std::fs::read(entry.unwrap().path()).unwrap());
                seen += 1;
            }
        }
        assert!(seen > 50);
    }
}
