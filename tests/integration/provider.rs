//! The provider against the emulator: sign-in, session, refresh, discovery, credentials;
//! and one test for each defect of the seed library.

use crate::util::{approving, builder, emulator, emulator_with_clock, memory_store, stored};
use aws_sso_device_auth_provider::clock::ManualClock;
use aws_sso_device_auth_provider::oidc::poll::PollPolicy;
use aws_sso_device_auth_provider::portal::pacer::PacerConfig;
use aws_sso_device_auth_provider::portal::RetryPolicy;
use aws_sso_device_auth_provider::{AccountFilter, Error, NameGlob, SignInFlow, SignInPrompt};
use aws_sso_emulator::EmulatorConfig;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A provider for `emu` with its own memory store and a clock the test moves; every
/// sign-in is approved by the "person".
fn clocked(
    emu: &aws_sso_emulator::Emulator,
) -> (
    aws_sso_device_auth_provider::AwsSsoDeviceAuthProvider,
    ManualClock,
) {
    let clock = ManualClock::starting_now();
    let sso = builder(emu)
        .store(memory_store())
        .clock(Arc::new(clock.clone()))
        .on_prompt(approving(true))
        .build()
        .expect("provider");
    (sso, clock)
}

/// A provider that gives up after one second of throttling with no success.
fn impatient(
    emu: &aws_sso_emulator::Emulator,
) -> aws_sso_device_auth_provider::AwsSsoDeviceAuthProvider {
    builder(emu)
        .store(memory_store())
        .on_prompt(approving(true))
        .pacing(
            PacerConfig::default(),
            RetryPolicy {
                transient_attempts: 2,
                throttle_budget: Duration::from_secs(1),
            },
        )
        .build()
        .expect("provider")
}

#[tokio::test]
async fn device_sign_in_then_token_from_store_without_network() {
    let emu = emulator(EmulatorConfig::default()).await;
    let store = memory_store();
    let prompts = Arc::new(Mutex::new(Vec::new()));
    let seen = prompts.clone();
    let person = approving(true);
    let sso = builder(&emu)
        .store(store.clone())
        .on_prompt(move |p| {
            seen.lock().expect("lock").push(p.clone());
            person(p)
        })
        .build()
        .expect("provider");
    let t1 = sso.access_token().await.expect("signed in");
    let t2 = sso.access_token().await.expect("from store");
    assert_eq!(t1, t2);
    let c = emu.counters();
    assert_eq!(
        (
            c.register_client,
            c.start_device_authorization,
            c.tokens_from_device_code,
            c.tokens_from_refresh
        ),
        (1, 1, 1, 0)
    );
    let prompts = prompts.lock().expect("lock").clone();
    let [SignInPrompt::DeviceCode {
        user_code,
        verification_uri,
        expires_at,
        ..
    }] = prompts.as_slice()
    else {
        panic!("one device prompt: {prompts:?}")
    };
    assert_eq!(user_code.len(), 9);
    assert!(verification_uri.ends_with("/device"));
    assert!(
        *expires_at
            > aws_sso_device_auth_provider::clock::Clock::now(
                &aws_sso_device_auth_provider::clock::SystemClock
            ) + Duration::from_secs(50)
    );
    let session = sso.session().await.expect("session").expect("signed in");
    assert!(session.renewable);
}

#[tokio::test]
async fn seed_bug_refresh_only_near_expiry_and_refresh_token_kept_and_rotated() {
    let emu = emulator(EmulatorConfig::default()).await;
    let store = memory_store();
    let clock = ManualClock::starting_now();
    let sso = builder(&emu)
        .store(store.clone())
        .clock(Arc::new(clock.clone()))
        .on_prompt(approving(true))
        .build()
        .expect("provider");
    let first = sso.access_token().await.expect("signed in");
    let rt1 = stored(&store, &sso)
        .tokens
        .expect("tokens")
        .refresh_token
        .expect("refresh token");
    for _ in 0..5 {
        sso.access_token().await.expect("valid token");
    }
    assert_eq!(
        emu.counters().tokens_from_refresh,
        0,
        "no refresh while the token is valid"
    );

    clock.advance(Duration::from_secs(3600 - 14 * 60));
    let second = sso.access_token().await.expect("refreshed");
    assert_ne!(first, second);
    let rt2 = stored(&store, &sso)
        .tokens
        .expect("tokens")
        .refresh_token
        .expect("refresh token kept");
    assert_ne!(rt1, rt2, "rotated");
    // A second cycle works: the session really extends.
    clock.advance(Duration::from_secs(3600 - 14 * 60));
    let third = sso.access_token().await.expect("refreshed again");
    assert_ne!(second, third);
    let c = emu.counters();
    assert_eq!(
        (c.tokens_from_refresh, c.start_device_authorization),
        (2, 1)
    );
}

