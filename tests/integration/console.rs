//! `aws-sso-auth console` with browsers as a person has them: each family's program on
//! PATH (and `$BROWSER`), started on the private page and following it, with a cookie jar
//! per browser profile and per Firefox container, to the emulator's console; pages,
//! session lengths, a favourite's console settings, several accounts at once, and
//! colours read from the account.

use crate::cli::{clear_failure, hostile_names, text, Cli};
use crate::util::{emulator, eventually};
use aws_sso_emulator::{Emulator, EmulatorConfig};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::process::Command;

/// What every fake browser runs: records its arguments (NUL-terminated, so any argument
/// is kept whole), reads the page it was given, checks that its three ways on (meta
/// refresh, script, link) agree, plays a container extension for an `ext+…:` link, and
/// follows the link with the cookie jar of its profile (or container), as a browser
/// would; then records where it arrived.
const FAKE_BROWSER: &str = r#"import hashlib, html, http.cookiejar, json, os, re, sys
import urllib.error, urllib.parse, urllib.request
name, d, args = sys.argv[1], sys.argv[2], sys.argv[3:]
runs = os.path.join(d, "runs")
os.makedirs(runs, exist_ok=True)
run = os.path.join(runs, "%s-%d" % (name, os.getpid()))
with open(run + ".argv", "wb") as f:
    f.write(b"".join(os.fsencode(a) + b"\0" for a in args))
record = {"browser": name}
try:
    profile, pages, i = "default", [], 0
    while i < len(args):
        a = args[i]
        if a.startswith("--profile-directory="):
            profile = a.split("=", 1)[1]
        elif a == "-P" and i + 1 < len(args):
            i += 1
            profile = args[i]
        elif not a.startswith("-"):
            pages.append(a)
        i += 1
    jar_key = name + "|" + profile
    target = pages[-1] if pages else ""
    if target.startswith("file://"):
        path = urllib.request.url2pathname(urllib.parse.urlparse(target).path)
        page = open(path, encoding="utf-8").read()
        meta = re.search(r'http-equiv="refresh" content="0;url=([^"]*)"', page).group(1)
        link = re.search(r'<a id="next" href="([^"]*)"', page).group(1)
        script = re.search(r"location\.replace\((.*?)\);</script>", page).group(1)
        record["ways"] = [html.unescape(meta), html.unescape(link), json.loads(script)]
        link = html.unescape(link)
    else:
        link = target
    record["link"] = link
    url = link
    m = re.match(r"(ext\+container|ext\+granted-containers):(.*)$", link, re.S)
    if m:
        # The container extension: the link's form parameters, the page in the named
        # container (a cookie jar of its own).
        pairs = urllib.parse.parse_qsl(m.group(2), keep_blank_values=True, strict_parsing=True)
        record["container"] = {"scheme": m.group(1), "pairs": pairs}
        params = dict(pairs)
        url = params["url"]
        jar_key += "|container|" + params["name"]
    record["url"] = url
    record["jar"] = jar_key
    jars = os.path.join(d, "jars")
    os.makedirs(jars, exist_ok=True)
    jar_file = os.path.join(jars, hashlib.sha256(jar_key.encode()).hexdigest())
    jar = http.cookiejar.LWPCookieJar(jar_file)
    if os.path.exists(jar_file):
        jar.load(ignore_discard=True)
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar))
    try:
        body = opener.open(url, timeout=30).read()
    except urllib.error.HTTPError as e:
        body = e.read()
        record["status"] = e.code
    jar.save(ignore_discard=True)
    record["page"] = body.decode("utf-8", "replace")
    record["cookies"] = {c.name: c.value for c in jar}
except Exception as e:
    record["error"] = repr(e)
with open(run + ".tmp", "w") as f:
    json.dump(record, f)
os.rename(run + ".tmp", run + ".json")
"#;

/// The programs each browser family is looked for by, and the name `$BROWSER`'s fake
/// records itself under.
const PROGRAMS: [&str; 5] = [
    "chromium",
    "google-chrome",
    "microsoft-edge",
    "brave-browser",
    "firefox",
];
const DEFAULT_BROWSER: &str = "default-browser";

/// Fake browsers installed for one user: a directory of them first on the command's
/// PATH, one as `$BROWSER`, and what each run recorded.
struct Browsers {
    dir: PathBuf,
    bin: PathBuf,
    default: PathBuf,
}

