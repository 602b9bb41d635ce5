//! The renewer against the emulator with lifetimes of seconds: profiles stay valid over
//! many cycles, a wall-clock jump renews at once, faults delay but never break renewal, a
//! dead session is reported once, and dropping the renewer stops it.

use crate::util::{approving, builder, emulator, emulator_with_clock, memory_store};
use aws_sso_device_auth_provider::awsfiles::{AwsFiles, ProfileName};
use aws_sso_device_auth_provider::clock::{Clock, SystemClock};
use aws_sso_device_auth_provider::renewer::{
    Event, Events, Renewer, RenewerConfig, SessionState, Timing,
};
use aws_sso_device_auth_provider::settings::Favourite;
use aws_sso_device_auth_provider::{AccountFilter, AwsSsoDeviceAuthProvider};
use aws_sso_emulator::{Emulator, EmulatorConfig};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::broadcast::error::TryRecvError;

/// Seconds-scale timing to match the emulator's short lifetimes.
fn quick(margin_ms: u64) -> RenewerConfig {
    RenewerConfig {
        credentials_margin: Duration::from_millis(margin_ms),
        jitter: Duration::from_millis(300),
        check_every: Duration::from_millis(100),
        backoff_min: Duration::from_millis(100),
        backoff_max: Duration::from_millis(500),
    }
}

fn short_lived(token_secs: u64, credentials_secs: u64) -> EmulatorConfig {
    EmulatorConfig {
        access_token_lifetime: Duration::from_secs(token_secs),
        role_credentials_lifetime: Duration::from_secs(credentials_secs),
        ..EmulatorConfig::default()
    }
}

struct Setup {
    sso: Arc<AwsSsoDeviceAuthProvider>,
    events: Events,
    files: AwsFiles,
    favourites: Vec<Favourite>,
    _dir: tempfile::TempDir,
}

/// A signed-in provider, two favourites of it, and empty AWS files.
async fn setup(emu: &Emulator, token_margin: Duration, clock: Option<Arc<dyn Clock>>) -> Setup {
    let events = Events::new();
    let mut b = builder(emu)
        .store(memory_store())
        .token_refresh_margin(token_margin)
        .sign_in_on_demand(false)
        .on_prompt({
            let sink = events.prompt();
            let person = approving(true);
            move |p| {
                sink(p);
                person(p);
            }
        });
    if let Some(c) = clock {
        b = b.clock(c);
    }
    let sso = Arc::new(b.build().expect("provider"));
    sso.sign_in().await.expect("signed in");
    let accounts = sso
        .accounts(&AccountFilter::default())
        .await
        .expect("accounts");
    let mut favourites = Vec::new();
    for (i, a) in accounts.iter().take(2).enumerate() {
        let role = sso.roles(&a.account_id, None).await.expect("roles")[0]
            .role_name
            .clone();
        favourites.push(Favourite {
            profile: ProfileName::new(&format!("fav-{i}")).expect("name"),
            instance: sso.instance().clone(),
            account_id: a.account_id.clone(),
            account_name: Some(a.account_name.clone()),
            role_name: role,
            region: (i == 0).then(|| "eu-west-1".to_owned()),
            credential_process: false,
            assume_role: None,
            ecr_regions: Vec::new(),
            console: Default::default(),
        });
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let files = AwsFiles::new(dir.path().join("credentials"), dir.path().join("config"));
    Setup {
        sso,
        events,
        files,
        favourites,
        _dir: dir,
    }
}

impl Setup {
    /// A renewer of this setup's favourites.
    fn start(&self, config: RenewerConfig, clock: Arc<dyn Clock>) -> Renewer {
        Renewer::start(
            self.sso.clone(),
            self.files.clone(),
            self.favourites.clone(),
            config,
            Timing {
                clock,
                ..Timing::default()
            },
            self.events.clone(),
        )
    }
}

/// Everything received so far.
fn drain(rx: &mut tokio::sync::broadcast::Receiver<Event>) -> Vec<Event> {
    let mut out = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(e) => out.push(e),
            Err(TryRecvError::Lagged(_)) => continue,
            Err(_) => return out,
        }
    }
}

