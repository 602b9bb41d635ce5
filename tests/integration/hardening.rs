//! The command line under conditions another program or the service sets up: a proxy in
//! the environment, the README's own environment variables, a role taken away.

use crate::cli::{text, Cli};
use crate::util::{emulator, unique_start_url};
use aws_sso_emulator::EmulatorConfig;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A proxy that records what reaches it and answers every request with 502.
struct RecordingProxy {
    url: String,
    connections: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl RecordingProxy {
    /// Listens on another loopback address than the emulator's (127.0.0.2).
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.2:0")
            .await
            .expect("bind 127.0.0.2");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (connections, seen) = (Arc::new(AtomicUsize::new(0)), Arc::default());
        let (count, record) = (connections.clone(), Arc::clone(&seen));
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let record: Arc<Mutex<Vec<u8>>> = Arc::clone(&record);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    if let Ok(n) = socket.read(&mut buf).await {
                        record.lock().expect("lock").extend_from_slice(&buf[..n]);
                    }
                    let _ = socket
                        .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                });
            }
        });
        Self {
            url,
            connections,
            seen,
        }
    }

    /// `cmd` with every proxy variable naming this proxy, and none exempting loopback.
    fn apply(&self, cmd: &mut tokio::process::Command) {
        for var in [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            cmd.env(var, &self.url);
        }
        cmd.env_remove("NO_PROXY").env_remove("no_proxy");
    }
}

#[tokio::test]
async fn a_request_to_this_machine_never_goes_through_a_proxy() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let proxy = RecordingProxy::start().await;
    let account = emu.organisation()[0].account_id.clone();
    let start_url = unique_start_url();
    let run = |args: &'static [&'static str], extra: Vec<String>| {
        let (cli, proxy, endpoint) = (&cli, &proxy, emu.endpoint());
        async move {
            let mut all: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
            all.extend(extra);
            let mut cmd = cli.command(&all.iter().map(String::as_str).collect::<Vec<_>>());
            proxy.apply(&mut cmd);
            cmd.env("AWS_ENDPOINT_URL_SIGNIN", endpoint)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let child = cmd.spawn().expect("spawn");
            tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
                .await
                .expect("finishes")
                .expect("runs")
        }
    };

    // The sign-in: registration, device authorization, the token (approved on the side).
    let login = tokio::spawn({
        let mut cmd = cli.command(&[
            "login",
            "--start-url",
            &start_url,
            "--sso-region",
            "eu-west-1",
            "--device-code",
            "--no-browser",
        ]);
        proxy.apply(&mut cmd);
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = cmd.spawn().expect("spawn");
        async move { child.wait_with_output().await.expect("runs") }
    });
    let code = loop {
        if let Some(code) = emu.pending_user_codes().pop() {
            break code;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(
            !login.is_finished(),
            "login ended before its code was shown"
        );
    };
    assert!(emu.decide(&code, true));
    let out = login.await.expect("login");
    assert!(out.status.success(), "{}", text(&out.stderr));

    // The portal with the bearer token, role credentials, and the console's federation
    // call with those credentials.
    let out = run(&["accounts"], vec![]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let role = ["--account".to_owned(), account, "--role".to_owned()];
    let mut args = role.to_vec();
    args.push("ReadOnlyAccess".to_owned());
    let out = run(&["credentials"], args.clone()).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    args.push("--print".to_owned());
    let out = run(&["console"], args).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("SigninToken="));

    let seen = String::from_utf8_lossy(&proxy.seen.lock().expect("lock")).into_owned();
    assert_eq!(
        proxy.connections.load(Ordering::SeqCst),
        0,
        "the proxy saw: {seen}"
    );
}

/// The values the README shows for an environment variable (`NAME=VALUE` in its text).
fn readme_examples(name: &str) -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let prefix = format!("{name}=");
    readme
        .split(|c: char| c.is_whitespace() || matches!(c, '`' | '(' | ')' | ','))
        .filter_map(|word| word.strip_prefix(&prefix))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn boolean_variables_take_the_usual_spellings_and_the_readme_examples_work() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let from_readme = readme_examples("AWS_SSO_AUTH_NO_APP");
    assert!(
        from_readme.contains(&"1".to_owned()),
        "the README shows AWS_SSO_AUTH_NO_APP=1: {from_readme:?}"
    );
    let spellings = ["1", "0", "true", "false", "yes", "no", "TRUE", "on", "off"];
    for value in from_readme.iter().map(String::as_str).chain(spellings) {
        let out = cli
            .command(&["status"])
            .env("AWS_SSO_AUTH_NO_APP", value)
            .output()
            .await
            .expect("runs");
        assert!(
            out.status.success(),
            "AWS_SSO_AUTH_NO_APP={value}: {}",
            text(&out.stderr)
        );
    }
    let out = cli
        .command(&["status"])
        .env("AWS_SSO_AUTH_NO_APP", "maybe")
        .output()
        .await
        .expect("runs");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("invalid value 'maybe' for '--no-app'"),
        "{err}"
    );
}

#[tokio::test]
async fn a_role_taken_away_is_named_by_the_cli_and_the_daemon() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let account = cli.signed_in_with_account(0).await;
    cli.add_favourite("taken", &account, "ReadOnlyAccess").await;

    let mut org = emu.organisation().as_ref().clone();
    org.iter_mut()
        .filter(|a| a.account_id == account)
        .for_each(|a| a.roles.retain(|r| r != "ReadOnlyAccess"));
    emu.set_organisation(org);

    let out = cli
        .run(&[
            "credentials",
            "--account",
            &account,
            "--role",
            "ReadOnlyAccess",
        ])
        .await;
    let said = format!("no role 'ReadOnlyAccess' in account {account} for this user");
    crate::cli::clear_failure(&out, 1, &said).unwrap_or_else(|problem| panic!("{problem}"));
    assert!(
        text(&out.stderr).contains(&format!("aws-sso-auth roles --account {account}")),
        "{}",
        text(&out.stderr)
    );

    // Without its profile, the favourite is due at once when the daemon starts.
    std::fs::write(cli.home.path().join(".aws/credentials"), "").expect("empty the file");
    let (mut daemon, log) = cli.daemon_until("renewing profile taken failed").await;
    daemon.kill().await.expect("kill");
    assert!(
        log.contains(&format!("renewing profile taken failed: {said}")),
        "{log}"
    );
}
