//! The workspace under both faces, directly: what it does by itself while kept fresh.

use crate::util::{emulator_with_clock, fast_polling, unique_start_url};
use aws_sso_device_auth_provider::clock::{Clock, ManualClock};
use aws_sso_device_auth_provider::env::Env;
use aws_sso_device_auth_provider::workspace::{Event, NewFavourite, Options, Workspace};
use aws_sso_device_auth_provider::{Instance, MemoryStore};
use aws_sso_emulator::{Emulator, EmulatorConfig};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A workspace's options for a home of its own, the emulator's endpoints and `clock`, a
/// keychain in memory, no browser and fast polling.
fn options(home: &Path, emu: &Emulator, clock: &ManualClock) -> Options {
    let mut options = Options::new(
        Env::process()
            .in_home(home)
            .with_endpoints(&emu.endpoint())
            .without("DISPLAY")
            .without("WAYLAND_DISPLAY")
            .without("BROWSER"),
    );
    options.store = Arc::new(MemoryStore::new());
    options.timing.clock = Arc::new(clock.clone());
    options.poll = fast_polling();
    options.open_browser = false;
    options
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_is_noticed_in_the_core_and_renews_what_came_due() {
    let (emu, clock) = emulator_with_clock(EmulatorConfig {
        auto_approve: true,
        ..EmulatorConfig::default()
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let mut options = options(home.path(), &emu, &clock);
    options.watch_every = Duration::from_millis(100);
    let world = Workspace::open(options).await.expect("open");
    let instance = Instance::new(&unique_start_url(), "eu-west-1").expect("instance");
    world.sign_in(&instance, None).await.expect("signed in");
    let account = emu.organisation()[0].clone();
    let added = world
        .add_favourite(NewFavourite {
            profile: "dev".into(),
            instance: instance.clone(),
            account_id: account.account_id.clone(),
            account_name: None,
            role_name: account.roles[0].clone(),
            region: None,
            credential_process: false,
        })
        .await
        .expect("added");
    let mut events = world.subscribe();
    world.keep_fresh().await;

    // The laptop sleeps through the credentials' expiry: the wall clock jumps an hour
    // and a half while the monotonic clock does not.
    clock.advance(Duration::from_secs(90 * 60));
    let (mut resumed, mut renewed) = (None, None);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while (resumed.is_none() || renewed.is_none()) && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(200), events.recv()).await {
            Ok(Ok(Event::Resumed { slept })) => resumed = Some(slept),
            Ok(Ok(Event::ProfileWritten {
                profile,
                expires_at,
            })) if profile == "dev" => renewed = Some(expires_at),
            _ => {}
        }
    }
    let slept = resumed.expect("the resume is noticed");
    assert!(slept >= Duration::from_secs(89 * 60), "{slept:?}");
    let renewed = renewed.expect("the profile that came due is renewed");
    assert!(Some(renewed) > added.expires_at, "new credentials");
}

/// Seconds from `now` to the `expiresAt` of the AWS CLI cache file at `path`.
fn shared_copy_left(path: &std::path::Path, now: std::time::SystemTime) -> i64 {
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("the shared copy")).expect("json");
    let expires = aws_sso_device_auth_provider::clock::parse_rfc3339(
        json["expiresAt"].as_str().expect("expiresAt"),
    )
    .expect("a time");
    aws_sso_device_auth_provider::clock::epoch_seconds(expires)
        - aws_sso_device_auth_provider::clock::epoch_seconds(now)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_token_copy_stays_ten_minutes_from_expiry_over_two_lifetimes() {
    let (emu, clock) = emulator_with_clock(EmulatorConfig {
        auto_approve: true,
        ..EmulatorConfig::default()
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    // Sharing on, and a user who asked for the token to be refreshed 1 minute before
    // expiry: the copy would spend its last minutes refused by the JavaScript SDK.
    let start_url = unique_start_url();
    let settings = home.path().join(".config/aws-sso-tray/settings.json");
    std::fs::create_dir_all(settings.parent().expect("dir")).expect("dir");
    let instance = serde_json::json!({"startUrl": start_url, "region": "eu-west-1"});
    std::fs::write(
        &settings,
        serde_json::json!({
            "instances": [instance],
            "defaultInstance": instance,
            "preferences": {"shareSessionWithAwsCli": true, "tokenRefreshMinutes": 1},
        })
        .to_string(),
    )
    .expect("settings");
    let mut options = options(home.path(), &emu, &clock);
    options.watch_every = Duration::from_millis(50);
    options.renewer.check_every = Duration::from_millis(20);
    let world = Workspace::open(options).await.expect("open");
    let instance = Instance::new(&start_url, "eu-west-1").expect("instance");
    world.sign_in(&instance, None).await.expect("signed in");
    world.keep_fresh().await;
    let copy = {
        use sha1::Digest;
        let digest = sha1::Sha1::digest(start_url.as_bytes());
        let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        home.path().join(format!(".aws/sso/cache/{name}.json"))
    };
    let lifetime = emu.config().access_token_lifetime;
    let (mut least, mut refreshed) = (i64::MAX, 0);
    let mut last = shared_copy_left(&copy, clock.now());
    // Two token lifetimes, a minute at a time, looking at the copy after each.
    for _ in 0..(2 * lifetime.as_secs() / 60) {
        clock.advance(Duration::from_secs(60));
        tokio::time::sleep(Duration::from_millis(150)).await;
        let left = shared_copy_left(&copy, clock.now());
        refreshed += usize::from(left > last);
        last = left;
        least = least.min(left);
    }
    assert!(refreshed >= 2, "the copy was replaced {refreshed} times");
    assert!(
        least >= 10 * 60,
        "the copy came within {least} s of its expiry"
    );
}
