//! Sign-in requests: `credential_process` callers ask the running app (played here by a
//! workspace that answers on the socket, as the app does) instead of starting a flow
//! nobody sees; one notice and one sign-in for any number of them.

use crate::cli::{favourite_without_its_profile, Cli};
use crate::util::emulator;
use aws_sso_device_auth_provider::ask::{self, AskApp, Listener, Outcome};
use aws_sso_device_auth_provider::workspace::Event;
use aws_sso_device_auth_provider::{Instance, SignInFlow};
use aws_sso_emulator::{Emulator, EmulatorConfig};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CALLERS: usize = 20;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A user signed in with the CLI, with favourite `ops` whose profile is gone (so every
/// caller needs the portal) and a session revoked on the server.
async fn dead_session() -> (Emulator, Cli, Instance) {
    let (emu, cli) = favourite_without_its_profile().await;
    // Codes to approve on the emulator's page, desktop or not.
    let out = cli.run(&["settings", "set", "signInFlow", "device"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cli.run(&["status", "--json"]).await;
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status");
    let i = &status["sessions"][0];
    let instance = Instance::new(
        i["startUrl"].as_str().expect("start url"),
        i["region"].as_str().expect("region"),
    )
    .expect("instance");
    emu.revoke_sessions();
    (emu, cli, instance)
}

/// Where the app's socket is.
fn socket_dir(cli: &Cli) -> PathBuf {
    cli.runtime_dir().join("aws-sso-tray")
}

/// `credentials --profile ops`, as a tool's `credential_process` runs it, asking the app
/// in the home's runtime directory.
fn caller(cli: &Cli, extra: &[(&str, &str)]) -> tokio::process::Child {
    let mut c = cli.command(&["credentials", "--profile", "ops"]);
    c.env("XDG_RUNTIME_DIR", cli.runtime_dir())
        .envs(extra.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c.spawn().expect("spawn")
}

/// Waits until `n` callers have asked; returns how many asks told the person.
async fn asked(events: &mut tokio::sync::broadcast::Receiver<Event>, n: usize) -> (usize, usize) {
    let (mut asks, mut told) = (0, 0);
    while asks < n {
        match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
            Ok(Ok(Event::SignInAsked { notify, .. })) => {
                asks += 1;
                told += usize::from(notify);
            }
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            other => panic!("{asks} of {n} callers asked: {other:?}"),
        }
    }
    (asks, told)
}

async fn outputs(children: Vec<tokio::process::Child>) -> Vec<(Output, Instant)> {
    let mut done = Vec::new();
    for child in children {
        let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .expect("the caller ends")
            .expect("runs");
        done.push((out, Instant::now()));
    }
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_callers_ask_the_app_once_and_go_on_when_the_person_signs_in_or_declines() {
    let (emu, cli, instance) = dead_session().await;
    let world = cli.app_world(&emu).await;
    let listener = Listener::bind(&socket_dir(&cli)).await.expect("bind");
    let mode = std::fs::metadata(socket_dir(&cli))
        .expect("dir")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700, "the socket's directory is private");
    let server = world.clone();
    let serving = tokio::spawn(async move { server.answer_sign_in_requests(listener).await });
    let mut events = world.subscribe();
    let before = emu.counters();

    // Twenty callers: one notice, and they wait.
    let children: Vec<_> = (0..CALLERS).map(|_| caller(&cli, &[])).collect();
    let (asks, told) = asked(&mut events, CALLERS).await;
    assert_eq!(
        (asks, told),
        (CALLERS, 1),
        "one notice for {CALLERS} callers"
    );
    let waiting = world
        .status()
        .instance(&instance)
        .expect("instance")
        .asked_by
        .clone();
    assert_eq!(
        waiting.len(),
        1,
        "the same program, named once: {waiting:?}"
    );
    assert_eq!(
        emu.counters().start_device_authorization,
        before.start_device_authorization
    );

    // The person signs in (in the app), approving its one code.
    let signer = world.clone();
    let i = instance.clone();
    let signing = tokio::spawn(async move { signer.sign_in(&i, Some(SignInFlow::Device)).await });
    let approved_at = loop {
        if let Some(code) = emu.pending_user_codes().first() {
            assert!(emu.decide(code, true));
            break Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    signing.await.expect("joins").expect("signed in");
    let signed_in = approved_at.elapsed();
    let done = outputs(children).await;
    for (out, _) in &done {
        assert!(out.status.success(), "{}", text(&out.stderr));
        let p: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert!(p["AccessKeyId"].as_str().is_some_and(|k| !k.is_empty()));
        assert!(text(&out.stderr).contains("AWS SSO Tray asks you to sign in"));
    }
    let last = done.iter().map(|(_, t)| *t).max().expect("callers");
    let after = emu.counters();
    assert_eq!(
        after.start_device_authorization - before.start_device_authorization,
        1,
        "one device authorization for {CALLERS} callers"
    );
    println!(
        "{CALLERS} callers: {told} notification, {} device authorization, {} succeeded; from approval: signed in (one poll) {} ms, the last caller's credentials {} ms",
        after.start_device_authorization - before.start_device_authorization,
        done.len(),
        signed_in.as_millis(),
        last.duration_since(approved_at).as_millis()
    );

    // Later, the session dies again (and the profile is gone), found so on waking: the
    // app tells the person once, and the callers that follow add no notice. This time
    // the person declines.
    emu.revoke_sessions();
    cli.remove_behind_its_back("ops");
    assert!(
        world.tell_of_session_end(&instance),
        "signing in made a new ending worth a notice"
    );
    assert!(
        !world.tell_of_session_end(&instance),
        "one notice per ending"
    );
    let children: Vec<_> = (0..CALLERS).map(|_| caller(&cli, &[])).collect();
    let (_, told) = asked(&mut events, CALLERS).await;
    assert_eq!(told, 0, "the person was told already");
    world.decline_sign_in(&instance);
    for (out, _) in outputs(children).await {
        assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr)
                .contains("declined in AWS SSO Tray; sign in from the tray when you are ready"),
            "{}",
            text(&out.stderr)
        );
    }

    // A caller that waits no longer than it said.
    let started = Instant::now();
    let out = outputs(vec![caller(&cli, &[("AWS_SSO_AUTH_SIGN_IN_TIMEOUT", "1")])]).await;
    let (out, _) = &out[0];
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("nobody signed in to"),
        "{}",
        text(&out.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(
        emu.counters().start_device_authorization,
        after.start_device_authorization
    );
    serving.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_over_the_limit_signs_in_by_itself_at_once_and_the_others_wait_on() {
    let (emu, cli, instance) = dead_session().await;
    let world = cli.app_world(&emu).await;
    let dir = socket_dir(&cli);
    let listener = Listener::bind(&dir).await.expect("bind");
    let server = world.clone();
    let serving = tokio::spawn(async move { server.answer_sign_in_requests(listener).await });

    // As many callers as the app answers at once, waiting for the person: the first
    // finds the session revoked.
    let mut events = world.subscribe();
    let before = emu.counters();
    let first = caller(&cli, &[]);
    asked(&mut events, 1).await;
    let (told, mut waiting) = tokio::sync::mpsc::unbounded_channel();
    let probe = AskApp {
        program: Some("terraform".into()),
        wants: ask::Wants::Unsaid,
        timeout: Duration::from_secs(120),
        on_waiting: Arc::new(move |_: &Instance| {
            let _ = told.send(());
        }),
    };
    let asking: Vec<_> = (1..ask::MAX_CALLERS)
        .map(|_| {
            let (dir, probe, instance) = (dir.clone(), probe.clone(), instance.clone());
            tokio::spawn(async move { ask::ask(&dir, &probe, &instance).await })
        })
        .collect();
    for n in 1..ask::MAX_CALLERS {
        tokio::time::timeout(Duration::from_secs(20), waiting.recv())
            .await
            .unwrap_or_else(|_| panic!("{n} of {} callers wait", ask::MAX_CALLERS))
            .expect("a caller waits");
    }
    assert_eq!(
        emu.counters().start_device_authorization,
        before.start_device_authorization
    );
    assert!(emu.pending_user_codes().is_empty());

    // One more: it starts a sign-in of its own at once, and goes on when it is approved.
    let child = caller(&cli, &[]);
    let started = Instant::now();
    let code = loop {
        if let Some(code) = emu.pending_user_codes().first() {
            break code.clone();
        }
        if started.elapsed() > Duration::from_secs(20) {
            panic!("the caller over the limit does not sign in by itself");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(emu.decide(&code, true));
    let (out, _) = outputs(vec![child]).await.remove(0);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("AWS SSO Tray asks you to sign in"),
        "{}",
        text(&out.stderr)
    );
    assert!(dir.join(ask::SOCKET).exists());

    // The callers within the limit waited on, and have the person's answer.
    assert!(asking.iter().all(|a| !a.is_finished()));
    world.decline_sign_in(&instance);
    for a in asking {
        assert_eq!(a.await.expect("joins"), Outcome::Declined);
    }
    let (out, _) = outputs(vec![first]).await.remove(0);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    serving.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_app_or_with_its_stale_socket_callers_sign_in_themselves() {
    let (emu, cli, _) = dead_session().await;
    // What an app killed mid-run leaves: a socket nobody listens on.
    let dir = socket_dir(&cli);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    drop(std::os::unix::net::UnixListener::bind(dir.join(ask::SOCKET)).expect("bind"));
    assert!(dir.join(ask::SOCKET).exists());

    // A desktop: the code also comes as a notification (watched on the session bus).
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS")
        .expect("a session bus (scripts/with-keyring runs the tests in one)");
    let mut monitor = tokio::process::Command::new("dbus-monitor")
        .args([
            "--session",
            "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
        ])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("dbus-monitor");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let child = caller(
        &cli,
        &[("DISPLAY", ":99"), ("DBUS_SESSION_BUS_ADDRESS", &bus)],
    );
    let code = loop {
        if let Some(code) = emu.pending_user_codes().first() {
            break code.clone();
        }
        if started.elapsed() > Duration::from_secs(20) {
            let (out, _) = outputs(vec![child]).await.remove(0);
            panic!("no sign-in of its own: {}", text(&out.stderr));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(emu.decide(&code, true));
    let (out, _) = outputs(vec![child]).await.remove(0);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&code), "the code on stderr too");
    monitor.start_kill().expect("stop the monitor");
    let seen = monitor.wait_with_output().await.expect("monitor");
    let seen = text(&seen.stdout);
    assert_eq!(seen.matches("member=Notify").count(), 1, "{seen}");
    assert!(seen.contains(&format!("the code {code}")), "{seen}");

    // The app starting again replaces the stale socket and answers.
    let listener = Listener::bind(&dir)
        .await
        .expect("the stale socket is replaced");
    let world = cli.app_world(&emu).await;
    tokio::spawn(async move { world.answer_sign_in_requests(listener).await });
    let probe = AskApp {
        program: Some("probe".into()),
        wants: ask::Wants::Unsaid,
        timeout: Duration::from_secs(5),
        on_waiting: Arc::new(|_: &Instance| {}),
    };
    let other = Instance::new("https://other.awsapps.com/start", "eu-west-1").expect("instance");
    match ask::ask(&dir, &probe, &other).await {
        Outcome::NoApp(why) => assert!(why.contains("not the app's access portal"), "{why}"),
        o => panic!("{o:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_of_other_users_are_not_answered() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let dir = socket_dir(&cli);
    let probe = AskApp {
        program: Some("probe".into()),
        wants: ask::Wants::Unsaid,
        timeout: Duration::from_secs(5),
        on_waiting: Arc::new(|_: &Instance| {}),
    };
    let instance = Instance::new("https://probe.awsapps.com/start", "eu-west-1").expect("instance");

    // An app that answers only another user: this process is turned away unanswered.
    let own = std::fs::metadata(cli.home.path())
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .expect("uid");
    let listener = Listener::bind_for(&dir, own + 4242).await.expect("bind");
    let world = cli.app_world(&emu).await;
    let w = world.clone();
    let serving = tokio::spawn(async move { w.answer_sign_in_requests(listener).await });
    match ask::ask(&dir, &probe, &instance).await {
        Outcome::NoApp(_) => {}
        o => panic!("{o:?}"),
    }
    serving.abort();
    let _ = serving.await;

    // Another user, for real: the directory alone keeps them out.
    if own != 0 {
        eprintln!("not root: the test as another user needs root to switch users");
        return;
    }
    let listener = Listener::bind(&dir).await.expect("bind");
    let w = world.clone();
    tokio::spawn(async move { w.answer_sign_in_requests(listener).await });
    std::fs::set_permissions(cli.home.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let socket = dir.join(ask::SOCKET);
    let out = std::process::Command::new("runuser")
        .args(["-u", "nobody", "--", "python3", "-c"])
        .arg("import socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\ns.sendall(b'{\"v\":1}\\n')\nprint(s.recv(100))")
        .arg(&socket)
        .output()
        .expect("runuser");
    assert!(
        !out.status.success(),
        "another user connected: {}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("Permission denied"),
        "{}",
        text(&out.stderr)
    );
    // And the socket answers its own user.
    match ask::ask(&dir, &probe, &instance).await {
        Outcome::NoApp(why) => assert!(why.contains("not the app's access portal"), "{why}"),
        o => panic!("{o:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_names_the_profile_or_role_wanted_and_an_older_one_is_answered_as_before() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (emu, cli, instance) = dead_session().await;
    let dir = socket_dir(&cli);

    // The requests as they arrive, read with the app's own listener.
    let listener = Listener::bind(&dir).await.expect("bind");
    // Each caller, unanswered, waits on.
    let mut by_profile = caller(&cli, &[]);
    let mut first = tokio::time::timeout(Duration::from_secs(30), listener.accept())
        .await
        .expect("the caller asks")
        .expect("accept");
    let request = first.request().await.expect("request");
    assert_eq!(
        (request.profile.as_deref(), request.account, request.role),
        (Some("ops"), None, None)
    );
    // A caller for a role in an account (through the library: the command line asks
    // the app only where it may sign in, for a profile).
    let probe = AskApp {
        program: Some("probe".into()),
        wants: ask::Wants::Role {
            account: "123456789012".into(),
            role: "ReadOnly".into(),
        },
        timeout: Duration::from_secs(30),
        on_waiting: Arc::new(|_: &Instance| {}),
    };
    let (d, i) = (dir.clone(), instance.clone());
    let by_role = tokio::spawn(async move { ask::ask(&d, &probe, &i).await });
    let mut conn = tokio::time::timeout(Duration::from_secs(30), listener.accept())
        .await
        .expect("the caller asks")
        .expect("accept");
    let request = conn.request().await.expect("request");
    assert_eq!(
        (
            request.profile,
            request.account.as_deref(),
            request.role.as_deref()
        ),
        (None, Some("123456789012"), Some("ReadOnly"))
    );
    by_role.abort();
    by_profile.start_kill().expect("kill");
    by_profile.wait().await.expect("ends");
    drop((first, conn, listener));

    // The app shows each caller with what it wants; a caller that does not say (an
    // older one) is answered, and shown by its program alone.
    let world = cli.app_world(&emu).await;
    let listener = Listener::bind(&dir).await.expect("bind");
    let server = world.clone();
    let serving = tokio::spawn(async move { server.answer_sign_in_requests(listener).await });
    let mut events = world.subscribe();
    let child = caller(&cli, &[]);
    asked(&mut events, 1).await;
    let old = tokio::net::UnixStream::connect(dir.join(ask::SOCKET))
        .await
        .expect("connect");
    let (read, mut write) = old.into_split();
    let line = serde_json::json!({
        "v": 1,
        "start_url": instance.start_url(),
        "region": instance.region(),
        "program": "oldtool",
    });
    write
        .write_all(format!("{line}\n").as_bytes())
        .await
        .expect("send");
    let mut answer = String::new();
    let mut read = BufReader::new(read);
    tokio::time::timeout(Duration::from_secs(10), read.read_line(&mut answer))
        .await
        .expect("answered")
        .expect("read");
    assert_eq!(answer.trim_end(), r#"{"v":1,"answer":"waiting"}"#);
    let waiting = world
        .status()
        .instance(&instance)
        .expect("instance")
        .asked_by
        .clone();
    assert_eq!(waiting.len(), 2, "{waiting:?}");
    assert!(waiting[0].ends_with(" (profile ops)"), "{waiting:?}");
    assert_eq!(waiting[1], "oldtool");
    world.decline_sign_in(&instance);
    let (out, _) = outputs(vec![child]).await.remove(0);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    answer.clear();
    read.read_line(&mut answer).await.expect("read");
    assert_eq!(answer.trim_end(), r#"{"v":1,"answer":"declined"}"#);
    serving.abort();
}