/// Watches the credentials file for `secs`: how many times a written profile was found
/// expired, and the events seen meanwhile.
async fn watch(
    s: &Setup,
    rx: &mut tokio::sync::broadcast::Receiver<Event>,
    secs: u64,
    now: impl Fn() -> SystemTime,
) -> (u32, Vec<Event>) {
    let mut expired = 0;
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        for p in s
            .files
            .managed_profiles()
            .expect("readable at every moment")
        {
            if p.expires_at.is_none_or(|t| t <= now()) {
                expired += 1;
            }
        }
        events.extend(drain(rx));
    }
    (expired, events)
}

fn count(events: &[Event], f: impl Fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| f(e)).count()
}

fn written(e: &Event) -> bool {
    matches!(e, Event::ProfileWritten { .. })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_stay_valid_over_many_cycles_and_stop_on_drop() {
    let emu = emulator(short_lived(6, 4)).await;
    let s = setup(&emu, Duration::from_secs(2), None).await;
    let mut rx = s.events.subscribe();
    let renewer = s.start(quick(1_500), Arc::new(SystemClock));
    let refreshes = emu.counters().tokens_from_refresh;
    let (expired, events) = watch(&s, &mut rx, 14, || SystemClock.now()).await;
    let cycles = count(&events, written);
    assert_eq!(
        expired, 0,
        "a profile was found expired; events: {events:?}"
    );
    assert!(cycles >= 2 * 5, "{cycles} profile writes");
    assert_eq!(
        count(&events, |e| matches!(e, Event::RenewalFailed { .. })),
        0,
        "{events:?}"
    );
    assert!(
        emu.counters().tokens_from_refresh - refreshes >= 3,
        "the token was refreshed ahead of expiry"
    );
    let config = std::fs::read_to_string(s.files.config_file()).expect("config");
    assert!(
        config.contains("[profile fav-0]") && !config.contains("fav-1"),
        "{config}"
    );
    println!("renewer: {cycles} profile writes in 14 s, 0 expired");

    drop(renewer);
    let calls = emu.counters().get_role_credentials;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        emu.counters().get_role_credentials,
        calls,
        "stopped when dropped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wall_clock_jump_renews_at_once() {
    let (emu, clock) = emulator_with_clock(EmulatorConfig::default()).await;
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let s = setup(&emu, Duration::from_secs(15 * 60), Some(shared.clone())).await;
    let mut rx = s.events.subscribe();
    let config = RenewerConfig {
        jitter: Duration::ZERO,
        ..quick(10 * 60 * 1000)
    };
    let start = || s.start(config, shared.clone());
    let first_run = start();
    let (_, first) = watch(&s, &mut rx, 1, || clock.now()).await;
    assert_eq!(count(&first, written), 2, "{first:?}");
    // A restart (the app or daemon again) picks the profiles up from the file.
    drop(first_run);
    let calls = emu.counters().get_role_credentials;
    let _renewer = start();
    let (_, quiet) = watch(&s, &mut rx, 1, || clock.now()).await;
    assert_eq!(count(&quiet, written), 0, "nothing due for 50 minutes");
    assert_eq!(
        emu.counters().get_role_credentials,
        calls,
        "no call on restart"
    );
    let before = emu.counters();

    // The laptop sleeps for 55 minutes: past the profiles' and the token's refresh points.
    clock.advance(Duration::from_secs(55 * 60));
    let (expired, after) = watch(&s, &mut rx, 1, || clock.now()).await;
    assert_eq!(
        count(&after, written),
        2,
        "renewed within a second of the jump: {after:?}"
    );
    assert_eq!(expired, 0);
    let counters = emu.counters();
    assert_eq!(counters.tokens_from_refresh - before.tokens_from_refresh, 1);
    assert_eq!(
        counters.get_role_credentials - before.get_role_credentials,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_and_throttling_delay_but_never_break_renewal() {
    // Lifetimes long enough for the SDK's own retries (with their back-off) to fit in the
    // margin, as minutes do in real life, on a machine busy with the other tests: 8 s
    // between the renewal point and expiry (5 s were too few on a loaded CI machine).
    let emu = emulator(short_lived(16, 16)).await;
    let s = setup(&emu, Duration::from_secs(8), None).await;
    // Faults from here on: the sign-in above is not what is tested.
    emu.configure(|c| {
        c.fault_rate = 0.5;
        c.throttle_rps = Some(20.0);
    });
    let mut rx = s.events.subscribe();
    let _renewer = s.start(quick(8_000), Arc::new(SystemClock));
    let (expired, mut events) = watch(&s, &mut rx, 14, || SystemClock.now()).await;
    assert_eq!(expired, 0, "{events:?}");
    assert!(count(&events, written) >= 2 * 2, "{events:?}");
    // Half the requests fail, at random. A slow machine makes few requests in 14 s, and
    // all of them may succeed: watch on (the profiles still never expire) until a fault
    // has been met, so that the test always tests what it says.
    for _ in 0..6 {
        if emu.counters().faults >= 1 {
            break;
        }
        let (expired, more) = watch(&s, &mut rx, 6, || SystemClock.now()).await;
        assert_eq!(expired, 0, "{more:?}");
        events.extend(more);
    }
    assert!(emu.counters().faults >= 1, "faults were injected");
    println!(
        "renewer under faults: {} writes, {} failures reported, {} faults injected",
        count(&events, written),
        count(&events, |e| matches!(e, Event::RenewalFailed { .. })),
        emu.counters().faults
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_session_is_reported_once_and_waits_for_the_user() {
    let emu = emulator(short_lived(4, 4)).await;
    let s = setup(&emu, Duration::from_secs(2), None).await;
    let mut rx = s.events.subscribe();
    let renewer = s.start(quick(1_000), Arc::new(SystemClock));
    let (_, first) = watch(&s, &mut rx, 1, || SystemClock.now()).await;
    assert_eq!(count(&first, written), 2);
    let before = emu.counters();

    emu.revoke_sessions();
    let (_, events) = watch(&s, &mut rx, 5, || SystemClock.now()).await;
    let needs = |e: &Event| matches!(e, Event::Session(SessionState::NeedsSignIn));
    assert_eq!(count(&events, needs), 1, "{events:?}");
    assert_eq!(
        emu.counters().start_device_authorization,
        before.start_device_authorization,
        "no sign-in started by the renewer"
    );

    // The user signs in; the renewer carries on at once with the profiles that came due.
    s.sso.sign_in().await.expect("sign in");
    renewer.wake();
    let (_, events) = watch(&s, &mut rx, 2, || SystemClock.now()).await;
    assert!(
        count(&events, |e| matches!(e, Event::SignInCode { .. })) == 1
            && count(&events, |e| matches!(
                e,
                Event::Session(SessionState::SignedIn(_))
            )) >= 1
            && count(&events, written) == 2,
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_shorter_than_the_margin_renew_at_half_life_not_in_a_loop() {
    let emu = emulator(short_lived(3600, 2)).await;
    let s = setup(&emu, Duration::from_secs(60), None).await;
    let mut rx = s.events.subscribe();
    let _renewer = s.start(quick(10 * 60 * 1000), Arc::new(SystemClock));
    let (_, events) = watch(&s, &mut rx, 4, || SystemClock.now()).await;
    let writes = count(&events, written);
    // About one write per profile per second: 2 s credentials renewed at half-life.
    assert!((4..=2 * 6).contains(&writes), "{writes} writes in 4 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renew_now_renews_that_profile_only_before_it_is_due() {
    let emu = emulator(short_lived(3600, 3600)).await;
    let s = setup(&emu, Duration::from_secs(60), None).await;
    let mut rx = s.events.subscribe();
    let renewer = s.start(quick(60_000), Arc::new(SystemClock));
    let (_, first) = watch(&s, &mut rx, 2, || SystemClock.now()).await;
    assert_eq!(count(&first, written), 2, "both written once at start");
    let (_, idle) = watch(&s, &mut rx, 1, || SystemClock.now()).await;
    assert_eq!(count(&idle, written), 0, "nothing due for an hour");

    renewer.renew_now(&ProfileName::new("fav-1").expect("name"));
    let (_, forced) = watch(&s, &mut rx, 2, || SystemClock.now()).await;
    let profiles: Vec<&str> = forced
        .iter()
        .filter_map(|e| match e {
            Event::ProfileWritten { profile, .. } => Some(profile.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(profiles, ["fav-1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_favourite_s_other_settings_changed_leave_its_profile_and_a_new_region_renews_it() {
    let emu = emulator(short_lived(3600, 3600)).await;
    let s = setup(&emu, Duration::from_secs(60), None).await;
    let mut rx = s.events.subscribe();
    let renewer = s.start(quick(60_000), Arc::new(SystemClock));
    let (_, first) = watch(&s, &mut rx, 2, || SystemClock.now()).await;
    assert_eq!(count(&first, written), 2, "both written once at start");

    // The account's name and docker's registries: nothing its profile holds.
    let mut changed = s.favourites.clone();
    changed[1].account_name = Some("renamed".into());
    changed[1].ecr_regions = vec!["eu-west-2".into()];
    renewer.set_favourites(changed.clone());
    let (_, after) = watch(&s, &mut rx, 2, || SystemClock.now()).await;
    assert_eq!(count(&after, written), 0, "nothing written: {after:?}");

    // Another region is in its profile: written again at once.
    changed[1].region = Some("ap-southeast-2".into());
    renewer.set_favourites(changed);
    let (_, moved) = watch(&s, &mut rx, 2, || SystemClock.now()).await;
    let profiles: Vec<&str> = moved
        .iter()
        .filter_map(|e| match e {
            Event::ProfileWritten { profile, .. } => Some(profile.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(profiles, ["fav-1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_round_writes_what_it_renewed_as_it_goes() {
    // 24 profiles due at once behind a slow portal: the round takes seconds. What it
    // renewed first must be on disk long before the last is fetched.
    let emu = emulator(short_lived(3600, 3600)).await;
    let mut s = setup(&emu, Duration::from_secs(60), None).await;
    let accounts = s
        .sso
        .accounts(&AccountFilter::default())
        .await
        .expect("accounts");
    let template = s.favourites[1].clone();
    s.favourites = Vec::new();
    for a in accounts.iter().take(24) {
        let role = s.sso.roles(&a.account_id, None).await.expect("roles")[0]
            .role_name
            .clone();
        s.favourites.push(Favourite {
            profile: ProfileName::new(&format!("slow-{}", a.account_id)).expect("name"),
            account_id: a.account_id.clone(),
            account_name: Some(a.account_name.clone()),
            role_name: role,
            ..template.clone()
        });
    }
    assert_eq!(s.favourites.len(), 24, "the organisation has 24 accounts");
    emu.configure(|c| c.latency = Duration::from_millis(1_500));
    let mut rx = s.events.subscribe();
    let _renewer = s.start(quick(60_000), Arc::new(SystemClock));

    let started = tokio::time::Instant::now();
    let mut times = Vec::new();
    while times.len() < 24 && started.elapsed() < Duration::from_secs(60) {
        match tokio::time::timeout(Duration::from_millis(100), rx.recv()).await {
            Ok(Ok(Event::ProfileWritten { .. })) => times.push(started.elapsed()),
            Ok(Ok(Event::RenewalFailed { message, .. })) => panic!("{message}"),
            _ => {}
        }
    }
    assert_eq!(times.len(), 24, "every profile written within 60 s");
    let (first, last) = (times[0], times[23]);
    println!("a 24-profile round: first written at {first:?}, last at {last:?}");
    assert!(
        last.saturating_sub(first) >= Duration::from_millis(1_500),
        "the first profile was written at {first:?}, with the last at {last:?}: one write \
         at the end of the round"
    );
}
