//! STS `AssumeRole` (and `GetCallerIdentity`) through the unmodified official client,
//! signed with role credentials obtained the way a person's tools obtain them: the device
//! sign-in, then GetRoleCredentials.

use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::RequestId;
use aws_sso_device_auth_provider::clock::{Clock, ManualClock, SystemClock};
use aws_sso_emulator::{Emulator, EmulatorConfig};

mod common;
use common::{emulator, sso_credentials};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const CHAINING: &str =
    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.";

fn sts(emu: &Emulator, credentials: Credentials) -> aws_sdk_sts::Client {
    sts_with_retries(
        emu,
        credentials,
        aws_sdk_sts::config::retry::RetryConfig::disabled(),
    )
}

fn sts_with_retries(
    emu: &Emulator,
    credentials: Credentials,
    retry: aws_sdk_sts::config::retry::RetryConfig,
) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(emu.endpoint())
            .credentials_provider(credentials)
            .retry_config(retry)
            .build(),
    )
}

/// The credentials an AssumeRole reply carries, for the next call.
fn credentials_of(out: &aws_sdk_sts::operation::assume_role::AssumeRoleOutput) -> Credentials {
    let c = out.credentials().expect("credentials");
    Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "assumed",
    )
}

/// The error's code, message and HTTP status.
fn failure<E: ProvideErrorMetadata>(e: &SdkError<E>) -> (String, String, u16) {
    (
        e.code().unwrap_or_default().to_owned(),
        e.message().unwrap_or_default().to_owned(),
        e.raw_response()
            .map(|r| r.status().as_u16())
            .unwrap_or_default(),
    )
}

fn seconds_from_now(t: &aws_sdk_sts::primitives::DateTime) -> i64 {
    let now = SystemClock
        .now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    t.secs() - now
}

#[tokio::test]
async fn assumes_a_role_with_role_credentials() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (creds, account, role) = sso_credentials(&emu, &[0]).await.remove(0);
    let client = sts(&emu, creds);

    let me = client
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(me.account(), Some(account.as_str()));
    let arn = me.arn().expect("arn");
    let prefix = format!("arn:aws:sts::{account}:assumed-role/AWSReservedSSO_{role}_");
    assert!(arn.starts_with(&prefix), "{arn}");
    let session = arn.rsplit('/').next().expect("session");
    assert!(
        me.user_id()
            .expect("user id")
            .ends_with(&format!(":{session}")),
        "{me:?}"
    );

    let target = "arn:aws:iam::210987654321:role/team/Deploy";
    let out = client
        .assume_role()
        .role_arn(target)
        .role_session_name("ci-run@42")
        .send()
        .await
        .expect("AssumeRole");
    let user = out.assumed_role_user().expect("assumed role user");
    assert_eq!(
        user.arn(),
        "arn:aws:sts::210987654321:assumed-role/Deploy/ci-run@42"
    );
    let (role_id, session) = user.assumed_role_id().split_once(':').expect("id:session");
    assert_eq!(session, "ci-run@42");
    assert!(
        role_id.starts_with("AROA") && role_id.len() == 21,
        "{role_id}"
    );
    let c = out.credentials().expect("credentials");
    assert!(
        c.access_key_id().starts_with("ASIA") && c.access_key_id().len() == 20,
        "access key id of the real shape"
    );
    assert_eq!(c.secret_access_key().len(), 40);
    assert!(c.session_token().len() > 100);
    let left = seconds_from_now(c.expiration());
    assert!((3595..=3601).contains(&left), "default hour, got {left} s");

    let short = client
        .assume_role()
        .role_arn(target)
        .role_session_name("short")
        .duration_seconds(900)
        .send()
        .await
        .expect("AssumeRole for 900 s");
    let left = seconds_from_now(short.credentials().expect("credentials").expiration());
    assert!((895..=901).contains(&left), "asked 900 s, got {left} s");

    let assumed = sts(&emu, credentials_of(&out))
        .get_caller_identity()
        .send()
        .await
        .expect("the new credentials authenticate");
    assert_eq!(
        assumed.arn(),
        Some("arn:aws:sts::210987654321:assumed-role/Deploy/ci-run@42")
    );
    assert_eq!(assumed.account(), Some("210987654321"));
    assert_eq!(emu.counters().assume_role, 2);
    assert_eq!(emu.counters().get_caller_identity, 2);
}

