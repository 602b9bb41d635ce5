//! The app never blocks: while another process holds the AWS files' lock, the window's
//! read commands still answer at once, and the writes waiting for the lock complete when
//! it is released. A broken favourite in the settings stops nothing.

use super::{eventually, Harness, START_URL};
use aws_sso_emulator::EmulatorConfig;
use serde_json::json;
#[cfg(target_os = "linux")]
use serde_json::Value;
#[cfg(target_os = "linux")]
use std::process::Command;
#[cfg(target_os = "linux")]
use std::time::{Duration, Instant};

/// Holds `lock` (an advisory lock, as our writers take it) in another process for `secs`,
/// with `flock(1)` (util-linux).
#[cfg(target_os = "linux")]
fn hold_lock(lock: &std::path::Path, secs: u64) -> std::process::Child {
    let child = Command::new("flock")
        .arg("--exclusive")
        .arg(lock)
        .args(["sleep", &secs.to_string()])
        .spawn()
        .expect("flock (util-linux) runs");
    // Held once a non-blocking attempt fails.
    assert!(eventually(5, || {
        !Command::new("flock")
            .args(["--nonblock", "--exclusive"])
            .arg(lock)
            .arg("true")
            .status()
            .expect("flock")
            .success()
    }));
    child
}

#[cfg(target_os = "linux")]
#[test]
fn reads_answer_at_once_while_another_process_holds_the_files_lock() {
    let h = Harness::new(EmulatorConfig {
        auto_approve: true,
        ..EmulatorConfig::default()
    });
    h.ok("sign_in", json!({}));
    let org = h.emulator.organisation();
    let account = org[0].clone();
    h.ok(
        "add_favourite",
        json!({"favourite": {"profile": "first", "accountId": account.account_id, "accountName": null, "roleName": account.roles[0], "region": null}}),
    );
    let lock = h.home.path().join(".aws/.credentials.aws-sso-tray.lock");
    let mut holder = hold_lock(&lock, 5);
    let held_at = Instant::now();

    // More writes than the runtime has workers: none of them may take a worker while it
    // waits for the lock.
    let writers = std::thread::available_parallelism().map_or(2, |n| n.get()) + 2;
    let handles: Vec<_> = (0..writers)
        .map(|i| {
            let window = h.window.clone();
            let a = org[i % org.len()].clone();
            std::thread::spawn(move || {
                super::invoke(
                    &window,
                    "write_profile",
                    json!({"request": {"profile": format!("w{i}"), "accountId": a.account_id, "roleName": a.roles[0], "region": null}}),
                )
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut slowest = Duration::ZERO;
    let mut reads = 0;
    while held_at.elapsed() < Duration::from_secs(4) {
        for (cmd, args) in [("get_state", json!({})), ("get_accounts", json!({}))] {
            let t = Instant::now();
            let answer: Value = h.ok(cmd, args);
            slowest = slowest.max(t.elapsed());
            reads += 1;
            if cmd == "get_state" {
                assert_eq!(answer["favourites"][0]["profile"], "first");
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        handles.iter().all(|t| !t.is_finished()),
        "the writes wait for the lock"
    );
    eprintln!("{reads} reads while the lock was held; the slowest took {slowest:?}");
    assert!(
        slowest < Duration::from_millis(100),
        "{reads} reads while the lock was held; the slowest took {slowest:?}"
    );
    holder.wait().expect("lock released");
    for (i, t) in handles.into_iter().enumerate() {
        let written = t.join().expect("thread");
        assert!(written.is_ok(), "w{i}: {written:?}");
    }
    let file = h.credentials();
    for i in 0..writers {
        assert!(file.contains(&format!("[w{i}]")), "w{i} in {file}");
    }
}

#[test]
fn a_broken_favourite_is_named_and_the_others_kept_fresh() {
    let h = Harness::with_settings(
        EmulatorConfig {
            auto_approve: true,
            ..EmulatorConfig::default()
        },
        |org| {
            json!({
                "instances": [{"startUrl": START_URL, "region": "eu-west-1"}],
                "defaultInstance": {"startUrl": START_URL, "region": "eu-west-1"},
                "preferences": {"signInFlow": "device"},
                "favourites": [
                    {"profile": "bad name]", "startUrl": START_URL, "ssoRegion": "eu-west-1", "accountId": org[0].account_id, "roleName": org[0].roles[0]},
                    {"profile": "good", "startUrl": START_URL, "ssoRegion": "eu-west-1", "accountId": org[1].account_id, "roleName": org[1].roles[0]},
                    {"profile": "elsewhere", "startUrl": "http://example.com/start", "ssoRegion": "eu-west-1", "accountId": org[1].account_id, "roleName": org[1].roles[0]},
                ]
            })
        },
    );
    let state = h.state();
    let skipped = state["skippedSettings"].as_array().expect("skipped");
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(
        skipped[0]
            .as_str()
            .unwrap_or_default()
            .starts_with("Favourite 'bad name]' in ")
            && skipped[1]
                .as_str()
                .unwrap_or_default()
                .contains("Favourite 'elsewhere' in ")
            && skipped[1]
                .as_str()
                .unwrap_or_default()
                .ends_with("Fix or remove that entry; the others are used meanwhile."),
        "{skipped:?}"
    );
    let favourites: Vec<&str> = state["favourites"]
        .as_array()
        .expect("favourites")
        .iter()
        .filter_map(|f| f["profile"].as_str())
        .collect();
    assert_eq!(favourites, ["good"]);
    h.ok("sign_in", json!({}));
    assert!(
        eventually(20, || h.credentials().contains("[good]")),
        "the good favourite is written"
    );
    // Nothing of the broken entries was lost from the file.
    let settings =
        std::fs::read_to_string(h.home.path().join(".config/aws-sso-tray/settings.json"))
            .expect("settings");
    assert!(settings.contains("bad name]") && settings.contains("http://example.com/start"));
}
