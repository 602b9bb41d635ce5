//! No secret in any log line: a whole session at the most verbose level, captured by the
//! subscriber this project installs. Its own process, because the capture depends on
//! tracing's process-wide interest cache, which tests on other threads would change.

#[path = "integration/util.rs"]
mod util;

use aws_sso_device_auth_provider::clock::ManualClock;
use aws_sso_emulator::EmulatorConfig;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use util::{approving, builder, emulator, memory_store, stored};

/// No secret appears in any log line, at the most verbose level, through a whole session.
#[tokio::test(flavor = "current_thread")]
async fn seed_bug_no_secret_in_logs_or_errors() {
    use tracing_subscriber::fmt::MakeWriter;
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl<'a> MakeWriter<'a> for Buf {
        type Writer = Buf;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::Layer;
    let logs = Buf::default();
    let raw = Buf::default();
    // What the project installs (everything at TRACE, behind the wire filter), and beside
    // it an unfiltered capture showing why the filter is needed.
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(logs.clone())
                .with_filter(tracing_subscriber::filter::LevelFilter::TRACE)
                .with_filter(aws_sso_device_auth_provider::logging::no_wire_trace()),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(raw.clone())
                .with_filter(tracing_subscriber::filter::LevelFilter::TRACE),
        );
    let _guard = tracing::subscriber::set_default(subscriber);
    // Other tests of this binary, on other threads with no subscriber, may have hit these
    // callsites first and left them cached as uninteresting.
    tracing::callsite::rebuild_interest_cache();

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
    let first_record = stored(&store, &sso);
    clock.advance(Duration::from_secs(3000));
    sso.access_token().await.expect("refreshed");
    let account = emu.organisation()[0].account_id.clone();
    let creds = sso
        .role_credentials(&account, "AdministratorAccess")
        .await
        .expect("creds");
    let _ = sso.role_credentials(&account, "Nope").await;
    let record = stored(&store, &sso);

    let mut secrets = vec![
        first.expose().to_owned(),
        creds.secret_access_key.expose().to_owned(),
        creds.session_token.expose().to_owned(),
    ];
    for r in [&first_record, &record] {
        let reg = r.registration.as_ref().expect("registration");
        let tok = r.tokens.as_ref().expect("tokens");
        secrets.push(reg.client_secret.expose().to_owned());
        secrets.push(tok.access_token.expose().to_owned());
        secrets.push(
            tok.refresh_token
                .as_ref()
                .expect("refresh")
                .expose()
                .to_owned(),
        );
    }
    let text = String::from_utf8(logs.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(
        text.len() > 1_000,
        "the subscriber captured the session's logs ({} bytes)",
        text.len()
    );
    for (i, s) in secrets.iter().enumerate() {
        // Any 24-character run of a secret would be a leak.
        if let Some(at) = text.find(&s[..24]) {
            let line_start = text[..at].rfind('\n').map_or(0, |p| p + 1);
            let context: String = text[line_start..].chars().take(3000).collect();
            panic!("secret #{i} reached the logs: {context}");
        }
    }
    let unfiltered = String::from_utf8(raw.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(
        secrets.iter().any(|s| unfiltered.contains(&s[..24])),
        "the SDK's wire trace carries tokens; if this fails the SDK now redacts them"
    );
    let debug = format!("{creds:?} {record:?} {sso:?}");
    for s in &secrets {
        assert!(!debug.contains(&s[..24]), "a secret reached a Debug string");
    }
}
