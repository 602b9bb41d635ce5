//! The `aws-sso-auth` command line, as a user runs it, against the emulator and the real
//! Secret Service of the test session.

use crate::awsfiles::{sdk_credentials, sdk_profiles};
use crate::util::{emulator, unique_start_url};
use aws_sso_device_auth_provider::awsfiles::{AwsFiles, MARKER};
use aws_sso_emulator::{Emulator, EmulatorConfig};
use std::process::{Output, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

pub(crate) struct Cli {
    pub(crate) home: tempfile::TempDir,
    pub(crate) endpoint: String,
}

impl Cli {
    pub(crate) fn new(emu: &Emulator) -> Self {
        Self {
            home: tempfile::tempdir().expect("home"),
            endpoint: emu.endpoint(),
        }
    }

    /// The user's runtime directory (`XDG_RUNTIME_DIR`) where a test plays the app.
    pub(crate) fn runtime_dir(&self) -> std::path::PathBuf {
        self.home.path().join("run")
    }

    /// The app's side: this user's workspace (real keychain), with the runtime directory
    /// where the app's sockets are, polling a device flow fast.
    pub(crate) async fn app_world(
        &self,
        emu: &Emulator,
    ) -> aws_sso_device_auth_provider::workspace::Workspace {
        use aws_sso_device_auth_provider::env::Env;
        use aws_sso_device_auth_provider::workspace::{Options, Workspace};
        let mut options = Options::new(
            Env::process()
                .in_home(self.home.path())
                .with_endpoints(&emu.endpoint())
                .with("XDG_RUNTIME_DIR", self.runtime_dir().to_string_lossy())
                .without("DISPLAY")
                .without("WAYLAND_DISPLAY")
                .without("BROWSER"),
        );
        options.open_browser = false;
        options.poll = crate::util::fast_polling();
        Workspace::open(options).await.expect("open")
    }

    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_aws-sso-auth"));
        c.args(args)
            .env("HOME", self.home.path())
            .env("AWS_ENDPOINT_URL_SSO", &self.endpoint)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &self.endpoint)
            .env("AWS_ENDPOINT_URL_STS", &self.endpoint)
            .env("AWS_ENDPOINT_URL_EKS", &self.endpoint)
            .env("AWS_ENDPOINT_URL_ECR", &self.endpoint)
            .env("AWS_ENDPOINT_URL_UXC", &self.endpoint)
            .env_remove("KUBECONFIG")
            .env_remove("DOCKER_CONFIG")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("XDG_STATE_HOME")
            // A machine without a desktop, whatever runs the tests (scripts/test has Xvfb),
            // unless a test sets BROWSER.
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_SSO_START_URL")
            .env_remove("AWS_SSO_REGION")
            .env_remove("AWS_SHARED_CREDENTIALS_FILE")
            .env_remove("AWS_CONFIG_FILE")
            .env_remove("AWS_PROFILE")
            .env_remove("SSH_CONNECTION")
            .env_remove("SSH_TTY")
            .env_remove("BROWSER")
            .env_remove("XDG_RUNTIME_DIR")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        c
    }

    pub(crate) async fn run(&self, args: &[&str]) -> Output {
        tokio::time::timeout(Duration::from_secs(60), self.command(args).output())
            .await
            .expect("finishes")
            .expect("runs")
    }

    /// Starts `daemon` and reads its log until a line holds `wanted` (20 s at most). The
    /// rest of its log is read on, so that it can always write.
    pub(crate) async fn daemon_until(&self, wanted: &str) -> (tokio::process::Child, String) {
        let mut daemon = self
            .command(&["daemon"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("daemon");
        let mut lines = BufReader::new(daemon.stderr.take().expect("stderr")).lines();
        let mut log = String::new();
        while let Ok(Ok(Some(line))) =
            tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await
        {
            log.push_str(&line);
            log.push('\n');
            if line.contains(wanted) {
                break;
            }
        }
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        (daemon, log)
    }

    /// Signs in (a new instance) and returns the id of the organisation's `index`th
    /// account.
    pub(crate) async fn signed_in_with_account(&self, index: usize) -> String {
        self.login(&unique_start_url()).await;
        let out = self.run(&["accounts", "--json"]).await;
        let accounts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        accounts[index]["accountId"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    /// Adds favourite `profile` for `role` in `account`, which must succeed.
    pub(crate) async fn add_favourite(&self, profile: &str, account: &str, role: &str) {
        let out = self
            .run(&[
                "favourite",
                "add",
                profile,
                "--account",
                account,
                "--role",
                role,
            ])
            .await;
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    /// `favourite add PROFILE --account ACCOUNT --role ROLE --assume-role ARN`, then the
    /// flags `more`: its output, whatever it is.
    pub(crate) async fn add_assuming(
        &self,
        profile: &str,
        account: &str,
        role: &str,
        arn: &str,
        more: &[&str],
    ) -> Output {
        let mut args = vec![
            "favourite",
            "add",
            profile,
            "--account",
            account,
            "--role",
            role,
            "--assume-role",
            arn,
        ];
        args.extend_from_slice(more);
        self.run(&args).await
    }

    /// Removes `profile` from the AWS files behind the program's back, as a person or
    /// another tool may (the command line refuses to remove a favourite's profile).
    pub(crate) fn remove_behind_its_back(&self, profile: &str) {
        let aws = self.home.path().join(".aws");
        let files = AwsFiles::new(aws.join("credentials"), aws.join("config"));
        let name = aws_sso_device_auth_provider::awsfiles::ProfileName::new(profile).expect("name");
        let applied = files
            .apply(&aws_sso_device_auth_provider::awsfiles::Changes::new().remove(name))
            .expect("removed");
        assert_eq!(applied.removed.len(), 1, "{profile} was there");
    }

    /// Signs in with the device flow, approving the printed code on the emulator's page.
    pub(crate) async fn login(&self, start_url: &str) {
        let mut child = self
            .command(&[
                "login",
                "--start-url",
                start_url,
                "--sso-region",
                "eu-west-1",
                "--device-code",
                "--no-browser",
            ])
            .stderr(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let mut transcript = String::new();
        let mut approved = false;
        while let Ok(Some(line)) = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("output in time")
        {
            transcript.push_str(&line);
            transcript.push('\n');
            if let Some(code) = line.split("shows this code: ").nth(1) {
                let r = reqwest::Client::new()
                    .post(format!("{}/device/decision", self.endpoint))
                    .form(&[("user_code", code.trim()), ("decision", "allow")])
                    .send()
                    .await
                    .expect("approve");
                assert!(r.status().is_success());
                approved = true;
            }
        }
        let status = child.wait().await.expect("exit");
        assert!(approved, "the code was printed:\n{transcript}");
        assert!(status.success(), "login failed:\n{transcript}");
        assert!(transcript.contains("Signed in."), "{transcript}");
    }
}

pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A failure: non-zero exit, no panic, nothing on stdout, and a message with `expected`.
fn assert_clear_failure(out: &Output, code: i32, expected: &str) {
    if let Err(problem) = clear_failure(out, code, expected) {
        panic!("{problem}");
    }
}

/// What is wrong with `out` as a clear failure, if anything.
pub(crate) fn clear_failure(out: &Output, code: i32, expected: &str) -> Result<(), String> {
    let err = text(&out.stderr);
    let check = |ok: bool, what: String| if ok { Ok(()) } else { Err(what) };
    check(
        out.status.code() == Some(code),
        format!(
            "exit code {:?}, not {code}; stderr: {err}",
            out.status.code()
        ),
    )?;
    check(!err.contains("panicked"), format!("a panic: {err}"))?;
    check(
        out.stdout.is_empty(),
        format!("stdout: {}", text(&out.stdout)),
    )?;
    check(
        err.contains(expected),
        format!("expected {expected:?} in: {err}"),
    )?;
    let said = err
        .lines()
        .filter(|l| l.starts_with("aws-sso-auth: "))
        .count();
    check(said == 1, format!("{said} error sentences: {err}"))?;
    check(
        !err.contains("ConnectorError") && !err.contains("{ kind"),
        format!("a Debug dump: {err}"),
    )
}

#[tokio::test]
async fn login_then_accounts_roles_and_credentials() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    cli.login(&unique_start_url()).await;
    let settings =
        std::fs::read_to_string(cli.home.path().join(".config/aws-sso-tray/settings.json"))
            .expect("settings");
    assert!(settings.contains("\"defaultInstance\""), "{settings}");

    let out = cli.run(&["accounts", "--json"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let accounts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(accounts.as_array().expect("array").len(), 24);
    // The endpoints the environment sets are said, once.
    assert_eq!(
        text(&out.stderr),
        format!(
            "note: AWS endpoints from the environment: AWS_ENDPOINT_URL_SSO_OIDC={0}, AWS_ENDPOINT_URL_SSO={0}, AWS_ENDPOINT_URL_STS={0}, AWS_ENDPOINT_URL_EKS={0}, AWS_ENDPOINT_URL_ECR={0}, AWS_ENDPOINT_URL_UXC={0}\n",
            emu.endpoint()
        )
    );

    let out = cli.run(&["accounts", "--name", "*-staging"]).await;
    let table = text(&out.stdout);
    assert!(table.starts_with("ACCOUNT"), "{table}");
    assert_eq!(table.lines().count(), 1 + 3, "{table}");

    let account = accounts[5]["accountId"].as_str().expect("id").to_owned();
    let out = cli.run(&["roles", "--account", &account, "--json"]).await;
    let roles: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(roles.as_array().expect("array").len(), 3);
    let out = cli
        .run(&[
            "roles",
            "--account-name",
            "payments-prod",
            "--role",
            "Read*",
        ])
        .await;
    assert!(
        text(&out.stdout).contains("ReadOnlyAccess")
            && !text(&out.stdout).contains("Administrator")
    );

    let out = cli
        .run(&[
            "credentials",
            "--account",
            &account,
            "--role",
            "ReadOnlyAccess",
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let p: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("credential_process JSON");
    assert_eq!(p["Version"], 1);
    assert!(p["AccessKeyId"].as_str().expect("key").starts_with("ASIA"));
    assert!(p["SecretAccessKey"].as_str().is_some_and(|s| s.len() == 40));
    let exp = p["Expiration"].as_str().expect("expiration");
    assert!(exp.len() == 20 && exp.ends_with('Z'), "{exp}");

    let out = cli
        .run(&[
            "credentials",
            "--account",
            &account,
            "--role",
            "ReadOnlyAccess",
            "--format",
            "env",
        ])
        .await;
    let env = text(&out.stdout);
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION",
    ] {
        assert!(env.contains(&format!("export {var}='")), "{env}");
    }
    let out = cli
        .run(&[
            "credentials",
            "--account",
            &account,
            "--role",
            "ReadOnlyAccess",
            "--format",
            "json",
        ])
        .await;
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(j["accountId"], account.as_str());

    // Bad input with a live session.
    let out = cli
        .run(&["credentials", "--account", &account, "--role", "NoSuchRole"])
        .await;
    assert_clear_failure(&out, 1, "no role 'NoSuchRole'");
    let out = cli.run(&["roles", "--account-name", "*-prod"]).await;
    assert_clear_failure(&out, 1, "matches 16 accounts");
    let out = cli.run(&["roles", "--account", "000000000000"]).await;
    assert_clear_failure(&out, 1, "no account matches '000000000000'");

    // Logout removes the session; the next command asks for a sign-in (exit 3).
    let out = cli.run(&["logout"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(emu.counters().logout, 1);
    let out = cli.run(&["accounts"]).await;
    assert_clear_failure(&out, 3, "; sign in with: aws-sso-auth login --start-url");
}

#[tokio::test]
async fn credentials_print_for_each_shell_and_read_back_there() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let account = cli.signed_in_with_account(2).await;
    let variables = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION",
    ];
    for (format, prefix, suffix) in [
        ("env-no-export", "", "='"),
        ("powershell", "$Env:", "='"),
        ("windows-cmd", "set \"", "="),
        ("fish", "set -gx ", " '"),
    ] {
        let out = cli
            .run(&[
                "credentials",
                "--account",
                &account,
                "--role",
                "ReadOnlyAccess",
                "--format",
                format,
            ])
            .await;
        assert!(out.status.success(), "{format}: {}", text(&out.stderr));
        let printed = text(&out.stdout);
        let lines: Vec<&str> = printed.lines().collect();
        assert_eq!(lines.len(), 4, "{format}: {printed}");
        for (line, var) in lines.iter().zip(variables) {
            assert!(
                line.starts_with(&format!("{prefix}{var}{suffix}")),
                "{format}: {line}"
            );
        }
        // The shells installed here read the values back: an access key, a 40-character
        // secret and an RFC 3339 expiry.
        let shell: &[&str] = match format {
            "env-no-export" => &[
                "sh",
                "-c",
                r#". "$0" && printf '%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" \
                   "$AWS_CREDENTIAL_EXPIRATION""#,
            ],
            "fish" => &[
                "fish",
                "--no-config",
                "-c",
                r"source $argv[1]; and printf '%s\n' $AWS_ACCESS_KEY_ID $AWS_SECRET_ACCESS_KEY \
                  $AWS_CREDENTIAL_EXPIRATION",
            ],
            _ => continue,
        };
        let file = cli.home.path().join(format!("credentials.{format}"));
        std::fs::write(&file, &printed).expect("write");
        let read = match Command::new(shell[0])
            .args(&shell[1..])
            .arg(&file)
            .output()
            .await
        {
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                println!(
                    "note: {} is not installed: --format {format} is not run in it",
                    shell[0]
                );
                continue;
            }
            Err(e) => panic!("{}: {e}", shell[0]),
        };
        assert!(read.status.success(), "{format}: {}", text(&read.stderr));
        let read = text(&read.stdout);
        let values: Vec<&str> = read.lines().collect();
        assert!(
            values.len() == 3 && values[0].starts_with("ASIA"),
            "{format}: {read}"
        );
        assert_eq!(values[1].len(), 40, "{format}: {read}");
        assert!(
            values[2].len() == 20 && values[2].ends_with('Z'),
            "{format}: {read}"
        );
    }
}

#[tokio::test]
async fn a_session_is_never_sent_to_other_endpoints_than_those_it_came_from() {
    let first = emulator(EmulatorConfig::default()).await;
    let second = emulator(EmulatorConfig::default()).await;
    let mut cli = Cli::new(&first);
    let start_url = unique_start_url();
    cli.login(&start_url).await;
    assert!(cli.run(&["accounts"]).await.status.success());

    // The endpoint variables now name another service: the session stays unsent.
    cli.endpoint = second.endpoint();
    for args in [
        &["accounts"][..],
        &[
            "credentials",
            "--account",
            "111111111111",
            "--role",
            "ReadOnlyAccess",
        ],
    ] {
        let out = cli.run(args).await;
        assert_clear_failure(
            &out,
            3,
            "it is not sent there; sign in again at these endpoints",
        );
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!(
                "was made at {}, but AWS is now reached at {}",
                first.endpoint(),
                second.endpoint()
            )),
            "{err}"
        );
    }
    let out = cli.run(&["status"]).await;
    assert!(out.status.success());
    let (said, warned) = (text(&out.stdout), text(&out.stderr));
    assert!(said.contains("Session ended · sign in again"), "{said}");
    assert!(warned.contains("it is not sent there"), "{warned}");
    assert_eq!(
        second.counters(),
        aws_sso_emulator::CountersSnapshot::default()
    );

    // A sign-in there replaces it; going back asks for a sign-in again, naming both.
    cli.login(&start_url).await;
    assert!(cli.run(&["accounts"]).await.status.success());
    let before = first.counters();
    cli.endpoint = first.endpoint();
    let out = cli.run(&["accounts"]).await;
    assert_clear_failure(
        &out,
        3,
        &format!(
            "was made at {}, but AWS is now reached at {}",
            second.endpoint(),
            first.endpoint()
        ),
    );
    assert_eq!(first.counters(), before);
    // Signing out there removes it without a logout sent to the wrong place.
    assert!(cli.run(&["logout"]).await.status.success());
    assert_eq!(first.counters(), before);
    assert_eq!(second.counters().logout, 0);
}

/// Account names a hostile organisation could give: each must be shown, never acted on.
pub(crate) fn hostile_names() -> Vec<String> {
    vec![
        "evil\u{202e}dorp-tnuocca".to_owned(),
        "\x1b]0;pwned\x07\x1b[2Jcleared".to_owned(),
        "R&D <b>bold</b> & co".to_owned(),
        "two\nlines".to_owned(),
        "\u{2066}isolated\u{2069}".to_owned(),
        "x".repeat(500),
    ]
}

/// Whether `s` holds a character that a terminal or a bidi algorithm would act on
/// (other than the line ends of its own lines).
pub(crate) fn acts_on_screen(s: &str) -> Option<char> {
    s.chars().find(|c| {
        (c.is_control() && *c != '\n')
            || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    })
}

#[tokio::test]
async fn names_from_the_service_are_shown_never_acted_on() {
    let emu = emulator(EmulatorConfig {
        account_names: hostile_names(),
        ..EmulatorConfig::default()
    })
    .await;
    let cli = Cli::new(&emu);
    cli.login(&unique_start_url()).await;
    let out = cli.run(&["accounts"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert_eq!(acts_on_screen(&table), None, "{table:?}");
    for shown in [
        "evil\\u{202e}dorp-tnuocca",
        "\\u{1b}]0;pwned\\u{7}\\u{1b}[2Jcleared",
        "R&D <b>bold</b> & co",
        "two\\nlines",
    ] {
        assert!(table.contains(shown), "{shown} in {table}");
    }
    // The ids stand where no name can move them: one account per line, none of them
    // pushed off a screen by a name that is not one (AWS allows 50 characters).
    assert_eq!(table.lines().count(), 1 + 24, "{table}");
    assert!(table.lines().all(|l| l.chars().count() < 140), "{table}");
    assert!(table.contains(&format!("{}…", "x".repeat(63))), "{table}");
    // JSON is for programs: the names as they are, escaped the JSON way.
    let out = cli.run(&["accounts", "--json"]).await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json[0]["accountName"], hostile_names()[0]);
    // A pattern echoed in an error.
    let out = cli
        .run(&["roles", "--account-name", "zzz\x1bc\u{202e}"])
        .await;
    assert_clear_failure(&out, 1, "no account matches 'zzz\\u{1b}c\\u{202e}'");
    assert_eq!(acts_on_screen(&text(&out.stderr)), None);
}

/// A `$BROWSER` that records each address it is given, one per line, in `log`.
pub(crate) fn recording_browser(
    dir: &std::path::Path,
    log: &std::path::Path,
) -> std::path::PathBuf {
    let browser = dir.join("recording-browser");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", log.display()),
    )
    .expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    browser
}

#[tokio::test]
async fn a_sign_in_address_that_is_not_https_is_never_opened() {
    let emu = emulator(EmulatorConfig {
        auto_approve: true,
        ..EmulatorConfig::default()
    })
    .await;
    let cli = Cli::new(&emu);
    let log = cli.home.path().join("opened");
    let browser = recording_browser(cli.home.path(), &log);
    let login = || async {
        cli.command(&[
            "login",
            "--start-url",
            &unique_start_url(),
            "--sso-region",
            "eu-west-1",
            "--device-code",
        ])
        .env("BROWSER", &browser)
        .output()
        .await
        .expect("runs")
    };
    for (address, why) in [
        (
            "http://sso.example/device",
            "it is plain http to another machine",
        ),
        ("-oProxyCommand=touch /tmp/x", "it is not a web address"),
        ("file:///etc/passwd", "it is not an https address"),
    ] {
        emu.configure(|c| c.verification_uri = Some(address.to_owned()));
        let out = login().await;
        let err = text(&out.stderr);
        assert!(out.status.success(), "{address}: {err}");
        assert!(
            err.contains(&format!(
                "AWS sent a sign-in address that was not opened: {why}"
            )),
            "{address}: {err}"
        );
        assert!(!log.exists(), "{address} went to the browser");
    }
    // An https address is opened (through a private page that leads to it).
    emu.configure(|c| c.verification_uri = Some("https://device.sso.example/".into()));
    let out = login().await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let opened = std::fs::read_to_string(&log).expect("opened");
    assert!(
        opened.starts_with("file://") && opened.contains("/sign-in-"),
        "{opened}"
    );
}

#[tokio::test]
async fn login_with_pkce_through_the_browser() {
    let emu = emulator(EmulatorConfig {
        auto_approve: true,
        ..EmulatorConfig::default()
    })
    .await;
    let cli = Cli::new(&emu);
    // A "browser" that follows the authorization URL back to the loopback redirect.
    let browser = crate::handoff::following_browser(cli.home.path());
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        cli.command(&[
            "login",
            "--start-url",
            &unique_start_url(),
            "--region",
            "eu-west-1",
        ])
        .env("BROWSER", &browser)
        .output(),
    )
    .await
    .expect("in time")
    .expect("runs");
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("/authorize?"), "{err}");
    let c = emu.counters();
    assert_eq!(
        (
            c.tokens_from_authorization_code,
            c.start_device_authorization
        ),
        (1, 0)
    );
    let out = cli.run(&["accounts", "--json"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[tokio::test]
async fn bad_input_gives_one_sentence_and_a_non_zero_exit() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let login = |url: &'static str, region: &'static str| {
        [
            "login",
            "--start-url",
            url,
            "--region",
            region,
            "--device-code",
            "--no-browser",
        ]
    };

    let out = cli
        .run(&login("my-org.awsapps.com/start", "eu-west-1"))
        .await;
    assert_clear_failure(&out, 1, "is not a valid AWS access portal start URL");
    let out = cli
        .run(&login("http://my-org.awsapps.com/start", "eu-west-1"))
        .await;
    assert_clear_failure(&out, 1, "must use https");
    let out = cli
        .run(&login("https://my-org.awsapps.com/start", "moon-base-one"))
        .await;
    assert_clear_failure(&out, 1, "is not an AWS region name");
    let out = cli.run(&["accounts"]).await;
    assert_clear_failure(
        &out,
        3,
        "no AWS access portal is chosen yet; sign in once with: aws-sso-auth login",
    );
    let out = cli
        .run(&[
            "accounts",
            "--name",
            "[unclosed",
            "--start-url",
            "https://x.awsapps.com/start",
            "--sso-region",
            "eu-west-1",
        ])
        .await;
    assert_clear_failure(&out, 1, "is not a valid glob");

    let out = cli
        .command(&login("https://x.awsapps.com/start", "eu-west-1"))
        .env("AWS_ENDPOINT_URL_SSO_OIDC", "not a url")
        .output()
        .await
        .expect("runs");
    assert_clear_failure(&out, 1, "AWS_ENDPOINT_URL_SSO_OIDC");

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let out = cli
        .command(&login("https://x.awsapps.com/start", "eu-west-1"))
        .env(
            "AWS_ENDPOINT_URL_SSO_OIDC",
            format!("http://127.0.0.1:{closed}"),
        )
        .output()
        .await
        .expect("runs");
    assert_clear_failure(&out, 1, "could not reach AWS SSO");

    std::fs::create_dir_all(cli.home.path().join(".config/aws-sso-tray")).expect("dir");
    std::fs::write(
        cli.home.path().join(".config/aws-sso-tray/settings.json"),
        "{ broken",
    )
    .expect("write");
    let out = cli.run(&["accounts"]).await;
    assert_clear_failure(&out, 1, "settings.json is not valid");
}

#[tokio::test]
async fn profiles_are_written_listed_renewed_and_removed() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let out = cli
        .run(&[
            "profile",
            "write",
            "dev",
            "--account",
            "111111111111",
            "--role",
            "ReadOnlyAccess",
        ])
        .await;
    assert_clear_failure(
        &out,
        3,
        "no AWS access portal is chosen yet; sign in once with: aws-sso-auth login",
    );
    let account = cli.signed_in_with_account(0).await;
    let aws = cli.home.path().join(".aws");
    let files = AwsFiles::new(aws.join("credentials"), aws.join("config"));
    std::fs::create_dir_all(&aws).expect("mkdir");
    let mine =
        "# my keys\r\n[mine]\r\naws_access_key_id = AKIAMINE\r\naws_secret_access_key = s\r\n";
    std::fs::write(files.credentials_file(), mine).expect("write");

    let cli = &cli;
    let write = |name: &'static str, extra: &'static [&'static str]| {
        let mut args = vec![
            "profile",
            "write",
            name,
            "--account",
            &account,
            "--role",
            "ReadOnlyAccess",
        ];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli.run(&args).await
    };

    #[cfg(unix)]
    let mode = |p: &std::path::Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).expect("mode").permissions().mode() & 0o777
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            files.credentials_file(),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
    }
    let out = run(write("dev", &["--region", "eu-west-1"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("\nWrote profile 'dev'"),
        "{}",
        text(&out.stderr)
    );
    // Secret keys in a file others could read: it is made private, and that is said.
    #[cfg(unix)]
    {
        assert_eq!(mode(files.credentials_file()), 0o600);
        assert_eq!(
            text(&out.stderr)
                .matches("could be read by other users; it is now private (0600)")
                .count(),
            1,
            "{}",
            text(&out.stderr)
        );
    }
    let written = std::fs::read_to_string(files.credentials_file()).expect("read");
    assert!(
        written.starts_with(mine),
        "the user's lines stay first and intact"
    );
    assert!(
        written.contains(&format!("[dev]\r\n{MARKER}\r\n")),
        "{written}"
    );
    let creds = sdk_credentials(&files, "dev").await;
    assert!(creds.access_key_id().starts_with("ASIA"));
    let profiles = sdk_profiles(&files).await;
    assert_eq!(
        profiles.get_profile("dev").and_then(|p| p.get("region")),
        Some("eu-west-1")
    );

    let out = run(write("dev", &["--region", "eu-west-1"])).await;
    assert!(
        text(&out.stderr).contains("\nRenewed profile 'dev'"),
        "{}",
        text(&out.stderr)
    );
    // Said once: it is private now.
    assert!(
        !text(&out.stderr).contains("other users"),
        "{}",
        text(&out.stderr)
    );
    assert_ne!(
        sdk_credentials(&files, "dev").await.access_key_id(),
        creds.access_key_id()
    );

    let out = cli.run(&["profile", "list", "--json"]).await;
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["name"], "dev");
    assert_eq!(list[0]["expired"], false);
    assert_eq!(list[0]["region"], "eu-west-1");
    let out = cli.run(&["profile", "list"]).await;
    let table = text(&out.stdout);
    assert!(
        table.starts_with("PROFILE") && table.contains("dev ") && table.contains("in 59 min"),
        "{table}"
    );

    // The user's profile: refused, then replaced with --force.
    let before = std::fs::read(files.credentials_file()).expect("read");
    let out = run(write("mine", &[])).await;
    assert_clear_failure(&out, 1, "line 2 already has a profile 'mine'");
    assert_eq!(
        std::fs::read(files.credentials_file()).expect("read"),
        before
    );
    let out = run(write("mine", &["--force"])).await;
    assert!(
        text(&out.stderr).contains("\nReplaced profile 'mine'"),
        "{}",
        text(&out.stderr)
    );

    // Bad names and regions are refused before any network call.
    for (args, expected) in [
        (write("a]b", &[]), "cannot be a profile name"),
        (
            write("dev", &["--region", "mars-1"]),
            "is not an AWS region name",
        ),
    ] {
        let calls = emu.counters().get_role_credentials;
        assert_clear_failure(&run(args).await, 1, expected);
        assert_eq!(emu.counters().get_role_credentials, calls);
    }
    let out = cli
        .run(&[
            "profile",
            "write",
            "two\nlines",
            "--account",
            "1",
            "--role",
            "r",
        ])
        .await;
    assert_clear_failure(&out, 1, "\"two\\nlines\" cannot be a profile name");

    let out = cli.run(&["profile", "remove", "dev", "mine"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "Removed profile 'dev'.\nRemoved profile 'mine'.\n"
    );
    assert_eq!(
        std::fs::read_to_string(files.credentials_file()).expect("read"),
        "# my keys\r\n"
    );
    let out = cli.run(&["profile", "remove", "dev"]).await;
    assert_clear_failure(&out, 1, "nothing to remove");
    let out = cli.run(&["profile", "list"]).await;
    assert!(out.status.success() && out.stdout.is_empty());

    // AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE are honoured.
    let elsewhere = cli.home.path().join("elsewhere");
    let mut c = cli.command(&[
        "profile",
        "write",
        "x",
        "--account",
        &account,
        "--role",
        "ReadOnlyAccess",
        "--region",
        "us-east-1",
    ]);
    c.env("AWS_SHARED_CREDENTIALS_FILE", elsewhere.join("creds"))
        .env("AWS_CONFIG_FILE", elsewhere.join("conf"));
    let out = c.output().await.expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let moved = AwsFiles::new(elsewhere.join("creds"), elsewhere.join("conf"));
    assert!(sdk_credentials(&moved, "x")
        .await
        .access_key_id()
        .starts_with("ASIA"));
}

#[tokio::test]
async fn fifty_parallel_processes_refresh_the_session_once() {
    use aws_sso_device_auth_provider::store::SessionRecord;
    use aws_sso_device_auth_provider::{Instance, KeychainStore, SecretStore};
    const CALLERS: usize = 50;
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let start_url = unique_start_url();
    cli.login(&start_url).await;
    let out = cli.run(&["accounts", "--json"]).await;
    let accounts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let account = accounts[0]["accountId"].as_str().expect("id").to_owned();

    // Age the stored access token: every caller now wants to refresh it, and the
    // refresh token rotates, so only one of them may spend it.
    let key = Instance::new(&start_url, "eu-west-1")
        .expect("instance")
        .key();
    let store = KeychainStore::new();
    let mut record = SessionRecord::from_secret(&store.get(&key).expect("read").expect("saved"))
        .expect("record");
    record.tokens.as_mut().expect("tokens").expires_at = std::time::UNIX_EPOCH;
    store.set(&key, &record.to_secret()).expect("write");
    let before = emu.counters();

    // All running at once before any is awaited.
    let children: Vec<_> = (0..CALLERS)
        .map(|_| {
            cli.command(&[
                "credentials",
                "--account",
                &account,
                "--role",
                "ReadOnlyAccess",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().await.expect("runs");
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let after = emu.counters();
    assert_eq!(
        after.tokens_from_refresh - before.tokens_from_refresh,
        1,
        "one refresh for {CALLERS} processes"
    );
    assert_eq!(
        after.start_device_authorization,
        before.start_device_authorization
    );
    assert_eq!(
        after.get_role_credentials - before.get_role_credentials,
        CALLERS as u64
    );
}

#[tokio::test]
async fn favourites_status_daemon_and_credential_process() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let account = cli.signed_in_with_account(1).await;
    let aws = cli.home.path().join(".aws");
    let files = AwsFiles::new(aws.join("credentials"), aws.join("config"));

    let add = |name: &str, role: &str| {
        vec![
            "favourite",
            "add",
            name,
            "--account",
            &account,
            "--role",
            role,
            "--region",
            "eu-west-2",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| {
        let cli = &cli;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            cli.run(&args).await
        }
    };
    let out = run(add("dev", "ReadOnlyAccess")).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_clear_failure(
        &run(add("dev", "AdministratorAccess")).await,
        1,
        "already the favourite for",
    );
    assert_clear_failure(
        &run(add("x", "NoSuchRole")).await,
        1,
        "no role 'NoSuchRole'",
    );
    let out = cli.run(&["favourite", "list", "--json"]).await;
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(list[0]["profile"], "dev");
    assert_eq!(list[0]["region"], "eu-west-2");

    // Adding wrote the profile; credential_process calls answer from it without a
    // network call.
    assert!(std::fs::read_to_string(files.credentials_file())
        .expect("written")
        .contains("[dev]"));
    // A shell prompt's segment: the time left, from the file alone.
    let before = emu.counters();
    let out = cli.run(&["prompt", "--profile", "dev"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let left = text(&out.stdout);
    let left = left.trim_end();
    assert!(
        matches!(left.strip_suffix('m'), Some(m) if m.trim_start_matches("1h").parse::<u32>().is_ok_and(|m| m <= 60)),
        "{left:?}"
    );
    let from_env = cli
        .command(&["prompt"])
        .env("AWS_PROFILE", "dev")
        .output()
        .await
        .expect("runs");
    assert_eq!(text(&from_env.stdout).trim_end(), left);
    // A profile this tool did not write, or none: nothing to say.
    for args in [
        &["prompt", "--profile", "someone-elses"][..],
        &["prompt"][..],
    ] {
        let out = cli.run(args).await;
        assert!(
            out.status.success() && out.stdout.is_empty(),
            "{args:?}: {}",
            text(&out.stdout)
        );
    }
    let after = emu.counters();
    assert_eq!(
        (after.get_role_credentials, after.tokens_from_refresh),
        (before.get_role_credentials, before.tokens_from_refresh),
        "no call to AWS"
    );

    let calls = emu.counters().get_role_credentials;
    let out = cli.run(&["credentials", "--profile", "dev"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let first: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    for _ in 0..3 {
        let out = cli.run(&["credentials", "--profile", "dev"]).await;
        let again: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(again["AccessKeyId"], first["AccessKeyId"]);
        assert_eq!(again["SessionToken"], first["SessionToken"]);
    }
    assert_eq!(
        emu.counters().get_role_credentials,
        calls,
        "warm calls make no network call"
    );
    let creds = sdk_credentials(&files, "dev").await;
    assert_eq!(Some(creds.access_key_id()), first["AccessKeyId"].as_str());
    assert_clear_failure(
        &cli.run(&["credentials", "--profile", "nope"]).await,
        1,
        "no favourite is called 'nope'",
    );

    let out = cli.run(&["status", "--json"]).await;
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(status["sessions"][0]["signedIn"], true, "{status}");
    assert_eq!(status["favourites"][0]["valid"], true, "{status}");

    // The AWS CLI's own set-up is picked up.
    std::fs::write(
        files.config_file(),
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-2\n",
    )
    .expect("config");
    let out = cli.run(&["settings", "import-aws-config"]).await;
    assert_eq!(
        text(&out.stderr),
        "Added https://corp.awsapps.com/start (us-east-2) (from [sso-session corp]).\n"
    );
    let out = cli.run(&["settings", "import-aws-config"]).await;
    assert!(
        text(&out.stderr).starts_with("Already known"),
        "{}",
        text(&out.stderr)
    );

    // Export, then import into a fresh home.
    let out = cli.run(&["settings", "export"]).await;
    let exported = cli.home.path().join("export.json");
    std::fs::write(&exported, &out.stdout).expect("write");
    let other = Cli::new(&emu);
    let out = other
        .run(&["settings", "import", exported.to_str().expect("utf-8")])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = other.run(&["favourite", "list", "--json"]).await;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")[0]["profile"],
        "dev"
    );

    // The daemon writes a favourite's missing profile by itself, and stops on SIGTERM.
    let out = run(add("dev-admin", "AdministratorAccess")).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cli.run(&["profile", "remove", "dev-admin"]).await;
    assert_clear_failure(&out, 1, "'dev-admin' is a favourite's profile");
    cli.remove_behind_its_back("dev-admin");
    let (mut daemon, log) = cli.daemon_until("profile dev-admin renewed").await;
    assert!(log.contains("profile dev-admin renewed"), "{log}");
    assert!(sdk_credentials(&files, "dev-admin")
        .await
        .access_key_id()
        .starts_with("ASIA"));
    let pid = daemon.id().expect("pid");
    std::process::Command::new("kill")
        .arg(pid.to_string())
        .status()
        .expect("kill");
    let status = tokio::time::timeout(Duration::from_secs(10), daemon.wait())
        .await
        .expect("stops")
        .expect("exit");
    assert!(status.success());

    let out = cli.run(&["favourite", "remove", "dev"]).await;
    assert_eq!(
        text(&out.stderr),
        "Removed favourite 'dev' and its profile.\n"
    );
    assert!(files
        .managed_profiles()
        .expect("list")
        .iter()
        .all(|p| p.name != "dev"));
}

#[tokio::test]
async fn fifty_credential_processes_on_a_dead_session_sign_in_once() {
    const CALLERS: usize = 50;
    let (emu, cli) = favourite_without_its_profile().await;
    emu.revoke_sessions();
    let before = emu.counters();

    let children: Vec<_> = (0..CALLERS)
        .map(|_| {
            cli.command(&["credentials", "--profile", "ops"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    // The person approves the one code that shows up.
    let mut approved = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while approved == 0 && tokio::time::Instant::now() < deadline {
        for code in emu.pending_user_codes() {
            assert!(emu.decide(&code, true));
            approved += 1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut keys = std::collections::BTreeSet::new();
    for child in children {
        let out = child.wait_with_output().await.expect("runs");
        assert!(out.status.success(), "{}", text(&out.stderr));
        let p: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        keys.insert(p["AccessKeyId"].as_str().expect("key").to_owned());
    }
    let after = emu.counters();
    assert_eq!(
        after.start_device_authorization - before.start_device_authorization,
        1,
        "one device authorization for {CALLERS} callers"
    );
    assert_eq!(approved, 1);
    // Each caller's first try used the revoked token (a 401), then the new one.
    assert!(after.get_role_credentials - before.get_role_credentials <= 2 * CALLERS as u64);
    println!(
        "{CALLERS} credential_process callers: 1 device authorization, {} GetRoleCredentials, {} distinct keys",
        after.get_role_credentials - before.get_role_credentials,
        keys.len()
    );
}

/// A user signed in with the CLI, with favourite `ops` whose profile is gone: every
/// caller needs the portal, and so the session.
pub(crate) async fn favourite_without_its_profile() -> (Emulator, Cli) {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let account = cli.signed_in_with_account(2).await;
    cli.add_favourite("ops", &account, "ReadOnlyAccess").await;
    cli.remove_behind_its_back("ops");
    (emu, cli)
}

/// A "browser" for the console: records its argument in `args{tag}.txt` (and a page's
/// modes in `modes{tag}.txt`), leaves an idle connection to the loopback port, then
/// follows the link; with the tag "taken", someone else follows the link first.
fn console_browser(dir: &std::path::Path, tag: &str) -> std::path::PathBuf {
    let script = r#"import os, re, socket, sys, urllib.error, urllib.request
d, tag, target = sys.argv[1], sys.argv[2], sys.argv[3]
open(f"{d}/args{tag}.txt", "w").write(target)
if target.startswith("file://"):
    page = target[len("file://"):]
    mode = lambda p: "%o" % (os.stat(p).st_mode & 0o777)
    open(f"{d}/modes{tag}.txt", "w").write(mode(page) + " " + mode(os.path.dirname(page)))
    url = re.search(r'url=([^"]+)"', open(page).read()).group(1)
else:
    url = target
port = int(re.search(r"127\.0\.0\.1:(\d+)", url).group(1))
idle = socket.create_connection(("127.0.0.1", port))
if tag == "taken":
    urllib.request.urlopen(url).read()
try:
    body = urllib.request.urlopen(url).read()
except urllib.error.HTTPError as e:
    body = e.read()
open(f"{d}/page{tag}.html", "wb").write(body)
"#;
    let py = dir.join(format!("console-browser{tag}.py"));
    std::fs::write(&py, script).expect("write");
    let browser = dir.join(format!("console-browser{tag}"));
    std::fs::write(
        &browser,
        format!(
            "#!/bin/sh\nexec python3 '{}' '{}' '{tag}' \"$1\"\n",
            py.display(),
            dir.display()
        ),
    )
    .expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    browser
}

#[tokio::test]
async fn console_opens_through_a_one_time_loopback_redirect() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let account = cli.signed_in_with_account(3).await;
    let out = cli
        .run(&[
            "favourite",
            "add",
            "web",
            "--account",
            &account,
            "--role",
            "ReadOnlyAccess",
            "--region",
            "eu-west-2",
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    // A "browser" that records its argument (and, for a page, its modes), first leaves a
    // connection to the loopback port idle, then follows the link to the console.
    let dir = cli.home.path();
    let browser = console_browser(dir, "");
    let runtime = tempfile::tempdir().expect("runtime dir");
    let started = std::time::Instant::now();
    let out = cli
        .command(&["console", "--profile", "web"])
        .env("BROWSER", &browser)
        .env("AWS_ENDPOINT_URL_SIGNIN", emu.endpoint())
        .env("XDG_RUNTIME_DIR", runtime.path())
        .output()
        .await
        .expect("runs");
    let took = started.elapsed();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).ends_with("Opened the AWS console as favourite web.\n"),
        "{}",
        text(&out.stderr)
    );
    // An idle connection held nothing up.
    assert!(took < Duration::from_secs(4), "{took:?}");
    // The browser was given a private page, not a link anyone could fetch first.
    let args = std::fs::read_to_string(dir.join("args.txt")).expect("args");
    assert!(
        args.starts_with("file://") && args.contains("/aws-sso-tray/console-"),
        "{args}"
    );
    assert!(
        !args.contains("127.0.0.1") && !args.contains("SigninToken"),
        "nothing to take in argv: {args}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("modes.txt")).expect("modes"),
        "600 700"
    );
    // The page is gone once used.
    assert!(!std::path::Path::new(args.trim_start_matches("file://")).exists());
    // The browser follows the redirect on its own time, after the command has ended.
    let read_page = || std::fs::read_to_string(dir.join("page.html")).unwrap_or_default();
    crate::util::eventually(15, || read_page().contains("ReadOnlyAccess")).await;
    let page = read_page();
    assert!(
        page.contains(&account) && page.contains("ReadOnlyAccess"),
        "{page}"
    );
    assert!(page.contains("eu-west-2.console.aws.amazon.com"), "{page}");

    // Without a runtime directory the page is in a private directory of the cache. A
    // program that read the page too and took the link first: the user is told.
    let taker = console_browser(dir, "taken");
    let out = cli
        .command(&["console", "--profile", "web"])
        .env("BROWSER", &taker)
        .env("AWS_ENDPOINT_URL_SIGNIN", emu.endpoint())
        .output()
        .await
        .expect("runs");
    assert_clear_failure(
        &out,
        1,
        "the one-time link to the AWS console was used by something other than your browser",
    );
    assert!(
        !text(&out.stderr).contains("Opened"),
        "{}",
        text(&out.stderr)
    );
    // The browser writes what it was answered after the command has ended.
    let told_page = || std::fs::read_to_string(dir.join("pagetaken.html")).unwrap_or_default();
    crate::util::eventually(15, || !told_page().is_empty()).await;
    let told = told_page();
    assert!(told.contains("already used by something else"), "{told}");

    // --print gives the URL itself, which works once.
    let out = cli
        .command(&[
            "console",
            "--account",
            &account,
            "--role",
            "ReadOnlyAccess",
            "--print",
        ])
        .env("AWS_ENDPOINT_URL_SIGNIN", emu.endpoint())
        .output()
        .await
        .expect("runs");
    let url = text(&out.stdout).trim().to_owned();
    assert!(
        url.contains("Action=login") && url.contains("SigninToken="),
        "{url}"
    );
    let http = reqwest::Client::new();
    assert!(http
        .get(&url)
        .send()
        .await
        .expect("get")
        .status()
        .is_success());
    assert_eq!(http.get(&url).send().await.expect("get").status(), 400);

    // Credentials the endpoint does not accept: a sentence, no secret.
    let bogus = aws_sso_device_auth_provider::RoleCredentials {
        access_key_id: "ASIANOTISSUED".into(),
        secret_access_key: aws_sso_device_auth_provider::Secret::new("s3cr3t-value"),
        session_token: aws_sso_device_auth_provider::Secret::new("t0ken-value"),
        expiration: aws_sso_device_auth_provider::clock::from_epoch_seconds(4_000_000_000),
    };
    let home_page = aws_sso_device_auth_provider::console::Visit {
        destination: aws_sso_device_auth_provider::console::console_home("eu-west-1"),
        session_seconds: None,
    };
    let err = aws_sso_device_auth_provider::console::signin_url(
        &bogus,
        "eu-west-1",
        Some(&emu.endpoint()),
        &home_page,
    )
    .await
    .expect_err("refused")
    .to_string();
    assert!(
        err.contains("refused") && !err.contains("s3cr3t") && !err.contains("t0ken"),
        "{err}"
    );
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let err = aws_sso_device_auth_provider::console::signin_url(
        &bogus,
        "eu-west-1",
        Some(&format!("http://127.0.0.1:{closed}")),
        &home_page,
    )
    .await
    .expect_err("dead network")
    .to_string();
    assert!(
        err.contains("could not reach") && !err.contains("s3cr3t") && !err.contains("t0ken"),
        "{err}"
    );
}

#[tokio::test]
async fn the_session_can_be_shared_with_the_aws_cli_token_cache() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let home = cli.home.path();
    let start_url = unique_start_url();
    std::fs::create_dir_all(home.join(".config/aws-sso-tray")).expect("mkdir");
    std::fs::write(
        home.join(".config/aws-sso-tray/settings.json"),
        r#"{"preferences": {"shareSessionWithAwsCli": true}}"#,
    )
    .expect("settings");
    std::fs::create_dir_all(home.join(".aws")).expect("mkdir");
    std::fs::write(
        home.join(".aws/config"),
        format!("[sso-session corp]\nsso_start_url = {start_url}\nsso_region = eu-west-1\n"),
    )
    .expect("config");
    cli.login(&start_url).await;

    let sha1 = |s: &str| {
        use sha1::Digest;
        let d = sha1::Sha1::digest(s.as_bytes());
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let cache = home.join(".aws/sso/cache");
    let mut tokens = Vec::new();
    for id in [start_url.as_str(), "corp"] {
        let path = cache.join(format!("{}.json", sha1(id)));
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("cache file")).expect("json");
        assert_eq!(json["startUrl"], start_url.as_str());
        assert_eq!(json["region"], "eu-west-1");
        let expires = json["expiresAt"].as_str().expect("expiresAt");
        assert!(expires.ends_with('Z') && expires.len() == 20, "{expires}");
        assert!(json.get("refreshToken").is_none() && json.get("clientSecret").is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        tokens.push(json["accessToken"].as_str().expect("token").to_owned());
    }

    // The AWS SDK for Rust, in its own process with this HOME, reads the same token.
    let files = AwsFiles::new(home.join(".aws/credentials"), home.join(".aws/config"));
    let out = crate::awsfiles::child("sso-token", &files, "x", 1)
        .env("HOME", home)
        .env("AWSFILES_SESSION", "corp")
        .env("AWSFILES_START_URL", &start_url)
        .stdout(std::process::Stdio::piped())
        .output()
        .expect("child");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("TOKEN={}", tokens[0])),
        "{stdout}{}",
        text(&out.stderr)
    );

    // Another tool's file in the cache is none of ours.
    std::fs::write(cache.join("botocore-client-id-x.json"), "{}").expect("theirs");
    let out = cli.run(&["logout"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let left: Vec<String> = std::fs::read_dir(&cache)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    // The copies and their lock files are removed on logout; the other tool's file stays.
    assert_eq!(left, ["botocore-client-id-x.json"], "removed on logout");
}

#[tokio::test]
async fn credential_process_favourites_run_this_binary_from_the_config_file() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let account = cli.signed_in_with_account(4).await;
    let home = cli.home.path();
    std::fs::create_dir_all(home.join(".aws")).expect("mkdir");
    std::fs::write(home.join(".aws/credentials"), "[mine]\nk = v\n").expect("write");
    let out = cli
        .run(&[
            "favourite",
            "add",
            "proc",
            "--account",
            &account,
            "--role",
            "ReadOnlyAccess",
            "--region",
            "eu-west-1",
            "--credential-process",
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let config = std::fs::read_to_string(home.join(".aws/config")).expect("config");
    assert!(
        config.contains("[profile proc]\n")
            && config.contains(&format!(
                // A path with nothing a shell would split stays unquoted.
                "credential_process = {} credentials --profile proc\n",
                env!("CARGO_BIN_EXE_aws-sso-auth")
            ))
            && config.contains("region = eu-west-1\n"),
        "{config}"
    );
    assert_eq!(
        std::fs::read_to_string(home.join(".aws/credentials")).expect("read"),
        "[mine]\nk = v\n"
    );

    // The AWS SDK for Rust, in a process of its own, runs the command from the profile.
    let files = AwsFiles::new(home.join(".aws/credentials"), home.join(".aws/config"));
    let sdk = || {
        let mut c = crate::awsfiles::child("profile-creds", &files, "proc", 1);
        c.env("HOME", home)
            .env("AWS_ENDPOINT_URL_SSO", emu.endpoint())
            .env("AWS_ENDPOINT_URL_SSO_OIDC", emu.endpoint())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("AWS_CONFIG_FILE")
            .env_remove("AWS_SHARED_CREDENTIALS_FILE")
            .env_remove("AWS_PROFILE")
            .stdout(std::process::Stdio::piped());
        // Async: the emulator runs on this test's runtime.
        tokio::process::Command::from(c).output()
    };
    let first = sdk().await.expect("child");
    let key_of = |out: &std::process::Output| {
        text(&out.stdout)
            .split("KEY=")
            .nth(1)
            .map(|k| {
                k.chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect::<String>()
            })
            .unwrap_or_default()
    };
    let key = key_of(&first);
    assert!(
        key.starts_with("ASIA"),
        "{}{}",
        text(&first.stdout),
        text(&first.stderr)
    );
    let calls = emu.counters().get_role_credentials;
    let again = sdk().await.expect("child");
    assert_eq!(key_of(&again), key, "answered from the cache");
    assert_eq!(
        emu.counters().get_role_credentials,
        calls,
        "no network call when warm"
    );
    let cache: Vec<_> = std::fs::read_dir(home.join(".cache/aws-sso-tray/credentials"))
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(cache.len(), 1, "{cache:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache[0])
            .expect("stat")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }

    let out = cli.run(&["favourite", "remove", "proc"]).await;
    assert_eq!(
        text(&out.stderr),
        "Removed favourite 'proc' and its profile.\n"
    );
    assert!(!cache[0].exists(), "the cache goes with the favourite");
    assert!(!std::fs::read_to_string(home.join(".aws/config"))
        .expect("read")
        .contains("proc"));
}

#[tokio::test]
async fn the_daemon_names_a_broken_favourite_and_keeps_the_others_fresh() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let account = cli.signed_in_with_account(0).await;
    let path = cli.home.path().join(".config/aws-sso-tray/settings.json");
    let mut settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("settings")).expect("json");
    let instance = &settings["instances"][0];
    let entry = |profile: &str, start_url: &str| {
        serde_json::json!({
            "profile": profile,
            "startUrl": start_url,
            "ssoRegion": instance["region"],
            "accountId": account,
            "roleName": "ReadOnlyAccess",
        })
    };
    let start_url = instance["startUrl"].as_str().expect("url").to_owned();
    settings["favourites"] = serde_json::json!([
        entry("two\nlines", &start_url),
        entry("good", &start_url),
        entry("plain-http", "http://portal.example.com/start"),
    ]);
    std::fs::write(&path, settings.to_string()).expect("write");
    let before = std::fs::read(&path).expect("read");

    let (mut daemon, log) = cli.daemon_until("profile good renewed").await;
    daemon.kill().await.expect("kill");
    assert!(
        log.contains(r#"skipped: favourite 'two\nlines' in "#)
            && log.contains("cannot be a profile name"),
        "{log}"
    );
    assert!(
        log.contains("skipped: favourite 'plain-http' in ") && log.contains("must use https"),
        "{log}"
    );
    assert!(log.contains("profile good renewed"), "{log}");
    // One line per skipped entry: the newline in the name is shown escaped.
    assert_eq!(
        log.lines().filter(|l| l.contains("skipped:")).count(),
        2,
        "{log}"
    );
    // The file still holds the entries as they were.
    assert_eq!(std::fs::read(&path).expect("read"), before);
    let out = cli.run(&["favourite", "list"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("good"));
    assert_eq!(text(&out.stderr).matches("warning: skipped").count(), 2);
}

#[tokio::test]
async fn list_prints_every_account_with_its_roles_from_the_cache_while_fresh() {
    let emu = emulator(EmulatorConfig {
        accounts: 30,
        ..EmulatorConfig::default()
    })
    .await;
    let org = emu.organisation();
    let cli = Cli::new(&emu);
    cli.login(&unique_start_url()).await;
    let json = |out: &Output| -> serde_json::Value {
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("json")
    };

    // From nothing: every account's roles, read once.
    let before = emu.counters();
    let all = json(&cli.run(&["list", "--json"]).await);
    let read = emu.counters();
    let listed = all.as_array().expect("list");
    assert_eq!(listed.len(), org.len());
    // In the order the window shows them (by name; a unit test holds the rule).
    for got in listed {
        let want = org
            .iter()
            .find(|a| got["accountId"] == a.account_id.as_str())
            .expect("an account of the organisation");
        assert_eq!(got["accountName"], want.account_name.as_str());
        let roles: Vec<&str> = got["roles"]
            .as_array()
            .expect("roles")
            .iter()
            .map(|r| r["roleName"].as_str().expect("role"))
            .collect();
        assert_eq!(
            roles,
            want.roles.iter().map(String::as_str).collect::<Vec<_>>()
        );
    }
    assert_eq!(
        read.list_account_roles - before.list_account_roles,
        org.len() as u64
    );

    // Again: from the cache, no call at all.
    assert_eq!(json(&cli.run(&["list", "--json"]).await), all);
    let again = emu.counters();
    assert_eq!(
        (again.list_accounts, again.list_account_roles),
        (read.list_accounts, read.list_account_roles)
    );

    // Filters: an account by name or id, roles by a glob, case-insensitive.
    let target = &org[7];
    let out = cli.run(&["list", "--account", &target.account_name]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: Vec<String> = text(&out.stdout)
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect();
    assert_eq!(rows.len(), target.roles.len(), "{rows:?}");
    assert!(
        rows.iter().all(|r| r.starts_with(&target.account_id)),
        "{rows:?}"
    );
    let by_id = json(
        &cli.run(&["list", "--account", &target.account_id, "--json"])
            .await,
    );
    assert_eq!(by_id.as_array().map(Vec::len), Some(1));
    let role = &target.roles[0];
    let glob = format!("{}*", role[..3].to_lowercase());
    let some = json(&cli.run(&["list", "--role", &glob, "--json"]).await);
    for a in some.as_array().expect("list") {
        for r in a["roles"].as_array().expect("roles") {
            let name = r["roleName"].as_str().expect("role").to_lowercase();
            assert!(name.starts_with(&role[..3].to_lowercase()), "{name}");
        }
    }
    assert!(some.as_array().is_some_and(|a| !a.is_empty()));
    let none = json(&cli.run(&["list", "--role", "NoSuchRole*", "--json"]).await);
    assert_eq!(none, serde_json::json!([]));

    // --refresh reads it all again.
    let out = cli.run(&["list", "--refresh"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let after = emu.counters();
    assert_eq!(
        after.list_account_roles - again.list_account_roles,
        org.len() as u64
    );
    assert_eq!(
        text(&out.stdout).lines().count(),
        1 + org.iter().map(|a| a.roles.len()).sum::<usize>()
    );

    // A bad glob is one sentence.
    let out = cli.run(&["list", "--account", "[oops"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}
