//! `aws-sso-auth eks token`: the token equals awscli's for the same credentials and
//! instant; the command answers kubectl, reusing its token while kubectl would; and
//! kubectl itself, through a small Kubernetes API server that checks the token as the
//! EKS authenticator does (at the emulator's presigned `GetCallerIdentity`).

use crate::cli::{clear_failure, text, Cli};
use crate::util::emulator;
use aws_sso_device_auth_provider::clock::{from_epoch_seconds, parse_rfc3339, Clock, SystemClock};
use aws_sso_device_auth_provider::eks::token::{self, DEFAULT_API_VERSION, TOKEN_PREFIX};
use aws_sso_device_auth_provider::RoleCredentials;
use aws_sso_emulator::{Emulator, EmulatorConfig};
use base64::Engine;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The URL inside a token.
fn url_of(token: &str) -> String {
    let body = token
        .strip_prefix(TOKEN_PREFIX)
        .expect("the token's prefix");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .expect("base64url without padding");
    String::from_utf8(bytes).expect("a URL")
}

/// The URL's host and its query parameters, in order.
fn parts(url: &str) -> (String, Vec<(String, String)>) {
    let url = url::Url::parse(url).expect("URL");
    (
        url.host_str().expect("host").to_owned(),
        url.query_pairs().into_owned().collect(),
    )
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {params:?}"))
}

// ---- (a) the same token as awscli ----

#[tokio::test]
async fn the_token_is_the_one_awscli_signs() {
    let now = aws_sso_device_auth_provider::clock::epoch_seconds(SystemClock.now());
    let long_token = format!("IQoJb3JpZ2luX2VjE{}/+==", "A".repeat(700));
    let cases = [
        (
            "us-east-1",
            "my-cluster",
            1_796_673_600,
            "token/with+slash=",
        ),
        ("eu-west-2", "c_1", now, long_token.as_str()),
        ("cn-north-1", "prod", 1_700_000_123, "t"),
        ("us-gov-west-1", &"x".repeat(100), now + 1, "t+t"),
        ("ap-southeast-2", "0-abc", 1_796_673_659, "a b"),
    ];
    let json: Vec<serde_json::Value> = cases
        .iter()
        .map(|(region, cluster, at, session)| {
            serde_json::json!({
                "accessKeyId": "ASIAQEXAMPLE7KEYID",
                "secretAccessKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                "sessionToken": session,
                "region": region,
                "cluster": cluster,
                "epochSeconds": at,
            })
        })
        .collect();
    let awscli = awscli_tokens(&serde_json::Value::from(json));
    assert_eq!(awscli.len(), cases.len());
    for ((region, cluster, at, session), theirs) in cases.iter().zip(&awscli) {
        let credentials = RoleCredentials {
            access_key_id: "ASIAQEXAMPLE7KEYID".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: (*session).into(),
            expiration: from_epoch_seconds(at + 3600),
        };
        let ours =
            token::token(&credentials, cluster, region, from_epoch_seconds(*at)).expect("signed");
        let their_token = theirs["token"].as_str().expect("awscli's token");
        // Parameter by parameter first, for a readable difference.
        let (our_host, our_params) = parts(&url_of(ours.token.expose()));
        let (their_host, their_params) = parts(&url_of(their_token));
        assert_eq!(our_host, their_host, "{region}");
        assert_eq!(our_params, their_params, "{region} {cluster}");
        assert_eq!(ours.token.expose(), their_token, "{region} {cluster}");
        // The whole `aws eks get-token` answer, expiry included.
        let exec: serde_json::Value =
            serde_json::from_str(ours.exec_credential(DEFAULT_API_VERSION).expose()).expect("JSON");
        assert_eq!(exec, theirs["execCredential"], "{region}");
    }
}

