//! Malformed input of every kind — command lines, the settings file, the AWS credentials
//! and config files, and broken replies from the service — each answered with one clear
//! sentence and a non-zero exit, and with no file written or created.

use crate::cli::{clear_failure, text, Cli};
use crate::util::emulator;
use aws_sso_emulator::{EmulatorConfig, ReplyFault};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a case puts a file, relative to the home directory.
const SETTINGS: &str = ".config/aws-sso-tray/settings.json";
const CREDENTIALS: &str = ".aws/credentials";
const CONFIG: &str = ".aws/config";

/// What a case puts in place before the command runs.
enum Seed {
    File(&'static str, Vec<u8>),
    Dir(&'static str),
    /// A link pointing at itself.
    LinkLoop(&'static str),
    ReadOnly(&'static str, Vec<u8>),
}

struct Case {
    name: &'static str,
    seeds: Vec<Seed>,
    fault: Option<ReplyFault>,
    /// `{account}` is replaced by an account id of the organisation.
    args: Vec<String>,
    /// `{home}` in a value is replaced by the home directory.
    env: Vec<(&'static str, String)>,
    exit: i32,
    expect: &'static str,
}

fn case(name: &'static str, args: &[&str], exit: i32, expect: &'static str) -> Case {
    Case {
        name,
        seeds: Vec::new(),
        fault: None,
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        env: Vec::new(),
        exit,
        expect,
    }
}

impl Case {
    fn seed(mut self, seed: Seed) -> Self {
        self.seeds.push(seed);
        self
    }
    fn fault(mut self, fault: ReplyFault) -> Self {
        self.fault = Some(fault);
        self
    }
    fn env(mut self, k: &'static str, v: impl Into<String>) -> Self {
        self.env.push((k, v.into()));
        self
    }
}

fn file(at: &'static str, bytes: impl Into<Vec<u8>>) -> Seed {
    Seed::File(at, bytes.into())
}

fn login(url: &str, region: &str) -> Vec<String> {
    [
        "login",
        "--start-url",
        url,
        "--sso-region",
        region,
        "--device-code",
        "--no-browser",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn profile_write(name: &str) -> Vec<String> {
    [
        "profile",
        "write",
        name,
        "--account",
        "{account}",
        "--role",
        "ReadOnlyAccess",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn with(mut args: Vec<String>, more: &[&str]) -> Vec<String> {
    args.extend(more.iter().map(|a| (*a).to_owned()));
    args
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn cases() -> Vec<Case> {
    let c = |name, args: Vec<String>, exit, expect| Case {
        args,
        ..case(name, &[], exit, expect)
    };
    let not_url = "is not a valid AWS access portal start URL";
    let not_region = "is not an AWS region name";
    let not_name = "cannot be a profile name";
    let bad_settings = "settings.json is not valid";
    let write = profile_write("dev");
    let long_region = "eu-west-".repeat(25);
    let long_name = "p".repeat(300);
    let huge_settings = {
        let mut s = br#"{"favourites": ""#.to_vec();
        s.resize(10 << 20, b'x');
        s
    };
    // 50 MB of comments the SDKs skip, then a line they cannot read.
    let huge_credentials = {
        let mut s = b"[mine]\naws_access_key_id = AKIAMINE\n".to_vec();
        let comment = b"# padding padding padding padding padding padding padding pad\n";
        while s.len() < 50 << 20 {
            s.extend_from_slice(comment);
        }
        s.extend_from_slice(b"[broken\n");
        s
    };
    let huge_line: &'static str = format!(
        "credentials line {} is",
        huge_credentials.iter().filter(|&&b| b == b'\n').count()
    )
    .leak();
    let mut cases = vec![
        // (a) the command line
        c("start URL http://", login("http://my-org.awsapps.com/start", "eu-west-1"), 1, "must use https"),
        c("start URL without a host", login("https:///start", "eu-west-1"), 1, "it has no host"),
        c("start URL with spaces", login("https://my org.awsapps.com/start", "eu-west-1"), 1, not_url),
        c("start URL javascript:", login("javascript:alert(1)", "eu-west-1"), 1, not_url),
        c("start URL empty", login("", "eu-west-1"), 1, not_url),
        c("region with spaces", login("https://x.awsapps.com/start", "eu west 1"), 1, not_region),
        c("region empty", login("https://x.awsapps.com/start", ""), 1, "no region was given"),
        c("region of 200 chars", login("https://x.awsapps.com/start", &long_region), 1, not_region),
        c("profile name with ]", profile_write("a]b"), 1, not_name),
        c("profile name with newline", profile_write("two\nlines"), 1, "\"two\\nlines\" cannot be"),
        c("profile name with =", profile_write("a=b"), 1, not_name),
        c("profile name empty", profile_write(""), 1, "it is empty"),
        c("profile name of 300 chars", profile_write(&long_name), 1, "longer than 128"),
        c("profile write region bad", with(write.clone(), &["--region", "mars"]), 1, not_region),
        c("favourite name with space", ["favourite", "add", "a b", "--account", "{account}", "--role", "ReadOnlyAccess"].map(str::to_owned).to_vec(), 1, not_name),
        c("console region bad", ["console", "--account", "{account}", "--role", "ReadOnlyAccess", "--region", "moon", "--print"].map(str::to_owned).to_vec(), 1, not_region),
        case("unknown subcommand", &["frobnicate"], 2, "unrecognized subcommand 'frobnicate'"),
        case("roles without --account", &["roles"], 2, "--account"),
        case("credentials --format yaml", &["credentials", "--account", "1", "--role", "r", "--format", "yaml"], 2, "invalid value 'yaml'"),
        case("glob [", &["accounts", "--name", "["], 1, "is not a valid glob"),
        // Hostile text echoed in an error is shown, never acted on by the terminal.
        case("account name with an escape sequence", &["roles", "--account-name", "\x1b]0;pwned\x07\x1bc"], 1, "no account matches '\\u{1b}]0;pwned\\u{7}\\u{1b}c'"),
        case("account name with a bidi override", &["roles", "--account-name", "\u{202e}dorp"], 1, "'\\u{202e}dorp'"),
        case("favourite name with a bidi override", &["favourite", "add", "a\u{202e}b", "--account", "{account}", "--role", "ReadOnlyAccess"], 1, not_name),
        case("a 500-character pattern of markup", &["roles", "--account-name", &"<b>&".repeat(125)], 1, "no account matches '<b>&<b>&"),
        case("endpoint ftp://", &["accounts"], 1, "AWS_ENDPOINT_URL_SSO").env("AWS_ENDPOINT_URL_SSO", "ftp://x"),
        // Plain http anywhere but this machine would carry the session token in clear.
        case("AWS_ENDPOINT_URL plain http to a host", &["accounts"], 1, "plain http is only for this machine")
            .env("AWS_ENDPOINT_URL", "http://localstack.example:4566"),
        case("SSO endpoint plain http to an address", &["credentials", "--account", "{account}", "--role", "ReadOnlyAccess"], 1, "from AWS_ENDPOINT_URL_SSO is refused")
            .env("AWS_ENDPOINT_URL_SSO", "http://10.1.2.3:4566"),
        case("credentials --profile, endpoint plain http", &["credentials", "--profile", "p"], 1, "plain http is only for this machine")
            .env("AWS_ENDPOINT_URL", "http://localstack.example:4566"),
        c("OIDC endpoint plain http, at login", login("https://w.awsapps.com/start", "eu-west-1"), 1, "plain http is only for this machine")
            .env("AWS_ENDPOINT_URL_SSO_OIDC", "http://sso.example"),
        case("sign-in endpoint plain http", &["console", "--account", "{account}", "--role", "ReadOnlyAccess", "--print"], 1, "AWS_ENDPOINT_URL_SIGNIN")
            .env("AWS_ENDPOINT_URL_SIGNIN", "http://signin.example"),
        // (A session is sent only where it was made: a sign-in meets the dead network.)
        case("dead network", &["login", "--start-url", "https://dead.awsapps.com/start", "--sso-region", "eu-west-1", "--device-code", "--no-browser"], 1, "could not reach AWS SSO")
            .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{}", closed_port()))
            .env("AWS_ENDPOINT_URL_SSO", "")
            .env("AWS_ENDPOINT_URL_SSO_OIDC", ""),
        case("endpoints moved since the sign-in", &["accounts"], 3, "it is not sent there; sign in again")
            .env("AWS_ENDPOINT_URL_SSO", format!("http://127.0.0.1:{}", closed_port())),
        case("unknown favourite", &["credentials", "--profile", "nosuch"], 1, "no favourite is called 'nosuch'"),
        case("import a missing file", &["settings", "import", "{home}/nope.json"], 1, "could not read"),
        case("import a file of junk", &["settings", "import", "{home}/junk.json"], 1, "junk.json is not valid")
            .seed(file("junk.json", "<xml/>")),
        // A favourite that would fail on every renewal is refused on the way in, named.
        case("import a favourite named a]b", &["settings", "import", "{home}/bad-names.json"], 1, "nothing was imported: favourite 'a]b' (\"a]b\" cannot be a profile name")
            .seed(file("bad-names.json", r#"{"favourites": [{"profile": "a]b", "startUrl": "https://x.awsapps.com/start", "ssoRegion": "eu-west-1", "accountId": "111122223333", "roleName": "R"}, {"profile": "ok", "startUrl": "http://x.example/start", "ssoRegion": "eu-west-1", "accountId": "111122223333", "roleName": "R"}]}"#)),
        // (b) the settings file
        case("settings not JSON", &["accounts"], 1, bad_settings).seed(file(SETTINGS, "{ broken")),
        case("settings a JSON array", &["favourite", "list"], 1, bad_settings).seed(file(SETTINGS, "[]")),
        case("settings favourites: 3", &["status"], 1, "invalid type: integer `3`").seed(file(SETTINGS, r#"{"favourites": 3}"#)),
        case("settings favourite without accountId", &["credentials", "--profile", "p"], 1, "favourite 'p' in")
            .seed(file(SETTINGS, r#"{"favourites": [{"profile": "p", "startUrl": "https://x.awsapps.com/start", "ssoRegion": "eu-west-1", "roleName": "r"}]}"#)),
        case("settings of 10 MB", &["favourite", "list"], 1, "EOF while parsing").seed(file(SETTINGS, huge_settings)),
        case("settings with NUL bytes", &["settings", "export"], 1, bad_settings).seed(file(SETTINGS, b"{}\0\0\0".to_vec())),
        case("settings not UTF-8", &["accounts"], 1, bad_settings).seed(file(SETTINGS, b"{\"label\": \"\xff\xfe\"}".to_vec())),
        case("settings nested 10000 deep", &["accounts"], 1, "recursion limit")
            .seed(file(SETTINGS, format!(r#"{{"future": {}"#, "[".repeat(10_000)))),
        case("settings unknown sign-in flow", &["settings", "import-aws-config"], 1, "unknown variant `telepathy`")
            .seed(file(SETTINGS, r#"{"preferences": {"signInFlow": "telepathy"}}"#)),
        case("settings a directory", &["favourite", "list"], 1, "could not read").seed(Seed::Dir(SETTINGS)),
        case("settings a link loop", &["accounts"], 1, "could not read").seed(Seed::LinkLoop(SETTINGS)),
        c("settings broken before a login", login("https://y.awsapps.com/start", "eu-west-1"), 1, bad_settings)
            .seed(file(SETTINGS, "{ broken")),
        case("settings in XDG_CONFIG_HOME broken", &["accounts"], 1, "xdg/aws-sso-tray/settings.json is not valid")
            .env("XDG_CONFIG_HOME", "{home}/xdg")
            .seed(file("xdg/aws-sso-tray/settings.json", "nope")),
        case("settings default instance not a URL", &["accounts"], 1, not_url)
            .seed(file(SETTINGS, r#"{"instances": [{"startUrl": "portal", "region": "eu-west-1"}], "defaultInstance": "portal"}"#)),
        // (c) the AWS credentials and config files
        c("credentials header without ]", write.clone(), 1, "credentials line 2 is")
            .seed(file(CREDENTIALS, "# mine\n[mine\naws_access_key_id = A\n")),
        c("config line without =", with(write.clone(), &["--region", "eu-west-1"]), 1, "config line 3 is")
            .seed(file(CONFIG, "[profile mine]\nregion = eu-west-1\njust some words\n")),
        c("credentials not UTF-8", write.clone(), 1, "not UTF-8 text")
            .seed(file(CREDENTIALS, b"[mine]\naws_access_key_id = \xff\xfe\n".to_vec())),
        c("credentials of 50 MB", write.clone(), 1, huge_line).seed(file(CREDENTIALS, huge_credentials)),
        c("credentials a directory", write.clone(), 1, "could not read").seed(Seed::Dir(CREDENTIALS)),
        c("credentials read-only", write.clone(), 1, "is read-only")
            .seed(Seed::ReadOnly(CREDENTIALS, b"[mine]\naws_access_key_id = A\n".to_vec())),
        c("credentials a link loop", write.clone(), 1, "a loop?").seed(Seed::LinkLoop(CREDENTIALS)),
        c("AWS_SHARED_CREDENTIALS_FILE broken", write.clone(), 1, "elsewhere/creds line 1 is")
            .env("AWS_SHARED_CREDENTIALS_FILE", "{home}/elsewhere/creds")
            .seed(file("elsewhere/creds", "[\n")),
        c("AWS_CONFIG_FILE a directory", with(write.clone(), &["--region", "eu-west-1"]), 1, "could not read")
            .env("AWS_CONFIG_FILE", "{home}/elsewhere/conf")
            .seed(Seed::Dir("elsewhere/conf")),
        case("profile list, credentials broken", &["profile", "list"], 1, "credentials line 1 is").seed(file(CREDENTIALS, "[x\n")),
        case("profile remove, config broken", &["profile", "remove", "dev"], 1, "config line 1 is").seed(file(CONFIG, "[profile dev\n")),
        case("import-aws-config, config broken", &["settings", "import-aws-config"], 1, "config line 2 is")
            .seed(file(CONFIG, "[sso-session corp]\n= no key\n")),
        case("status, credentials not UTF-8", &["status"], 1, "not UTF-8 text").seed(file(CREDENTIALS, b"\xc3\x28".to_vec())),
    ];
    // (d) the service's replies
    let accounts = || vec!["accounts".to_owned()];
    let roles = || {
        ["roles", "--account", "{account}"]
            .map(str::to_owned)
            .to_vec()
    };
    let creds = || {
        [
            "credentials",
            "--account",
            "{account}",
            "--role",
            "ReadOnlyAccess",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let faults: [(&'static str, ReplyFault); 6] = [
        ("missing fields", ReplyFault::MissingFields),
        ("wrong types", ReplyFault::WrongTypes),
        ("huge body", ReplyFault::HugeBody),
        ("HTML 200", ReplyFault::Html(200)),
        ("HTML 502", ReplyFault::Html(502)),
        ("truncated", ReplyFault::Truncated),
    ];
    for (op, args, operation) in [
        ("accounts", accounts as fn() -> Vec<String>, "ListAccounts"),
        ("roles", roles, "ListAccountRoles"),
        ("credentials", creds, "GetRoleCredentials"),
    ] {
        for (what, fault) in faults {
            let name: &'static str = format!("{op}: reply {what}").leak();
            let expect: &'static str = match fault {
                ReplyFault::Html(502) => "and no AWS error in it, as a proxy or gateway does",
                _ => format!("unexpected reply to {operation}").leak(),
            };
            cases.push(c(name, args(), 1, expect).fault(fault));
        }
    }
    // A reply without its list is not "none": accounts and roles each say so.
    cases.push(
        c(
            "accounts: reply without accountList",
            accounts(),
            1,
            "no accountList in the reply",
        )
        .fault(ReplyFault::NoList),
    );
    cases.push(
        c(
            "roles: reply without roleList",
            roles(),
            1,
            "no roleList in the reply",
        )
        .fault(ReplyFault::NoList),
    );
    for (what, fault) in [faults[0], faults[1], faults[3], faults[5]] {
        let name: &'static str = format!("login: CreateToken {what}").leak();
        cases.push(
            c(
                name,
                login("https://z.awsapps.com/start", "eu-west-1"),
                1,
                "unexpected reply to CreateToken",
            )
            .fault(fault),
        );
    }
    cases.push(
        c(
            "profile write: reply truncated",
            write.clone(),
            1,
            "unexpected reply",
        )
        .seed(file(CREDENTIALS, "[mine]\naws_access_key_id = A\n"))
        .fault(ReplyFault::Truncated),
    );
    cases.push(
        c(
            "favourite add: reply missing fields",
            [
                "favourite",
                "add",
                "fav",
                "--account",
                "{account}",
                "--role",
                "ReadOnlyAccess",
            ]
            .map(str::to_owned)
            .to_vec(),
            1,
            "unexpected reply to ListAccountRoles",
        )
        .fault(ReplyFault::MissingFields),
    );
    cases
}

/// Every file, directory and link under `dir`, with the bytes of the files.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let what = if meta.file_type().is_symlink() {
                format!("link to {:?}", std::fs::read_link(&path).ok())
            } else if meta.is_dir() {
                walk(&path, out);
                "dir".to_owned()
            } else {
                use sha2::Digest;
                let bytes = std::fs::read(&path).unwrap_or_default();
                format!(
                    "{} bytes, sha256 {:x}, read-only {}",
                    bytes.len(),
                    sha2::Sha256::digest(&bytes),
                    meta.permissions().readonly()
                )
            };
            out.insert(path, what);
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, &mut out);
    out
}

/// Puts `home` back as it was after the sign-in: the settings file, and nothing else
/// that a case may have seeded.
fn restore(home: &Path, settings: &[u8]) {
    for dir in [".aws", "elsewhere", "xdg", ".config/aws-sso-tray"] {
        let dir = home.join(dir);
        // A read-only file in it would not stop a removal, but make sure anyway.
        for (path, _) in snapshot(&dir) {
            if let Ok(m) = std::fs::symlink_metadata(&path) {
                if !m.file_type().is_symlink() {
                    let mut p = m.permissions();
                    #[allow(clippy::permissions_set_readonly_false)]
                    p.set_readonly(false);
                    let _ = std::fs::set_permissions(&path, p);
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _ = std::fs::remove_file(home.join("junk.json"));
    std::fs::create_dir_all(home.join(".config/aws-sso-tray")).expect("mkdir");
    std::fs::write(home.join(SETTINGS), settings).expect("settings");
}

fn plant(home: &Path, seed: &Seed) {
    let at = |rel: &str| {
        let p = home.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        let _ = std::fs::remove_file(&p);
        p
    };
    match seed {
        Seed::File(rel, bytes) => std::fs::write(at(rel), bytes).expect("seed"),
        Seed::Dir(rel) => std::fs::create_dir_all(at(rel)).expect("seed dir"),
        Seed::LinkLoop(rel) => {
            let p = at(rel);
            std::os::unix::fs::symlink(&p, &p).expect("link");
        }
        Seed::ReadOnly(rel, bytes) => {
            let p = at(rel);
            std::fs::write(&p, bytes).expect("seed");
            let mut perms = std::fs::metadata(&p).expect("stat").permissions();
            perms.set_readonly(true);
            std::fs::set_permissions(&p, perms).expect("chmod");
        }
    }
}

#[tokio::test]
async fn malformed_input_is_refused_with_one_sentence_and_nothing_written() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let account = cli.signed_in_with_account(0).await;
    let home = cli.home.path().to_owned();
    let settings = std::fs::read(home.join(SETTINGS)).expect("settings after sign-in");
    let home_str = home.to_string_lossy().into_owned();

    let cases = cases();
    let mut problems = Vec::new();
    println!("{:<42} | exit | message", "case");
    for case in &cases {
        restore(&home, &settings);
        for seed in &case.seeds {
            plant(&home, seed);
        }
        let watched = [".aws", ".config", "elsewhere", "xdg"];
        // Any sign-in attempt takes the instance's lock file, which is never deleted
        // (deleting lock files races); it holds no data.
        let sign_in_locks = home.join(".config/aws-sso-tray/locks");
        let state = || -> Vec<_> {
            watched
                .iter()
                .map(|d| {
                    let mut s = snapshot(&home.join(d));
                    s.retain(|p, _| !p.starts_with(&sign_in_locks));
                    s
                })
                .collect()
        };
        let before = state();
        let args: Vec<String> = case
            .args
            .iter()
            .map(|a| {
                a.replace("{account}", &account)
                    .replace("{home}", &home_str)
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut command = cli.command(&args);
        for (k, v) in &case.env {
            command.env(k, v.replace("{home}", &home_str));
        }
        // Sign-ins are approved at once, so a login case meets its CreateToken reply.
        emu.configure(|c| {
            c.reply_fault = case.fault;
            c.auto_approve = true;
        });
        let out = tokio::time::timeout(std::time::Duration::from_secs(120), command.output())
            .await
            .expect("finishes")
            .expect("runs");
        emu.configure(|c| c.reply_fault = None);
        let after = state();

        let err = text(&out.stderr);
        let said = err
            .lines()
            .find(|l| l.starts_with("aws-sso-auth: "))
            .unwrap_or_else(|| err.lines().next().unwrap_or_default());
        let said: String = said.chars().take(150).collect();
        println!(
            "{:<42} | {:>4} | {said}",
            case.name,
            out.status.code().map_or("-".into(), |c| c.to_string())
        );
        if let Err(p) = clear_failure(&out, case.exit, case.expect) {
            problems.push(format!("{}: {p}", case.name));
        }
        if let Some(c) = crate::cli::acts_on_screen(&err) {
            problems.push(format!(
                "{}: {c:?} reached the terminal: {err:?}",
                case.name
            ));
        }
        let changed: Vec<String> = before
            .iter()
            .zip(&after)
            .flat_map(|(b, a)| {
                let paths: std::collections::BTreeSet<_> = b.keys().chain(a.keys()).collect();
                paths
                    .into_iter()
                    .filter(|p| b.get(*p) != a.get(*p))
                    .map(|p| format!("{}: {:?} -> {:?}", p.display(), b.get(p), a.get(p)))
                    .collect::<Vec<_>>()
            })
            .collect();
        if !changed.is_empty() {
            problems.push(format!(
                "{}: files changed: {}",
                case.name,
                changed.join("; ")
            ));
        }
    }
    restore(&home, &settings);
    println!("{} cases", cases.len());
    assert!(cases.len() >= 40);
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
