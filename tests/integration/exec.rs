//! `aws-sso-auth exec`: a command given credentials from memory through the local
//! endpoint, served by the app (played here by a workspace answering on its socket, as
//! the app does) or by `exec` itself; read by the official clients, unmodified.

use crate::cli::{text, Cli};
use crate::util::emulator;
use aws_sso_device_auth_provider::workspace::Workspace;
use aws_sso_emulator::{Emulator, EmulatorConfig};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// The command botocore runs as: its own chain, then GetCallerIdentity.
pub(crate) fn botocore_child() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/botocore_exec.py")
}

/// A user signed in with favourite `ops` (ReadOnlyAccess in the organisation's second
/// account), its account id.
pub(crate) async fn signed_in(config: EmulatorConfig) -> (Emulator, Cli, String) {
    let emu = emulator(config).await;
    let cli = Cli::new(&emu);
    let account = cli.signed_in_with_account(1).await;
    cli.add_favourite("ops", &account, "ReadOnlyAccess").await;
    (emu, cli, account)
}

/// The app's side: the user's workspace (real keychain), serving `exec` requests on its
/// socket in the runtime directory, as the app does.
pub(crate) async fn app(cli: &Cli, emu: &Emulator) -> Workspace {
    let world = cli.app_world(emu).await;
    let serving = world.clone();
    tokio::spawn(async move { serving.serve_exec_requests().await });
    let socket = cli.runtime_dir().join("aws-sso-tray/exec.sock");
    for _ in 0..200 {
        if socket.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(socket.exists(), "the app listens at {}", socket.display());
    world
}

/// `exec ARGS -- python3 botocore_exec.py SECONDS EVERY`, with the runtime directory
/// when `with_app`.
pub(crate) async fn exec_botocore(
    cli: &Cli,
    args: &[&str],
    seconds: u32,
    every: u32,
    with_app: bool,
) -> Output {
    let mut all = vec!["exec"];
    all.extend_from_slice(args);
    let child = botocore_child();
    let (seconds, every) = (seconds.to_string(), every.to_string());
    all.extend_from_slice(&[
        "--",
        "python3",
        child.to_str().expect("path"),
        &seconds,
        &every,
    ]);
    let mut c = cli.command(&all);
    if with_app {
        c.env("XDG_RUNTIME_DIR", cli.runtime_dir());
    }
    tokio::time::timeout(Duration::from_secs(300), c.output())
        .await
        .expect("finishes")
        .expect("runs")
}

/// The JSON lines the child printed.
pub(crate) fn calls(out: &Output) -> Vec<serde_json::Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_resolves_credentials_through_the_endpoint_exec_serves() {
    let (emu, cli, account) = signed_in(EmulatorConfig::default()).await;
    let out = exec_botocore(&cli, &["--profile", "ops"], 0, 0, false).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let calls = calls(&out);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["method"], "container-role");
    assert_eq!(calls[0]["account"], account.as_str());
    assert!(emu.counters().get_caller_identity >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_resolves_credentials_through_the_endpoint_the_app_serves() {
    let (emu, cli, account) = signed_in(EmulatorConfig::default()).await;
    let world = app(&cli, &emu).await;
    let out = exec_botocore(&cli, &["--profile", "ops"], 0, 0, true).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let calls = calls(&out);
    assert_eq!(calls[0]["method"], "container-role");
    assert_eq!(calls[0]["account"], account.as_str());
    // The app served it (and forgot it once the command ended).
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        world.exec_sessions().is_empty(),
        "{:?}",
        world.exec_sessions()
    );
}

/// Every file under `dir`, with its length and when it was last changed.
fn files_under(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            if meta.is_dir() {
                todo.push(e.path());
            } else if !meta.file_type().is_socket() {
                let changed = meta.modified().expect("mtime");
                found.push((e.path(), meta.len(), changed));
            }
        }
    }
    found.sort();
    found
}

use std::os::unix::fs::FileTypeExt;

/// Credentials that live 20 s; the endpoint renews them 8 s before they expire (the
/// SDKs' 15 minutes, scaled down with them).
const LIFETIME: Duration = Duration::from_secs(20);
const MARGIN: &str = "8";

