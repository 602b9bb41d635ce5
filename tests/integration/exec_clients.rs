//! `aws-sso-auth exec` with the official SDKs for JavaScript and for Rust, unmodified:
//! each finds the endpoint in the environment exec sets, reads credentials from it with
//! its own container provider, and STS, the emulator's, takes them as the favourite's
//! role. STS checks the key, the signature made with the secret and the session token:
//! credentials the endpoint got wrong are refused, or name another account.

use crate::cli::{text, Cli};
use crate::exec::{app, signed_in};
use aws_config::BehaviorVersion;
use aws_credential_types::credential_feature::AwsCredentialFeature;
use aws_credential_types::provider::ProvideCredentials;
use aws_sso_device_auth_provider::clock::{Clock, SystemClock};
use aws_sso_device_auth_provider::workspace::SERVE_MARGIN;
use aws_sso_emulator::EmulatorConfig;
use aws_types::os_shim_internal::{Env, Fs};
use aws_types::region::Region;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The JavaScript side: its package, and `exec.mjs`, the command exec runs.
fn js_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/js");
    assert!(
        dir.join("node_modules/@aws-sdk/client-sts").is_dir(),
        "the AWS SDK for JavaScript is not installed in {} \
         (bash scripts/install-deps installs it)",
        dir.display()
    );
    dir
}

/// `exec --profile ops -- node exec.mjs`, with the runtime directory (where the app
/// listens) when `with_app`: what the script printed.
async fn exec_node(cli: &Cli, with_app: bool) -> serde_json::Value {
    let script = js_dir().join("exec.mjs");
    let mut c = cli.command(&[
        "exec",
        "--profile",
        "ops",
        "--",
        "node",
        script.to_str().expect("path"),
    ]);
    if with_app {
        c.env("XDG_RUNTIME_DIR", cli.runtime_dir());
    }
    let out = tokio::time::timeout(Duration::from_secs(120), c.output())
        .await
        .expect("finishes")
        .unwrap_or_else(|e| panic!("exec could not be run: {e}"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

/// What the JavaScript SDK resolved came from a container endpoint, acts in `account` (as
/// STS says), and has more than the margin left.
fn assert_served(resolved: &serde_json::Value, account: &str) {
    assert_eq!(resolved["account"], account, "{resolved}");
    let source = resolved["source"].as_array().expect("source");
    assert!(
        source.iter().any(|s| s == "CREDENTIALS_HTTP"),
        "from the container endpoint: {resolved}"
    );
    let left = resolved["secondsLeft"].as_f64().expect("an expiration");
    assert!(left > SERVE_MARGIN.as_secs_f64(), "{resolved}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_javascript_sdk_resolves_credentials_through_the_endpoint_exec_or_the_app_serves() {
    let (emu, cli, account) = signed_in(EmulatorConfig::default()).await;

    // Served by exec itself.
    let before = emu.counters();
    let by_exec = exec_node(&cli, false).await;
    assert_served(&by_exec, &account);
    assert!(emu.counters().get_caller_identity > before.get_caller_identity);

    // Served by the app.
    let world = app(&cli, &emu).await;
    let by_app = exec_node(&cli, true).await;
    assert_served(&by_app, &account);
    // The address the command was given is the app's (this process's): it still answers
    // there, now that the command ended, that nothing is served at it any more.
    let url = by_app["endpoint"].as_str().expect("endpoint");
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let answer = client.get(url).send().await.expect("the app answers");
    assert_eq!(answer.status(), reqwest::StatusCode::NOT_FOUND);
    let body: serde_json::Value = answer.json().await.expect("json");
    assert_eq!(body["code"], "NotFound", "{body}");
    assert!(
        world.exec_sessions().is_empty(),
        "{:?}",
        world.exec_sessions()
    );
}

/// Run by exec: writes the endpoint's address and token to the file `$1` (whole, by a
/// rename), then waits, as a long-running command does.
const WRITE_ENDPOINT_AND_WAIT: &str = r#"printf '%s\n%s\n' "$AWS_CONTAINER_CREDENTIALS_FULL_URI" "$AWS_CONTAINER_AUTHORIZATION_TOKEN" > "$1.part" && mv "$1.part" "$1" && exec sleep 60"#;

/// The address and token written to `file` by the command `exec` runs.
async fn endpoint_written(file: &Path, exec: &mut tokio::process::Child) -> (String, String) {
    for _ in 0..3000 {
        if let Ok(written) = std::fs::read_to_string(file) {
            let mut lines = written.lines().map(str::to_owned);
            let (url, token) = (lines.next(), lines.next());
            return (url.expect("url"), token.expect("token"));
        }
        if let Some(status) = exec.try_wait().expect("exec") {
            panic!("exec ended before its command wrote the endpoint: {status}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the command exec runs wrote no endpoint");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_sdk_container_provider_reads_the_endpoint_exec_serves() {
    let (emu, cli, account) = signed_in(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("endpoint");
    let mut exec = cli
        .command(&[
            "exec",
            "--profile",
            "ops",
            "--",
            "sh",
            "-c",
            WRITE_ENDPOINT_AND_WAIT,
            "sh",
            file.to_str().expect("path"),
        ])
        .spawn()
        .expect("exec runs");
    let (url, token) = endpoint_written(&file, &mut exec).await;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    // The SDK's default chain, given nothing but the endpoint: its container provider
    // (no keys, no profile file, no web identity before it). The SDK's own client,
    // without the proxy the environment may name.
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .build_https();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .env(Env::from_slice(&[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", url.as_str()),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", token.as_str()),
        ]))
        .fs(Fs::from_slice(&[]))
        .region(Region::new("eu-west-1"))
        .http_client(http.clone())
        .load()
        .await;
    let credentials = config
        .credentials_provider()
        .expect("a credentials chain")
        .provide_credentials()
        .await
        .expect("credentials from the endpoint");
    assert_eq!(
        credentials.get_property::<Vec<AwsCredentialFeature>>(),
        Some(&vec![AwsCredentialFeature::CredentialsHttp]),
        "from the container endpoint"
    );
    assert_eq!(
        credentials.account_id().map(|a| a.as_str()),
        Some(account.as_str())
    );
    let expiry = credentials.expiry().expect("an expiration");
    let left = expiry.duration_since(SystemClock.now()).unwrap_or_default();
    assert!(left > SERVE_MARGIN, "{left:?} left");

    // STS takes them: the key, the secret it signs with and the session token are the
    // role's.
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("eu-west-1"))
            .endpoint_url(emu.endpoint())
            .http_client(http)
            .credentials_provider(credentials)
            .build(),
    );
    let who = sts
        .get_caller_identity()
        .send()
        .await
        .expect("STS takes the served credentials");
    assert_eq!(who.account(), Some(account.as_str()));

    // Stopped as a person stops it: exec passes the signal on to its command.
    let pid = exec.id().and_then(|p| i32::try_from(p).ok()).expect("pid");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("signal");
    let status = tokio::time::timeout(Duration::from_secs(30), exec.wait())
        .await
        .expect("exec ends with its command")
        .expect("status");
    assert_eq!(status.code(), Some(128 + 15), "{status}");
}
