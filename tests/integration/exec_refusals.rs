//! `aws-sso-auth exec`, the real process: what its endpoint refuses (and to whom), as a
//! program at the other end of the socket sees it, whether `exec` serves by itself or the
//! app serves; and how the command is run (its exit status, signals, its environment).

use crate::cli::{text, Cli};
use crate::exec::{app, signed_in};
use aws_sso_emulator::EmulatorConfig;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The command `exec` runs: it writes the address and token it was given to `grant` next
/// to itself, then waits until `stop` appears there (or its directory is gone).
const PROBE: &str = r#"#!/bin/sh
dir=$(dirname "$0")
printf '%s\n%s\n' "$AWS_CONTAINER_CREDENTIALS_FULL_URI" "$AWS_CONTAINER_AUTHORIZATION_TOKEN" > "$dir/grant.tmp"
mv "$dir/grant.tmp" "$dir/grant"
while [ -d "$dir" ] && [ ! -e "$dir/stop" ]; do sleep 0.1; done
"#;

/// The program name `exec` gives the app for [`PROBE`].
const PROBE_NAME: &str = "probe.sh";

/// Asks with urllib the address and token on its standard input (kept out of argv);
/// prints the answer.
const URLLIB: &str = "import sys, urllib.request
url, token = sys.stdin.read().split()
r = urllib.request.Request(url, headers={'Authorization': token})
print(urllib.request.urlopen(r, timeout=10).read().decode())";

/// A running `exec --profile ops -- probe.sh`, and what its command was given.
struct Running {
    exec: tokio::process::Child,
    dir: tempfile::TempDir,
    url: String,
    port: u16,
    path: String,
    token: String,
}

