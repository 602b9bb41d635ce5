//! Links handed to the browser (the console sign-in URL, the sign-in page) go through a
//! private page, never through the browser's command line, which every local user can
//! read: with the system's runtime directory, and without one.

use crate::cli::{clear_failure, text, Cli};
use crate::util::{emulator, unique_start_url};
use aws_sso_emulator::EmulatorConfig;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// A "browser" that writes into `dir`: its arguments (`argv.txt`); for a page, the page's
/// and its directory's modes and owners (`modes.txt`: `600 UID 700 UID`) and the
/// directory (`dir.txt`); the address the page leads to and where that sends it
/// (`location.txt`). Then it goes on as the person would: approves a device code, or
/// follows the address (a PKCE sign-in, the console).
pub(crate) fn following_browser(dir: &Path) -> PathBuf {
    let script = r#"import os, re, sys, urllib.error, urllib.parse, urllib.request
d, args = sys.argv[1], sys.argv[2:]
open(f"{d}/argv.txt", "w").write("\n".join(args))
target = args[0]
if target.startswith("file://"):
    page = urllib.request.url2pathname(urllib.parse.urlsplit(target).path)
    stat = lambda p: "%o %d" % (os.lstat(p).st_mode & 0o777, os.lstat(p).st_uid)
    open(f"{d}/modes.txt", "w").write(stat(page) + " " + stat(os.path.dirname(page)))
    open(f"{d}/dir.txt", "w").write(os.path.dirname(page))
    local = re.search(r'url=([^"]+)"', open(page).read()).group(1)
else:
    local = target
class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
try:
    urllib.request.build_opener(Stay).open(local).read()
    location = local
except urllib.error.HTTPError as e:
    location = e.headers["Location"] or local
open(f"{d}/location.txt", "w").write(location)
url = urllib.parse.urlsplit(location)
query = urllib.parse.parse_qs(url.query)
if "user_code" in query:
    data = urllib.parse.urlencode({"user_code": query["user_code"][0], "decision": "allow"}).encode()
    urllib.request.urlopen(f"{url.scheme}://{url.netloc}/device/decision", data).read()
else:
    urllib.request.urlopen(location).read()
"#;
    let py = dir.join("following-browser.py");
    std::fs::write(&py, script).expect("write");
    let browser = dir.join("following-browser");
    std::fs::write(
        &browser,
        format!(
            "#!/bin/sh\nexec python3 '{}' '{}' \"$@\"\n",
            py.display(),
            dir.display()
        ),
    )
    .expect("write");
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    browser
}

/// What the browser wrote in `dir`, `name`.
fn recorded(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_default()
}

/// This process's user id: the owner of a file it just made.
fn own_uid(dir: &Path) -> u32 {
    let probe = dir.join("uid-probe");
    std::fs::write(&probe, "").expect("probe");
    std::fs::metadata(&probe).expect("probe").uid()
}

/// Checks what the browser recorded in `dir` after one hand-over: its arguments name a
/// page and nothing that `secrets` holds; the page (0600) sits in `page_dir` (0700), both
/// ours, and led to an address holding every one of `leads_to`.
async fn assert_handed_over_privately(
    dir: &Path,
    page_dir: &Path,
    secrets: &[&str],
    leads_to: &[&str],
) {
    let argv = recorded(dir, "argv.txt");
    assert!(argv.starts_with("file://"), "the browser was given: {argv}");
    for secret in secrets.iter().chain(["127.0.0.1", "http"].iter()) {
        assert!(!argv.contains(secret), "{secret} in argv: {argv}");
    }
    let uid = own_uid(dir);
    assert_eq!(recorded(dir, "modes.txt"), format!("600 {uid} 700 {uid}"));
    assert_eq!(Path::new(&recorded(dir, "dir.txt")), page_dir);
    // The browser goes on in its own time (after the console command may have ended).
    crate::util::eventually(15, || !recorded(dir, "location.txt").is_empty()).await;
    let location = recorded(dir, "location.txt");
    for wanted in leads_to {
        assert!(location.contains(wanted), "{wanted} not in {location}");
    }
    // The page is gone once used.
    let page = url::Url::parse(&argv)
        .ok()
        .and_then(|u| u.to_file_path().ok())
        .expect("a file URL");
    assert!(!page.exists(), "{} is left", page.display());
    for name in ["argv.txt", "modes.txt", "dir.txt", "location.txt"] {
        let _ = std::fs::remove_file(dir.join(name));
    }
}

/// The private directory of pages where the system has no runtime directory.
fn fallback_dir(cli: &Cli) -> PathBuf {
    cli.home.path().join(".cache/aws-sso-tray/handoff")
}

async fn finished(c: &mut tokio::process::Command) -> Output {
    tokio::time::timeout(Duration::from_secs(60), c.output())
        .await
        .expect("finishes")
        .expect("runs")
}

fn login_args(start_url: &str, device_code: bool) -> Vec<&str> {
    let mut args = vec![
        "login",
        "--start-url",
        start_url,
        "--sso-region",
        "eu-west-1",
    ];
    if device_code {
        args.push("--device-code");
    }
    args
}

