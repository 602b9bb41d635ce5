//! The one-call conveniences, configured the way a script would: from the environment,
//! with the OS keychain.

use aws_sso_device_auth_provider::{one_shot, Error};
use aws_sso_emulator::{Emulator, EmulatorConfig};

#[tokio::test]
async fn one_shot_calls_sign_in_once_and_share_the_keychain_session() {
    let emu = Emulator::start(EmulatorConfig {
        auto_approve: true,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator");
    // This binary holds this one test, so no other thread reads the environment.
    std::env::set_var("AWS_ENDPOINT_URL", emu.endpoint());
    let url = format!("https://one-shot-{}.awsapps.com/start", std::process::id());
    let region = "ap-southeast-2";

    let token = one_shot::access_token(&url, region)
        .await
        .expect("signs in");
    let accounts = one_shot::accounts(&url, region, Some("*-staging"))
        .await
        .expect("accounts");
    assert_eq!(accounts.len(), 3);
    let id = one_shot::account_id_for_name(&url, region, "search-staging")
        .await
        .expect("one account");
    let roles = one_shot::roles(&url, region, &id, Some("*Only*"))
        .await
        .expect("roles");
    assert_eq!(roles.len(), 1);
    let creds = one_shot::role_credentials(&url, region, &id, &roles[0].role_name)
        .await
        .expect("creds");
    assert!(creds.access_key_id.starts_with("ASIA"));
    let again = one_shot::access_token(&url, region)
        .await
        .expect("from the keychain");
    assert_eq!(token, again);
    assert_eq!(
        emu.counters().start_device_authorization,
        1,
        "one sign-in for all calls"
    );

    let err = one_shot::accounts("not a url", region, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidStartUrl { .. }), "{err}");
    aws_sso_device_auth_provider::AwsSsoDeviceAuthProvider::builder()
        .start_url(&url)
        .region(region)
        .endpoints(aws_sso_device_auth_provider::Endpoints::both(
            emu.endpoint(),
        ))
        .build()
        .expect("provider")
        .sign_out()
        .await
        .expect("clean up the keychain item");
}
