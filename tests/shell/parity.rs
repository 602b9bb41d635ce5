//! One scenario, written once, run through both faces: the command line (with
//! `aws-sso-auth daemon` running, as the app would be) and the app's commands on the mock
//! runtime. After every step both homes must hold the same settings, AWS files, caches
//! and keychain items, and the running side (daemon or app) must know the same things.
//! Each of the ways the two faces once disagreed is a step here.

use super::{eventually, invoke, mock_app, test_options};
use aws_sso_device_auth_provider::cache::AccountsCache;
use aws_sso_device_auth_provider::clock::{Clock, SystemClock};
use aws_sso_device_auth_provider::portal::{Account, AccountRoles, Role};
use aws_sso_device_auth_provider::{Instance, KeychainStore, SecretStore};
use aws_sso_emulator::{Emulator, EmulatorConfig, OrgAccount};
use aws_sso_tray::App as TrayApp;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use tauri::test::MockRuntime;
use tauri::{Manager, WebviewWindow};

/// A failure as each face reports it: the command line's exit code and sentence, the
/// app's error code and sentence.
type Outcome = Result<(), String>;

/// What a person can do, the same through either face.
trait Face {
    fn name(&self) -> &'static str;
    fn home(&self) -> &Path;
    /// The start URL of organisation `which` ("a" or "b") in this face's world.
    fn url(&self, which: &str) -> String;
    fn sign_in(&self, which: &str) -> Outcome {
        self.sign_in_at(&self.url(which))
    }
    /// Signs in to the access portal at `address` (a start URL, or what a browser shows).
    fn sign_in_at(&self, address: &str) -> Outcome;
    fn sign_out(&self) -> Outcome;
    fn add(&self, profile: &str, account: &str, role: &str, region: Option<&str>) -> Outcome;
    /// A favourite whose credentials a tool fetches when it needs them.
    fn add_on_demand(&self, profile: &str, account: &str, role: &str) -> Outcome;
    fn repoint(&self, profile: &str, role: &str) -> Outcome;
    fn remove(&self, profile: &str) -> Outcome;
    /// Removes a profile on its own, as a one-off profile is removed.
    fn remove_profile(&self, profile: &str) -> Outcome;
    fn set(&self, preference: &str, value: &str) -> Outcome;
    /// Whether the running side knows the favourite, within a few seconds.
    fn knows(&self, profile: &str) -> bool;
    /// What the face says of a favourite's profile (the command line's `status`, the
    /// window's line).
    fn says(&self, profile: &str) -> String;
    /// Whether the running side renews organisation `which` with these minutes (or not at
    /// all, for `None`), within a few seconds.
    fn renews(&self, which: &str, minutes: Option<(u64, u64)>) -> bool;
}

/// The command line, in its own home, with the daemon running.
struct CliFace {
    home: tempfile::TempDir,
    endpoint: String,
    tag: String,
    daemon: Child,
    log: Arc<Mutex<String>>,
}

/// The built `aws-sso-auth`, beside this test's own program.
fn cli_program() -> PathBuf {
    let exe = std::env::current_exe().expect("test program");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let cli = dir.join(format!("aws-sso-auth{}", std::env::consts::EXE_SUFFIX));
    assert!(
        cli.is_file(),
        "{} is not built: run `cargo build --bin aws-sso-auth` (scripts/test builds it)",
        cli.display()
    );
    cli
}

/// `aws-sso-auth` as a user runs it in `home`, against `endpoint`, with no desktop.
fn cli_command(home: &Path, endpoint: &str, args: &[&str]) -> Command {
    let mut c = Command::new(cli_program());
    c.args(args)
        .env("HOME", home)
        .env("AWS_ENDPOINT_URL_SSO", endpoint)
        .env("AWS_ENDPOINT_URL_SSO_OIDC", endpoint);
    for k in [
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        "XDG_STATE_HOME",
        // On Windows it comes before HOME.
        "APPDATA",
        "DISPLAY",
        "WAYLAND_DISPLAY",
        "AWS_ENDPOINT_URL",
        "AWS_SSO_START_URL",
        "AWS_SSO_REGION",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONFIG_FILE",
        "SSH_CONNECTION",
        "SSH_TTY",
        "BROWSER",
    ] {
        c.env_remove(k);
    }
    c.stdin(Stdio::null());
    c
}