/// One run of a fake browser: its arguments and what it recorded.
#[derive(Debug)]
struct Run {
    browser: String,
    argv: Vec<String>,
    record: serde_json::Value,
}

impl Browsers {
    fn install(cli: &Cli) -> Self {
        let dir = cli.home.path().join("browsers");
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        let script = dir.join("fake-browser.py");
        std::fs::write(&script, FAKE_BROWSER).expect("write");
        let wrapper = |path: &Path, name: &str| {
            std::fs::write(
                path,
                format!(
                    "#!/bin/sh\nexec python3 '{}' '{name}' '{}' \"$@\"\n",
                    script.display(),
                    dir.display()
                ),
            )
            .expect("write");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        };
        for name in PROGRAMS {
            wrapper(&bin.join(name), name);
        }
        let default = dir.join(DEFAULT_BROWSER);
        wrapper(&default, DEFAULT_BROWSER);
        Self { dir, bin, default }
    }

    /// `aws-sso-auth ARGS` with the fake browsers, the federation endpoint at `signin`
    /// and UXC at the emulator.
    fn command_with(&self, cli: &Cli, args: &[&str], signin: &str) -> Command {
        let mut c = cli.command(args);
        let path = std::env::join_paths(std::iter::once(self.bin.clone()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))
        .expect("PATH");
        c.env("PATH", path)
            .env("BROWSER", &self.default)
            .env("AWS_ENDPOINT_URL_SIGNIN", signin)
            .env("AWS_ENDPOINT_URL_UXC", &cli.endpoint);
        c
    }

    async fn run_with(&self, cli: &Cli, args: &[&str], signin: &str) -> Output {
        tokio::time::timeout(
            Duration::from_secs(60),
            self.command_with(cli, args, signin).output(),
        )
        .await
        .expect("finishes")
        .expect("runs")
    }

    /// `aws-sso-auth ARGS` with the federation endpoint at the emulator.
    async fn run(&self, cli: &Cli, args: &[&str]) -> Output {
        self.run_with(cli, args, &cli.endpoint).await
    }

    /// The runs started so far (each names its browser and process).
    fn started(&self) -> BTreeSet<String> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("runs")) else {
            return BTreeSet::new();
        };
        entries
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                name.strip_suffix(".argv").map(str::to_owned)
            })
            .collect()
    }

    /// Runs `aws-sso-auth ARGS`, which must succeed having started exactly one browser,
    /// and waits for that browser to arrive.
    async fn open(&self, cli: &Cli, args: &[&str]) -> Run {
        let before = self.started();
        let out = self.run(cli, args).await;
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let new: Vec<String> = self.started().difference(&before).cloned().collect();
        assert_eq!(new.len(), 1, "{args:?} started one browser: {new:?}");
        let stem = self.dir.join("runs").join(&new[0]);
        let json = stem.with_extension("json");
        assert!(
            eventually(20, || json.exists()).await,
            "the browser {} arrived somewhere",
            new[0]
        );
        let record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&json).expect("record")).expect("json");
        let raw = std::fs::read(stem.with_extension("argv")).expect("argv");
        // Each argument NUL-terminated: the last piece is the empty one after the last NUL.
        let pieces: Vec<&[u8]> = raw.split(|b| *b == 0).collect();
        let argv: Vec<String> = pieces[..pieces.len().saturating_sub(1)]
            .iter()
            .map(|a| String::from_utf8(a.to_vec()).expect("utf-8 argument"))
            .collect();
        assert!(record.get("error").is_none(), "{args:?}: {record}");
        Run {
            browser: record["browser"].as_str().unwrap_or_default().to_owned(),
            argv,
            record,
        }
    }

    /// A browser that forgot every cookie (a fresh profile for each).
    fn forget_cookies(&self) {
        let _ = std::fs::remove_dir_all(self.dir.join("jars"));
    }
}

impl Run {
    /// The page the browser reached.
    fn page(&self) -> &str {
        self.record["page"].as_str().unwrap_or_default()
    }