#[tokio::test]
async fn seed_bug_invalid_grant_falls_back_to_a_new_sign_in() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (sso, clock) = clocked(&emu);
    sso.access_token().await.expect("signed in");
    emu.revoke_sessions();
    clock.advance(Duration::from_secs(3000));
    sso.access_token()
        .await
        .expect("a new sign-in, not an error");
    let c = emu.counters();
    assert_eq!(
        (c.start_device_authorization, c.tokens_from_device_code),
        (2, 2)
    );
}

#[tokio::test]
async fn dead_session_without_sign_in_on_demand_says_sign_in_required() {
    let emu = emulator(EmulatorConfig::default()).await;
    let store = memory_store();
    let clock = ManualClock::starting_now();
    let url = crate::util::unique_start_url();
    let interactive = builder(&emu)
        .start_url(&url)
        .store(store.clone())
        .clock(Arc::new(clock.clone()))
        .on_prompt(approving(true))
        .build()
        .expect("provider");
    interactive.access_token().await.expect("signed in");
    let quiet = builder(&emu)
        .start_url(&url)
        .store(store.clone())
        .clock(Arc::new(clock.clone()))
        .sign_in_on_demand(false)
        .on_prompt(|_| panic!("must not prompt"))
        .build()
        .expect("provider");
    quiet
        .accounts(&AccountFilter::default())
        .await
        .expect("shares the session");
    emu.revoke_sessions();
    clock.advance(Duration::from_secs(3000));
    let err = quiet.accounts(&AccountFilter::default()).await.unwrap_err();
    assert!(matches!(err, Error::SignInRequired { .. }), "{err}");
    assert_eq!(emu.counters().start_device_authorization, 1);
}

#[tokio::test]
async fn invalid_client_registers_again() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (sso, clock) = clocked(&emu);
    sso.access_token().await.expect("signed in");
    emu.expire_registrations();
    clock.advance(Duration::from_secs(3000));
    sso.access_token()
        .await
        .expect("registered and signed in again");
    let c = emu.counters();
    assert_eq!((c.register_client, c.start_device_authorization), (2, 2));
}

#[tokio::test]
async fn registration_reused_until_fifteen_minutes_before_expiry() {
    let emu = emulator(EmulatorConfig {
        registration_lifetime: Duration::from_secs(3600),
        ..EmulatorConfig::default()
    })
    .await;
    let (sso, clock) = clocked(&emu);
    sso.sign_in().await.expect("first");
    sso.sign_in().await.expect("second");
    assert_eq!(emu.counters().register_client, 1, "reused");
    clock.advance(Duration::from_secs(46 * 60));
    sso.sign_in().await.expect("third");
    assert_eq!(
        emu.counters().register_client,
        2,
        "renewed 15 minutes early"
    );
}