/// awscli's tokens (its own `TokenGenerator`) and `aws eks get-token` answers for
/// `cases`, at their frozen instants.
fn awscli_tokens(cases: &serde_json::Value) -> Vec<serde_json::Value> {
    use std::io::Write;
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/awscli_eks_token.py");
    let mut child = std::process::Command::new("python3")
        .arg(&script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (bash scripts/install-deps installs it, with awscli)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(cases.to_string().as_bytes())
        .expect("written");
    let out = child.wait_with_output().expect("python3");
    assert!(
        out.status.success(),
        "awscli could not sign (bash scripts/install-deps installs it): {}",
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON list")
}

// ---- (b) the command line against the emulator ----

/// What STS (the emulator) answers the token's presigned request with, sent as the EKS
/// authenticator sends it: to the signed host (here, the emulator with that `Host`),
/// naming `cluster`.
async fn sts_answer(emu: &Emulator, token: &str, cluster: &str) -> (u16, String) {
    let url = url::Url::parse(&url_of(token)).expect("URL");
    let host = url.host_str().expect("host").to_owned();
    let forwarded = format!("{}/?{}", emu.endpoint(), url.query().unwrap_or_default());
    let reply = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .get(forwarded)
        .header("host", host)
        .header("x-k8s-aws-id", cluster)
        .send()
        .await
        .expect("the emulator answers");
    let status = reply.status().as_u16();
    (status, reply.text().await.unwrap_or_default())
}

fn exec_credential(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn token_in(exec: &serde_json::Value) -> &str {
    exec["status"]["token"].as_str().expect("a token")
}

fn assert_clear_failure(out: &Output, expected: &str) {
    if let Err(problem) = clear_failure(out, 1, expected) {
        panic!("{problem}");
    }
}

/// A signed-in CLI with favourite `dev` (region eu-west-2) and its account.
async fn signed_in_with_favourite(emu: &Emulator) -> (Cli, String) {
    let cli = Cli::new(emu);
    let account = cli.signed_in_with_account(1).await;
    let out = cli
        .run(&[
            "favourite",
            "add",
            "dev",
            "--account",
            &account,
            "--role",
            "ReadOnlyAccess",
            "--region",
            "eu-west-2",
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    (cli, account)
}

#[tokio::test]
async fn eks_token_answers_kubectl_and_reuses_its_token() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (cli, account) = signed_in_with_favourite(&emu).await;
    let token_of = |more: &[&str]| {
        let mut args = vec!["eks", "token", "--cluster", "prod"];
        args.extend_from_slice(more);
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        let cli = &cli;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            cli.run(&args).await
        }
    };

    // The favourite's: an ExecCredential as awscli prints it, in the favourite's region.
    let started = SystemClock.now();
    let first = token_of(&["--profile", "dev"]).await;
    let exec = exec_credential(&first);
    assert_eq!(exec["kind"], "ExecCredential");
    assert_eq!(exec["apiVersion"], DEFAULT_API_VERSION);
    assert_eq!(exec["spec"], serde_json::json!({}));
    let expires = parse_rfc3339(
        exec["status"]["expirationTimestamp"]
            .as_str()
            .expect("a time"),
    )
    .expect("RFC 3339");
    let fourteen = started + Duration::from_secs(14 * 60);
    assert!(
        expires + Duration::from_secs(2) >= fourteen
            && expires <= fourteen + Duration::from_secs(60),
        "{exec}"
    );
    let (host, params) = parts(&url_of(token_in(&exec)));
    assert_eq!(host, "sts.eu-west-2.amazonaws.com");
    assert_eq!(param(&params, "X-Amz-Expires"), "60");
    assert_eq!(param(&params, "X-Amz-SignedHeaders"), "host;x-k8s-aws-id");
    assert!(param(&params, "X-Amz-Credential").ends_with("/eu-west-2/sts/aws4_request"));
    // STS takes it for this cluster, as this role, and for no other cluster.
    let presigned = emu.counters().presigned_identity_calls;
    let (status, body) = sts_answer(&emu, token_in(&exec), "prod").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!(":{account}:assumed-role/")) && body.contains("ReadOnlyAccess"),
        "{body}"
    );
    let (status, _) = sts_answer(&emu, token_in(&exec), "staging").await;
    assert_eq!(status, 403);
    assert_eq!(emu.counters().presigned_identity_calls, presigned + 2);

    // The second call reuses it: with the profile gone behind its back (which would
    // otherwise cost a GetRoleCredentials), the same token, and no call at all.
    cli.remove_behind_its_back("dev");
    let before = emu.counters();
    let second = token_of(&["--profile", "dev"]).await;
    assert_eq!(text(&second.stdout), text(&first.stdout));
    assert_eq!(emu.counters(), before);
    // Kept private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = cli.home.path().join(".cache/aws-sso-tray/eks-tokens");
        let mode = |p: &Path| {
            std::fs::symlink_metadata(p)
                .expect("there")
                .permissions()
                .mode()
        };
        assert_eq!(mode(&dir) & 0o777, 0o700);
        let files: Vec<_> = std::fs::read_dir(&dir)
            .expect("listed")
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .collect();
        assert_eq!(files.len(), 1);
        assert_eq!(mode(&files[0].path()) & 0o777, 0o600);
    }

    // Another region is another token (signed anew: the profile is gone, so new
    // credentials are fetched and the profile written again).
    let out = token_of(&["--profile", "dev", "--region", "us-east-1"]).await;
    let east = exec_credential(&out);
    assert_eq!(
        parts(&url_of(token_in(&east))).0,
        "sts.us-east-1.amazonaws.com"
    );
    assert_eq!(
        emu.counters().get_role_credentials,
        before.get_role_credentials + 1
    );
    assert_eq!(sts_answer(&emu, token_in(&east), "prod").await.0, 200);

    // kubectl asking for v1 gets v1.
    let out = cli
        .command(&["eks", "token", "--cluster", "prod", "--profile", "dev"])
        .env(
            "KUBERNETES_EXEC_INFO",
            r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#,
        )
        .output()
        .await
        .expect("runs");
    let v1 = exec_credential(&out);
    assert_eq!(v1["apiVersion"], "client.authentication.k8s.io/v1");
    assert_eq!(token_in(&v1), token_in(&exec));

    // A role by account and name, in the instance's region; reused too.
    let before = emu.counters();
    let by_role = ["--account", &account, "--role", "AdministratorAccess"];
    let out = token_of(&by_role).await;
    let role = exec_credential(&out);
    assert_eq!(
        parts(&url_of(token_in(&role))).0,
        "sts.eu-west-1.amazonaws.com"
    );
    assert_eq!(
        emu.counters().get_role_credentials,
        before.get_role_credentials + 1
    );
    let (status, body) = sts_answer(&emu, token_in(&role), "prod").await;
    assert_eq!(status, 200);
    assert!(body.contains("AdministratorAccess"), "{body}");
    let again = token_of(&by_role).await;
    assert_eq!(text(&again.stdout), text(&out.stdout));
    assert_eq!(
        emu.counters().get_role_credentials,
        before.get_role_credentials + 1
    );

    // Refusals: one sentence, a non-zero exit, and no call.
    let before = emu.counters();
    assert_clear_failure(
        &token_of(&["--profile", "nope"]).await,
        "no favourite is called 'nope'",
    );
    assert_clear_failure(
        &token_of(&["--profile", "dev", "--region", "mars-1"]).await,
        "'mars-1' is not an AWS region name",
    );
    let out = cli
        .run(&["eks", "token", "--cluster", "a b", "--profile", "dev"])
        .await;
    assert_clear_failure(&out, "\"a b\" is not an EKS cluster name");
    assert_eq!(emu.counters(), before);
}