    /// The text of the page's element `id`, unescaped.
    fn field(&self, id: &str) -> Option<String> {
        let page = self.page();
        let start = page.find(&format!("id=\"{id}\">"))? + id.len() + 6;
        let end = start + page[start..].find('<')?;
        Some(
            page[start..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&"),
        )
    }

    /// The console's (account, role), if the browser reached it.
    fn console(&self) -> Option<(String, String)> {
        Some((self.field("account")?, self.field("role")?))
    }

    /// The container link's scheme and form parameters, in order.
    fn container(&self) -> Option<(String, Vec<(String, String)>)> {
        let c = self.record.get("container")?;
        let pairs = c["pairs"]
            .as_array()?
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap_or_default().to_owned(),
                    p[1].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        Some((c["scheme"].as_str()?.to_owned(), pairs))
    }

    /// The value of the emulator's console cookie in the browser's jar.
    fn signed_in(&self) -> Option<&str> {
        self.record["cookies"]["emulator-console"].as_str()
    }

    /// Checks the hand-off: the browser got exactly one private `file://` page, last,
    /// and nothing in its arguments that a process listing could use (the loopback
    /// address, the token, `secrets`); the page's three ways on agree and lead, maybe
    /// through a container link, to the one-time loopback address.
    fn assert_private_handoff(&self, secrets: &[&str]) {
        let pages: Vec<&String> = self
            .argv
            .iter()
            .filter(|a| a.starts_with("file://"))
            .collect();
        assert_eq!(pages.len(), 1, "one page: {:?}", self.argv);
        assert_eq!(self.argv.last(), pages.first().copied(), "{:?}", self.argv);
        let file = pages[0].rsplit('/').next().unwrap_or_default();
        assert!(
            pages[0].contains("/aws-sso-tray/")
                && file.starts_with("console-")
                && file.ends_with(".html"),
            "{:?}",
            self.argv
        );
        for arg in &self.argv {
            for bad in ["127.0.0.1", "SigninToken", "localhost"]
                .iter()
                .chain(secrets)
            {
                assert!(!arg.contains(bad), "{bad:?} in argv: {:?}", self.argv);
            }
        }
        let ways = self.record["ways"].as_array().expect("the page's ways on");
        assert!(
            ways.len() == 3 && ways.iter().all(|w| *w == ways[0]),
            "the page's meta refresh, link and script agree: {ways:?}"
        );
        let url = self.record["url"].as_str().unwrap_or_default();
        assert!(
            url.starts_with("http://127.0.0.1:") && url.contains("/console/"),
            "leads to the one-time loopback address: {url}"
        );
    }
}

/// The secret key and session token of `profile`'s credentials.
async fn secrets_of(cli: &Cli, profile: &str) -> Vec<String> {
    let out = cli.run(&["credentials", "--profile", profile]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let c: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let secrets = vec![
        c["SecretAccessKey"].as_str().expect("secret").to_owned(),
        c["SessionToken"].as_str().expect("token").to_owned(),
    ];
    assert!(secrets.iter().all(|s| s.len() >= 20), "{secrets:?}");
    secrets
}

/// A failure in one sentence, with `expected`.
fn assert_refused(out: &Output, expected: &str) {
    if let Err(problem) = clear_failure(out, 1, expected) {
        panic!("{problem}");
    }
}

/// A federation endpoint that only counts the connections made to it.
async fn counting_endpoint() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (format!("http://127.0.0.1:{port}"), count)
}

/// The favourite `profile` as settings.json holds it.
fn saved_favourite(cli: &Cli, profile: &str) -> serde_json::Value {
    fn find(v: &serde_json::Value, profile: &str) -> Option<serde_json::Value> {
        match v {
            serde_json::Value::Object(o) => {
                if o.get("profile").and_then(|p| p.as_str()) == Some(profile)
                    && o.contains_key("roleName")
                {
                    return Some(v.clone());
                }
                o.values().find_map(|v| find(v, profile))
            }
            serde_json::Value::Array(a) => a.iter().find_map(|v| find(v, profile)),
            _ => None,
        }
    }
    let raw = std::fs::read(cli.home.path().join(".config/aws-sso-tray/settings.json"))
        .expect("settings");
    let settings: serde_json::Value = serde_json::from_slice(&raw).expect("json");
    find(&settings, profile).unwrap_or_else(|| panic!("{profile} in {settings}"))
}

/// Signed in, with favourite `web` for ReadOnlyAccess in the organisation's `index`th
/// account, and fake browsers: the account's id.
async fn with_favourite(emu: &Emulator, index: usize) -> (Cli, Browsers, String) {
    let cli = Cli::new(emu);
    let account = cli.signed_in_with_account(index).await;
    cli.add_favourite("web", &account, "ReadOnlyAccess").await;
    let browsers = Browsers::install(&cli);
    (cli, browsers, account)
}

#[tokio::test]
async fn each_browser_family_gets_only_a_private_page_and_reaches_the_console() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (cli, browsers, account) = with_favourite(&emu, 3).await;
    let secrets = secrets_of(&cli, "web").await;
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();

