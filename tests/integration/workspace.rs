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
        .add_favourite(
            instance.clone(),
            NewFavourite {
                profile: "dev".into(),
                account_id: account.account_id.clone(),
                account_name: None,
                role_name: account.roles[0].clone(),
                region: None,
                credential_process: false,
                ..NewFavourite::default()
            },
        )
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
            })) if profile.as_str() == "dev" => renewed = Some(expires_at),
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

/// A test's world: an emulated organisation of `accounts` accounts that approves
/// sign-ins, a clock the test moves, a home, a workspace opened in it, and an instance of
/// its own (not signed in yet).
type TestWorld = (
    Emulator,
    ManualClock,
    tempfile::TempDir,
    Workspace,
    Instance,
);

async fn opened(accounts: usize) -> TestWorld {
    let (emu, clock) = emulator_with_clock(EmulatorConfig {
        accounts,
        auto_approve: true,
        ..EmulatorConfig::default()
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let world = Workspace::open(options(home.path(), &emu, &clock))
        .await
        .expect("open");
    let instance = Instance::new(&unique_start_url(), "eu-west-1").expect("instance");
    (emu, clock, home, world, instance)
}

/// A workspace signed in to an emulated organisation of `accounts` accounts, on a clock
/// the test moves.
async fn signed_in_to(accounts: usize) -> TestWorld {
    let (emu, clock, home, world, instance) = opened(accounts).await;
    world.sign_in(&instance, None).await.expect("signed in");
    (emu, clock, home, world, instance)
}

/// Waits for the refresh under way to end; the accounts then.
async fn refreshed(
    world: &Workspace,
    instance: &Instance,
) -> aws_sso_device_auth_provider::workspace::Accounts {
    for _ in 0..600 {
        let a = world.cached_accounts(instance).await.expect("accounts");
        if !a.refreshing {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the refresh never ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_come_first_then_the_roles_asked_for_then_the_rest_at_half_the_throttle() {
    const ACCOUNTS: usize = 100;
    let (emu, _clock, _home, world, instance) = signed_in_to(ACCOUNTS).await;
    emu.configure(|c| c.throttle_rps = Some(20.0));
    let org = emu.organisation();
    let before = emu.counters();
    let mut events = world.subscribe();

    // The accounts, before any role: searchable at once.
    let started = std::time::Instant::now();
    world.refresh_accounts(&instance).expect("refresh");
    let listed = loop {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
            Ok(Ok(Event::AccountsUpdated { .. })) => break started.elapsed(),
            Ok(_) => {}
            Err(_) => panic!("no account list"),
        }
    };
    let first = world.cached_accounts(&instance).await.expect("accounts");
    assert_eq!(first.accounts.len(), ACCOUNTS);
    assert!(
        first.roles_pending.len() > ACCOUNTS - 10,
        "{}",
        first.roles_pending.len()
    );

    // An account far down the list, searched for: its roles come at once.
    let wanted = &org[ACCOUNTS - 3];
    let asked = std::time::Instant::now();
    world.prioritise_accounts(&instance, vec![wanted.account_id.clone()]);
    let arrived = loop {
        let a = world.cached_accounts(&instance).await.expect("accounts");
        if !a.roles_pending.contains(&wanted.account_id) {
            let got = a
                .accounts
                .iter()
                .find(|a| a.account.account_id == wanted.account_id)
                .expect("the account");
            let names: Vec<&str> = got.roles.iter().map(|r| r.role_name.as_str()).collect();
            assert_eq!(
                names,
                wanted.roles.iter().map(String::as_str).collect::<Vec<_>>()
            );
            assert!(
                a.roles_pending.len() > ACCOUNTS / 2,
                "the rest still on their way"
            );
            break asked.elapsed();
        }
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "the roles asked for never came"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(arrived < Duration::from_secs(2), "{arrived:?}");

    // The rest in the background, at half of the 20 requests/s the service allows.
    let window_start = (std::time::Instant::now(), emu.counters().list_account_roles);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let window = emu.counters().list_account_roles - window_start.1;
    let rate = window as f64 / window_start.0.elapsed().as_secs_f64();
    assert!(
        (7.0..=12.5).contains(&rate),
        "{rate:.1} requests/s in the background"
    );

    let done = refreshed(&world, &instance).await;
    let after = emu.counters();
    assert!(done.error.is_none(), "{:?}", done.error);
    assert!(done.roles_pending.is_empty());
    for (got, want) in done.accounts.iter().zip(org.iter()) {
        let names: Vec<&str> = got.roles.iter().map(|r| r.role_name.as_str()).collect();
        assert_eq!(
            names,
            want.roles.iter().map(String::as_str).collect::<Vec<_>>()
        );
    }
    assert_eq!(
        after.throttled - before.throttled,
        0,
        "no request of ours was throttled"
    );
    assert_eq!(
        after.list_account_roles - before.list_account_roles,
        ACCOUNTS as u64
    );
    println!(
        "{ACCOUNTS} accounts at 20 req/s: listed in {} ms, an account asked for had its roles {} ms later, background {rate:.1} req/s, all in {:.1} s, 0 throttled",
        listed.as_millis(),
        arrived.as_millis(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_reach_the_faces_in_memory_and_the_cache_file_only_persists_them() {
    const ACCOUNTS: usize = 30;
    let (emu, _clock, home, world, instance) = signed_in_to(ACCOUNTS).await;
    let org = emu.organisation();
    let mut events = world.subscribe();
    world.refresh_accounts(&instance).expect("refresh");
    // Every account's roles come as events that carry them, each account once.
    let mut told = std::collections::HashMap::new();
    let mut full_lists = 0;
    let done = loop {
        match tokio::time::timeout(Duration::from_secs(20), events.recv()).await {
            Ok(Ok(Event::AccountsRolesRead { accounts, .. })) => {
                for a in accounts {
                    let names: Vec<String> = a.roles.iter().map(|r| r.role_name.clone()).collect();
                    assert!(told.insert(a.account.account_id.clone(), names).is_none());
                }
            }
            Ok(Ok(Event::AccountsUpdated { .. })) => {
                full_lists += 1;
                let a = world.cached_accounts(&instance).await.expect("accounts");
                if !a.refreshing {
                    break a;
                }
            }
            Ok(_) => {}
            Err(_) => panic!("the refresh never ended"),
        }
    };
    assert_eq!(told.len(), ACCOUNTS, "every account's roles were told");
    for want in org.iter() {
        assert_eq!(told[&want.account_id], want.roles, "{}", want.account_id);
    }
    // The whole list goes out when it is listed and when the refresh ends, not per save.
    assert!(full_lists <= 3, "{full_lists} whole lists");
    assert!(done.roles_pending.is_empty());

    // What the faces read is the list in memory: a cache file spoilt behind the program's
    // back changes nothing it shows...
    let cache_dir = home.path().join(".cache/aws-sso-tray/accounts");
    let files: Vec<_> = std::fs::read_dir(&cache_dir)
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let persisted = std::fs::read(&files[0]).expect("persisted");
    std::fs::write(&files[0], b"{}").expect("spoilt");
    let shown = world.cached_accounts(&instance).await.expect("accounts");
    assert_eq!(shown.accounts.len(), ACCOUNTS);
    assert!(shown.roles_pending.is_empty());
    // ...and the file is what the next run starts from.
    std::fs::write(&files[0], persisted).expect("restored");
    let next = Workspace::open(options(home.path(), &emu, &_clock))
        .await
        .expect("open");
    let read = next.cached_accounts(&instance).await.expect("accounts");
    assert_eq!(read.accounts.len(), ACCOUNTS);
    assert!(read.roles_pending.is_empty(), "the roles were persisted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_reads_new_accounts_drops_gone_ones_and_rereads_the_rest_within_a_day() {
    use aws_sso_emulator::OrgAccount;
    let (emu, clock, _home, world, instance) = signed_in_to(40).await;
    let first = world
        .all_accounts(&instance, false)
        .await
        .expect("accounts");
    assert_eq!(first.accounts.len(), 40);

    // One account gone, one new, one with a role more.
    let mut org: Vec<OrgAccount> = emu.organisation().as_ref().clone();
    let gone = org.remove(0);
    org[0].roles.push("BreakGlass".into());
    let changed = org[0].account_id.clone();
    let mut new = org[1].clone();
    new.account_id = "999999999999".into();
    new.account_name = "brand-new".into();
    org.push(new);
    emu.set_organisation(org);
    let roles_of = |a: &aws_sso_device_auth_provider::workspace::Accounts, id: &str| {
        a.accounts
            .iter()
            .find(|a| a.account.account_id == id)
            .map(|a| a.roles.len())
    };

    // Within the day: the account pages and the new account's roles, nothing more.
    clock.advance(Duration::from_secs(11 * 60));
    let before = emu.counters();
    let next = world
        .all_accounts(&instance, false)
        .await
        .expect("accounts");
    let after = emu.counters();
    assert_eq!(after.list_account_roles - before.list_account_roles, 1);
    assert_eq!(after.list_accounts - before.list_accounts, 1);
    assert_eq!(next.accounts.len(), 40);
    assert!(
        roles_of(&next, &gone.account_id).is_none(),
        "the gone account is dropped"
    );
    assert!(roles_of(&next, "999999999999").is_some_and(|n| n > 0));
    assert_eq!(
        roles_of(&next, &changed),
        roles_of(&first, &changed),
        "trusted for a day"
    );

    // A day later, every account's roles are read again.
    clock.advance(Duration::from_secs(24 * 60 * 60));
    let before = emu.counters();
    let later = world
        .all_accounts(&instance, false)
        .await
        .expect("accounts");
    let after = emu.counters();
    assert_eq!(after.list_account_roles - before.list_account_roles, 40);
    assert_eq!(
        roles_of(&later, &changed),
        roles_of(&first, &changed).map(|n| n + 1)
    );

    // Another identity's list is never shown: signing out forgets it, and so does a new
    // sign-in (the service does not say who signed in).
    world.sign_out(&instance).await.expect("signed out");
    let forgotten = world.cached_accounts(&instance).await.expect("accounts");
    assert!(forgotten.accounts.is_empty() && forgotten.updated_at.is_none());
    world
        .all_accounts(&instance, false)
        .await
        .expect_err("signed out");
    world.sign_in(&instance, None).await.expect("signed in");
    assert_eq!(
        world
            .all_accounts(&instance, false)
            .await
            .expect("accounts")
            .accounts
            .len(),
        40
    );
    world
        .sign_in(&instance, None)
        .await
        .expect("signed in again");
    let afresh = world.cached_accounts(&instance).await.expect("accounts");
    assert!(afresh.accounts.is_empty() && afresh.updated_at.is_none());
}

/// The next `ProfilesGenerated` (created, updated, removed), 30 s at most.
async fn next_generation(
    events: &mut tokio::sync::broadcast::Receiver<Event>,
) -> (usize, usize, usize) {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(Event::ProfilesGenerated {
                    created,
                    updated,
                    removed,
                    ..
                }) => return (created, updated, removed),
                Ok(Event::ProfilesNotGenerated { message, .. }) => panic!("{message}"),
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .expect("profiles generated in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_rules_are_applied_again_after_each_complete_refresh_and_follow_access() {
    use aws_sso_device_auth_provider::populate::ProfileRules;
    let (emu, _clock, home, world, instance) = signed_in_to(6).await;
    refreshed(&world, &instance).await;
    let org = emu.organisation();
    let roles: usize = org.iter().map(|a| a.roles.len()).sum();
    let mut events = world.subscribe();
    world
        .set_profile_rules(ProfileRules {
            auto_apply: true,
            ..ProfileRules::default()
        })
        .await
        .expect("rules");
    world.refresh_accounts(&instance).expect("refresh");
    assert_eq!(next_generation(&mut events).await, (roles, 0, 0));
    let config = home.path().join(".aws/config");
    let text = std::fs::read_to_string(&config).expect("config");
    assert_eq!(
        text.matches("generated with sso-session").count(),
        roles + 1
    );

    // Access to one account goes: the next refresh removes exactly its profiles.
    let mut fewer = (*org).clone();
    let gone = fewer.remove(2);
    emu.set_organisation(fewer);
    world.refresh_accounts(&instance).expect("refresh");
    assert_eq!(next_generation(&mut events).await, (0, 0, gone.roles.len()));
    let text = std::fs::read_to_string(&config).expect("config");
    assert!(!text.contains(&gone.account_id), "{text}");

    // Off: a refresh leaves the file alone.
    world
        .set_profile_rules(ProfileRules::default())
        .await
        .expect("rules");
    emu.set_organisation((*org).clone());
    world.refresh_accounts(&instance).expect("refresh");
    refreshed(&world, &instance).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(std::fs::read_to_string(&config).expect("config"), text);
}

/// The file of the AWS CLI's token cache named by `identifier` (a start URL or an
/// `[sso-session]` name), under `home`.
fn aws_cli_cache_file(home: &Path, identifier: &str) -> std::path::PathBuf {
    use sha1::Digest;
    let digest = sha1::Sha1::digest(identifier.as_bytes());
    let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    home.join(format!(".aws/sso/cache/{name}.json"))
}

/// A workspace kept fresh as the app keeps it, on `instance` (remembered, the default),
/// signed in; sharing with the AWS CLI off.
async fn the_app_signed_in(accounts: usize) -> TestWorld {
    let (emu, clock, home, world, instance) = opened(accounts).await;
    world
        .add_instance(instance.clone(), Some("acme".into()))
        .await
        .expect("remembered");
    world.keep_fresh().await;
    world.sign_in(&instance, None).await.expect("signed in");
    assert!(!world.settings().preferences.share_session_with_aws_cli);
    (emu, clock, home, world, instance)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turning_sharing_on_copies_the_token_at_once_and_off_removes_the_copy() {
    let (_emu, _clock, home, world, instance) = the_app_signed_in(1).await;
    let copy = aws_cli_cache_file(home.path(), instance.start_url());
    assert!(!copy.exists(), "nothing shared while sharing is off");

    world
        .set_preference("shareSessionWithAwsCli", "true")
        .await
        .expect("sharing on");
    let text = std::fs::read_to_string(&copy).expect("the token is shared at once");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert!(json["accessToken"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(json.get("refreshToken").is_none(), "{text:.0}");

    // The user's own `[sso-session]` for this portal, and the file the AWS CLI's own
    // sign-in wrote for it (with refresh fields): not ours to remove.
    std::fs::write(
        home.path().join(".aws/config"),
        format!(
            "[sso-session mine]\nsso_start_url = {}\nsso_region = eu-west-1\n",
            instance.start_url()
        ),
    )
    .expect("config");
    let theirs = aws_cli_cache_file(home.path(), "mine");
    let cli_own = r#"{"startUrl": "x", "accessToken": "t", "refreshToken": "r", "clientId": "c"}"#;
    std::fs::write(&theirs, cli_own).expect("theirs");

    world
        .set_preference("shareSessionWithAwsCli", "false")
        .await
        .expect("sharing off");
    assert!(!copy.exists(), "the copy goes when sharing is turned off");
    assert_eq!(std::fs::read_to_string(&theirs).expect("kept"), cli_own);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_world_not_kept_fresh_shares_at_once_too_and_keeps_the_session_s_phase() {
    // As `aws-sso-auth settings set shareSessionWithAwsCli true` runs: one call, after the
    // session's provider was built without sharing.
    let (_emu, _clock, home, world, instance) = signed_in_to(1).await;
    let copy = aws_cli_cache_file(home.path(), instance.start_url());
    assert!(!copy.exists());
    world
        .set_preference("shareSessionWithAwsCli", "true")
        .await
        .expect("sharing on");
    assert!(copy.exists(), "the token is shared at once");
    assert_eq!(
        world.phase(&instance),
        aws_sso_device_auth_provider::workspace::SessionPhase::SignedIn
    );
    world
        .set_preference("shareSessionWithAwsCli", "false")
        .await
        .expect("sharing off");
    assert!(!copy.exists(), "the copy goes when sharing is turned off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_applied_as_the_window_applies_them_sign_botocore_in_with_sharing_off_before() {
    use aws_sso_device_auth_provider::populate::ProfileRules;
    let (emu, _clock, home, world, instance) = the_app_signed_in(2).await;
    let applied = world
        .apply_profile_rules(&instance, ProfileRules::default(), false)
        .await
        .expect("applied");
    assert!(
        applied.sharing_turned_on,
        "the answer says sharing was turned on"
    );
    assert!(world.settings().preferences.share_session_with_aws_cli);
    assert_eq!(
        world.settings().preferences.aws_cli_profiles,
        ProfileRules::default(),
        "the rules are kept"
    );
    let profile = applied
        .generated
        .created
        .first()
        .expect("a profile")
        .to_string();
    let before = emu.counters();
    let read = crate::util::botocore_credentials(home.path(), &emu.endpoint(), &profile)
        .await
        .expect("botocore resolves the generated profile");
    assert_eq!(read["method"], "sso", "{read}");
    assert!(read["accessKeyId"].as_str().is_some_and(|k| !k.is_empty()));
    assert!(emu.counters().get_role_credentials > before.get_role_credentials);

    // Applied again with sharing on: nothing to turn on, and the answer says so.
    let again = world
        .apply_profile_rules(&instance, ProfileRules::default(), false)
        .await
        .expect("applied again");
    assert!(!again.sharing_turned_on);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_profiles_on_sign_out_and_quit_takes_one_off_profiles_too_never_the_users() {
    use aws_sso_device_auth_provider::workspace::ProfileRequest;
    let (emu, clock) = emulator_with_clock(EmulatorConfig {
        auto_approve: true,
        ..EmulatorConfig::default()
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let start_url = unique_start_url();
    let settings = home.path().join(".config/aws-sso-tray/settings.json");
    std::fs::create_dir_all(settings.parent().expect("dir")).expect("dir");
    let remembered = serde_json::json!({"startUrl": start_url, "region": "eu-west-1"});
    std::fs::write(
        &settings,
        serde_json::json!({
            "instances": [remembered],
            "defaultInstance": remembered,
            "preferences": {"removeProfilesOnSignOut": true, "removeProfilesOnQuit": true},
        })
        .to_string(),
    )
    .expect("settings");
    let users =
        "# mine\r\n[by-hand]\r\naws_access_key_id = AKIAMINE\r\naws_secret_access_key = mine\r\n";
    let credentials = home.path().join(".aws/credentials");
    std::fs::create_dir_all(credentials.parent().expect("dir")).expect("dir");
    std::fs::write(&credentials, users).expect("credentials");

    let world = Workspace::open(options(home.path(), &emu, &clock))
        .await
        .expect("open");
    let instance = Instance::new(&start_url, "eu-west-1").expect("instance");
    let account = emu.organisation()[0].clone();
    let write_both = || async {
        world.sign_in(&instance, None).await.expect("signed in");
        if world.settings().favourites.is_empty() {
            world
                .add_favourite(
                    instance.clone(),
                    NewFavourite {
                        profile: "fav".into(),
                        account_id: account.account_id.clone(),
                        account_name: None,
                        role_name: account.roles[0].clone(),
                        region: None,
                        credential_process: false,
                        ..NewFavourite::default()
                    },
                )
                .await
                .expect("favourite");
        } else {
            world.renew_now("fav").await.expect("favourite written");
        }
        world
            .write_profile(
                &instance,
                ProfileRequest {
                    profile: "one-off".into(),
                    account_id: account.account_id.clone(),
                    role_name: account.roles[0].clone(),
                    region: None,
                    force: false,
                },
            )
            .await
            .expect("one-off");
        let text = std::fs::read_to_string(&credentials).expect("credentials");
        assert!(
            text.contains("[fav]") && text.contains("[one-off]"),
            "{text:.0}"
        );
    };

    write_both().await;
    let out = world.sign_out(&instance).await.expect("signed out");
    assert!(out.cleanup_error.is_none(), "{:?}", out.cleanup_error);
    let mut removed = out.removed_profiles.clone();
    removed.sort();
    assert_eq!(removed, ["fav", "one-off"]);
    assert_eq!(
        std::fs::read_to_string(&credentials).expect("credentials"),
        users,
        "after the sign-out only the user's profile is left, byte for byte"
    );

    write_both().await;
    let mut removed = world.on_quit().await.expect("quit");
    removed.sort();
    assert_eq!(removed, ["fav", "one-off"]);
    assert_eq!(
        std::fs::read_to_string(&credentials).expect("credentials"),
        users,
        "after quitting only the user's profile is left, byte for byte"
    );
}
