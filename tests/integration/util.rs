//! Shared helpers: an emulator per test, providers wired to it, a "person" who approves
//! sign-ins on the emulator's page.

#![allow(dead_code)]

use aws_sso_device_auth_provider::clock::ManualClock;
use aws_sso_device_auth_provider::oidc::poll::PollPolicy;
use aws_sso_device_auth_provider::store::SessionRecord;
use aws_sso_device_auth_provider::{
    AwsSsoDeviceAuthProvider, Endpoints, MemoryStore, SecretStore, SignInPrompt,
};
use aws_sso_emulator::{Emulator, EmulatorConfig};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A start URL no other test uses, so keychain items never collide.
pub fn unique_start_url() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "https://t{}-{}.awsapps.com/start",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub async fn emulator(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).await.expect("emulator starts")
}

/// An emulator whose clock the test moves.
pub async fn emulator_with_clock(config: EmulatorConfig) -> (Emulator, ManualClock) {
    let clock = ManualClock::starting_now();
    let emu = Emulator::start_with(("127.0.0.1", 0), config, Arc::new(clock.clone()))
        .await
        .expect("emulator starts");
    (emu, clock)
}

/// Fast polling for tests: a one-second default interval (the slow-down step stays the
/// protocol's 5 s, which the emulator enforces).
pub fn fast_polling() -> PollPolicy {
    PollPolicy {
        default_interval: Duration::from_secs(1),
        max_wait: Duration::from_secs(60),
        ..PollPolicy::default()
    }
}

/// What a person does: open the page from the prompt and click the button.
pub async fn person_decides(prompt: SignInPrompt, allow: bool) {
    let http = reqwest::Client::builder().build().expect("http client");
    match prompt {
        SignInPrompt::DeviceCode {
            verification_uri_complete: Some(url),
            user_code,
            ..
        } => {
            let page = http
                .get(&url)
                .send()
                .await
                .expect("page")
                .text()
                .await
                .expect("body");
            assert!(page.contains(&user_code), "the page shows the code");
            let base = url.split("/device").next().expect("base").to_owned();
            let decision = if allow { "allow" } else { "deny" };
            let r = http
                .post(format!("{base}/device/decision"))
                .form(&[("user_code", user_code.as_str()), ("decision", decision)])
                .send()
                .await
                .expect("decision");
            assert!(r.status().is_success(), "decision accepted: {}", r.status());
        }
        SignInPrompt::Browser { url, .. } => {
            // Follows the consent page (or auto-approval) back to the loopback redirect.
            let r = http.get(&url).send().await.expect("authorize");
            let page = r.text().await.expect("body");
            if let Some(id) = page
                .split("name=\"request\" value=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
            {
                let base = url.split("/authorize").next().expect("base").to_owned();
                let decision = if allow { "allow" } else { "deny" };
                http.post(format!("{base}/authorize/decision"))
                    .form(&[("request", id), ("decision", decision)])
                    .send()
                    .await
                    .expect("decision");
            }
        }
        other => panic!("unexpected prompt {other:?}"),
    }
}

/// A prompt sink that has a "person" approve (or deny) each prompt in the background.
pub fn approving(allow: bool) -> impl Fn(&SignInPrompt) + Send + Sync + 'static {
    move |p: &SignInPrompt| {
        let p = p.clone();
        tokio::spawn(person_decides(p, allow));
    }
}

/// A provider wired to `emu` with an in-memory store.
pub fn builder(emu: &Emulator) -> aws_sso_device_auth_provider::provider::Builder {
    AwsSsoDeviceAuthProvider::builder()
        .start_url(unique_start_url())
        .region("eu-west-1")
        .endpoints(Endpoints::both(emu.endpoint()))
        .poll_policy(fast_polling())
}

pub fn memory_store() -> Arc<dyn SecretStore> {
    Arc::new(MemoryStore::new())
}

/// Waits until `cond` holds, for at most `secs` seconds.
pub async fn eventually(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cond()
}

/// The session record `sso` keeps in `store`.
pub fn stored(
    store: &Arc<dyn SecretStore>,
    sso: &aws_sso_device_auth_provider::AwsSsoDeviceAuthProvider,
) -> SessionRecord {
    let secret = store
        .get(&sso.instance().key())
        .expect("store")
        .expect("a record");
    SessionRecord::from_secret(&secret).expect("record parses")
}

/// `program` as one of the user's tools runs it in a process of its own: in `home`, with
/// every AWS endpoint the product uses at the emulator's `endpoint`, and nothing of this
/// test run's own AWS or XDG environment (a `credential_process` command it starts finds
/// its state under `home`).
pub fn as_a_tool(
    program: impl AsRef<std::ffi::OsStr>,
    home: &std::path::Path,
    endpoint: &str,
) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(program);
    c.env("HOME", home)
        .env("AWS_ENDPOINT_URL_SSO", endpoint)
        .env("AWS_ENDPOINT_URL_SSO_OIDC", endpoint)
        .env("AWS_ENDPOINT_URL_STS", endpoint)
        .kill_on_drop(true);
    for k in [
        "AWS_ENDPOINT_URL",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        "XDG_STATE_HOME",
    ] {
        c.env_remove(k);
    }
    c
}

/// botocore's own credential resolution for `profile`, as the AWS CLI runs it
/// (`botocore_sso.py`), in a process of its own under `home`: its JSON answer (the
/// provider it chose and the access key id), or its stderr.
pub async fn botocore_credentials(
    home: &std::path::Path,
    endpoint: &str,
    profile: &str,
) -> Result<serde_json::Value, String> {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/botocore_sso.py");
    // Awaited: the emulator answers on this test's runtime.
    let out = as_a_tool("python3", home, endpoint)
        .arg(&script)
        .arg(profile)
        .output()
        .await
        .map_err(|e| {
            format!("python3 could not be run (bash scripts/install-deps installs it): {e}")
        })?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
}

/// The access key id the credentials file holds for `profile`, if any.
pub fn keys_of(
    files: &aws_sso_device_auth_provider::awsfiles::AwsFiles,
    profile: &str,
) -> Option<String> {
    files
        .managed_profiles()
        .expect("profiles")
        .into_iter()
        .find(|p| p.name == profile)
        .and_then(|p| p.credentials)
        .map(|c| c.access_key_id)
}