    for (kind, program) in [
        ("chromium", "chromium"),
        ("chrome", "google-chrome"),
        ("edge", "microsoft-edge"),
        ("brave", "brave-browser"),
        ("firefox", "firefox"),
    ] {
        let (profile, profile_args): (&str, Vec<&str>) = if kind == "firefox" {
            ("work", vec!["-P", "work"])
        } else {
            ("Profile 2", vec!["--profile-directory=Profile 2"])
        };
        for with_profile in [true, false] {
            let mut args = vec!["console", "--profile", "web", "--browser", kind];
            if with_profile {
                args.extend(["--browser-profile", profile]);
            }
            let run = browsers.open(&cli, &args).await;
            assert_eq!(run.browser, program, "{args:?}");
            let expected: Vec<&str> = if with_profile {
                profile_args.clone()
            } else {
                Vec::new()
            };
            assert_eq!(
                run.argv[..run.argv.len() - 1],
                expected[..],
                "{args:?}: {:?}",
                run.argv
            );
            run.assert_private_handoff(&secrets);
            assert!(run.container().is_none(), "{:?}", run.record);
            assert_eq!(
                run.console(),
                Some((account.clone(), "ReadOnlyAccess".to_owned())),
                "{args:?}: {}",
                run.page()
            );
            assert_eq!(
                run.record["jar"],
                format!(
                    "{program}|{}",
                    if with_profile { profile } else { "default" }
                )
            );
        }
    }
    // The desktop's default: $BROWSER, on the page alone.
    let run = browsers.open(&cli, &["console", "--profile", "web"]).await;
    assert_eq!(run.browser, DEFAULT_BROWSER);
    assert_eq!(run.argv.len(), 1, "{:?}", run.argv);
    run.assert_private_handoff(&secrets);
    assert_eq!(
        run.console(),
        Some((account.clone(), "ReadOnlyAccess".to_owned()))
    );
    // A profile that a browser would take for an option, or a browser not installed.
    let before = browsers.started();
    let out = browsers
        .run(
            &cli,
            &[
                "console",
                "--profile",
                "web",
                "--browser",
                "chrome",
                "--browser-profile=--remote-debugging-port=9222",
            ],
        )
        .await;
    assert_refused(&out, "it begins with '-'");
    let out = browsers
        .run(
            &cli,
            &[
                "console",
                "--profile",
                "web",
                "--browser",
                "brave",
                "--browser-program",
                "/nonexistent/brave",
            ],
        )
        .await;
    assert!(!out.status.success());
    assert_eq!(browsers.started(), before, "no browser started");
}