#[tokio::test]
async fn the_sign_in_page_reaches_the_browser_only_through_a_private_page() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let tools = tempfile::tempdir().expect("dir");
    let browser = following_browser(tools.path());

    // The device flow, with no runtime directory: the browser approves the code it was
    // led to; its arguments hold no code.
    let start_url = unique_start_url();
    let out = finished(
        cli.command(&login_args(&start_url, true))
            .env("BROWSER", &browser),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_handed_over_privately(
        tools.path(),
        &fallback_dir(&cli),
        &["user_code"],
        &["/device?user_code="],
    )
    .await;

    // PKCE: the authorization address (its state, challenge and loopback port) is only
    // in the page.
    emu.configure(|c| c.auto_approve = true);
    let out = finished(
        cli.command(&login_args(&unique_start_url(), false))
            .env("BROWSER", &browser),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_handed_over_privately(
        tools.path(),
        &fallback_dir(&cli),
        &["state", "code_challenge", "redirect_uri", "authorize"],
        &["/authorize?", "state=", "code_challenge="],
    )
    .await;

    // With the system's runtime directory the page is there.
    let runtime = tempfile::tempdir().expect("runtime");
    let out = finished(
        cli.command(&login_args(&unique_start_url(), false))
            .env("BROWSER", &browser)
            .env("XDG_RUNTIME_DIR", runtime.path()),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_handed_over_privately(
        tools.path(),
        &runtime.path().join("aws-sso-tray"),
        &["state", "code_challenge", "redirect_uri", "authorize"],
        &["/authorize?", "state="],
    )
    .await;
}

/// Makes `dir` a directory of mode `mode` (its parents as needed).
fn make_dir(dir: &Path, mode: u32) {
    std::fs::create_dir_all(dir).expect("dir");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[tokio::test]
async fn a_page_directory_that_is_not_private_is_made_private_or_refused() {
    let emu = emulator(EmulatorConfig {
        auto_approve: true,
        ..EmulatorConfig::default()
    })
    .await;
    let cli = Cli::new(&emu);
    let tools = tempfile::tempdir().expect("dir");
    let browser = following_browser(tools.path());
    let dir = fallback_dir(&cli);
    let mode = |p: &Path| std::fs::symlink_metadata(p).expect("meta").mode() & 0o7777;

    // Ours, but others may enter it: made private, then used.
    make_dir(&dir, 0o755);
    let out = finished(
        cli.command(&login_args(&unique_start_url(), true))
            .env("BROWSER", &browser),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode(&dir), 0o700);
    assert!(
        recorded(tools.path(), "argv.txt").starts_with("file://"),
        "the browser was given a page"
    );
    std::fs::remove_file(tools.path().join("argv.txt")).expect("forget the browser's call");

    // Another user's directory (as root, the test can make one), and a symbolic link even
    // to a private directory of ours: refused, and nothing written through them.
    let elsewhere = tools.path().join("elsewhere");
    make_dir(&elsewhere, 0o700);
    let theirs = std::os::unix::fs::chown(&dir, Some(65534), None).is_ok();
    let mut cases = vec![("it is a symbolic link", true)];
    if theirs {
        cases.insert(0, ("it belongs to user 65534, not to this user", false));
    }
    for (why, symlink) in cases {
        if symlink {
            std::fs::remove_dir(&dir).expect("remove");
            std::os::unix::fs::symlink(&elsewhere, &dir).expect("symlink");
        }
        // The sign-in goes on without the browser (the address is on the terminal).
        let out = finished(
            cli.command(&login_args(&unique_start_url(), true))
                .env("BROWSER", &browser),
        )
        .await;
        let err = text(&out.stderr);
        assert!(out.status.success(), "{why}: {err}");
        let sentence = format!("{} is not a private directory of this user", dir.display());
        assert!(err.contains(&sentence) && err.contains(why), "{why}: {err}");
        assert_eq!(
            recorded(tools.path(), "argv.txt"),
            "",
            "{why}: a browser ran"
        );
        assert_eq!(
            std::fs::read_dir(&elsewhere).expect("dir").count(),
            0,
            "{why}: a page was written through it"
        );
    }

    // The console is refused with the same sentence, and no browser.
    emu.configure(|c| c.auto_approve = false);
    let account = cli.signed_in_with_account(3).await;
    cli.add_favourite("web", &account, "ReadOnlyAccess").await;
    let out = finished(
        cli.command(&["console", "--profile", "web"])
            .env("BROWSER", &browser)
            .env("AWS_ENDPOINT_URL_SIGNIN", emu.endpoint()),
    )
    .await;
    let sentence = format!("{} is not a private directory of this user", dir.display());
    if let Err(problem) = clear_failure(&out, 1, &sentence) {
        panic!("{problem}");
    }
    assert!(
        text(&out.stderr).contains("it is a symbolic link"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(recorded(tools.path(), "argv.txt"), "", "a browser ran");
}

#[tokio::test]
async fn the_console_link_reaches_the_browser_only_through_a_private_page() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let account = cli.signed_in_with_account(3).await;
    cli.add_favourite("web", &account, "ReadOnlyAccess").await;
    let tools = tempfile::tempdir().expect("dir");
    let browser = following_browser(tools.path());
    // No runtime directory: a private directory of ours in the cache.
    let out = finished(
        cli.command(&["console", "--profile", "web"])
            .env("BROWSER", &browser)
            .env("AWS_ENDPOINT_URL_SIGNIN", emu.endpoint()),
    )
    .await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.ends_with("Opened the AWS console as favourite web.\n"),
        "{err}"
    );
    assert_handed_over_privately(
        tools.path(),
        &fallback_dir(&cli),
        &["SigninToken", "federation"],
        &["Action=login", "SigninToken="],
    )
    .await;
}
