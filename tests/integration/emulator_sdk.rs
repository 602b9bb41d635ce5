//! The emulator, driven only through the unmodified official SDK clients: every operation
//! parses, and every error arrives as the SDK's typed variant.

use crate::util::{emulator, emulator_with_clock};
use aws_sdk_sso::error::ProvideErrorMetadata;
use aws_sdk_sso::operation::get_role_credentials::GetRoleCredentialsError;
use aws_sdk_sso::operation::list_accounts::ListAccountsError;
use aws_sdk_ssooidc::operation::create_token::CreateTokenError;
use aws_sdk_ssooidc::operation::start_device_authorization::StartDeviceAuthorizationError;
use aws_sso_device_auth_provider::clock::{Clock, SystemClock};
use aws_sso_device_auth_provider::oidc::pkce::{challenge_for, PkcePair};
use aws_sso_emulator::{Emulator, EmulatorConfig};
use std::time::{Duration, SystemTime};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn oidc(emu: &Emulator) -> aws_sdk_ssooidc::Client {
    let conf = aws_sdk_ssooidc::Config::builder()
        .behavior_version(aws_sdk_ssooidc::config::BehaviorVersion::latest())
        .region(aws_sdk_ssooidc::config::Region::new("us-east-1"))
        .endpoint_url(emu.endpoint())
        .retry_config(aws_sdk_ssooidc::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_ssooidc::Client::from_conf(conf)
}

fn portal(emu: &Emulator) -> aws_sdk_sso::Client {
    let conf = aws_sdk_sso::Config::builder()
        .behavior_version(aws_sdk_sso::config::BehaviorVersion::latest())
        .region(aws_sdk_sso::config::Region::new("us-east-1"))
        .endpoint_url(emu.endpoint())
        .retry_config(aws_sdk_sso::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_sso::Client::from_conf(conf)
}

struct Registered {
    id: String,
    secret: String,
}

async fn register(c: &aws_sdk_ssooidc::Client, scopes: bool) -> Registered {
    let out = c
        .register_client()
        .client_name("sdk-test")
        .client_type("public")
        .set_scopes(scopes.then(|| vec!["sso:account:access".to_owned()]))
        .send()
        .await
        .expect("RegisterClient");
    let now = SystemClock
        .now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    assert!(
        (out.client_id_issued_at() - now).abs() < 5,
        "issued at, epoch seconds"
    );
    assert!(
        out.client_secret_expires_at() > now + 80 * 86_400,
        "expires in epoch seconds"
    );
    Registered {
        id: out.client_id().expect("id").to_owned(),
        secret: out.client_secret().expect("secret").to_owned(),
    }
}

async fn start(
    c: &aws_sdk_ssooidc::Client,
    r: &Registered,
) -> aws_sdk_ssooidc::operation::start_device_authorization::StartDeviceAuthorizationOutput {
    c.start_device_authorization()
        .client_id(&r.id)
        .client_secret(&r.secret)
        .start_url("https://x.awsapps.com/start")
        .send()
        .await
        .expect("StartDeviceAuthorization")
}

async fn device_token(
    c: &aws_sdk_ssooidc::Client,
    r: &Registered,
    device_code: &str,
) -> Result<aws_sdk_ssooidc::operation::create_token::CreateTokenOutput, CreateTokenError> {
    c.create_token()
        .client_id(&r.id)
        .client_secret(&r.secret)
        .grant_type(DEVICE_GRANT)
        .device_code(device_code)
        .send()
        .await
        .map_err(|e| e.into_service_error())
}

#[tokio::test]
async fn device_flow_paging_credentials_refresh_and_logout() {
    let emu = emulator(EmulatorConfig::default()).await;
    let c = oidc(&emu);
    let r = register(&c, true).await;
    let auth = start(&c, &r).await;
    assert_eq!(auth.expires_in(), 600);
    assert_eq!(auth.interval(), 1);
    let user_code = auth.user_code().expect("user code").to_owned();
    assert!(auth
        .verification_uri_complete()
        .expect("complete uri")
        .ends_with(&user_code));

    let pending = device_token(&c, &r, auth.device_code().expect("device code"))
        .await
        .unwrap_err();
    assert!(pending.is_authorization_pending_exception(), "{pending:?}");
    assert!(emu.decide(&user_code, true));
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let tok = device_token(&c, &r, auth.device_code().expect("device code"))
        .await
        .expect("token");
    assert_eq!(tok.token_type(), Some("Bearer"));
    assert_eq!(tok.expires_in(), 3600);
    let access = tok.access_token().expect("access token").to_owned();
    let refresh = tok
        .refresh_token()
        .expect("a scoped registration gets a refresh token")
        .to_owned();

    // Paging: 24 accounts in pages of 7.
    let p = portal(&emu);
    let mut seen = Vec::new();
    let mut next = None;
    let mut pages = 0;
    loop {
        let page = p
            .list_accounts()
            .access_token(&access)
            .max_results(7)
            .set_next_token(next)
            .send()
            .await
            .expect("ListAccounts");
        pages += 1;
        seen.extend(
            page.account_list()
                .iter()
                .map(|a| a.account_id().expect("id").to_owned()),
        );
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    assert_eq!((seen.len(), pages), (24, 4));
    let roles = p
        .list_account_roles()
        .access_token(&access)
        .account_id(&seen[3])
        .send()
        .await
        .expect("ListAccountRoles");
    let role = roles.role_list()[0].role_name().expect("role").to_owned();
    assert_eq!(roles.role_list().len(), 3);
    let creds = p
        .get_role_credentials()
        .access_token(&access)
        .account_id(&seen[3])
        .role_name(&role)
        .send()
        .await
        .expect("GetRoleCredentials");
    let rc = creds.role_credentials().expect("role credentials");
    let now_ms = SystemClock
        .now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    assert!(
        (rc.expiration() - (now_ms + 3_600_000)).abs() < 10_000,
        "expiration in epoch milliseconds"
    );
    assert!(rc.access_key_id().expect("key").starts_with("ASIA"));

    // A role not assigned: 403 ForbiddenException "No access", as the service answers
    // (a type the SDK's model does not name, so it arrives unhandled, with its code).
    let err = p
        .get_role_credentials()
        .access_token(&access)
        .account_id(&seen[3])
        .role_name("NoSuchRole")
        .send()
        .await
        .unwrap_err();
    let status = err.raw_response().map(|r| r.status().as_u16());
    let err = err.into_service_error();
    assert_eq!(status, Some(403), "{err:?}");
    assert_eq!(err.code(), Some("ForbiddenException"), "{err:?}");
    assert_eq!(err.message(), Some("No access"), "{err:?}");
    assert!(
        !matches!(err, GetRoleCredentialsError::ResourceNotFoundException(_)),
        "{err:?}"
    );

    // Refresh rotates: the new refresh token works, the old one is dead.
    let refreshed = c
        .create_token()
        .client_id(&r.id)
        .client_secret(&r.secret)
        .grant_type("refresh_token")
        .refresh_token(&refresh)
        .send()
        .await
        .expect("refresh");
    assert_ne!(refreshed.refresh_token(), Some(refresh.as_str()));
    let again = c
        .create_token()
        .client_id(&r.id)
        .client_secret(&r.secret)
        .grant_type("refresh_token")
        .refresh_token(&refresh)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(again.is_invalid_grant_exception(), "{again:?}");

    // Logout ends the session: the portal answers UnauthorizedException.
    let new_access = refreshed.access_token().expect("access").to_owned();
    p.logout()
        .access_token(&new_access)
        .send()
        .await
        .expect("Logout");
    let err = p
        .list_accounts()
        .access_token(&new_access)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, ListAccountsError::UnauthorizedException(_)),
        "{err:?}"
    );
    let c2 = emu.counters();
    assert_eq!(
        (c2.list_accounts, c2.tokens_from_refresh, c2.logout),
        (5, 1, 1)
    );
}

#[tokio::test]
async fn polling_errors_are_typed() {
    let (emu, clock) = emulator_with_clock(EmulatorConfig {
        slow_down_polls: 1,
        ..EmulatorConfig::default()
    })
    .await;
    let c = oidc(&emu);
    let r = register(&c, false).await;
    let a = start(&c, &r).await;
    let code = a.device_code().expect("device code");
    assert!(device_token(&c, &r, code)
        .await
        .unwrap_err()
        .is_slow_down_exception());
    // Polling again at once is too fast: slow down again.
    assert!(device_token(&c, &r, code)
        .await
        .unwrap_err()
        .is_slow_down_exception());
    assert_eq!(emu.counters().slow_down, 2);
    emu.configure(|c| c.slow_down_polls = 0);

    let denied = start(&c, &r).await;
    assert!(emu.decide(denied.user_code().expect("code"), false));
    let err = device_token(&c, &r, denied.device_code().expect("code"))
        .await
        .unwrap_err();
    assert!(err.is_access_denied_exception(), "{err:?}");

    let expiring = start(&c, &r).await;
    clock.advance(Duration::from_secs(601));
    let err = device_token(&c, &r, expiring.device_code().expect("code"))
        .await
        .unwrap_err();
    assert!(err.is_expired_token_exception(), "{err:?}");

    // Without scopes: the legacy token, no refresh token.
    let legacy = start(&c, &r).await;
    assert!(emu.decide(legacy.user_code().expect("code"), true));
    let tok = device_token(&c, &r, legacy.device_code().expect("code"))
        .await
        .expect("token");
    assert_eq!(tok.refresh_token(), None);

    // A wrong secret: InvalidClientException (HTTP 401).
    let err = c
        .start_device_authorization()
        .client_id(&r.id)
        .client_secret("wrong")
        .start_url("https://x.awsapps.com/start")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(401));
    assert!(matches!(
        err.into_service_error(),
        StartDeviceAuthorizationError::InvalidClientException(_)
    ));
}