#[tokio::test]
async fn roles_chain_and_their_credentials_open_the_console() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (creds, _, _) = sso_credentials(&emu, &[0]).await.remove(0);
    let first = sts(&emu, creds)
        .assume_role()
        .role_arn("arn:aws:iam::111111111111:role/Hop1")
        .role_session_name("one")
        .send()
        .await
        .expect("first hop");
    let second = sts(&emu, credentials_of(&first))
        .assume_role()
        .role_arn("arn:aws:iam::222222222222:role/Hop2")
        .role_session_name("two")
        .duration_seconds(3600)
        .send()
        .await
        .expect("chain");
    let third = sts(&emu, credentials_of(&second))
        .assume_role()
        .role_arn("arn:aws:iam::333333333333:role/Hop3")
        .role_session_name("three")
        .send()
        .await
        .expect("chain of chain");
    assert_eq!(
        third.assumed_role_user().expect("user").arn(),
        "arn:aws:sts::333333333333:assumed-role/Hop3/three"
    );

    // A refusal names the caller: the previous hop's assumed role.
    let denied = sts(&emu, credentials_of(&second))
        .assume_role()
        .role_arn("arn:aws:iam::333333333333:role/NoTrustHere")
        .role_session_name("three")
        .send()
        .await
        .expect_err("NoTrust refuses");
    assert_eq!(
        failure(&denied),
        (
            "AccessDenied".to_owned(),
            "User: arn:aws:sts::222222222222:assumed-role/Hop2/two is not authorized to perform: \
             sts:AssumeRole on resource: arn:aws:iam::333333333333:role/NoTrustHere"
                .to_owned(),
            403
        )
    );

    // The console federation endpoint takes them like the portal's.
    let c = third.credentials().expect("credentials");
    let session = serde_json::json!({
        "sessionId": c.access_key_id(),
        "sessionKey": c.secret_access_key(),
        "sessionToken": c.session_token(),
    })
    .to_string();
    let reply: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/federation", emu.endpoint()))
        .query(&[("Action", "getSigninToken"), ("Session", session.as_str())])
        .send()
        .await
        .expect("federation")
        .error_for_status()
        .expect("accepted")
        .json()
        .await
        .expect("json");
    assert!(reply["SigninToken"].as_str().is_some(), "{reply}");
}

#[tokio::test]
async fn a_role_that_trusts_no_one_denies_the_sso_user() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (creds, _, _) = sso_credentials(&emu, &[0]).await.remove(0);
    let client = sts(&emu, creds);
    let me = client.get_caller_identity().send().await.expect("identity");
    let target = "arn:aws:iam::123456789012:role/NoTrustAdmin";
    let e = client
        .assume_role()
        .role_arn(target)
        .role_session_name("s1")
        .send()
        .await
        .expect_err("refused");
    assert!(
        matches!(&e, SdkError::ServiceError(s) if s.err().meta().code() == Some("AccessDenied")),
        "a service error, parsed: {e:?}"
    );
    assert_eq!(
        failure(&e),
        (
            "AccessDenied".to_owned(),
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {target}",
                me.arn().expect("arn")
            ),
            403
        )
    );
    let header = e
        .raw_response()
        .and_then(|r| r.headers().get("x-amzn-requestid"))
        .map(str::to_owned);
    assert!(header.is_some(), "a request id");
    assert_eq!(e.request_id().map(str::to_owned), header);
}