impl Running {
    /// Starts `exec` (asking the app in the runtime directory when `with_app`), and waits
    /// until its command runs.
    async fn start(cli: &Cli, with_app: bool) -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let script = dir.path().join(PROBE_NAME);
        std::fs::write(&script, PROBE).expect("script");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let file =
            |name: &str| Stdio::from(std::fs::File::create(dir.path().join(name)).expect("file"));
        let mut c = cli.command(&[
            "-vv",
            "exec",
            "--profile",
            "ops",
            "--",
            script.to_str().expect("path"),
        ]);
        c.stdout(file("stdout")).stderr(file("stderr"));
        if with_app {
            c.env("XDG_RUNTIME_DIR", cli.runtime_dir());
        }
        let mut exec = c.spawn().expect("exec");
        let grant = dir.path().join("grant");
        for _ in 0..1200 {
            if grant.exists() {
                break;
            }
            if let Some(status) = exec.try_wait().expect("wait") {
                panic!(
                    "exec ended ({status}): {}",
                    read(&dir.path().join("stderr"))
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let written = read(&grant);
        let mut lines = written.lines();
        let url = lines.next().expect("url").to_owned();
        let token = lines.next().expect("token").to_owned();
        assert_eq!(token.len(), 64, "a 256-bit token, in hex");
        let rest = url
            .strip_prefix("http://127.0.0.1:")
            .unwrap_or_else(|| panic!("a loopback address: {url}"));
        let (port, path) = rest.split_once('/').expect("a path");
        Self {
            exec,
            port: port.parse().expect("port"),
            path: path.to_owned(),
            url,
            token,
            dir,
        }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A GET of this command's path, with `host`, `token` and the `extra` header lines.
    fn get(&self, host: &str, token: Option<&str>, extra: &str) -> String {
        let auth = token.map_or(String::new(), |t| format!("Authorization: {t}\r\n"));
        format!(
            "GET /{} HTTP/1.1\r\nHost: {host}\r\n{auth}{extra}Connection: close\r\n\r\n",
            self.path
        )
    }

    /// The request its command would make.
    async fn ask(&self) -> (u16, String) {
        raw(self.port, &self.get(&self.host(), Some(&self.token), "")).await
    }

    /// What `exec` said on stderr so far.
    fn stderr(&self) -> String {
        read(&self.dir.path().join("stderr"))
    }

    /// Waits (10 s at most) until `exec` said `wanted` on stderr.
    async fn said(&self, wanted: &str) -> String {
        for _ in 0..200 {
            if self.stderr().contains(wanted) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.stderr()
    }

    /// Lets the command end, and waits for `exec`: its exit code and stderr.
    async fn finish(mut self) -> (Option<i32>, String) {
        std::fs::write(self.dir.path().join("stop"), "").expect("stop");
        let status = tokio::time::timeout(Duration::from_secs(30), self.exec.wait())
            .await
            .expect("exec ends")
            .expect("wait");
        (status.code(), self.stderr())
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Sends `head` (request line and headers) and reads the whole answer: its status (0
/// when none came) and text.
async fn raw(port: u16, head: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    s.write_all(head.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Each refusal on `first`'s endpoint, one by one; `second` is another `exec`'s command.
async fn refuses_every_other_request(first: &Running, second: &Running) {
    let host = first.host();
    let token = first.token.as_str();
    let cases: [(&str, String, u16); 6] = [
        ("a missing token", first.get(&host, None, ""), 401),
        (
            "a wrong token",
            first.get(&host, Some(&"0".repeat(64)), ""),
            401,
        ),
        (
            "another exec's token",
            first.get(&host, Some(&second.token), ""),
            401,
        ),
        (
            "another host",
            first.get("evil.example", Some(token), ""),
            403,
        ),
        (
            "localhost",
            first.get(&format!("localhost:{}", first.port), Some(token), ""),
            403,
        ),
        (
            "a web page",
            first.get(&host, Some(token), "Origin: https://evil.example\r\n"),
            403,
        ),
    ];
    for (what, head, expected) in cases {
        let (status, answer) = raw(first.port, &head).await;
        assert_eq!(status, expected, "{what}: {answer}");
        assert!(!answer.contains("AccessKeyId"), "{what}: {answer}");
    }
}

/// A process of another user, with the right address and token, is not answered (needs
/// root to be another user); this user's same request is.
fn refuses_another_user(running: &Running) {
    let asked = |runuser: bool| {
        let mut c = if runuser {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "nobody", "--", "python3", "-c", URLLIB]);
            c
        } else {
            let mut c = std::process::Command::new("python3");
            c.args(["-c", URLLIB]);
            c
        };
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut stdin = child.stdin.take().expect("stdin");
        std::io::Write::write_all(
            &mut stdin,
            format!("{} {}", running.url, running.token).as_bytes(),
        )
        .expect("write");
        drop(stdin);
        child.wait_with_output().expect("python3")
    };
    let own = asked(false);
    assert!(own.status.success(), "{}", text(&own.stderr));
    assert!(
        text(&own.stdout).contains("AccessKeyId"),
        "{}",
        text(&own.stdout)
    );
    // This process's user: the owner of the directory it made.
    let own = std::fs::metadata(running.dir.path())
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .expect("uid");
    if own != 0 {
        eprintln!("not root: the request of another user needs root to switch users");
        return;
    }
    let other = asked(true);
    assert!(
        !other.status.success(),
        "another user was answered: {}",
        text(&other.stdout)
    );
    assert!(
        !text(&other.stdout).contains("AccessKeyId"),
        "{}",
        text(&other.stdout)
    );
    // Turned away unanswered (the connection closed), not with an HTTP error.
    let said = text(&other.stderr);
    assert!(
        said.contains("ConnectionResetError") || said.contains("RemoteDisconnected"),
        "{said}"
    );
}

/// This command's own request: the credentials, never cached on the way.
async fn serves_its_command(running: &Running) {
    let (status, answer) = running.ask().await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains(r#""AccessKeyId":"#), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("\r\ncache-control: no-store\r\n"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_exec_serves_answers_its_command_only() {
    let (_emu, cli, _) = signed_in(EmulatorConfig::default()).await;
    let first = Running::start(&cli, false).await;
    let second = Running::start(&cli, false).await;
    // Each serves by itself.
    assert_ne!(first.port, second.port);
    serves_its_command(&first).await;
    serves_its_command(&second).await;
    refuses_every_other_request(&first, &second).await;
    refuses_another_user(&first);
    serves_its_command(&first).await;
    for running in [first, second] {
        let token = running.token.clone();
        let (code, stderr) = running.finish().await;
        assert_eq!(code, Some(0), "{stderr}");
        assert!(!stderr.contains(&token), "the token is on stderr: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_the_app_serves_answers_each_command_until_it_is_stopped() {
    let (emu, cli, _) = signed_in(EmulatorConfig::default()).await;
    let world = app(&cli, &emu).await;
    let first = Running::start(&cli, true).await;
    let second = Running::start(&cli, true).await;
    // One endpoint, the app's, for both.
    assert_eq!(first.port, second.port);
    let sessions = world.exec_sessions();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    for s in &sessions {
        assert_eq!(s.program, PROBE_NAME, "{s:?}");
        assert_eq!(s.favourite.as_deref(), Some("ops"), "{s:?}");
        assert_eq!(s.ended, None, "{s:?}");
    }
    serves_its_command(&first).await;
    serves_its_command(&second).await;
    refuses_every_other_request(&first, &second).await;
    refuses_every_other_request(&second, &first).await;
    refuses_another_user(&first);

    // Stopped by the person: the next request is refused with a sentence, which `exec`
    // says too; the other command is served on.
    assert!(world.end_exec_session(sessions[0].id));
    let (status, answer) = first.ask().await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer.contains("stopped in AWS SSO Tray"), "{answer}");
    assert!(!answer.contains("AccessKeyId"), "{answer}");
    let stderr = first.said("stopped in AWS SSO Tray").await;
    assert!(
        stderr.contains("aws-sso-auth: credentials are no longer served"),
        "{stderr}"
    );
    serves_its_command(&second).await;

    // Signed out: every other command of the access portal ends.
    world
        .sign_out(&sessions[1].instance)
        .await
        .expect("signed out");
    let (status, answer) = second.ask().await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer.contains("you signed out of"), "{answer}");
    assert!(!answer.contains("AccessKeyId"), "{answer}");
    let stderr = second.said("you signed out of").await;
    assert!(stderr.contains("you signed out of"), "{stderr}");

    for running in [first, second] {
        let token = running.token.clone();
        let (code, stderr) = running.finish().await;
        assert_eq!(code, Some(0), "{stderr}");
        assert!(!stderr.contains(&token), "the token is on stderr: {stderr}");
    }
    // Forgotten once their commands ended.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        world.exec_sessions().is_empty(),
        "{:?}",
        world.exec_sessions()
    );
}

/// `exec --profile ops ARGS` (ARGS ends with `--` and the command), serving by itself.
async fn exec(cli: &Cli, args: &[&str]) -> Output {
    let mut all = vec!["exec", "--profile", "ops"];
    all.extend_from_slice(args);
    cli.run(&all).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_s_exit_status_is_exec_s() {
    let (_emu, cli, _) = signed_in(EmulatorConfig::default()).await;
    let out = exec(&cli, &["--", "sh", "-c", "exit 7"]).await;
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));

    // Killed by a signal: 128 and its number, as shells say.
    let out = exec(&cli, &["--", "sh", "-c", "kill -TERM $$"]).await;
    assert_eq!(out.status.code(), Some(143), "{}", text(&out.stderr));

    let out = exec(&cli, &["--", "no-such-command-anywhere"]).await;
    assert_eq!(out.status.code(), Some(127), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("aws-sso-auth: cannot run no-such-command-anywhere"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_to_exec_is_passed_on_to_the_command() {
    let (_emu, cli, _) = signed_in(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().expect("dir");
    let (ready, marker) = (dir.path().join("ready"), dir.path().join("marker"));
    let script = format!(
        "trap 'touch \"{marker}\"; exit 0' TERM\ntouch \"{ready}\"\ni=0\nwhile [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\nexit 3",
        marker = marker.display(),
        ready = ready.display()
    );
    let mut child = cli
        .command(&["exec", "--profile", "ops", "--", "sh", "-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("exec");
    wait_for(&ready).await;
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id().expect("pid")).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("kill");
    let out = tokio::time::timeout(Duration::from_secs(30), async {
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut stderr).await;
        }
        (child.wait().await.expect("wait"), stderr)
    })
    .await
    .expect("exec ends");
    assert_eq!(out.0.code(), Some(0), "{}", out.1);
    assert!(marker.exists(), "the command had SIGTERM");
}

async fn wait_for(path: &Path) {
    for _ in 0..1200 {
        if path.exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} never appeared", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_inside_exec_runs_only_when_asked() {
    let (_emu, cli, _) = signed_in(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().expect("dir");
    let ran = dir.path().join("ran");
    let script = format!(
        "touch \"{}\"; printf %s \"$AWS_SSO_AUTH_EXEC\"",
        ran.display()
    );
    let nested = |more: &[&str]| {
        let mut args = vec!["exec", "--profile", "ops"];
        args.extend_from_slice(more);
        args.extend_from_slice(&["--", "sh", "-c", &script]);
        let mut c = cli.command(&args);
        c.env("AWS_SSO_AUTH_EXEC", "outer");
        c
    };
    let out = nested(&[]).output().await.expect("runs");
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("--nested"), "{stderr}");
    assert!(stderr.contains("outer"), "{stderr}");
    assert!(!ran.exists(), "the command ran");

    let out = nested(&["--nested"]).output().await.expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(ran.exists(), "the command ran");
    assert_eq!(text(&out.stdout), "ops");
}

/// The value of `name` in `env`'s output.
fn variable<'a>(env: &'a str, name: &str) -> Option<&'a str> {
    env.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_s_environment_has_the_endpoint_and_nothing_read_before_it() {
    let (_emu, cli, account) = signed_in(EmulatorConfig::default()).await;
    let out = cli
        .run(&[
            "favourite",
            "add",
            "paris",
            "--account",
            &account,
            "--role",
            "ReadOnlyAccess",
            "--region",
            "eu-west-3",
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shadowing = [
        ("AWS_ACCESS_KEY_ID", "AKIAOUTSIDE"),
        ("AWS_SECRET_ACCESS_KEY", "outside-secret"),
        ("AWS_SESSION_TOKEN", "outside-session"),
        ("AWS_PROFILE", "outside"),
    ];
    let env = |more: &[&str]| {
        let mut args = vec!["-vv", "exec", "--profile", "paris"];
        args.extend_from_slice(more);
        args.extend_from_slice(&["--", "env"]);
        let mut c = cli.command(&args);
        c.envs(shadowing).env("AWS_REGION", "ap-south-1");
        c
    };

    let out = env(&[]).output().await.expect("runs");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    for (name, value) in shadowing {
        assert_eq!(variable(&stdout, name), None, "{name} reached the command");
        assert!(
            !stdout.contains(value),
            "{name}'s value reached the command"
        );
    }
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("AWS_ACCESS_KEY_ID"))
        .collect();
    assert_eq!(said.len(), 1, "{stderr}");
    for (name, _) in shadowing {
        assert!(said[0].contains(name), "{name} not named: {}", said[0]);
    }
    assert!(said[0].contains("removed"), "{}", said[0]);
    assert_eq!(variable(&stdout, "AWS_REGION"), Some("eu-west-3"));
    assert_eq!(variable(&stdout, "AWS_DEFAULT_REGION"), Some("eu-west-3"));
    assert_eq!(variable(&stdout, "AWS_SSO_AUTH_EXEC"), Some("paris"));
    let url = variable(&stdout, "AWS_CONTAINER_CREDENTIALS_FULL_URI").expect("the address");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let token = variable(&stdout, "AWS_CONTAINER_AUTHORIZATION_TOKEN").expect("the token");
    assert_eq!(token.len(), 64);
    assert!(!stderr.contains(token), "the token is on stderr: {stderr}");

    let out = env(&["--region", "us-east-2"])
        .output()
        .await
        .expect("runs");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert_eq!(variable(&stdout, "AWS_REGION"), Some("us-east-2"));
    assert_eq!(variable(&stdout, "AWS_DEFAULT_REGION"), Some("us-east-2"));
    let token = variable(&stdout, "AWS_CONTAINER_AUTHORIZATION_TOKEN").expect("the token");
    assert!(!stderr.contains(token), "the token is on stderr: {stderr}");
}
