//! A settings file above the limits (favourites, bytes) is refused with a sentence, both
//! when the command line reads the user's own and on `settings import`; the user's file
//! is left as it is.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A settings file of `n` favourites, as JSON.
fn favourites(n: usize, prefix: &str) -> String {
    let list: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({"profile": format!("{prefix}{i}"), "startUrl": "https://limits.awsapps.com/start",
                "ssoRegion": "eu-west-1", "accountId": format!("{}", 100_000_000_000u64 + i as u64),
                "roleName": "ReadOnly"})
        })
        .collect();
    serde_json::json!({"favourites": list}).to_string()
}

fn run(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aws-sso-auth"))
        .args(args)
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("XDG_STATE_HOME")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("AWS_SHARED_CREDENTIALS_FILE")
        .env_remove("AWS_CONFIG_FILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_SSO")
        .env_remove("AWS_ENDPOINT_URL_SSO_OIDC")
        .stdin(Stdio::null())
        .output()
        .expect("runs")
}

#[test]
fn settings_above_the_limits_are_refused_and_left_as_they_are() {
    let home = tempfile::tempdir().expect("home");
    let dir = home.path().join(".config/aws-sso-tray");
    std::fs::create_dir_all(&dir).expect("dir");
    let settings = dir.join("settings.json");

    // The user's own file, one favourite over: refused at start, byte for byte as it was.
    let over = favourites(10_001, "p");
    std::fs::write(&settings, &over).expect("write");
    let out = run(home.path(), &["settings", "export"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("holds 10001 favourites, more than the 10000 this program takes"),
        "{stderr}"
    );
    assert!(
        std::fs::read_to_string(&settings).expect("read") == over,
        "left as it is"
    );

    // An import above the limit (by count, then by size): refused, nothing of it taken,
    // the user's file as it was.
    let mine = favourites(3, "mine");
    std::fs::write(&settings, &mine).expect("write");
    let big = home.path().join("export.json");
    let padded = format!(r#"{{"pad": "{}"}}"#, "x".repeat(16 * 1024 * 1024));
    for (text, said) in [
        (
            favourites(10_001, "q"),
            "holds 10001 favourites, more than the 10000 this program takes",
        ),
        (
            padded,
            "is larger than 16777216 bytes (16 MiB), the most this program reads",
        ),
    ] {
        std::fs::write(&big, &text).expect("write");
        let out = run(
            home.path(),
            &["settings", "import", big.to_str().expect("utf-8")],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(stderr.contains(said), "{stderr}");
        assert!(stderr.contains("export.json"), "{stderr}");
        assert_eq!(std::fs::read_to_string(&settings).expect("read"), mine);
    }

    // One that would make the user's more than the limit: refused as a whole.
    std::fs::write(&big, favourites(9_998, "q")).expect("write");
    let out = run(
        home.path(),
        &["settings", "import", big.to_str().expect("utf-8")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("would hold 10001 favourites, more than the 10000 this program takes"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&settings).expect("read"), mine);
}