#[tokio::test]
async fn the_console_opens_on_the_page_asked_for_and_nowhere_else() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (cli, browsers, account) = with_favourite(&emu, 2).await;

    let run = browsers
        .open(&cli, &["console", "--profile", "web", "--service", "s3"])
        .await;
    assert_eq!(
        run.field("destination").as_deref(),
        Some("https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1"),
        "{}",
        run.page()
    );
    assert_eq!(run.field("account"), Some(account.clone()));
    let ec2 = "https://eu-west-1.console.aws.amazon.com/ec2/home#Instances:";
    let run = browsers
        .open(&cli, &["console", "--profile", "web", "--destination", ec2])
        .await;
    assert_eq!(
        run.field("destination").as_deref(),
        Some(ec2),
        "{}",
        run.page()
    );
    // Without either, the console's home in the role's region.
    let run = browsers
        .open(
            &cli,
            &["console", "--account", &account, "--role", "ReadOnlyAccess"],
        )
        .await;
    assert_eq!(
        run.field("destination").as_deref(),
        Some("https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1")
    );

    // Refused before any credentials are bought or any browser started.
    let (signin, calls) = counting_endpoint().await;
    let before = (browsers.started(), emu.counters().get_role_credentials);
    for (destination, why) in [
        (
            "http://eu-west-1.console.aws.amazon.com/ec2/home",
            "it is not an https address",
        ),
        (
            "https://example.com/ec2/home",
            "its host is not the console's",
        ),
        (
            "https://console.aws.amazon.com.evil.example/",
            "its host is not the console's",
        ),
        (
            "https://evilconsole.aws.amazon.com/",
            "its host is not the console's",
        ),
        (
            "https://console.amazonaws.cn/ec2/home",
            "its host is not the console's",
        ),
        (
            "https://eu-west-1.console.aws.amazon.com/ec2/\nSet-Cookie: x=1",
            "it holds spaces or control characters",
        ),
        (
            "https://console.aws.amazon.com\\@evil.example/",
            "it holds a backslash",
        ),
        (
            "https://CONSOLE.aws.amazon.com/",
            "its host is not written plainly",
        ),
    ] {
        let out = browsers
            .run_with(
                &cli,
                &["console", "--profile", "web", "--destination", destination],
                &signin,
            )
            .await;
        assert_refused(&out, "cannot be the console's destination");
        assert!(text(&out.stderr).contains(why), "{}", text(&out.stderr));
        assert_eq!(
            text(&out.stderr)
                .lines()
                .filter(|l| l.starts_with("aws-sso-auth: "))
                .count(),
            1
        );
    }
    let out = browsers
        .run_with(
            &cli,
            &["console", "--profile", "web", "--service", "s3/../iam"],
            &signin,
        )
        .await;
    assert_refused(&out, "is not a console service name");
    // A region of another partition than the role's: no page of it can be the role's.
    let out = browsers
        .run_with(
            &cli,
            &[
                "console",
                "--profile",
                "web",
                "--service",
                "s3",
                "--region",
                "cn-north-1",
            ],
            &signin,
        )
        .await;
    assert_refused(
        &out,
        "the console cannot open in cn-north-1: it is in another AWS partition",
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 0, "no federation call");
    assert_eq!(
        (browsers.started(), emu.counters().get_role_credentials),
        before,
        "no browser started, no credentials bought"
    );
}

#[tokio::test]
async fn the_console_session_lasts_as_asked_within_what_aws_allows() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (cli, browsers, account) = with_favourite(&emu, 1).await;

    let run = browsers
        .open(
            &cli,
            &["console", "--profile", "web", "--session-length", "8h"],
        )
        .await;
    assert_eq!(run.field("session-seconds").as_deref(), Some("28800"));
    let run = browsers.open(&cli, &["console", "--profile", "web"]).await;
    assert_eq!(run.field("session-seconds").as_deref(), Some("default"));

    let other = emu.organisation()[4].account_id.clone();
    let out = cli
        .add_assuming(
            "deploy",
            &account,
            "ReadOnlyAccess",
            &format!("arn:aws:iam::{other}:role/ci/Deploy"),
            &[],
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    let (signin, calls) = counting_endpoint().await;
    let before = browsers.started();
    let out = browsers
        .run_with(
            &cli,
            &["console", "--profile", "web", "--session-length", "899"],
            &signin,
        )
        .await;
    assert_refused(
        &out,
        "a console session of 899 s cannot be asked for: AWS allows 900 to 43,200 seconds",
    );
    let out = browsers
        .run_with(
            &cli,
            &["console", "--profile", "web", "--session-length", "12h1s"],
            &signin,
        )
        .await;
    assert_refused(&out, "a console session of 43201 s cannot be asked for");
    let out = browsers
        .run_with(
            &cli,
            &["console", "--profile", "deploy", "--session-length", "1h"],
            &signin,
        )
        .await;
    assert_refused(
        &out,
        "AWS lets no role assumed from another role choose its console session length",
    );
    // Nor saved as the chained favourite's.
    let out = browsers
        .run(
            &cli,
            &["favourite", "console", "deploy", "--session-length", "1h"],
        )
        .await;
    assert_refused(
        &out,
        "AWS lets no role assumed from another role choose its console session length",
    );
    assert!(saved_favourite(&cli, "deploy").get("console").is_none());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 0, "no federation call");
    assert_eq!(browsers.started(), before, "no browser started");

    // Without a length, the chained favourite opens as the assumed role's account.
    let run = browsers
        .open(&cli, &["console", "--profile", "deploy"])
        .await;
    assert_eq!(run.field("account"), Some(other), "{}", run.page());
    assert_eq!(run.field("session-seconds").as_deref(), Some("default"));
}