#[tokio::test]
async fn throttling_and_faults_are_typed() {
    let emu = emulator(EmulatorConfig {
        throttle_rps: Some(1.0),
        throttle_burst: Some(1.0),
        ..EmulatorConfig::default()
    })
    .await;
    let p = portal(&emu);
    let first = p
        .list_accounts()
        .access_token("x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(first, ListAccountsError::UnauthorizedException(_)),
        "within the limit: {first:?}"
    );
    let second = p
        .list_accounts()
        .access_token("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        second.raw_response().map(|r| r.status().as_u16()),
        Some(429)
    );
    assert!(matches!(
        second.into_service_error(),
        ListAccountsError::TooManyRequestsException(_)
    ));
    assert_eq!(emu.counters().throttled, 1);

    emu.configure(|c| {
        c.throttle_rps = None;
        c.fault_rate = 1.0;
    });
    let err = oidc(&emu)
        .register_client()
        .client_name("x")
        .client_type("public")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    assert!(err.into_service_error().is_internal_server_exception());
}

#[tokio::test]
async fn pkce_authorization_code_flow() {
    let emu = emulator(EmulatorConfig::default()).await;
    let c = oidc(&emu);
    let reg = c
        .register_client()
        .client_name("pkce-test")
        .client_type("public")
        .scopes("sso:account:access")
        .grant_types("authorization_code")
        .grant_types("refresh_token")
        .redirect_uris("http://127.0.0.1/oauth/callback")
        .issuer_url("https://x.awsapps.com/start")
        .send()
        .await
        .expect("register");
    let id = reg.client_id().expect("id");
    let pair = PkcePair::generate();
    let redirect = "http://127.0.0.1:45678/oauth/callback";
    let url = aws_sso_device_auth_provider::oidc::pkce::authorize_url(
        &emu.endpoint(),
        id,
        redirect,
        &pair,
        &["sso:account:access".into()],
    );
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = http
        .get(&url)
        .send()
        .await
        .expect("authorize")
        .text()
        .await
        .expect("page");
    assert!(page.contains("Allow"), "a consent page: {page}");
    let request = page
        .split("name=\"request\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("request id");
    let to = http
        .post(format!("{}/authorize/decision", emu.endpoint()))
        .form(&[("request", request), ("decision", "allow")])
        .send()
        .await
        .expect("decision");
    assert_eq!(to.status().as_u16(), 303);
    let location =
        url::Url::parse(to.headers()["location"].to_str().expect("location")).expect("url");
    assert_eq!(location.port(), Some(45678));
    let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(q["state"], pair.state);

    let exchange = |verifier: String| {
        c.create_token()
            .client_id(id)
            .client_secret(reg.client_secret().expect("secret"))
            .grant_type("authorization_code")
            .code(&q["code"])
            .redirect_uri(redirect)
            .code_verifier(verifier)
            .send()
    };
    // A wrong verifier burns the code.
    let wrong = exchange("x".repeat(43))
        .await
        .unwrap_err()
        .into_service_error();
    assert!(wrong.is_invalid_grant_exception(), "{wrong:?}");
    assert_ne!(challenge_for(&"x".repeat(43)), pair.challenge);

    // Again, with the right verifier, through auto-approval.
    emu.configure(|c| c.auto_approve = true);
    let pair = PkcePair::generate();
    let url = aws_sso_device_auth_provider::oidc::pkce::authorize_url(
        &emu.endpoint(),
        id,
        redirect,
        &pair,
        &["sso:account:access".into()],
    );
    let to = http.get(&url).send().await.expect("authorize");
    let location =
        url::Url::parse(to.headers()["location"].to_str().expect("location")).expect("url");
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .expect("code")
        .1
        .into_owned();
    let tok = c
        .create_token()
        .client_id(id)
        .client_secret(reg.client_secret().expect("secret"))
        .grant_type("authorization_code")
        .code(code)
        .redirect_uri(redirect)
        .code_verifier(pair.verifier.expose())
        .send()
        .await
        .expect("token");
    assert!(tok.refresh_token().is_some());
    assert_eq!(emu.counters().tokens_from_authorization_code, 1);
}

#[tokio::test]
async fn verification_page_for_a_person() {
    let emu = emulator(EmulatorConfig::default()).await;
    let http = reqwest::Client::new();
    let blank = http
        .get(format!("{}/device", emu.endpoint()))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(blank.contains("Enter the code"));
    let unknown = http
        .post(format!("{}/device/decision", emu.endpoint()))
        .form(&[("user_code", "NOPE-NOPE"), ("decision", "allow")])
        .send()
        .await
        .expect("post");
    assert_eq!(unknown.status().as_u16(), 400);
    let bad_json = http
        .post(format!("{}/token", emu.endpoint()))
        .body("<html>not json")
        .send()
        .await
        .expect("post");
    assert_eq!(bad_json.status().as_u16(), 400);
    assert!(bad_json.headers()["x-amzn-errortype"]
        .to_str()
        .expect("header")
        .starts_with("InvalidRequestException:"));

    // The control API, for tests in other processes.
    let c = oidc(&emu);
    let r = register(&c, true).await;
    let auth = start(&c, &r).await;
    let pending: serde_json::Value = http
        .get(format!("{}/_emulator/pending", emu.endpoint()))
        .send()
        .await
        .expect("pending")
        .json()
        .await
        .expect("json");
    assert_eq!(pending["userCodes"][0], auth.user_code().expect("code"));
    let decide = |code: String| {
        http.post(format!(
            "{}/_emulator/decide?user_code={code}",
            emu.endpoint()
        ))
        .send()
    };
    assert_eq!(
        decide("NOPE-NOPE".into())
            .await
            .expect("post")
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        decide(auth.user_code().expect("code").into())
            .await
            .expect("post")
            .status()
            .as_u16(),
        204
    );
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let tok = device_token(&c, &r, auth.device_code().expect("code"))
        .await
        .expect("approved through the control API");
    let revoke = http
        .post(format!("{}/_emulator/revoke", emu.endpoint()))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoke.status().as_u16(), 204);
    let err = c
        .create_token()
        .client_id(&r.id)
        .client_secret(&r.secret)
        .grant_type("refresh_token")
        .refresh_token(tok.refresh_token().expect("refresh"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_grant_exception(), "revoked: {err:?}");
}
