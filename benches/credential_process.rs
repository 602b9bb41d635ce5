//! Whole-process time of a warm `aws-sso-auth credentials --profile NAME` call, the way the
//! AWS CLI and SDKs run it as `credential_process`: the favourite's profile holds valid
//! credentials, so the answer comes from the file with no network or keychain call (the
//! endpoints point at a closed port to prove it).
//!
//! The same for `aws-sso-auth prompt --profile NAME`, which a shell prompt runs on every
//! line.
//!
//! `cargo bench --bench credential_process [-- RUNS]`

use aws_sso_device_auth_provider::awsfiles::{AwsFiles, Changes, ProfileName, ProfileWrite};
use aws_sso_device_auth_provider::clock::{later, Clock, SystemClock};
use aws_sso_device_auth_provider::settings::{Favourite, Settings};
use aws_sso_device_auth_provider::{Instance, RoleCredentials, Secret};
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let home = tempfile::tempdir().expect("home");
    let start_url = "https://bench.awsapps.com/start";
    let instance = Instance::new(start_url, "eu-west-1").expect("instance");
    let mut settings = Settings::default();
    settings.remember_default(&instance);
    settings
        .add_favourite(
            Favourite::new("bench", instance, "111122223333", "ReadOnlyAccess", None)
                .expect("favourite"),
        )
        .expect("favourite");
    settings
        .save(&home.path().join(".config/aws-sso-tray/settings.json"))
        .expect("settings");
    // A realistic file: the user's own profiles around ours.
    let files = AwsFiles::new(
        home.path().join(".aws/credentials"),
        home.path().join(".aws/config"),
    );
    std::fs::create_dir_all(home.path().join(".aws")).expect("mkdir");
    let users: String = (0..30)
        .map(|i| {
            format!("[team-{i}]\naws_access_key_id = AKIA{i:016}\naws_secret_access_key = s{i}\n\n")
        })
        .collect();
    std::fs::write(files.credentials_file(), users).expect("write");
    let creds = RoleCredentials {
        access_key_id: "ASIABENCHMARK0000001".into(),
        secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        session_token: Secret::new("IQoJb3JpZ2luX2VjE".repeat(40)),
        expiration: later(SystemClock.now(), Duration::from_secs(3600)),
    };
    files
        .apply(&Changes::new().write(ProfileWrite::new(
            ProfileName::new("bench").expect("name"),
            &creds,
        )))
        .expect("profile");

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port");
    let run = |args: &[&str], expect: &str| {
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_aws-sso-auth"))
            .args(args)
            .env("HOME", home.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("APPDATA")
            .env_remove("AWS_SHARED_CREDENTIALS_FILE")
            .env_remove("AWS_CONFIG_FILE")
            .env("AWS_ENDPOINT_URL", format!("http://{closed}"))
            .output()
            .expect("run");
        let took = t.elapsed();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains(expect),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        took
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for (what, args, expect, target) in [
        (
            "warm credential_process",
            &["credentials", "--profile", "bench"][..],
            "ASIABENCHMARK",
            " (target: median <= 20 ms)",
        ),
        ("prompt", &["prompt", "--profile", "bench"][..], "m", ""),
    ] {
        for _ in 0..10 {
            run(args, expect);
        }
        let mut times: Vec<Duration> = (0..runs).map(|_| run(args, expect)).collect();
        times.sort();
        println!(
            "{what}, {runs} runs: median {:.2} ms, p90 {:.2} ms, min {:.2} ms, max {:.2} ms{target}",
            ms(times[runs / 2]),
            ms(times[runs * 9 / 10]),
            ms(times[0]),
            ms(times[runs - 1])
        );
    }
}
