//! One conformance suite for every secret store: memory and the real OS keychain.

use aws_sso_device_auth_provider::store::{
    ClientRegistration, SessionEndpoints, SessionRecord, SignInFlow, TokenSet, MAX_ITEM_BYTES,
};
use aws_sso_device_auth_provider::{KeychainStore, MemoryStore, Secret, SecretStore};
use std::time::{Duration, UNIX_EPOCH};

fn conformance(store: &dyn SecretStore) {
    let k1 = "eu-west-1|https://conformance-a.awsapps.com/start";
    let k2 = "eu-west-1|https://conformance-b.awsapps.com/start";
    assert_eq!(
        store.get(k1).expect("get missing"),
        None,
        "a missing entry is none, not an error"
    );
    store.delete(k1).expect("deleting a missing entry succeeds");

    store.set(k1, &Secret::new("first")).expect("set");
    assert_eq!(
        store.get(k1).expect("get").as_ref().map(Secret::expose),
        Some("first")
    );
    store
        .set(k1, &Secret::new("second ✓ ünïcode"))
        .expect("replace");
    assert_eq!(
        store.get(k1).expect("get").as_ref().map(Secret::expose),
        Some("second ✓ ünïcode")
    );
    assert_eq!(store.get(k2).expect("other key"), None, "keys are separate");

    // A real-sized session record fits in one item and comes back whole.
    let record = SessionRecord {
        registration: Some(ClientRegistration {
            client_id: "c".repeat(22),
            client_secret: Secret::new("s".repeat(1_000)),
            expires_at: UNIX_EPOCH + Duration::from_secs(1_900_000_000),
            flow: SignInFlow::Device,
            options_digest: "0011223344556677".into(),
        }),
        tokens: Some(TokenSet {
            access_token: Secret::new("a".repeat(500)),
            expires_at: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            refresh_token: Some(Secret::new("r".repeat(600))),
        }),
        endpoints: Some(SessionEndpoints {
            oidc: "https://sso-oidc.proxy.example.internal:8443".into(),
            portal: "https://sso-portal.proxy.example.internal:8443".into(),
        }),
    };
    let stored = record.to_secret();
    assert!(stored.len() <= MAX_ITEM_BYTES, "{} bytes", stored.len());
    store.set(k2, &stored).expect("set record");
    let back = store.get(k2).expect("get record").expect("present");
    assert_eq!(SessionRecord::from_secret(&back).expect("parses"), record);

    store.delete(k1).expect("delete");
    store.delete(k2).expect("delete");
    assert_eq!(store.get(k1).expect("get deleted"), None);
    assert_eq!(store.get(k2).expect("get deleted"), None);
}

#[test]
fn memory_store_conforms() {
    conformance(&MemoryStore::new());
}

/// Runs against the real Secret Service of the session (gnome-keyring under
/// `.ci/with-keyring`). It fails, rather than skips, where there is none.
#[test]
fn os_keychain_conforms() {
    let service = format!("aws-sso-tray-conformance-{}", std::process::id());
    conformance(&KeychainStore::with_service(service));
}
