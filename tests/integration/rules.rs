//! The rules the window shares with the core, case by case: `tests/fixtures/rules.json`
//! holds what the core does, and the end-to-end test `the_window_s_rules_are_the_core_s`
//! runs the same cases in the window. Here every case runs against the core.

use aws_sso_device_auth_provider::awsfiles::ProfileName;
use aws_sso_device_auth_provider::instance::region_of_portal;
use aws_sso_device_auth_provider::populate::{suggested_profile_name, SUGGESTED_MAX};
use aws_sso_device_auth_provider::NameGlob;
use serde_json::Value;

fn cases(rule: &str) -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rules.json");
    let text = std::fs::read_to_string(path).expect("rules.json");
    let rules: Value = serde_json::from_str(&text).expect("rules.json is JSON");
    let cases = rules[rule].as_array().cloned().unwrap_or_default();
    assert!(
        (15..=30).contains(&cases.len()),
        "{rule}: {} cases",
        cases.len()
    );
    cases
}

fn text<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {case}"))
}

/// Fails naming every case the core does otherwise.
fn agree(rule: &str, wrong: Vec<String>) {
    assert!(
        wrong.is_empty(),
        "{} {rule} case(s) disagree with the core:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn globs_match_as_the_cases_say() {
    let mut wrong = Vec::new();
    for case in cases("glob") {
        let pattern = text(&case, "pattern");
        // `null`: the core refuses the pattern.
        let got = NameGlob::new(pattern)
            .ok()
            .map(|g| g.is_match(text(&case, "text")));
        if got != case["matches"].as_bool() {
            wrong.push(format!("{case}: the core says {got:?}"));
        }
    }
    agree("glob", wrong);
}

#[test]
fn suggested_profile_names_are_as_the_cases_say() {
    let mut wrong = Vec::new();
    for case in cases("suggest") {
        let got = suggested_profile_name(
            text(&case, "accountName"),
            text(&case, "accountId"),
            text(&case, "roleName"),
        );
        let want = text(&case, "profile");
        if got.as_str() != want {
            wrong.push(format!("{case}: the core says {got}"));
        }
        // What the cases hold is a name the AWS files take, short enough for the form.
        assert!(ProfileName::new(want).is_ok(), "{want}");
        assert!(!want.is_empty() && want.len() <= SUGGESTED_MAX, "{want}");
    }
    agree("suggest", wrong);
}

#[test]
fn regions_read_from_portal_addresses_are_as_the_cases_say() {
    let mut wrong = Vec::new();
    for case in cases("portalRegion") {
        let got = region_of_portal(text(&case, "address"));
        if got.as_deref() != case["region"].as_str() {
            wrong.push(format!("{case}: the core says {got:?}"));
        }
    }
    agree("portalRegion", wrong);
}
