//! Whole-process time of a warm `aws-sso-auth eks token --cluster NAME --profile NAME`, as
//! kubectl runs it before its requests: the token signed by an earlier call is still good,
//! so the answer is one file read (the endpoints point at a closed port to prove that no
//! call is made). Beside it, in the same run, `aws eks get-token --cluster-name NAME`
//! (awscli, from PyPI) with static keys in a profile of its own: it signs anew each time,
//! with no network call either. And, for reference, the warm `credentials --profile NAME`
//! (`credential_process`), whose cost the warm token should match.
//!
//! `cargo bench --bench eks_token [-- RUNS]` (default 50 runs of each)

use aws_sso_device_auth_provider::awsfiles::{AwsFiles, Changes, ProfileName, ProfileWrite};
use aws_sso_device_auth_provider::clock::{later, Clock, SystemClock};
use aws_sso_device_auth_provider::settings::{Favourite, Settings};
use aws_sso_device_auth_provider::{Instance, RoleCredentials, Secret};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const CLUSTER: &str = "bench-cluster";

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(50);
    let home = tempfile::tempdir().expect("home");
    let instance = Instance::new("https://bench.awsapps.com/start", "eu-west-1").expect("instance");
    let mut settings = Settings::default();
    settings.remember_default(&instance);
    let favourite = Favourite::new(
        "bench",
        instance,
        "111122223333",
        "ReadOnlyAccess",
        Some("eu-west-1"),
    )
    .expect("favourite");
    settings.add_favourite(favourite).expect("favourite");
    settings
        .save(&home.path().join(".config/aws-sso-tray/settings.json"))
        .expect("settings");
    let creds = RoleCredentials {
        access_key_id: "ASIABENCHMARK0000001".into(),
        secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        session_token: Secret::new("IQoJb3JpZ2luX2VjE".repeat(40)),
        expiration: later(SystemClock.now(), Duration::from_secs(3600)),
    };
    // The favourite's profile holds valid keys: the first call signs with them (no
    // network), the others reuse its token.
    let files = AwsFiles::new(
        home.path().join(".aws/credentials"),
        home.path().join(".aws/config"),
    );
    files
        .apply(&Changes::new().write(ProfileWrite::new(
            ProfileName::new("bench").expect("name"),
            &creds,
        )))
        .expect("profile");
    // awscli's own profile, in files of its own.
    let awscli_dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        awscli_dir.path().join("credentials"),
        format!(
            "[bench]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            creds.access_key_id,
            creds.secret_access_key.expose(),
            creds.session_token.expose()
        ),
    )
    .expect("credentials");
    std::fs::write(
        awscli_dir.path().join("config"),
        "[profile bench]\nregion = eu-west-1\noutput = json\n",
    )
    .expect("config");

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port");
    let program = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_aws-sso-auth"));
        c.env("HOME", home.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("APPDATA")
            .env_remove("AWS_SHARED_CREDENTIALS_FILE")
            .env_remove("AWS_CONFIG_FILE")
            .env_remove("KUBERNETES_EXEC_INFO")
            .env("AWS_ENDPOINT_URL", format!("http://{closed}"));
        c
    };
    let ours = || {
        let mut c = program();
        c.args(["eks", "token", "--cluster", CLUSTER, "--profile", "bench"]);
        c
    };
    // For reference: the warm `credential_process` call, which reads the profile's file.
    let credentials = || {
        let mut c = program();
        c.args(["credentials", "--profile", "bench"]);
        c
    };
    let python = python();
    let theirs = || {
        let mut c = Command::new(&python);
        c.args([
            "-m",
            "awscli",
            "eks",
            "get-token",
            "--cluster-name",
            CLUSTER,
        ])
        .env("AWS_PROFILE", "bench")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            awscli_dir.path().join("credentials"),
        )
        .env("AWS_CONFIG_FILE", awscli_dir.path().join("config"))
        .env("HOME", awscli_dir.path())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("KUBERNETES_EXEC_INFO")
        .env("AWS_ENDPOINT_URL", format!("http://{closed}"));
        c
    };
    let run_expecting = |mut command: Command, expect: &str| {
        let t = Instant::now();
        let out = command.output().expect("run");
        let took = t.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success() && stdout.contains(expect),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (took, stdout)
    };
    let run = |command: Command| run_expecting(command, "k8s-aws-v1.");

    // The cold call signs and keeps the token; every call after it prints the same.
    let (_, first) = run(ours());
    let cached = home.path().join(".cache/aws-sso-tray/eks-tokens");
    assert!(
        std::fs::read_dir(&cached).is_ok_and(|mut d| d.next().is_some()),
        "the token was kept in {}",
        cached.display()
    );
    for _ in 0..5 {
        assert_eq!(run(ours()).1, first, "the token is reused");
        run(theirs());
        run_expecting(credentials(), "ASIABENCHMARK");
    }
    // In turn, so that a machine that slows down or speeds up weighs on all alike.
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let (took, out) = run(ours());
        assert_eq!(out, first, "the token is reused");
        a.push(took);
        b.push(run(theirs()).0);
        c.push(run_expecting(credentials(), "ASIABENCHMARK").0);
    }
    let a = summary("warm aws-sso-auth eks token", a);
    let b = summary("aws eks get-token (awscli, static keys)", b);
    let c = summary("warm aws-sso-auth credentials --profile (reference)", c);
    println!(
        "aws-sso-auth eks token / credentials --profile: {:.2}x the median",
        a.as_secs_f64() / c.as_secs_f64()
    );
    println!(
        "aws eks get-token / aws-sso-auth eks token: {:.1}x the median",
        b.as_secs_f64() / a.as_secs_f64()
    );
}

/// The median, after printing the figures.
fn summary(what: &str, mut times: Vec<Duration>) -> Duration {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    times.sort();
    let n = times.len();
    let p95 = times[(n * 95 / 100).min(n - 1)];
    println!(
        "{what}, {n} runs: median {:.2} ms, p95 {:.2} ms, min {:.2} ms, max {:.2} ms",
        ms(times[n / 2]),
        ms(p95),
        ms(times[0]),
        ms(times[n - 1])
    );
    times[n / 2]
}

/// The Python interpreter itself (not a version manager's shim in front of it), whose
/// awscli runs as `python -m awscli`.
fn python() -> std::path::PathBuf {
    let out = Command::new("python3")
        .args(["-c", "import awscli, sys; print(sys.executable)"])
        .output()
        .expect("python3 runs (bash scripts/install-deps installs it, with awscli)");
    assert!(
        out.status.success(),
        "awscli is missing (bash scripts/install-deps installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(Path::new(&path).is_file(), "{path}");
    path.into()
}
