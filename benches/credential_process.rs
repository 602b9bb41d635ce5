//! Whole-process time of a warm `aws-sso-auth credentials --profile NAME` call, the way the
//! AWS CLI and SDKs run it as `credential_process`: the favourite's profile holds valid
//! credentials, so the answer comes from the file with no network or keychain call (the
//! endpoints point at a closed port to prove it).
//!
//! The same for `aws-sso-auth prompt --profile NAME`, which a shell prompt runs on every
//! line.
//!
//! Both for a favourite of an SSO role and for one that assumes a role from it (role
//! chaining), as keys in the credentials file and as a `credential_process` favourite
//! answered from its private cache: a warm chained call must cost what a plain one does.
//!
//! `cargo bench --bench credential_process [-- RUNS]`

use aws_sso_device_auth_provider::awsfiles::{AwsFiles, Changes, ProfileName, ProfileWrite};
use aws_sso_device_auth_provider::cache::CredentialsCache;
use aws_sso_device_auth_provider::clock::{later, Clock, SystemClock};
use aws_sso_device_auth_provider::settings::{Favourite, Settings};
use aws_sso_device_auth_provider::source::{AssumeRole, AssumeRoleEntry};
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
    let chain = AssumeRole::new(AssumeRoleEntry {
        role_arn: "arn:aws:iam::444455556666:role/ci/Deploy".into(),
        ..AssumeRoleEntry::default()
    })
    .expect("role");
    // (profile, assumes a role, credential_process)
    let kinds = [
        ("bench", false, false),
        ("bench-chained", true, false),
        ("bench-cp", false, true),
        ("bench-chained-cp", true, true),
    ];
    let mut favourites = Vec::new();
    for (name, chained, process) in kinds {
        let mut f = Favourite::new(
            name,
            instance.clone(),
            "111122223333",
            "ReadOnlyAccess",
            None,
        )
        .expect("favourite");
        f.assume_role = chained.then(|| chain.clone());
        f.credential_process = process;
        settings.add_favourite(f.clone()).expect("favourite");
        favourites.push(f);
    }
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
    let cache = CredentialsCache::new(home.path().join(".cache/aws-sso-tray/credentials"));
    std::fs::create_dir_all(home.path().join(".cache/aws-sso-tray")).expect("mkdir");
    for f in &favourites {
        if f.credential_process {
            cache
                .put(f.profile.as_str(), &f.target_key(), &creds)
                .expect("cached");
        } else {
            files
                .apply(&Changes::new().write(ProfileWrite::new(
                    ProfileName::new(f.profile.as_str()).expect("name"),
                    &creds,
                )))
                .expect("profile");
        }
    }

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port");
    let run = |args: &[&str], expect: &str| {
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_aws-sso-auth"))
            .args(args)
            .env("HOME", home.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_CACHE_HOME")
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
    let summary = |what: &str, mut times: Vec<Duration>, target: &str| {
        times.sort();
        let n = times.len();
        println!(
            "{what}, {n} runs: median {:.2} ms, p90 {:.2} ms, min {:.2} ms, max {:.2} ms{target}",
            ms(times[n / 2]),
            ms(times[n * 9 / 10]),
            ms(times[0]),
            ms(times[n - 1])
        );
        times[n / 2]
    };
    let credentials = |profile: &'static str| ["credentials", "--profile", profile];
    // Each chained kind runs in turn with its plain one, so that a machine that slows
    // down or speeds up during the run weighs on both alike.
    for (what, plain, chained) in [
        ("warm credential_process", "bench", "bench-chained"),
        (
            "warm credential_process favourite (cache)",
            "bench-cp",
            "bench-chained-cp",
        ),
    ] {
        for _ in 0..10 {
            run(&credentials(plain), "ASIABENCHMARK");
            run(&credentials(chained), "ASIABENCHMARK");
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            a.push(run(&credentials(plain), "ASIABENCHMARK"));
            b.push(run(&credentials(chained), "ASIABENCHMARK"));
        }
        let target = if plain == "bench" {
            " (target: median <= 20 ms)"
        } else {
            ""
        };
        let a = summary(what, a, target);
        let b = summary(
            &format!("{what}, chained"),
            b,
            " (target: <= 1.2x the plain one)",
        );
        println!(
            "{chained} / {plain}: {:.2}x the plain one's median",
            b.as_secs_f64() / a.as_secs_f64()
        );
    }
    let args = ["prompt", "--profile", "bench"];
    for _ in 0..10 {
        run(&args, "m");
    }
    summary("prompt", (0..runs).map(|_| run(&args, "m")).collect(), "");
}