/// A command that runs for three credential lifetimes, calling STS every 2 s, is given
/// valid credentials all along, renewed by whoever serves them, and nothing is written
/// under the home directory while it runs.
async fn runs_for_three_lifetimes(with_app: bool) {
    let config = EmulatorConfig {
        role_credentials_lifetime: LIFETIME,
        ..EmulatorConfig::default()
    };
    let (emu, cli, account) = signed_in(config).await;
    let world = if with_app {
        Some(app(&cli, &emu).await)
    } else {
        None
    };
    // What the sign-in and the favourite wrote is there before.
    let before_files = files_under(cli.home.path());
    let before = emu.counters();
    let seconds = u32::try_from(LIFETIME.as_secs() * 3).expect("seconds");
    let out = exec_botocore(
        &cli,
        &["--profile", "ops", "--margin", MARGIN],
        seconds,
        2,
        with_app,
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let calls = calls(&out);
    assert!(calls.len() >= 25, "{} calls", calls.len());
    assert!(calls.iter().all(|c| c["account"] == account.as_str()));
    let keys: std::collections::BTreeSet<_> =
        calls.iter().map(|c| c["accessKeyId"].to_string()).collect();
    assert!(keys.len() >= 3, "renewed at least three times: {keys:?}");
    // Renewed at the margin, not at each of the SDK's requests (which ask on every call,
    // the credentials being always within its 15 minutes).
    let fetched = emu.counters().get_role_credentials - before.get_role_credentials;
    assert!(
        (3..=6).contains(&fetched),
        "{fetched} GetRoleCredentials in {seconds} s of 20-s credentials"
    );
    assert_eq!(
        files_under(cli.home.path()),
        before_files,
        "nothing written under the home directory"
    );
    if let Some(world) = world {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(world.exec_sessions().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_served_by_exec_runs_for_three_lifetimes_with_nothing_on_disk() {
    runs_for_three_lifetimes(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_served_by_the_app_runs_for_three_lifetimes_with_nothing_on_disk() {
    runs_for_three_lifetimes(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_of_the_default_profile_do_not_win_over_the_served_credentials() {
    let (_emu, cli, account) = signed_in(EmulatorConfig::default()).await;
    let aws = cli.home.path().join(".aws");
    let credentials = aws.join("credentials");
    let mut text_of = std::fs::read_to_string(&credentials).expect("credentials");
    text_of
        .push_str("\n[default]\naws_access_key_id = AKIADEFAULTKEY\naws_secret_access_key = x\n");
    std::fs::write(&credentials, &text_of).expect("write");
    let config = aws.join("config");
    let mut config_text = std::fs::read_to_string(&config).unwrap_or_default();
    config_text.push_str("\n[default]\nregion = eu-west-1\n");
    std::fs::write(&config, &config_text).expect("write");

    let out = exec_botocore(&cli, &["--profile", "ops"], 0, 0, false).await;
    let said = text(&out.stderr);
    assert!(out.status.success(), "{said}");
    let calls = calls(&out);
    assert_eq!(calls[0]["method"], "container-role", "{said}");
    assert_eq!(calls[0]["account"], account.as_str());
    assert!(said.contains("reads no credentials file"), "{said}");
    assert!(
        !said.contains("warning"),
        "a region alone is no credential: {said}"
    );
    // The user's files are as they were.
    assert_eq!(
        std::fs::read_to_string(&credentials).expect("read"),
        text_of
    );

    // A default profile in the config file that runs a process: said, not hidden.
    config_text.push_str("credential_process = /bin/false\n");
    std::fs::write(&config, &config_text).expect("write");
    let out = exec_botocore(&cli, &["--profile", "ops"], 0, 0, false).await;
    let said = text(&out.stderr);
    assert!(said.contains("warning: [default] in"), "{said}");
    assert!(said.contains("config"), "{said}");
}

/// `exec ARGS -- python3 botocore_exec.py 0 0` started (not awaited), asking the app.
fn exec_botocore_child(cli: &Cli, args: &[&str]) -> tokio::process::Child {
    let mut all = vec!["exec"];
    all.extend_from_slice(args);
    let child = botocore_child();
    all.extend_from_slice(&["--", "python3", child.to_str().expect("path"), "0", "0"]);
    let mut c = cli.command(&all);
    c.env("XDG_RUNTIME_DIR", cli.runtime_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    c.spawn().expect("spawn")
}

/// Waits for the app to ask the person for a sign-in.
async fn sign_in_asked(
    events: &mut tokio::sync::broadcast::Receiver<aws_sso_device_auth_provider::workspace::Event>,
) -> String {
    use aws_sso_device_auth_provider::workspace::Event;
    loop {
        match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
            Ok(Ok(Event::SignInAsked { program, .. })) => return program,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            other => panic!("no sign-in asked: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_session_is_one_sign_in_request_in_the_tray_and_the_command_goes_on() {
    let (emu, cli, account) = signed_in(EmulatorConfig::default()).await;
    let out = cli.run(&["settings", "set", "signInFlow", "device"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let world = app(&cli, &emu).await;
    let instance = world.default_instance().expect("instance");
    let mut events = world.subscribe();
    emu.revoke_sessions();

    // The command waits while the tray asks the person; they sign in; it goes on.
    let child = exec_botocore_child(&cli, &["--profile", "ops"]);
    let program = sign_in_asked(&mut events).await;
    assert_eq!(program, "python3");
    assert_eq!(
        world
            .status()
            .instance(&instance)
            .expect("instance")
            .asked_by,
        vec!["python3 (profile ops)".to_owned()]
    );
    let signer = world.clone();
    let i = instance.clone();
    let signing = tokio::spawn(async move {
        signer
            .sign_in(&i, Some(aws_sso_device_auth_provider::SignInFlow::Device))
            .await
    });
    loop {
        if let Some(code) = emu.pending_user_codes().first() {
            assert!(emu.decide(code, true));
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signing.await.expect("joins").expect("signed in");
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("ends")
        .expect("runs");
    let said = text(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("in AWS SSO Tray (it is asking you now)"),
        "{said}"
    );
    assert_eq!(calls(&out)[0]["account"], account.as_str());

    // Again, for a role whose credentials the app does not hold; this time the person
    // declines: the command does not start.
    emu.revoke_sessions();
    let child = exec_botocore_child(
        &cli,
        &["--account", &account, "--role", "AdministratorAccess"],
    );
    sign_in_asked(&mut events).await;
    world.decline_sign_in(&instance);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("ends")
        .expect("runs");
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(said.contains("declined in AWS SSO Tray"), "{said}");
    assert!(out.stdout.is_empty(), "the command did not run");
}