#[tokio::test]
async fn a_favourite_keeps_its_console_settings_and_its_container_link_stays_whole() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (cli, browsers, account) = with_favourite(&emu, 2).await;

    let out = browsers
        .run(
            &cli,
            &[
                "favourite",
                "console",
                "web",
                "--service",
                "s3",
                "--session-length",
                "2h",
                "--browser",
                "firefox",
                "--container",
                "granted",
                "--colour",
                "red",
            ],
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    for line in [
        "page            service s3",
        "session length  7200 s",
        "browser         Firefox, a container named after the favourite (or the account and role) (through Granted Containers)",
        "colour          Red",
    ] {
        assert!(shown.contains(line), "{line:?} in {shown}");
    }
    let out = browsers
        .run(&cli, &["favourite", "console", "web", "--json"])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let saved: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let expected = serde_json::json!({
        "destination": {"service": "s3"},
        "sessionSeconds": 7200,
        "browser": {"kind": "firefox", "container": "granted"},
        "colour": "red",
    });
    assert_eq!(saved, expected);
    assert_eq!(saved_favourite(&cli, "web")["console"], expected);
    // A colour that is not one of the console's changes nothing, and says which are.
    let out = browsers
        .run(
            &cli,
            &["favourite", "console", "web", "--colour", "crimson"],
        )
        .await;
    assert_refused(
        &out,
        "\"crimson\" is not a colour; use one of none, pink, purple, darkBlue",
    );
    assert!(
        text(&out.stderr).contains("give one of those colours"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(saved_favourite(&cli, "web")["console"], expected);

    let secrets = secrets_of(&cli, "web").await;
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let run = browsers.open(&cli, &["console", "--profile", "web"]).await;
    assert_eq!(run.browser, "firefox");
    assert_eq!(run.argv.len(), 1, "{:?}", run.argv);
    run.assert_private_handoff(&secrets);
    let (scheme, pairs) = run.container().expect("a container link");
    assert_eq!(scheme, "ext+granted-containers");
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["name", "color", "icon", "url"]);
    assert_eq!(pairs[0].1, "web");
    assert_eq!(pairs[1].1, "red");
    assert_eq!(pairs[2].1, "fingerprint");
    assert_eq!(run.record["jar"], "firefox|default|container|web");
    assert_eq!(
        run.console(),
        Some((account.clone(), "ReadOnlyAccess".to_owned()))
    );
    assert_eq!(
        run.field("destination").as_deref(),
        Some("https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1")
    );
    assert_eq!(run.field("session-seconds").as_deref(), Some("7200"));

    // A profile name as hostile as profile names may be: what form-encoding means
    // (`%`, `+`) and what URLs mean (`/`, `:`, `@`). It names the container, whole.
    let hostile = "a%26url%3Dhttp:/+evil@x.y-z_1%";
    cli.add_favourite(hostile, &account, "ReadOnlyAccess").await;
    let run = browsers
        .open(
            &cli,
            &[
                "console",
                "--profile",
                hostile,
                "--browser",
                "firefox",
                "--container",
                "open-external",
            ],
        )
        .await;
    run.assert_private_handoff(&[]);
    let (scheme, pairs) = run.container().expect("a container link");
    assert_eq!(scheme, "ext+container");
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["name", "icon", "url"], "{pairs:?}");
    assert_eq!(pairs[0].1, hostile);
    assert_eq!(
        run.console(),
        Some((account.clone(), "ReadOnlyAccess".to_owned()))
    );

    // A container name a browser or a line of text would act on: refused, on the
    // command line and as a favourite's.
    let before = browsers.started();
    for bad in ["--container-name=two\nlines", "--container-name=-P"] {
        let out = browsers
            .run(
                &cli,
                &[
                    "console",
                    "--profile",
                    "web",
                    "--browser",
                    "firefox",
                    "--container",
                    "granted",
                    bad,
                ],
            )
            .await;
        assert_refused(&out, "the container name");
        assert!(!text(&out.stderr).contains("two\nlines"));
        let out = browsers
            .run(
                &cli,
                &[
                    "favourite",
                    "console",
                    "web",
                    "--browser",
                    "firefox",
                    "--container",
                    "granted",
                    bad,
                ],
            )
            .await;
        assert_refused(&out, "the container name");
    }
    assert_eq!(browsers.started(), before, "no browser started");
    assert_eq!(saved_favourite(&cli, "web")["console"], expected);
}