fn run_cli(home: &Path, endpoint: &str, args: &[&str]) -> Outcome {
    let out = cli_command(home, endpoint, args)
        .output()
        .expect("aws-sso-auth runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("exit {:?}: {err}", out.status.code()))
    }
}

impl CliFace {
    fn new(endpoint: &str, tag: &str) -> Self {
        let home = tempfile::tempdir().expect("home");
        let mut daemon = cli_command(home.path(), endpoint, &["daemon"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("daemon");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = daemon.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap_or_else(|e| e.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        Self {
            home,
            endpoint: endpoint.to_owned(),
            tag: tag.to_owned(),
            daemon,
            log,
        }
    }

    fn run(&self, args: &[&str]) -> Outcome {
        run_cli(self.home.path(), &self.endpoint, args)
    }

    fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for CliFace {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

impl Face for CliFace {
    fn name(&self) -> &'static str {
        "command line"
    }
    fn home(&self) -> &Path {
        self.home.path()
    }
    fn url(&self, which: &str) -> String {
        format!("https://parity-{}-{which}.awsapps.com/start", self.tag)
    }
    fn sign_in_at(&self, url: &str) -> Outcome {
        self.run(&[
            "login",
            "--start-url",
            url,
            "--sso-region",
            "eu-west-1",
            "--device-code",
            "--no-browser",
        ])
    }
    fn sign_out(&self) -> Outcome {
        self.run(&["logout"])
    }
    fn add(&self, profile: &str, account: &str, role: &str, region: Option<&str>) -> Outcome {
        let url = self.url("a");
        let mut args = vec![
            "favourite",
            "add",
            profile,
            "--account",
            account,
            "--role",
            role,
            "--start-url",
            &url,
            "--sso-region",
            "eu-west-1",
        ];
        if let Some(r) = region {
            args.extend(["--region", r]);
        }
        self.run(&args)
    }
    fn add_on_demand(&self, profile: &str, account: &str, role: &str) -> Outcome {
        self.run(&[
            "favourite",
            "add",
            profile,
            "--account",
            account,
            "--role",
            role,
            "--credential-process",
        ])
    }
    fn repoint(&self, profile: &str, role: &str) -> Outcome {
        self.run(&["favourite", "edit", profile, "--role", role])
    }
    fn remove(&self, profile: &str) -> Outcome {
        self.run(&["favourite", "remove", profile])
    }
    fn remove_profile(&self, profile: &str) -> Outcome {
        self.run(&["profile", "remove", profile])
    }
    fn set(&self, preference: &str, value: &str) -> Outcome {
        self.run(&["settings", "set", preference, value])
    }
    fn says(&self, profile: &str) -> String {
        let out = cli_command(self.home.path(), &self.endpoint, &["status", "--json"])
            .output()
            .expect("aws-sso-auth runs");
        let status: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        status["favourites"]
            .as_array()
            .and_then(|l| l.iter().find(|f| f["profile"] == profile))
            .and_then(|f| f["state"].as_str())
            .unwrap_or("(nothing)")
            .to_owned()
    }
    fn knows(&self, profile: &str) -> bool {
        eventually(10, || {
            self.log()
                .lines()
                .rev()
                .find(|l| l.contains("settings read again; favourites:"))
                .is_some_and(|l| {
                    l.split(": ")
                        .last()
                        .unwrap_or_default()
                        .split(", ")
                        .any(|p| p == profile)
                })
        })
    }
    fn renews(&self, which: &str, minutes: Option<(u64, u64)>) -> bool {
        let instance = format!("{} (eu-west-1)", self.url(which));
        eventually(10, || {
            let log = self.log();
            let last = log.lines().rev().find(|l| {
                l.contains(&format!("renewing {instance}:"))
                    || l.contains(&format!("stopped renewing {instance}"))
            });
            match (last, minutes) {
                (Some(l), Some((token, creds))) => l.contains(&format!(
                    "the session {token} min and profiles {creds} min before"
                )),
                (Some(l), None) => l.contains("stopped renewing"),
                (None, _) => false,
            }
        })
    }
}

/// The app, on the mock runtime, in its own home.
struct AppFace {
    home: tempfile::TempDir,
    tag: String,
    // Dropped after the window.
    window: WebviewWindow<MockRuntime>,
    app: tauri::App<MockRuntime>,
}

impl AppFace {
    fn new(endpoint: &str, tag: &str) -> Self {
        let home = tempfile::tempdir().expect("home");
        let mut options = test_options(home.path(), endpoint);
        // The session where the command line finds it too: another process adds a
        // favourite while the app runs.
        options.store = Arc::new(KeychainStore::new());
        options.cli = Some(cli_program());
        let (app, window) = mock_app(options);
        Self {
            home,
            tag: tag.to_owned(),
            window,
            app,
        }
    }

    fn call(&self, cmd: &str, args: Value) -> Outcome {
        invoke(&self.window, cmd, args)
            .map(|_| ())
            .map_err(|e| format!("{}: {}", e["code"], e["message"]))
    }

    fn state(&self) -> Value {
        invoke(&self.window, "get_state", json!({})).expect("state")
    }

    fn world(&self) -> Arc<TrayApp> {
        self.app.state::<Arc<TrayApp>>().inner().clone()
    }
}

impl Face for AppFace {
    fn name(&self) -> &'static str {
        "app"
    }
    fn home(&self) -> &Path {
        self.home.path()
    }
    fn url(&self, which: &str) -> String {
        format!("https://parity-app-{}-{which}.awsapps.com/start", self.tag)
    }
    fn sign_in_at(&self, url: &str) -> Outcome {
        let known = self.state()["instances"]
            .as_array()
            .is_some_and(|l| l.iter().any(|i| i["startUrl"] == url));
        if known {
            self.call(
                "set_default_instance",
                json!({"instance": {"startUrl": url, "region": "eu-west-1"}}),
            )?;
        } else {
            self.call(
                "add_instance",
                json!({"instance": {"startUrl": url, "region": "eu-west-1", "label": null}}),
            )?;
        }
        self.call("sign_in", json!({}))
    }
    fn sign_out(&self) -> Outcome {
        self.call("sign_out", json!({}))
    }
    fn add(&self, profile: &str, account: &str, role: &str, region: Option<&str>) -> Outcome {
        self.call(
            "add_favourite",
            json!({"favourite": {"profile": profile, "accountId": account, "accountName": null, "roleName": role, "region": region}}),
        )
    }
    fn add_on_demand(&self, profile: &str, account: &str, role: &str) -> Outcome {
        self.call(
            "add_favourite",
            json!({"favourite": {"profile": profile, "accountId": account, "accountName": null, "roleName": role, "region": null, "credentialProcess": true}}),
        )
    }
    fn repoint(&self, profile: &str, role: &str) -> Outcome {
        self.call(
            "edit_favourite",
            json!({"profile": profile, "change": {"roleName": role}}),
        )
    }
    fn remove(&self, profile: &str) -> Outcome {
        self.call("remove_favourite", json!({"profile": profile}))
    }
    fn remove_profile(&self, profile: &str) -> Outcome {
        self.call("remove_profile", json!({"profile": profile}))
    }
    fn set(&self, preference: &str, value: &str) -> Outcome {
        let mut preferences = self.state()["preferences"].clone();
        preferences[preference] = serde_json::from_str(value).unwrap_or(json!(value));
        self.call("set_preferences", json!({"preferences": preferences}))
    }
    fn says(&self, profile: &str) -> String {
        self.state()["favourites"]
            .as_array()
            .and_then(|l| l.iter().find(|f| f["profile"] == profile))
            .and_then(|f| f["status"]["text"].as_str())
            .unwrap_or("(nothing)")
            .to_owned()
    }
    fn knows(&self, profile: &str) -> bool {
        eventually(10, || {
            self.state()["favourites"]
                .as_array()
                .is_some_and(|l| l.iter().any(|f| f["profile"] == profile))
        })
    }
    fn renews(&self, which: &str, minutes: Option<(u64, u64)>) -> bool {
        let instance = Instance::new(&self.url(which), "eu-west-1").expect("instance");
        eventually(10, || {
            let status = self.world().world.status();
            let margins = status.instance(&instance).and_then(|i| i.renewing);
            match (margins, minutes) {
                (Some(m), Some((token, creds))) => {
                    m.token.as_secs() == token * 60 && m.credentials.as_secs() == creds * 60
                }
                (None, None) => true,
                _ => false,
            }
        })
    }
}

/// What a face's world holds, in words both faces share (each face's own start URLs
/// replaced by the same placeholders; keys and times by `*`).
fn snapshot(face: &dyn Face) -> BTreeMap<String, String> {
    let home = face.home();
    let mut out = BTreeMap::new();
    let neutral = |text: String| {
        text.replace(&face.url("a"), "URL-A")
            .replace(&face.url("b"), "URL-B")
            .replace(&face.url("c"), "URL-C")
    };
    let read = |p: &str| std::fs::read_to_string(home.join(p)).ok();
    if let Some(settings) = read(".config/aws-sso-tray/settings.json") {
        out.insert("settings.json".into(), neutral(settings));
    }
    for file in [".aws/credentials", ".aws/config"] {
        if let Some(text) = read(file) {
            let masked: Vec<String> = text
                .lines()
                .map(|l| match l.split_once(" = ") {
                    Some((
                        k @ ("aws_access_key_id"
                        | "aws_secret_access_key"
                        | "aws_session_token"
                        | "x_security_token_expires"),
                        _,
                    )) => format!("{k} = *"),
                    _ => l.to_owned(),
                })
                .collect();
            out.insert(file.into(), masked.join("\n"));
        }
    }
    let cache = home.join(".cache/aws-sso-tray");
    for which in ["a", "b", "c"] {
        let instance = Instance::new(&face.url(which), "eu-west-1").expect("instance");
        let accounts = AccountsCache::new(cache.join("accounts")).path_of(&instance);
        out.insert(
            format!("account list of {which}"),
            accounts.is_file().to_string(),
        );
        let session = KeychainStore::new()
            .get(&instance.key())
            .expect("keychain")
            .is_some();
        out.insert(format!("keychain item of {which}"), session.to_string());
    }
    let mut credentials_cache: Vec<String> = std::fs::read_dir(cache.join("credentials"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    credentials_cache.sort();
    out.insert("cached credentials".into(), credentials_cache.join(","));
    out
}

/// The account list a person browsed earlier, in each face's cache.
fn seed_account_list(face: &dyn Face, org: &[OrgAccount]) {
    let instance = Instance::new(&face.url("a"), "eu-west-1").expect("instance");
    let accounts: Vec<AccountRoles> = org
        .iter()
        .map(|a| AccountRoles {
            account: Account {
                account_id: a.account_id.clone(),
                account_name: a.account_name.clone(),
                email_address: None,
            },
            roles: a
                .roles
                .iter()
                .map(|r| Role {
                    account_id: a.account_id.clone(),
                    role_name: r.clone(),
                })
                .collect(),
        })
        .collect();
    AccountsCache::new(face.home().join(".cache/aws-sso-tray/accounts"))
        .put(&instance, &accounts, SystemClock.now())
        .expect("account list");
}

/// Runs `step` on both faces; both must end the same way and hold the same world.
fn step(what: &str, faces: &[&dyn Face], expect_ok: bool, act: impl Fn(&dyn Face) -> Outcome) {
    let mut shots = Vec::new();
    for face in faces {
        let outcome = act(*face);
        assert_eq!(
            outcome.is_ok(),
            expect_ok,
            "{what}, through the {}: {outcome:?}",
            face.name()
        );
        shots.push(snapshot(*face));
    }
    assert_eq!(
        shots[0],
        shots[1],
        "after \"{what}\", the {} and the {} disagree",
        faces[0].name(),
        faces[1].name()
    );
}

#[test]
fn both_faces_leave_the_same_world_after_every_step() {
    let emulator = tauri::async_runtime::block_on(Emulator::start(EmulatorConfig {
        auto_approve: true,
        ..EmulatorConfig::default()
    }))
    .expect("emulator");
    let endpoint = emulator.endpoint();
    let org = emulator.organisation();
    let tag = std::process::id().to_string();
    let cli = CliFace::new(&endpoint, &tag);
    let app = AppFace::new(&endpoint, &tag);
    let faces: [&dyn Face; 2] = [&cli, &app];
    for face in faces {
        seed_account_list(face, &org);
    }
    let (a0, a1, a2) = (&org[0], &org[1], &org[2]);

    step("sign in", &faces, true, |f| f.sign_in("a"));
    step("add a favourite", &faces, true, |f| {
        f.add("dev", &a0.account_id, &a0.roles[0], Some("eu-central-1"))
    });
    step("re-point it to another role", &faces, true, |f| {
        f.repoint("dev", &a0.roles[1])
    });
    assert!(cli.knows("dev"), "the daemon knows dev:\n{}", cli.log());
    assert!(app.knows("dev"), "the app knows dev");
    // The role must be the user's, whichever face adds it.
    step(
        "add one with a role that is not the user's",
        &faces,
        false,
        |f| f.add("bad", &a0.account_id, "NoSuchRole", None),
    );
    step("add another", &faces, true, |f| {
        f.add("ops", &a1.account_id, &a1.roles[0], None)
    });
    // A favourite's profile goes with its favourite, never on its own, whichever face
    // is asked.
    step(
        "remove a favourite's profile on its own",
        &faces,
        false,
        |f| f.remove_profile("dev"),
    );
    step("remove the first", &faces, true, |f| f.remove("dev"));

    // An on-demand favourite: a tool's call caches its credentials, removing it forgets
    // them.
    step("add an on-demand favourite", &faces, true, |f| {
        f.add_on_demand("cp", &a1.account_id, &a1.roles[1])
    });
    // Both faces word its state alike: the words are the workspace's.
    assert_eq!(
        cli.says("cp"),
        app.says("cp"),
        "the command line and the app word an on-demand favourite alike"
    );
    step("a tool asks for its credentials", &faces, true, |f| {
        run_cli(f.home(), &endpoint, &["credentials", "--profile", "cp"])
    });
    step("remove the on-demand favourite", &faces, true, |f| {
        f.remove("cp")
    });

    // Another process adds one while the daemon or the app runs: the running side
    // takes it in without a restart.
    step("another process adds a favourite", &faces, true, |f| {
        run_cli(
            f.home(),
            &endpoint,
            &[
                "favourite",
                "add",
                "ext",
                "--account",
                &a2.account_id,
                "--role",
                &a2.roles[0],
                "--start-url",
                &f.url("a"),
                "--sso-region",
                "eu-west-1",
            ],
        )
    });
    for face in faces {
        assert!(
            face.knows("ext"),
            "the {}'s running side knows ext",
            face.name()
        );
    }

    // A changed margin restarts the renewer with it.
    for face in faces {
        assert!(
            face.renews("a", Some((15, 10))),
            "the {} renews a",
            face.name()
        );
    }
    step("renew profiles 5 minutes ahead", &faces, true, |f| {
        f.set("credentialsRefreshMinutes", "5")
    });
    for face in faces {
        assert!(
            face.renews("a", Some((15, 5))),
            "the {} renews with the new margin",
            face.name()
        );
    }

    // Signing out clears the caches (the account list too) and keeps the profiles.
    step("sign out, keeping profiles", &faces, true, |f| f.sign_out());
    step("sign in again", &faces, true, |f| f.sign_in("a"));
    step("ask for profiles to go on sign-out", &faces, true, |f| {
        f.set("removeProfilesOnSignOut", "true")
    });
    step("sign out, removing profiles", &faces, true, |f| {
        f.sign_out()
    });

    // An organisation with no favourite left, and not the default, is no longer renewed.
    step("sign in to another organisation", &faces, true, |f| {
        f.sign_in("b")
    });
    step("remove the favourites of the first", &faces, true, |f| {
        f.remove("ops").and_then(|()| f.remove("ext"))
    });
    for face in faces {
        assert!(
            face.renews("a", None),
            "the {} stopped renewing a",
            face.name()
        );
        assert!(
            face.renews("b", Some((15, 5))),
            "the {} renews b",
            face.name()
        );
    }
    // The address a browser shows for the portal names the portal, whichever face it is
    // given to: one settings entry, one keychain item.
    step(
        "sign in with the portal's address as the browser shows it",
        &faces,
        true,
        |f| f.sign_in_at(&format!("{}/#/?tab=accounts", f.url("c"))),
    );
    for face in faces {
        let settings =
            std::fs::read_to_string(face.home().join(".config/aws-sso-tray/settings.json"))
                .unwrap_or_default();
        assert!(
            settings.contains(&format!("\"{}\"", face.url("c")))
                && !settings.contains("tab=accounts"),
            "the {} keeps the start URL: {settings}",
            face.name()
        );
    }
    // The keychain items of this run go with it.
    for face in faces {
        for which in ["a", "b", "c"] {
            let instance = Instance::new(&face.url(which), "eu-west-1").expect("instance");
            KeychainStore::new()
                .delete(&instance.key())
                .expect("clean up");
        }
    }
}
