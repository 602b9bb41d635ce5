//! The app's commands, state and tray menu through Tauri's mock runtime (no display):
//! the real builder, the real config and capabilities, the core against the emulator.

mod blocking;
mod parity;

use aws_sso_device_auth_provider::env::Env;
use aws_sso_device_auth_provider::workspace::{Event, Options};
use aws_sso_device_auth_provider::MemoryStore;
use aws_sso_emulator::{Emulator, EmulatorConfig, OrgAccount};
use aws_sso_tray::tray::{build_menu, MenuId, TrayModel};
use aws_sso_tray::App as TrayApp;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tauri::menu::MenuItemKind;
use tauri::test::{mock_builder, MockRuntime, INVOKE_KEY};
use tauri::{App, Manager, WebviewWindow};

const START_URL: &str = "https://shell-test.awsapps.com/start";

struct Harness {
    app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    emulator: Emulator,
    home: tempfile::TempDir,
}

/// The app's options for a test home: everything under `home`, AWS at `endpoint`, the
/// session in memory.
pub fn test_options(home: &Path, endpoint: &str) -> Options {
    let env = Env::process()
        .in_home(home)
        .with_endpoints(endpoint)
        // A machine without a desktop browser, whatever runs the tests.
        .without("BROWSER")
        .without("DISPLAY")
        .without("WAYLAND_DISPLAY");
    let mut options = aws_sso_tray::options(env);
    options.store = Arc::new(MemoryStore::new());
    options.open_browser = false;
    options.watch_every = Duration::from_millis(200);
    options
}

impl Harness {
    fn new(config: EmulatorConfig) -> Self {
        Self::with_settings(config, |_| {
            json!({
                "instances": [{"startUrl": START_URL, "region": "eu-west-1", "label": "Shell test"}],
                "defaultInstance": {"startUrl": START_URL, "region": "eu-west-1"},
                "preferences": {"signInFlow": "device"},
            })
        })
    }

    /// The app with the settings file `settings` makes from the organisation.
    fn with_settings(
        config: EmulatorConfig,
        settings: impl FnOnce(&[OrgAccount]) -> Value,
    ) -> Self {
        let emulator = tauri::async_runtime::block_on(Emulator::start(config)).expect("emulator");
        let home = tempfile::tempdir().expect("home");
        let h = home.path();
        let file = h.join(".config/aws-sso-tray/settings.json");
        std::fs::create_dir_all(file.parent().expect("dir")).expect("dir");
        std::fs::write(&file, settings(&emulator.organisation()).to_string()).expect("settings");
        let (app, window) = mock_app(test_options(h, &emulator.endpoint()));
        Self {
            app,
            window,
            emulator,
            home,
        }
    }
}

/// The app on the mock runtime, set up, with its window made as when it is opened.
pub fn mock_app(options: Options) -> (App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let launch = aws_sso_tray::Launch {
        tray: false,
        show_window: false,
    };
    let mut app = aws_sso_tray::builder(mock_builder(), options, None, launch)
        .build(tauri::generate_context!("../tauri.conf.json"))
        .expect("app");
    // One turn of the (mock) event loop runs the app's set-up.
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    // The window, as the app makes it when it is opened (on first run, it already is).
    let window = match app.get_webview_window("main") {
        Some(w) => w,
        None => {
            let config = app.config().app.windows[0].clone();
            tauri::WebviewWindowBuilder::from_config(app.handle(), &config)
                .and_then(|b| b.build())
                .expect("the window")
        }
    };
    (app, window)
}

/// Calls a command as the window does.
pub fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    let request = tauri::webview::InvokeRequest {
        cmd: cmd.into(),
        callback: tauri::ipc::CallbackFn(0),
        error: tauri::ipc::CallbackFn(1),
        url: "tauri://localhost".parse().expect("url"),
        body: tauri::ipc::InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    tauri::test::get_ipc_response(window, request).map(|b| b.deserialize::<Value>().expect("json"))
}

