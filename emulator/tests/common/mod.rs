//! What the emulator's test crates share: an emulator that approves sign-ins at once, and
//! role credentials obtained the way a person's tools obtain them (the device sign-in,
//! then GetRoleCredentials).

use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};
use aws_sso_emulator::{Emulator, EmulatorConfig};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// An emulator that approves every sign-in at once.
pub async fn emulator(config: EmulatorConfig) -> Emulator {
    Emulator::start(EmulatorConfig {
        auto_approve: true,
        ..config
    })
    .await
    .expect("emulator starts")
}

/// An access token from the device flow (approved at once), then role credentials for
/// the first role of each of the organisation's accounts numbered in `accounts`:
/// (credentials, account id, role name) each.
pub async fn sso_credentials(
    emu: &Emulator,
    accounts: &[usize],
) -> Vec<(Credentials, String, String)> {
    let oidc = aws_sdk_ssooidc::Client::from_conf(
        aws_sdk_ssooidc::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(emu.endpoint())
            .build(),
    );
    let reg = oidc
        .register_client()
        .client_name("emulator-test")
        .client_type("public")
        .send()
        .await
        .expect("RegisterClient");
    let (id, secret) = (
        reg.client_id().expect("id"),
        reg.client_secret().expect("secret"),
    );
    let auth = oidc
        .start_device_authorization()
        .client_id(id)
        .client_secret(secret)
        .start_url("https://example.awsapps.com/start")
        .send()
        .await
        .expect("StartDeviceAuthorization");
    let token = oidc
        .create_token()
        .client_id(id)
        .client_secret(secret)
        .grant_type(DEVICE_GRANT)
        .device_code(auth.device_code().expect("device code"))
        .send()
        .await
        .expect("CreateToken");
    let portal = aws_sdk_sso::Client::from_conf(
        aws_sdk_sso::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(emu.endpoint())
            .build(),
    );
    let org = emu.organisation();
    let mut all = Vec::new();
    for &i in accounts {
        let (account, role) = (org[i].account_id.clone(), org[i].roles[0].clone());
        let out = portal
            .get_role_credentials()
            .account_id(&account)
            .role_name(&role)
            .access_token(token.access_token().expect("access token"))
            .send()
            .await
            .expect("GetRoleCredentials");
        let c = out.role_credentials().expect("credentials");
        all.push((
            Credentials::new(
                c.access_key_id().expect("key"),
                c.secret_access_key().expect("secret"),
                c.session_token().map(str::to_owned),
                None,
                "emulator",
            ),
            account,
            role,
        ));
    }
    all
}