#[tokio::test]
async fn seed_bug_slow_down_widens_the_interval() {
    let emu = emulator(EmulatorConfig {
        slow_down_polls: 1,
        ..EmulatorConfig::default()
    })
    .await;
    let sso = builder(&emu)
        .store(memory_store())
        .on_prompt(approving(true))
        .build()
        .expect("provider");
    let started = tokio::time::Instant::now();
    sso.access_token()
        .await
        .expect("signed in despite slow-down");
    let c = emu.counters();
    // The emulator answers SlowDown to any poll sooner than interval + 5 s after a
    // slow-down, so a single one proves the client widened by the protocol's 5 s.
    assert_eq!(c.slow_down, 1);
    assert_eq!(c.create_token, 2, "one slow-down, then the token");
    assert!(
        started.elapsed() >= Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn seed_bug_expired_code_ends_with_one_error_and_no_second_flow() {
    let (emu, emu_clock) = emulator_with_clock(EmulatorConfig::default()).await;
    let sso = builder(&emu)
        .store(memory_store())
        .on_prompt(move |_| emu_clock.advance(Duration::from_secs(601)))
        .build()
        .expect("provider");
    let err = sso.access_token().await.unwrap_err();
    assert!(matches!(err, Error::SignInExpired), "{err}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let c = emu.counters();
    assert_eq!(
        (c.start_device_authorization, c.register_client),
        (1, 1),
        "no detached second flow"
    );
}

#[tokio::test]
async fn denied_sign_in_is_its_own_error() {
    let emu = emulator(EmulatorConfig::default()).await;
    let sso = builder(&emu)
        .store(memory_store())
        .on_prompt(approving(false))
        .build()
        .expect("provider");
    let err = sso.access_token().await.unwrap_err();
    assert!(matches!(err, Error::SignInDenied), "{err}");
    assert_eq!(err.to_string(), "the sign-in was denied in the browser");
    assert_eq!(emu.counters().start_device_authorization, 1);
}

#[tokio::test]
async fn seed_bug_client_side_deadline_and_no_busy_loop_without_interval() {
    let emu = emulator(EmulatorConfig {
        poll_interval_secs: 0,
        ..EmulatorConfig::default()
    })
    .await;
    let sso = builder(&emu)
        .store(memory_store())
        .poll_policy(PollPolicy {
            default_interval: Duration::from_secs(1),
            max_wait: Duration::from_secs(3),
            ..PollPolicy::default()
        })
        .on_prompt(|_| {})
        .build()
        .expect("provider");
    let started = tokio::time::Instant::now();
    let err = sso.access_token().await.unwrap_err();
    assert!(matches!(err, Error::SignInTimedOut { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(6));
    assert!(
        emu.counters().create_token <= 3,
        "polled {} times in 3 s",
        emu.counters().create_token
    );
}

#[tokio::test]
async fn dropping_the_sign_in_stops_polling() {
    let emu = emulator(EmulatorConfig::default()).await;
    let sso = Arc::new(
        builder(&emu)
            .store(memory_store())
            .on_prompt(|_| {})
            .build()
            .expect("provider"),
    );
    let task = tokio::spawn({
        let sso = sso.clone();
        async move { sso.access_token().await }
    });
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    task.abort();
    let _ = task.await;
    let polls = emu.counters().create_token;
    assert!(polls >= 1);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        emu.counters().create_token,
        polls,
        "no poll after cancellation"
    );
}

#[tokio::test]
async fn pkce_sign_in_through_the_consent_page() {
    let emu = emulator(EmulatorConfig::default()).await;
    let store = memory_store();
    let sso = builder(&emu)
        .store(store.clone())
        .flow(SignInFlow::Pkce)
        .on_prompt(approving(true))
        .build()
        .expect("provider");
    sso.access_token().await.expect("signed in with PKCE");
    let c = emu.counters();
    assert_eq!(
        (
            c.authorize,
            c.tokens_from_authorization_code,
            c.start_device_authorization
        ),
        (1, 1, 0)
    );
    assert_eq!(
        stored(&store, &sso)
            .registration
            .expect("registration")
            .flow,
        SignInFlow::Pkce
    );

    let denied = builder(&emu)
        .store(memory_store())
        .flow(SignInFlow::Pkce)
        .on_prompt(approving(false))
        .build()
        .expect("provider");
    assert!(matches!(
        denied.access_token().await.unwrap_err(),
        Error::SignInDenied
    ));
}

#[tokio::test]
async fn seed_bug_instances_never_collide_in_the_store() {
    let emu = emulator(EmulatorConfig::default()).await;
    let store = memory_store();
    let url = crate::util::unique_start_url();
    let a = builder(&emu)
        .start_url(&url)
        .region("eu-west-1")
        .store(store.clone())
        .on_prompt(approving(true))
        .build()
        .expect("a");
    let b = builder(&emu)
        .start_url(&url)
        .region("us-east-1")
        .store(store.clone())
        .on_prompt(approving(true))
        .build()
        .expect("b");
    let c = builder(&emu)
        .store(store.clone())
        .on_prompt(approving(true))
        .build()
        .expect("c");
    let (ta, tb, tc) = (
        a.access_token().await.expect("a"),
        b.access_token().await.expect("b"),
        c.access_token().await.expect("c"),
    );
    assert!(ta != tb && tb != tc && ta != tc);
    assert_eq!(emu.counters().start_device_authorization, 3);
    a.sign_out().await.expect("sign out a");
    assert!(a.session().await.expect("a").is_none());
    assert_eq!(b.access_token().await.expect("b untouched"), tb);
}

#[tokio::test]
async fn seed_bug_single_account_by_name_has_distinct_errors() {
    let emu = emulator(EmulatorConfig::default()).await;
    let sso = builder(&emu)
        .store(memory_store())
        .on_prompt(approving(true))
        .build()
        .expect("provider");
    let org = emu.organisation();
    assert_eq!(
        sso.account_id_for_name("PAYMENTS-prod").await.expect("one"),
        org[5].account_id
    );
    let none = sso.account_id_for_name("no-such-*").await.unwrap_err();
    assert!(matches!(none, Error::AccountNotFound { .. }), "{none}");
    let many = sso.account_id_for_name("*-prod").await.unwrap_err();
    let Error::AmbiguousAccount { matches, .. } = &many else {
        panic!("{many}")
    };
    assert_eq!(matches.len(), 16);
    assert!(many.to_string().contains("payments-prod"), "{many}");
    let bad = sso.account_id_for_name("[unclosed").await.unwrap_err();
    assert!(matches!(bad, Error::InvalidGlob { .. }), "{bad}");
}

#[tokio::test]
async fn accounts_filters_paging_and_roles() {
    let emu = emulator(EmulatorConfig {
        accounts: 250,
        roles_per_account: 5,
        ..EmulatorConfig::default()
    })
    .await;
    let sso = builder(&emu)
        .store(memory_store())
        .on_prompt(approving(true))
        .build()
        .expect("provider");
    let all = sso
        .accounts(&AccountFilter::default())
        .await
        .expect("accounts");
    assert_eq!(all.len(), 250);
    assert_eq!(emu.counters().list_accounts, 3, "pages of 100");
    let ids = vec![all[7].account_id.clone(), all[9].account_id.clone()];
    let by_id = sso.accounts_matching(&ids, None).await.expect("by id");
    assert_eq!(by_id.len(), 2);
    let both = AccountFilter {
        ids,
        name: Some(NameGlob::new(&all[7].account_name).expect("glob")),
    };
    assert_eq!(sso.accounts(&both).await.expect("both").len(), 1);

    let roles = sso.roles(&all[7].account_id, None).await.expect("roles");
    assert_eq!(roles.len(), 5);
    let admin = sso
        .roles(&all[7].account_id, Some("*admin*"))
        .await
        .expect("roles");
    assert!(
        admin
            .iter()
            .all(|r| r.role_name.to_lowercase().contains("admin"))
            && !admin.is_empty()
    );
    let err = sso.roles("000000000000", None).await.unwrap_err();
    assert!(matches!(err, Error::AccountNotFound { .. }), "{err}");

    let discovered = sso
        .roles_by_account_name("payments-*", Some("ReadOnly*"))
        .await
        .expect("discovery");
    assert!(discovered.len() >= 5);
    assert!(discovered
        .iter()
        .all(|a| a.roles.len() == 1 && a.roles[0].role_name == "ReadOnlyAccess"));
}

#[tokio::test]
async fn discovery_under_throttling_finishes_with_zero_failures() {
    let emu = emulator(EmulatorConfig {
        accounts: 120,
        throttle_rps: Some(60.0),
        throttle_burst: Some(10.0),
        ..EmulatorConfig::default()
    })
    .await;
    let sso = builder(&emu)
        .store(memory_store())
        .on_prompt(approving(true))
        .build()
        .expect("provider");
    let found = sso
        .accounts_with_roles(&AccountFilter::default(), None)
        .await
        .expect("no failed call");
    assert_eq!(found.len(), 120);
    assert!(found.iter().all(|a| a.roles.len() == 3));
    let c = emu.counters();
    assert!(c.throttled > 0, "the test must actually be throttled");
    assert!(c.list_account_roles >= 120, "every account was asked");
}

/// A long queue behind a slow pace is progress, not failure: the throttle budget (1 s
/// here) counts time without any success, not each call's time in the queue (4 s here).
#[tokio::test]
async fn a_queue_longer_than_the_throttle_budget_still_completes() {
    let emu = emulator(EmulatorConfig {
        accounts: 80,
        ..EmulatorConfig::default()
    })
    .await;
    let sso = impatient(&emu);
    sso.access_token().await.expect("signed in");
    emu.configure(|c| {
        c.throttle_rps = Some(20.0);
        c.throttle_burst = Some(2.0);
    });
    let found = sso
        .accounts_with_roles(&AccountFilter::default(), None)
        .await
        .expect("no call gives up");
    assert_eq!(found.len(), 80);
    assert!(
        emu.counters().throttled > 0,
        "the test must actually be throttled"
    );
}

#[tokio::test]
async fn throttled_past_the_budget_is_a_clear_error() {
    let emu = emulator(EmulatorConfig::default()).await;
    let sso = impatient(&emu);
    sso.access_token().await.expect("signed in");
    emu.configure(|c| {
        c.throttle_rps = Some(0.01);
        c.throttle_burst = Some(1.0);
    });
    // The bucket's one token serves the first page; then every call is throttled.
    let err = sso.accounts(&AccountFilter::default()).await;
    let err = match err {
        Ok(_) => sso.accounts(&AccountFilter::default()).await.unwrap_err(),
        Err(e) => e,
    };
    assert!(matches!(err, Error::Throttled { .. }), "{err}");
    assert!(
        err.advice().is_some_and(|a| a.contains("try again")),
        "{err}"
    );
    assert!(
        emu.counters().throttled >= 2,
        "retried with back-off before giving up"
    );
}

#[tokio::test]
async fn dead_network_is_a_clear_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let sso = aws_sso_device_auth_provider::AwsSsoDeviceAuthProvider::builder()
        .start_url("https://dead.awsapps.com/start")
        .region("eu-west-1")
        .endpoints(aws_sso_device_auth_provider::Endpoints::both(format!(
            "http://127.0.0.1:{port}"
        )))
        .store(memory_store())
        .build()
        .expect("provider");
    let err = sso.sign_in().await.unwrap_err();
    assert!(matches!(err, Error::Network { .. }), "{err}");
    assert!(err.to_string().contains("could not reach AWS SSO"), "{err}");
}

#[tokio::test]
async fn role_credentials_cached_until_near_expiry_and_portal_401_renews_the_token() {
    let (emu, emu_clock) = emulator_with_clock(EmulatorConfig::default()).await;
    let (sso, clock) = clocked(&emu);
    let account = emu.organisation()[2].account_id.clone();
    let a = sso
        .role_credentials(&account, "ReadOnlyAccess")
        .await
        .expect("creds");
    let b = sso
        .role_credentials(&account, "ReadOnlyAccess")
        .await
        .expect("cached");
    assert_eq!(a, b);
    assert_eq!(emu.counters().get_role_credentials, 1);
    clock.advance(Duration::from_secs(3600 - 4 * 60));
    let c = sso
        .role_credentials(&account, "ReadOnlyAccess")
        .await
        .expect("renewed");
    assert_ne!(a.access_key_id, c.access_key_id);

    // The service expired the access token early: one 401, a refresh, and the call succeeds.
    emu_clock.advance(Duration::from_secs(7200));
    clock.advance(Duration::from_secs(60));
    let accounts = sso
        .accounts(&AccountFilter::default())
        .await
        .expect("renewed after 401");
    assert_eq!(accounts.len(), 24);
    assert!(emu.counters().tokens_from_refresh >= 1);

    let err = sso
        .role_credentials(&account, "NoSuchRole")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RoleNotFound { .. }), "{err}");
}