#[tokio::test]
async fn an_external_role_requires_the_external_id() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (creds, _, _) = sso_credentials(&emu, &[0]).await.remove(0);
    let client = sts(&emu, creds);
    let target = "arn:aws:iam::123456789012:role/VendorExternal";
    let ask = |id: Option<&str>| {
        client
            .assume_role()
            .role_arn(target)
            .role_session_name("vendor")
            .set_external_id(id.map(str::to_owned))
            .send()
    };
    for id in [None, Some("wrong-id")] {
        let e = ask(id).await.expect_err("refused");
        let (code, message, status) = failure(&e);
        assert_eq!((code.as_str(), status), ("AccessDenied", 403), "{id:?}");
        assert!(
            message.ends_with(&format!("sts:AssumeRole on resource: {target}")),
            "{message}"
        );
    }
    ask(Some("emulator-external-id"))
        .await
        .expect("the configured id is accepted");
    emu.configure(|c| c.external_id = "other-id-1".to_owned());
    ask(Some("other-id-1")).await.expect("a changed id");
    assert!(ask(Some("emulator-external-id")).await.is_err());
}

#[tokio::test]
async fn credentials_not_issued_or_expired_are_refused() {
    let clock = ManualClock::starting_now();
    let emu = Emulator::start_with(
        ("127.0.0.1", 0),
        EmulatorConfig {
            auto_approve: true,
            ..EmulatorConfig::default()
        },
        Arc::new(clock.clone()),
    )
    .await
    .expect("emulator starts");
    let (creds, _, _) = sso_credentials(&emu, &[0]).await.remove(0);
    let target = "arn:aws:iam::123456789012:role/Deploy";
    let assume = |c: Credentials| {
        let client = sts(&emu, c);
        async move {
            client
                .assume_role()
                .role_arn(target)
                .role_session_name("s1")
                .send()
                .await
        }
    };
    let invalid = (
        "InvalidClientTokenId".to_owned(),
        "The security token included in the request is invalid.".to_owned(),
        403,
    );

    let unknown = Credentials::new(
        "ASIAXXXXXXXXXXXXXXXX",
        "x".repeat(40),
        Some("FwoGZXIvYXdzEXAMPLE".to_owned()),
        None,
        "t",
    );
    assert_eq!(
        failure(&assume(unknown).await.expect_err("unknown")),
        invalid
    );
    let no_token = Credentials::new(
        creds.access_key_id(),
        creds.secret_access_key(),
        None,
        None,
        "t",
    );
    assert_eq!(
        failure(&assume(no_token).await.expect_err("no token")),
        invalid
    );
    let wrong_secret = Credentials::new(
        creds.access_key_id(),
        "y".repeat(40),
        creds.session_token().map(str::to_owned),
        None,
        "t",
    );
    let (code, _, status) = failure(&assume(wrong_secret).await.expect_err("bad signature"));
    assert_eq!((code.as_str(), status), ("SignatureDoesNotMatch", 403));

    let out = assume(creds.clone()).await.expect("valid");
    clock.advance(Duration::from_secs(3 * 3600));
    let expired = (
        "ExpiredToken".to_owned(),
        "The security token included in the request is expired".to_owned(),
        400,
    );
    assert_eq!(failure(&assume(creds).await.expect_err("expired")), expired);
    assert_eq!(
        failure(&assume(credentials_of(&out)).await.expect_err("expired too")),
        expired
    );
}