impl Harness {
    fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        invoke(&self.window, cmd, args)
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.invoke(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    fn state(&self) -> Value {
        self.ok("get_state", json!({}))
    }

    fn credentials_file(&self) -> PathBuf {
        self.home.path().join(".aws/credentials")
    }

    fn credentials(&self) -> String {
        std::fs::read_to_string(self.credentials_file()).unwrap_or_default()
    }

    fn app_state(&self) -> Arc<TrayApp> {
        self.app.state::<Arc<TrayApp>>().inner().clone()
    }
}

/// Waits until `cond` holds, for at most `secs` seconds.
pub fn eventually(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

/// The labels of a menu, submenus indented.
fn labels(items: &[MenuItemKind<MockRuntime>], indent: &str, out: &mut Vec<String>) {
    for item in items {
        match item {
            MenuItemKind::MenuItem(i) => out.push(format!("{indent}{}", i.text().expect("text"))),
            MenuItemKind::Predefined(_) => out.push(format!("{indent}---")),
            MenuItemKind::Submenu(s) => {
                out.push(format!("{indent}{} >", s.text().expect("text")));
                labels(&s.items().expect("items"), &format!("{indent}  "), out);
            }
            _ => {}
        }
    }
}

fn menu_of(h: &Harness) -> (TrayModel, Vec<String>) {
    let view = h.app_state().view();
    let model = TrayModel::from_view(&view);
    let menu = build_menu(h.app.handle(), &model.entries).expect("menu");
    let mut out = Vec::new();
    labels(&menu.items().expect("items"), "", &mut out);
    (model, out)
}

#[test]
fn sign_in_browse_add_a_favourite_and_the_tray_follows() {
    let h = Harness::new(EmulatorConfig {
        auto_approve: true,
        ..EmulatorConfig::default()
    });
    let state = h.state();
    assert_eq!(state["session"]["state"], "signedOut");
    assert_eq!(state["instance"]["startUrl"], START_URL);
    assert_eq!(state["demo"], false);
    // The emulator's address comes from the environment: Settings says so.
    let overrides: Vec<&str> = state["endpointOverrides"]
        .as_array()
        .expect("overrides")
        .iter()
        .filter_map(|o| o["variable"].as_str())
        .collect();
    assert_eq!(
        overrides,
        [
            "AWS_ENDPOINT_URL_SSO_OIDC",
            "AWS_ENDPOINT_URL_SSO",
            "AWS_ENDPOINT_URL_SIGNIN",
            "AWS_ENDPOINT_URL_STS",
            "AWS_ENDPOINT_URL_EKS",
            "AWS_ENDPOINT_URL_ECR",
            "AWS_ENDPOINT_URL_UXC"
        ]
    );
    let (model, menu) = menu_of(&h);
    assert_eq!(model.icon, aws_sso_tray::tray::TrayIcon::SignedOut);
    assert_eq!(menu[0], "Shell test · signed out");
    assert_eq!(menu[1], "Sign in…");
    assert!(menu.contains(&"No favourites yet: add one in Browse accounts".to_owned()));
    assert_eq!(menu.last().map(String::as_str), Some("Quit"));

    assert_eq!(h.ok("sign_in", json!({})), Value::Null);
    let state = h.state();
    assert_eq!(state["session"]["state"], "signedIn");
    assert_eq!(state["signIn"], Value::Null);

    // The account list: empty cache at first, then filled by the background refresh,
    // the accounts first and their roles after them.
    let first = h.ok("get_accounts", json!({}));
    assert_eq!(first["updatedAt"], Value::Null);
    let mut accounts = Value::Null;
    assert!(eventually(20, || {
        accounts = h.ok("get_accounts", json!({}));
        accounts["updatedAt"].is_number()
            && accounts["accounts"]
                .as_array()
                .is_some_and(|a| a.iter().all(|a| a["rolesPending"] == false))
    }));
    let list = accounts["accounts"].as_array().expect("accounts");
    assert_eq!(list.len(), h.emulator.organisation().len());
    let account = &list[0];
    let role = account["roles"][0].as_str().expect("a role");

    h.ok(
        "add_favourite",
        json!({"favourite": {
            "profile": "team-dev",
            "accountId": account["accountId"],
            "accountName": account["accountName"],
            "roleName": role,
            "region": "eu-central-1",
            "credentialProcess": false
        }}),
    );
    // Written before it answers.
    let written = h.credentials();
    assert!(written.contains("[team-dev]"), "{written}");
    assert!(written.contains("aws_session_token"), "{written}");
    let state = h.state();
    let fav = &state["favourites"][0];
    assert_eq!(fav["profile"], "team-dev");
    assert!(fav["expiresAt"].is_number(), "{fav}");
    assert_eq!(fav["error"], Value::Null);

    let (model, menu) = menu_of(&h);
    assert_eq!(model.icon, aws_sso_tray::tray::TrayIcon::SignedIn);
    assert_eq!(menu[0], "Shell test · signed in");
    assert_eq!(menu[1], "Sign out");
    let line = format!(
        "team-dev → {} / {role} · 59 min left",
        account["accountName"].as_str().expect("name")
    );
    assert!(
        menu.contains(&line) || menu.contains(&line.replace("59 min", "1 h 00 min")),
        "{line} in {menu:#?}"
    );
    assert!(menu.contains(&"Open console >".to_owned()), "{menu:#?}");
    // Every clickable id is one of ours.
    fn ids(entries: &[aws_sso_tray::tray::Entry], out: &mut Vec<MenuId>) {
        for e in entries {
            match e {
                aws_sso_tray::tray::Entry::Item(id, _) => out.push(id.clone()),
                aws_sso_tray::tray::Entry::Submenu(_, kids) => ids(kids, out),
                _ => {}
            }
        }
    }
    let mut all = Vec::new();
    ids(&model.entries, &mut all);
    assert!(all.contains(&MenuId::Renew("team-dev".into())));
    assert!(all.contains(&MenuId::Console("team-dev".into())));

    // Renew now through the same path as the tray's click.
    let before = h.credentials();
    h.ok("renew_now", json!({"profile": "team-dev"}));
    assert!(eventually(10, || h.credentials() != before), "renewed");

    h.ok("remove_favourite", json!({"profile": "team-dev"}));
    assert!(!h.credentials().contains("[team-dev]"));
    h.ok("sign_out", json!({}));
    assert_eq!(h.state()["session"]["state"], "signedOut");
}

#[test]
fn bad_input_is_a_sentence_with_a_code_and_changes_nothing() {
    let h = Harness::new(EmulatorConfig {
        auto_approve: true,
        ..EmulatorConfig::default()
    });
    // Not signed in: a one-off write asks for a sign-in.
    let e = h
        .invoke(
            "write_profile",
            json!({"request": {"profile": "x", "accountId": "111122223333", "roleName": "R", "region": null}}),
        )
        .expect_err("not signed in");
    assert_eq!(e["code"], "signInNeeded", "{e}");
    assert!(
        !e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("aws-sso-auth"),
        "{e}"
    );

    h.ok("sign_in", json!({}));
    std::fs::create_dir_all(h.home.path().join(".aws")).expect("dir");
    std::fs::write(
        h.credentials_file(),
        "# mine\n[default]\naws_access_key_id = AKIAUSER\n",
    )
    .expect("seed");
    let before = h.credentials();
    let account = h.emulator.organisation()[0].clone();
    for (profile, region, code) in [
        ("bad]name", None, "invalidInput"),
        ("two\nlines", None, "invalidInput"),
        ("ok-name", Some("eu west 1"), "invalidInput"),
        ("default", None, "conflict"),
    ] {
        let e = h
            .invoke(
                "add_favourite",
                json!({"favourite": {
                    "profile": profile,
                    "accountId": account.account_id,
                    "accountName": account.account_name,
                    "roleName": account.roles[0],
                    "region": region,
                }}),
            )
            .expect_err(profile);
        assert_eq!(e["code"], code, "{profile}: {e}");
        let message = e["message"].as_str().expect("message");
        assert!(
            message.ends_with('.') || message.ends_with(')'),
            "{message}"
        );
        assert_eq!(h.credentials(), before, "{profile}: nothing written");
    }
    // An on-demand profile needs the CLI beside the app (not beside this test binary).
    let e = h
        .invoke(
            "add_favourite",
            json!({"favourite": {
                "profile": "on-demand",
                "accountId": account.account_id,
                "accountName": null,
                "roleName": account.roles[0],
                "region": null,
                "credentialProcess": true,
            }}),
        )
        .expect_err("no CLI beside the app");
    assert_eq!(e["code"], "files", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("aws-sso-auth"),
        "{e}"
    );
    assert_eq!(h.credentials(), before);
    assert_eq!(h.state()["favourites"], json!([]), "no favourite saved");

    let e = h
        .invoke(
            "add_instance",
            json!({"instance": {"startUrl": "not a url", "region": "eu-west-1", "label": null}}),
        )
        .expect_err("bad url");
    assert_eq!(e["code"], "invalidInput", "{e}");
    let e = h
        .invoke(
            "set_preferences",
            json!({"preferences": {"tokenRefreshMinutes": 0, "credentialsRefreshMinutes": 10}}),
        )
        .expect_err("bad margin");
    assert_eq!(e["code"], "invalidInput", "{e}");
    // A command the capability does not grant does not exist for the window.
    assert!(h.invoke("plugin:notification|notify", json!({})).is_err());
}

#[test]
fn a_revoked_session_is_announced_once_and_shown_as_needing_sign_in() {
    let h = Harness::new(EmulatorConfig {
        auto_approve: true,
        ..EmulatorConfig::default()
    });
    h.ok("sign_in", json!({}));
    let account = h.emulator.organisation()[0].clone();
    h.ok(
        "add_favourite",
        json!({"favourite": {"profile": "p1", "accountId": account.account_id, "accountName": null, "roleName": account.roles[0], "region": null}}),
    );
    let mut events = h.app_state().world.subscribe();
    h.emulator.revoke_sessions();
    h.ok("renew_now", json!({"profile": "p1"}));
    let mut ended = 0;
    assert!(eventually(15, || {
        while let Ok(e) = events.try_recv() {
            ended += usize::from(matches!(e, Event::SessionEnded { .. }));
        }
        h.state()["session"]["state"] == "needsSignIn"
    }));
    // The renewal under way ends with the session, not spinning on.
    assert_eq!(h.state()["favourites"][0]["renewing"], false);
    std::thread::sleep(Duration::from_millis(500));
    while let Ok(e) = events.try_recv() {
        ended += usize::from(matches!(e, Event::SessionEnded { .. }));
    }
    assert_eq!(ended, 1, "one \"AWS session ended\" notice");
    let (model, menu) = menu_of(&h);
    assert_eq!(model.icon, aws_sso_tray::tray::TrayIcon::Attention);
    assert_eq!(menu[0], "Shell test · session ended, sign in again");
    assert_eq!(menu[1], "Sign in…");
    // The profile written before is kept, not removed.
    assert!(h.credentials().contains("[p1]"));
}

/// One name for the product wherever a person reads it: the window's title, the page's
/// title and heading, the tray's hover text.
#[test]
fn the_product_has_one_name_wherever_a_person_reads_it() {
    let h = Harness::new(EmulatorConfig::default());
    const NAME: &str = "AWS SSO Tray";
    assert_eq!(h.app.config().app.windows[0].title, NAME);
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/index.html"))
            .expect("the page");
    assert!(page.contains(&format!("<title>{NAME}</title>")), "{page}");
    assert!(page.contains(&format!("<h1>{NAME}</h1>")), "{page}");
    let (model, _) = menu_of(&h);
    assert!(
        model.tooltip.starts_with(&format!("{NAME}: ")),
        "{}",
        model.tooltip
    );
}

/// A renewal asked for in the tray menu says so in the menu at once, before any of its
/// work has run (here: while every worker of the app's runtime is busy), and until its
/// outcome.
#[test]
fn the_tray_shows_and_renews_a_favourite_that_assumes_a_role_and_a_refusal_says_who() {
    let h = Harness::new(EmulatorConfig {
        auto_approve: true,
        ..EmulatorConfig::default()
    });
    h.ok("sign_in", json!({}));
    let org = h.emulator.organisation();
    let (account, other) = (org[0].clone(), org[1].account_id.clone());
    let arn = format!("arn:aws:iam::{other}:role/Deploy");
    let assumed = h.emulator.counters().assume_role;
    h.ok(
        "add_favourite",
        json!({"favourite": {"profile": "deploy", "accountId": account.account_id, "accountName": account.account_name,
            "roleName": account.roles[0], "region": null, "assumeRole": {"roleArn": arn, "durationSeconds": 900}}}),
    );
    assert_eq!(
        h.emulator.counters().assume_role,
        assumed + 1,
        "assumed once"
    );
    assert!(h.credentials().contains("[deploy]"));
    let (_, menu) = menu_of(&h);
    let line = menu
        .iter()
        .find(|l| l.starts_with("deploy → "))
        .cloned()
        .unwrap_or_default();
    assert!(
        line.starts_with(&format!(
            "deploy → {} / {} ⇒ Deploy · ",
            account.account_name, account.roles[0]
        )) && line.ends_with(" min left"),
        "{menu:#?}"
    );
    assert_eq!(h.state()["favourites"][0]["assumeRole"]["roleArn"], arn);

    // The tray's click renews it through STS again.
    let before = h.credentials();
    aws_sso_tray::events::on_menu(h.app.handle(), &MenuId::Renew("deploy".into()).to_id());
    assert!(eventually(15, || h.credentials() != before), "renewed");
    assert!(h.emulator.counters().assume_role > assumed + 1);
    // A trust policy that refuses: the app's error names the role and who it refused.
    let refused = format!("arn:aws:iam::{other}:role/NoTrustAudit");
    let e = h
        .invoke(
            "edit_favourite",
            json!({"profile": "deploy", "change": {"assumeRole": {"roleArn": refused}}}),
        )
        .expect_err("refused");
    assert_eq!(e["code"], "invalidInput", "{e}");
    let message = e["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&refused) && message.contains(&account.roles[0]),
        "{message}"
    );
    assert_eq!(
        h.state()["favourites"][0]["assumeRole"]["roleArn"],
        arn,
        "unchanged"
    );
    // And back to the SSO role alone.
    h.ok(
        "edit_favourite",
        json!({"profile": "deploy", "change": {"assumeRole": null}}),
    );
    assert_eq!(h.state()["favourites"][0]["assumeRole"], Value::Null);
}

#[test]
fn a_renewal_from_the_tray_says_it_is_renewing_from_the_click_to_the_outcome() {
    let h = Harness::new(EmulatorConfig {
        auto_approve: true,
        ..EmulatorConfig::default()
    });
    h.ok("sign_in", json!({}));
    let account = h.emulator.organisation()[0].clone();
    h.ok(
        "add_favourite",
        json!({"favourite": {"profile": "p1", "accountId": account.account_id, "accountName": null, "roleName": account.roles[0], "region": null}}),
    );
    let line = |menu: &[String]| {
        menu.iter()
            .find(|l| l.starts_with("p1 → "))
            .cloned()
            .unwrap_or_default()
    };
    assert!(eventually(10, || line(&menu_of(&h).1).ends_with(" left")));
    let before = h.credentials();

    // Every worker of the runtime busy until the gate opens.
    let gate = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    let busy = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for _ in 0..workers {
        let (gate, busy) = (gate.clone(), busy.clone());
        tauri::async_runtime::spawn(async move {
            busy.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let (open, cv) = &*gate;
            let mut open = open.lock().expect("gate");
            while !*open {
                open = cv.wait(open).expect("gate");
            }
        });
    }
    eventually(2, || {
        busy.load(std::sync::atomic::Ordering::SeqCst) == workers
    });
    aws_sso_tray::events::on_menu(h.app.handle(), &MenuId::Renew("p1".into()).to_id());
    let (_, menu) = menu_of(&h);
    {
        let (open, cv) = &*gate;
        *open.lock().expect("gate") = true;
        cv.notify_all();
    }
    assert!(
        line(&menu).ends_with(" · renewing…"),
        "at the click: {menu:#?}"
    );

    // Until the outcome: new keys in the file, and the time left again.
    let mut seen = Vec::new();
    assert!(
        eventually(15, || {
            let now = line(&menu_of(&h).1);
            let done = h.credentials() != before && now.ends_with(" left");
            if !done {
                seen.push(now);
            }
            done
        }),
        "renewed: {seen:#?}"
    );
    assert!(
        seen.iter().all(|l| l.ends_with(" · renewing…")),
        "renewing until the outcome: {seen:#?}"
    );
}

#[test]
fn a_sign_in_waits_for_the_person_shows_the_code_and_can_be_cancelled() {
    let h = Harness::new(EmulatorConfig::default());
    let state = h.app_state();
    let mut events = state.world.subscribe();
    let signing = {
        let state = state.clone();
        std::thread::spawn(move || tauri::async_runtime::block_on(state.sign_in()))
    };
    assert!(eventually(10, || h.state()["signIn"]["userCode"].is_string()));
    let view = h.state();
    assert_eq!(view["session"]["state"], "signingIn");
    let code = view["signIn"]["userCode"]
        .as_str()
        .expect("code")
        .to_owned();
    assert!(h.emulator.pending_user_codes().contains(&code));
    assert!(view["signIn"]["url"].as_str().expect("url").contains(&code));
    let mut saw_code = false;
    while let Ok(e) = events.try_recv() {
        saw_code |= matches!(e, Event::SignInCode { .. });
    }
    assert!(saw_code, "the window is told to show the code");
    // A second sign-in while one waits is refused, not started twice.
    let e = h.invoke("sign_in", json!({})).expect_err("one at a time");
    assert_eq!(e["code"], "conflict");

    h.ok("cancel_sign_in", json!({}));
    let result = signing.join().expect("thread");
    let e = result.expect_err("cancelled");
    assert_eq!(e.code, aws_sso_tray::error::ErrorCode::Cancelled);
    let view = h.state();
    assert_eq!(view["session"]["state"], "signedOut");
    assert_eq!(view["signIn"], Value::Null);
}

/// Whether `s` holds a character a screen would act on rather than show.
fn acts_on_screen(s: &str) -> bool {
    s.chars().any(|c| {
        c.is_control()
            || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    })
}

#[test]
fn names_from_the_service_and_the_settings_change_no_screen() {
    let names = [
        "evil\u{202e}dorp".to_owned(),
        "R&D <b>bold</b>".to_owned(),
        "two\nlines".to_owned(),
        "x".repeat(500),
    ];
    let h = Harness::with_settings(
        EmulatorConfig {
            auto_approve: true,
            account_names: names.to_vec(),
            ..EmulatorConfig::default()
        },
        |_| {
            json!({
                "instances": [{"startUrl": START_URL, "region": "eu-west-1", "label": "Corp & Co\u{202e}\n"}],
                "defaultInstance": {"startUrl": START_URL, "region": "eu-west-1"},
                "preferences": {"signInFlow": "device"},
            })
        },
    );
    h.ok("sign_in", json!({}));
    let mut accounts = Value::Null;
    assert!(eventually(20, || {
        accounts = h.ok("get_accounts", json!({}));
        accounts["updatedAt"].is_number()
    }));
    // What the window is given to show: escapes, never the controls themselves.
    let shown: Vec<String> = accounts["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["accountName"].as_str().expect("name").to_owned())
        .collect();
    assert!(shown.iter().all(|n| !acts_on_screen(n)), "{shown:?}");
    assert!(shown.contains(&"evil\\u{202e}dorp".to_owned()), "{shown:?}");
    assert!(shown.contains(&"two\\nlines".to_owned()), "{shown:?}");
    assert!(!acts_on_screen(&h.state().to_string().replace("\\n", "")));

    let org = h.emulator.organisation();
    for (profile, account) in ["bidi", "markup", "lines", "long"].iter().zip(org.iter()) {
        h.ok(
            "add_favourite",
            json!({"favourite": {"profile": profile, "accountId": account.account_id,
                "accountName": account.account_name, "roleName": account.roles[0], "region": null}}),
        );
    }
    let (_, menu) = menu_of(&h);
    // One line per item, each short enough for a menu, none with a control in it.
    assert!(menu.iter().all(|l| !acts_on_screen(l)), "{menu:#?}");
    assert!(menu.iter().all(|l| l.chars().count() <= 100), "{menu:#?}");
    // `&` is doubled so that it shows rather than marking a mnemonic.
    assert!(
        menu[0].starts_with("Corp && Co\\u{202e}\\n · signed in"),
        "{menu:#?}"
    );
    assert!(
        menu.iter()
            .any(|l| l.starts_with("markup → R&&D <b>bold</b> / ")),
        "{menu:#?}"
    );
    assert!(
        menu.iter()
            .any(|l| l.starts_with("bidi → evil\\u{202e}dorp / ")),
        "{menu:#?}"
    );
    // A long name is cut; the time left, at the line's end, still shows.
    let long = menu
        .iter()
        .find(|l| l.starts_with("long → "))
        .expect("long");
    assert!(long.contains("…") && long.ends_with("left"), "{long}");
}