// ---- (c) kubectl ----

/// A Kubernetes API server (`kube_api_server.py`, over TLS: kubectl sends no bearer
/// token over plain HTTP) that authenticates as the EKS authenticator does, at the
/// emulator's presigned `GetCallerIdentity`, for cluster `cluster`.
struct ApiServer {
    url: String,
    certificate: String,
    authorized: Arc<AtomicU64>,
    refused: Arc<AtomicU64>,
    _process: tokio::process::Child,
    _dir: tempfile::TempDir,
}

async fn api_server(sts: &str, cluster: &str) -> ApiServer {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/kube_api_server.py");
    let dir = tempfile::tempdir().expect("dir");
    let mut process = tokio::process::Command::new("python3")
        .arg(&script)
        .args([sts, cluster])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 runs");
    let mut lines = BufReader::new(process.stdout.take().expect("stdout")).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the API server starts")
        .expect("read")
        .expect("the API server says where it listens (openssl makes its certificate)");
    let mut words = first.split(' ').skip(1);
    let (port, certificate) = (
        words.next().expect("port").to_owned(),
        words.next().expect("certificate").to_owned(),
    );
    let (authorized, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (a, r) = (authorized.clone(), refused.clone());
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("API server: {line}");
            if line.starts_with("authorized ") {
                a.fetch_add(1, Ordering::SeqCst);
            } else if line.starts_with("refused ") {
                r.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    ApiServer {
        url: format!("https://127.0.0.1:{port}"),
        certificate,
        authorized,
        refused,
        _process: process,
        _dir: dir,
    }
}

/// What the API server counted so far, once its lines are read (they come from
/// another process).
async fn settled(counter: &AtomicU64, at_least: u64) -> u64 {
    for _ in 0..100 {
        if counter.load(Ordering::SeqCst) >= at_least {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    counter.load(Ordering::SeqCst)
}

/// kubectl's minor version, if it runs here; its absence fails in CI (which installs
/// it).
fn kubectl_minor() -> Option<u32> {
    let out = std::process::Command::new("kubectl")
        .args(["version", "--client", "-o", "json"])
        .output()
        .ok()
        .filter(|o| o.status.success());
    let Some(out) = out else {
        assert!(
            std::env::var_os("CI").is_none(),
            "kubectl is missing (bash scripts/install-deps installs Debian's kubernetes-client)"
        );
        eprintln!("skipped: kubectl is not installed (bash scripts/install-deps installs it)");
        return None;
    };
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("kubectl's JSON");
    // "20", or "32+" for some builds.
    let minor = v["clientVersion"]["minor"]
        .as_str()
        .expect("a minor version");
    Some(
        minor
            .trim_end_matches('+')
            .parse()
            .expect("a minor version number"),
    )
}

/// kubectl as the person runs it, with the same environment as the CLI's runs (its exec
/// plugin inherits it).
async fn kubectl(cli: &Cli, args: &[&str]) -> Output {
    let mut c = tokio::process::Command::new("kubectl");
    c.args(args)
        .env("HOME", cli.home.path())
        .env("AWS_ENDPOINT_URL_SSO", &cli.endpoint)
        .env("AWS_ENDPOINT_URL_SSO_OIDC", &cli.endpoint)
        .env("AWS_ENDPOINT_URL_STS", &cli.endpoint)
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_EXEC_INFO")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("XDG_STATE_HOME")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SHARED_CREDENTIALS_FILE")
        .env_remove("AWS_CONFIG_FILE")
        .env_remove("BROWSER")
        .env_remove("XDG_RUNTIME_DIR")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(60), c.output())
        .await
        .expect("kubectl finishes")
        .expect("kubectl runs")
}

/// A kubeconfig written by hand: cluster `prod` at `server` (its certificate as the
/// cluster's CA), whose users run this
/// program's `eks token` (v1beta1, v1, and one for another cluster's token).
fn kubeconfig(path: &Path, server: &ApiServer) {
    let program = env!("CARGO_BIN_EXE_aws-sso-auth");
    let user = |name: &str, api: &str, cluster: &str| {
        format!(
            "- name: {name}\n  user:\n    exec:\n      apiVersion: {api}\n      command: {program:?}\n      \
             args: [eks, token, --cluster, {cluster}, --profile, dev]\n      interactiveMode: Never\n      \
             provideClusterInfo: false\n"
        )
    };
    let context =
        |name: &str| format!("- name: {name}\n  context:\n    cluster: prod\n    user: {name}\n");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n    server: {}\n    \
         certificate-authority: {:?}\ncontexts:\n{}{}{}current-context: dev-prod\npreferences: {{}}\nusers:\n{}{}{}",
        server.url,
        server.certificate,
        context("dev-prod"),
        context("dev-prod-v1"),
        context("dev-staging"),
        user("dev-prod", "client.authentication.k8s.io/v1beta1", "prod"),
        user("dev-prod-v1", "client.authentication.k8s.io/v1", "prod"),
        user("dev-staging", "client.authentication.k8s.io/v1beta1", "staging"),
    );
    std::fs::write(path, text).expect("kubeconfig written");
}

#[tokio::test]
async fn kubectl_runs_eks_token_and_the_cluster_takes_the_token() {
    let Some(minor) = kubectl_minor() else {
        return;
    };
    let emu = emulator(EmulatorConfig::default()).await;
    let (cli, _) = signed_in_with_favourite(&emu).await;
    let server = api_server(&emu.endpoint(), "prod").await;
    let config = cli.home.path().join("kubeconfig");
    kubeconfig(&config, &server);
    let config = config.to_str().expect("path");
    let raw_version = |context: &'static str| {
        let cli = &cli;
        async move {
            kubectl(
                cli,
                &[
                    "--kubeconfig",
                    config,
                    "--context",
                    context,
                    "--request-timeout=20s",
                    "get",
                    "--raw",
                    "/version",
                ],
            )
            .await
        }
    };

    let out = kubectl(&cli, &["version", "--client"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Each call counts at least one request (some kubectl builds ask for the server's
    // version first, with the same credentials).
    let out = raw_version("dev-prod").await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("v1.31.0-eks-test"),
        "{}",
        text(&out.stdout)
    );
    let authorized = settled(&server.authorized, 1).await;
    assert!(authorized >= 1);
    assert_eq!(server.refused.load(Ordering::SeqCst), 0);
    // kubectl asking for v1 (KUBERNETES_EXEC_INFO) gets it (kubectl 1.22 and later
    // know v1; Debian 12's is 1.20).
    let authorized = if minor >= 22 {
        let out = raw_version("dev-prod-v1").await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(server.refused.load(Ordering::SeqCst), 0);
        settled(&server.authorized, authorized + 1).await
    } else {
        authorized
    };
    // A token for another cluster is refused: the cluster's name is signed into it.
    let out = raw_version("dev-staging").await;
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("must be logged in to the server"), "{err}");
    let refused = settled(&server.refused, 1).await;
    assert!(refused >= 1);
    assert_eq!(server.authorized.load(Ordering::SeqCst), authorized);

    // Sessions revoked: the token kubectl is handed again (reused: no call for new
    // credentials) is refused by the cluster.
    emu.revoke_sessions();
    let before = emu.counters();
    let out = raw_version("dev-prod").await;
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains("must be logged in to the server"), "{err}");
    assert!(settled(&server.refused, refused + 1).await > refused);
    assert_eq!(
        emu.counters().get_role_credentials,
        before.get_role_credentials
    );
    assert_eq!(server.authorized.load(Ordering::SeqCst), authorized);
}
