//! The `aws-sso-emulator` program, as a person runs it.

use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn serves_on_the_port_it_prints() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aws-sso-emulator"))
        .args(["--port", "0", "--accounts", "7", "--auto-approve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("prints in time")
        .expect("read")
        .expect("a line");
    let url = first.split_whitespace().last().expect("url").to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    let counters: serde_json::Value = reqwest::get(format!("{url}/_emulator/counters"))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(counters["listAccounts"], 0);
    child.kill().await.expect("kill");
}

#[tokio::test]
async fn a_bad_flag_is_one_line_and_exit_two() {
    let out = Command::new(env!("CARGO_BIN_EXE_aws-sso-emulator"))
        .args(["--roles", "11"])
        .output()
        .await
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--roles"), "{err}");
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn console_flags_are_read_and_checked() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aws-sso-emulator"))
        .args([
            "--port",
            "0",
            "--console-single-session",
            "--account-colour",
            "123456789012=darkBlue",
            "--account-colour",
            "210987654321=none",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("prints in time")
        .expect("read")
        .expect("a line");
    assert!(first.contains("http://127.0.0.1:"), "{first}");
    child.kill().await.expect("kill");

    for bad in [
        "123456789012",
        "12345=red",
        "123456789012=Red",
        "123456789012=blue",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_aws-sso-emulator"))
            .args(["--account-colour", bad])
            .output()
            .await
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--account-colour"), "{err}");
    }
}