#[tokio::test]
async fn a_role_s_container_is_named_after_its_account_and_role_whatever_their_names() {
    let emu = emulator(EmulatorConfig {
        account_names: hostile_names(),
        ..EmulatorConfig::default()
    })
    .await;
    let cli = Cli::new(&emu);
    let browsers = Browsers::install(&cli);
    cli.signed_in_with_account(0).await;
    // The account list, as the window and `list` keep it.
    let out = cli.run(&["list"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let org = emu.organisation();
    for (index, expected) in [
        (2, "R&D <b>bold</b> & co ReadOnlyAccess"),
        (3, "twolines ReadOnlyAccess"),
        (1, "]0;pwned[2Jcleared ReadOnlyAccess"),
    ] {
        let account = &org[index].account_id;
        let run = browsers
            .open(
                &cli,
                &[
                    "console",
                    "--account",
                    account,
                    "--role",
                    "ReadOnlyAccess",
                    "--browser",
                    "firefox",
                    "--container",
                    "open-external",
                ],
            )
            .await;
        run.assert_private_handoff(&[]);
        let (_, pairs) = run.container().expect("a container link");
        assert_eq!(pairs[0], ("name".to_owned(), expected.to_owned()));
        assert_eq!(pairs.last().map(|p| p.0.as_str()), Some("url"));
        assert_eq!(run.field("account").as_ref(), Some(account));
    }
}

#[tokio::test]
async fn several_accounts_at_once_with_and_without_the_console_s_multi_session() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (cli, browsers, first) = with_favourite(&emu, 1).await;
    let second = emu.organisation()[5].account_id.clone();
    assert_ne!(first, second);
    cli.add_favourite("other", &second, "ReadOnlyAccess").await;

    // Multi-session on: one browser, one cookie jar, both accounts signed in.
    let one = browsers.open(&cli, &["console", "--profile", "web"]).await;
    assert_eq!(one.field("account"), Some(first.clone()));
    let two = browsers
        .open(&cli, &["console", "--profile", "other"])
        .await;
    assert_eq!(two.field("account"), Some(second.clone()), "{}", two.page());
    assert_eq!(one.record["jar"], two.record["jar"], "one jar");
    assert_eq!(two.signed_in(), Some(format!("{first},{second}").as_str()));

    // Off: the same browser must sign out first, and stays signed in to the first.
    emu.configure(|c| c.console_multi_session = false);
    browsers.forget_cookies();
    let one = browsers.open(&cli, &["console", "--profile", "web"]).await;
    assert_eq!(one.field("account"), Some(first.clone()));
    let two = browsers
        .open(&cli, &["console", "--profile", "other"])
        .await;
    assert!(
        two.page().contains("id=\"log-out-first\""),
        "{}",
        two.page()
    );
    assert_eq!(two.console(), None);
    assert_eq!(two.signed_in(), Some(first.as_str()), "the first untouched");
    // With a container per favourite, both open.
    for (profile, account) in [("web", &first), ("other", &second)] {
        let run = browsers
            .open(
                &cli,
                &[
                    "console",
                    "--profile",
                    profile,
                    "--browser",
                    "firefox",
                    "--container",
                    "open-external",
                ],
            )
            .await;
        assert_eq!(
            run.field("account").as_ref(),
            Some(account),
            "{}",
            run.page()
        );
        assert_eq!(
            run.record["jar"],
            format!("firefox|default|container|{profile}")
        );
        assert_eq!(run.signed_in(), Some(account.as_str()));
    }
}

#[tokio::test]
async fn a_favourite_s_colour_can_be_its_account_s_read_when_the_console_opens() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (cli, browsers, account) = with_favourite(&emu, 2).await;
    emu.configure(|c| {
        c.account_colours.insert(account.clone(), "teal".into());
    });

    let out = browsers
        .run(
            &cli,
            &["favourite", "console", "web", "--colour", "account"],
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("colour          Teal (its account's)"),
        "{}",
        text(&out.stdout)
    );
    let console = &saved_favourite(&cli, "web")["console"];
    assert_eq!(console["colourFromAccount"], true, "{console}");
    assert_eq!(console["colour"], "teal", "{console}");

    // The account's colour changes; the console reads it again on the way.
    emu.configure(|c| {
        c.account_colours.insert(account.clone(), "darkBlue".into());
    });
    let uxc = emu.counters().uxc_calls;
    let run = browsers
        .open(
            &cli,
            &[
                "console",
                "--profile",
                "web",
                "--browser",
                "firefox",
                "--container",
                "open-external",
            ],
        )
        .await;
    assert!(emu.counters().uxc_calls > uxc, "read again");
    let (_, pairs) = run.container().expect("a container link");
    assert_eq!(
        pairs[1],
        ("color".to_owned(), "blue".to_owned()),
        "{pairs:?}"
    );
    assert_eq!(run.field("account"), Some(account.clone()));
    let console = &saved_favourite(&cli, "web")["console"];
    assert_eq!(console["colour"], "darkBlue", "{console}");
    assert_eq!(console["colourFromAccount"], true, "{console}");

    // Pointed at another account, it keeps asking for its account's colour, but not the
    // old account's: read when its console next opens.
    let other = emu
        .organisation()
        .iter()
        .find(|a| a.account_id != account)
        .cloned()
        .expect("another account");
    let out = cli
        .run(&[
            "favourite",
            "edit",
            "web",
            "--account",
            &other.account_id,
            "--role",
            &other.roles[0],
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let console = &saved_favourite(&cli, "web")["console"];
    assert_eq!(console.get("colour"), None, "{console}");
    assert_eq!(console["colourFromAccount"], true, "{console}");

    // A role that may not read its account's colour: said in one sentence, nothing saved.
    cli.add_favourite("denied", &account, "PowerUserAccess")
        .await;
    emu.configure(|c| c.denied_roles.push("PowerUserAccess".into()));
    let out = browsers
        .run(
            &cli,
            &["favourite", "console", "denied", "--colour", "account"],
        )
        .await;
    assert_refused(
        &out,
        &format!("the role PowerUserAccess may not read the colour of account {account}"),
    );
    assert!(saved_favourite(&cli, "denied").get("console").is_none());
}

#[tokio::test]
async fn the_access_portal_s_browser_opens_its_roles_unless_a_favourite_has_its_own() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (cli, browsers, account) = with_favourite(&emu, 3).await;

    let out = browsers
        .run(
            &cli,
            &[
                "settings",
                "browser",
                "--browser",
                "chrome",
                "--browser-profile",
                "Profile 3",
            ],
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("Google Chrome, profile 'Profile 3'"),
        "{}",
        text(&out.stderr)
    );
    let role = ["console", "--account", &account, "--role", "ReadOnlyAccess"];
    let run = browsers.open(&cli, &role).await;
    assert_eq!(run.browser, "google-chrome");
    assert_eq!(
        run.argv[..run.argv.len() - 1],
        ["--profile-directory=Profile 3"]
    );
    run.assert_private_handoff(&[]);
    assert_eq!(run.field("account"), Some(account.clone()));
    // A favourite without a browser of its own: the portal's; with one: its own.
    let run = browsers.open(&cli, &["console", "--profile", "web"]).await;
    assert_eq!(run.browser, "google-chrome");
    let out = browsers
        .run(&cli, &["favourite", "console", "web", "--browser", "edge"])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let run = browsers.open(&cli, &["console", "--profile", "web"]).await;
    assert_eq!(run.browser, "microsoft-edge");
    assert_eq!(run.argv.len(), 1, "{:?}", run.argv);

    let out = browsers
        .run(&cli, &["settings", "browser", "--default"])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let run = browsers.open(&cli, &role).await;
    assert_eq!(run.browser, DEFAULT_BROWSER);
    assert_eq!(run.argv.len(), 1, "{:?}", run.argv);
    run.assert_private_handoff(&[]);
    assert_eq!(run.field("account"), Some(account));
}
