//! Whole-process time of a warm `docker-credential-aws-sso get`, the way docker runs it
//! for every pull and push: the registry's password is in the private cache with hours
//! left, so the answer comes from one file, with no network or keychain call (the
//! endpoints point at a closed port to prove it). Beside it, `version`, which opens
//! nothing: the cost of starting the program at all.
//!
//! `cargo bench --bench docker_helper [-- RUNS]` (default 50)

use aws_sso_device_auth_provider::cache::EcrTokenCache;
use aws_sso_device_auth_provider::clock::{later, Clock, SystemClock};
use aws_sso_device_auth_provider::ecr::AuthorizationToken;
use aws_sso_device_auth_provider::settings::{Favourite, Settings};
use aws_sso_device_auth_provider::{Instance, Secret};
use base64::Engine as _;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ACCOUNT: &str = "111122223333";
const REGISTRY: &str = "111122223333.dkr.ecr.eu-west-1.amazonaws.com";

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(50);
    let home = tempfile::tempdir().expect("home");
    let instance = Instance::new("https://bench.awsapps.com/start", "eu-west-1").expect("instance");
    let mut settings = Settings::default();
    settings.remember_default(&instance);
    // A realistic settings file: the registry's favourite among thirty others.
    for i in 0..30 {
        let f = Favourite::new(
            &format!("team-{i}"),
            instance.clone(),
            &format!("{:012}", 200_000_000_000u64 + i),
            "ReadOnlyAccess",
            None,
        )
        .expect("favourite");
        settings.add_favourite(f).expect("favourite");
    }
    let f = Favourite::new("bench", instance, ACCOUNT, "PowerUserAccess", None).expect("favourite");
    settings.add_favourite(f.clone()).expect("favourite");
    settings
        .choose_ecr_region("bench", "eu-west-1")
        .expect("chosen");
    settings
        .save(&home.path().join(".config/aws-sso-tray/settings.json"))
        .expect("settings");
    let password = "eyJwYXlsb2FkIjoi".repeat(120);
    let token = AuthorizationToken {
        token: Secret::new(
            base64::engine::general_purpose::STANDARD.encode(format!("AWS:{password}")),
        ),
        expires_at: later(SystemClock.now(), Duration::from_secs(11 * 3600)),
    };
    EcrTokenCache::new(home.path().join(".cache/aws-sso-tray/ecr-tokens"))
        .put(REGISTRY, &f.target_key(), &token)
        .expect("cached");

    let bin = tempfile::tempdir().expect("bin");
    let helper = bin.path().join("docker-credential-aws-sso");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_aws-sso-auth"), &helper).expect("link");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port");
    let run = |action: &str, input: &str, expect: &str| {
        let t = Instant::now();
        let mut child = Command::new(&helper)
            .arg(action)
            .env("HOME", home.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("APPDATA")
            .env("AWS_ENDPOINT_URL", format!("http://{closed}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("input");
        let out = child.wait_with_output().expect("wait");
        let took = t.elapsed();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains(expect),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        took
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let summary = |what: &str, mut times: Vec<Duration>| {
        times.sort();
        let n = times.len();
        println!(
            "{what}, {n} runs: median {:.2} ms, p95 {:.2} ms, min {:.2} ms, max {:.2} ms",
            ms(times[n / 2]),
            ms(times[(n * 95 / 100).min(n - 1)]),
            ms(times[0]),
            ms(times[n - 1])
        );
    };
    for _ in 0..5 {
        run("get", REGISTRY, &password);
        run("version", "", "docker-credential-aws-sso");
    }
    // In turn, so that a machine that slows down or speeds up weighs on both alike.
    let (mut get, mut version) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        get.push(run("get", REGISTRY, &password));
        version.push(run("version", "", "docker-credential-aws-sso"));
    }
    summary("warm docker-credential-aws-sso get", get);
    summary("docker-credential-aws-sso version (start-up only)", version);
}