#[tokio::test]
async fn requests_outside_the_limits_are_validation_errors() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (creds, _, _) = sso_credentials(&emu, &[0]).await.remove(0);
    let client = sts(&emu, creds);
    let target = "arn:aws:iam::123456789012:role/Deploy";
    let ask = |arn: &str, session: &str, duration: Option<i32>| {
        client
            .assume_role()
            .role_arn(arn)
            .role_session_name(session)
            .set_duration_seconds(duration)
            .send()
    };
    let validation = |message: &str| ("ValidationError".to_owned(), message.to_owned(), 400);

    let e = ask(target, "s1", Some(7200)).await.expect_err("chained");
    assert_eq!(failure(&e), validation(CHAINING));
    let e = ask(target, "s1", Some(899)).await.expect_err("too short");
    assert_eq!(
        failure(&e),
        validation("1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")
    );
    let e = ask(target, "bad name", None).await.expect_err("session");
    assert_eq!(
        failure(&e),
        validation(
            r"1 validation error detected: Value 'bad name' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"
        )
    );
    let long = "s".repeat(65);
    let e = ask(target, &long, Some(43_201))
        .await
        .expect_err("two at once");
    assert_eq!(
        failure(&e),
        validation(&format!("2 validation errors detected: Value '{long}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64; Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"))
    );
    let e = ask("arn:aws:iam::123:role/Deploy", "s1", None)
        .await
        .expect_err("account of 3 digits");
    assert_eq!(
        failure(&e),
        validation("arn:aws:iam::123:role/Deploy is invalid")
    );
    let e = ask("not-an-arn", "s1", None).await.expect_err("short arn");
    assert_eq!(
        failure(&e),
        validation("1 validation error detected: Value 'not-an-arn' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20")
    );
    assert_eq!(emu.counters().assume_role, 6);
}

#[tokio::test]
async fn a_configured_lifetime_caps_the_credentials() {
    let emu = emulator(EmulatorConfig {
        assume_role_lifetime: Some(Duration::from_secs(30)),
        ..EmulatorConfig::default()
    })
    .await;
    let (creds, _, _) = sso_credentials(&emu, &[0]).await.remove(0);
    let out = sts(&emu, creds)
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/Deploy")
        .role_session_name("s1")
        .send()
        .await
        .expect("AssumeRole");
    let left = seconds_from_now(out.credentials().expect("credentials").expiration());
    assert!((25..=31).contains(&left), "capped at 30 s, got {left} s");
}

#[tokio::test]
async fn a_throttled_request_is_retried_as_throttling() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (creds, _, _) = sso_credentials(&emu, &[0]).await.remove(0);
    // One request a very long while: the bucket's first token, then refusals.
    emu.configure(|c| c.throttle_rps = Some(0.0001));
    let retry = aws_sdk_sts::config::retry::RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(20));
    let client = sts_with_retries(&emu, creds, retry);
    let assume = || {
        client
            .assume_role()
            .role_arn("arn:aws:iam::123456789012:role/Deploy")
            .role_session_name("s1")
            .send()
    };
    assume().await.expect("within the burst");
    let before = emu.counters();
    let e = assume().await.expect_err("throttled");
    assert_eq!(
        failure(&e),
        ("Throttling".to_owned(), "Rate exceeded".to_owned(), 400)
    );
    let after = emu.counters();
    assert_eq!(
        after.throttled - before.throttled,
        3,
        "the SDK retried it as a throttling error"
    );
    assert_eq!(after.assume_role - before.assume_role, 3);
}

#[tokio::test]
async fn the_query_protocol_outside_the_operations() {
    let emu = emulator(EmulatorConfig::default()).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let post = |body: &'static str| {
        http.post(format!("{}/", emu.endpoint()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let r = post("Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FDeploy&RoleSessionName=s1")
        .await
        .expect("post");
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()["content-type"], "text/xml");
    let id = r.headers()["x-amzn-requestid"]
        .to_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        r.text().await.expect("body"),
        format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    \
             <Type>Sender</Type>\n    <Code>MissingAuthenticationToken</Code>\n    \
             <Message>Request is missing Authentication Token</Message>\n  </Error>\n  \
             <RequestId>{id}</RequestId>\n</ErrorResponse>\n"
        )
    );
    let r = post("Action=AssumeRoles&Version=2011-06-15")
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    let body = r.text().await.expect("body");
    assert!(
        body.contains("<Code>InvalidAction</Code>")
            && body.contains(
                "<Message>Could not find operation AssumeRoles for version 2011-06-15</Message>"
            ),
        "{body}"
    );
    let r = post("Version=2011-06-15").await.expect("post");
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "https://aws.amazon.com/iam");
    assert_eq!(emu.counters().assume_role, 1);
}
