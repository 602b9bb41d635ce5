//! The workspace under both faces, directly: what it does by itself while kept fresh.

use crate::util::{emulator_with_clock, fast_polling, unique_start_url};
use aws_sso_device_auth_provider::env::Env;
use aws_sso_device_auth_provider::workspace::{Event, NewFavourite, Options, Workspace};
use aws_sso_device_auth_provider::{Instance, MemoryStore};
use aws_sso_emulator::EmulatorConfig;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_is_noticed_in_the_core_and_renews_what_came_due() {
    let (emu, clock) = emulator_with_clock(EmulatorConfig {
        auto_approve: true,
        ..EmulatorConfig::default()
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let mut options = Options::new(
        Env::process()
            .in_home(home.path())
            .with_endpoints(&emu.endpoint())
            .without("DISPLAY")
            .without("WAYLAND_DISPLAY")
            .without("BROWSER"),
    );
    options.store = Arc::new(MemoryStore::new());
    options.timing.clock = Arc::new(clock.clone());
    options.poll = fast_polling();
    options.open_browser = false;
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
