//! The console pieces: the federation endpoint (`getSigninToken` with `SessionDuration`,
//! `login` with its `Destination` check and the multi-session rule) and UXC's account
//! colour, with role credentials obtained the way a person's tools obtain them (the
//! device sign-in, then GetRoleCredentials, then maybe AssumeRole).

use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};
use aws_sso_device_auth_provider::clock::{Clock, SystemClock};
use aws_sso_emulator::{Emulator, EmulatorConfig};

mod common;
use common::{emulator, sso_credentials};

const BAD_DURATION: &str = "SessionDuration must be a whole number of seconds from 900 to 43200";
const CHAINED_DURATION: &str =
    "SessionDuration is not allowed with credentials from role chaining (AssumeRole)";
const BAD_DESTINATION: &str = "Destination is not an AWS console address";
const CONSOLE: &str = "https://console.aws.amazon.com/console/home";

/// Credentials from STS `AssumeRole` of `role_arn`, signed with `creds`.
async fn assume(emu: &Emulator, creds: Credentials, role_arn: &str) -> Credentials {
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(emu.endpoint())
            .credentials_provider(creds)
            .build(),
    );
    let out = sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name("console")
        .send()
        .await
        .expect("AssumeRole");
    let c = out.credentials().expect("credentials");
    Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "assumed",
    )
}

/// `getSigninToken` for `creds`, with `SessionDuration` when given: the status and body.
async fn signin_token(
    emu: &Emulator,
    creds: &Credentials,
    duration: Option<&str>,
) -> (u16, String) {
    let session = serde_json::json!({
        "sessionId": creds.access_key_id(),
        "sessionKey": creds.secret_access_key(),
        "sessionToken": creds.session_token(),
    })
    .to_string();
    let mut query = vec![("Action", "getSigninToken"), ("Session", session.as_str())];
    if let Some(d) = duration {
        query.push(("SessionDuration", d));
    }
    let r = reqwest::Client::new()
        .get(format!("{}/federation", emu.endpoint()))
        .query(&query)
        .send()
        .await
        .expect("federation");
    let status = r.status().as_u16();
    let body = r.text().await.expect("body");
    let secret = creds.secret_access_key();
    let token = creds.session_token().unwrap_or("no token");
    assert!(
        !body.contains(secret) && !body.contains(token),
        "a reply never holds the credentials"
    );
    (status, body)
}

/// A sign-in token for `creds` (`SessionDuration` when given).
async fn token(emu: &Emulator, creds: &Credentials, duration: Option<&str>) -> String {
    let (status, body) = signin_token(emu, creds, duration).await;
    assert_eq!(status, 200, "{body}");
    let reply: serde_json::Value = serde_json::from_str(&body).expect("json");
    reply["SigninToken"].as_str().expect("token").to_owned()
}

/// What `login` answered: status, `Set-Cookie`, body.
struct Login {
    status: u16,
    cookie: Option<String>,
    body: String,
}

/// `login` with `token` for `destination` (none when `None`), sending `cookie` as the
/// browser's `emulator-console` cookie.
async fn login(
    emu: &Emulator,
    token: &str,
    destination: Option<&str>,
    cookie: Option<&str>,
) -> Login {
    let mut query = vec![("Action", "login"), ("SigninToken", token)];
    if let Some(d) = destination {
        query.push(("Destination", d));
    }
    let mut request = reqwest::Client::new()
        .get(format!("{}/federation", emu.endpoint()))
        .query(&query);
    if let Some(c) = cookie {
        request = request.header("cookie", format!("theme=dark; emulator-console={c}"));
    }
    let r = request.send().await.expect("login");
    let status = r.status().as_u16();
    let cookie = r
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().expect("ascii").to_owned());
    Login {
        status,
        cookie,
        body: r.text().await.expect("body"),
    }
}

/// The text of the element `id` of a page.
fn element(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!("id=\"{id}\">"))? + id.len() + 6;
    let end = html[start..].find('<')? + start;
    Some(html[start..end].to_owned())
}

#[tokio::test]
async fn session_duration_within_its_range_and_not_for_chained_credentials() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (creds, account, role) = sso_credentials(&emu, &[0]).await.remove(0);

    for ok in ["900", "43200"] {
        let t = token(&emu, &creds, Some(ok)).await;
        let page = login(&emu, &t, Some(CONSOLE), None).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(element(&page.body, "session-seconds").as_deref(), Some(ok));
        assert_eq!(element(&page.body, "account"), Some(account.clone()));
        assert_eq!(element(&page.body, "role"), Some(role.clone()));
        assert_eq!(element(&page.body, "destination").as_deref(), Some(CONSOLE));
    }
    let t = token(&emu, &creds, None).await;
    let page = login(&emu, &t, Some(CONSOLE), None).await;
    assert_eq!(
        element(&page.body, "session-seconds").as_deref(),
        Some("default")
    );

    for bad in [
        "899",
        "43201",
        "abc",
        "",
        "-900",
        "900.5",
        "99999999999999999999",
    ] {
        assert_eq!(
            signin_token(&emu, &creds, Some(bad)).await,
            (400, BAD_DURATION.to_owned()),
            "{bad:?}"
        );
    }

    // Role chaining: credentials from AssumeRole may not ask for a session length.
    let chained = assume(&emu, creds, "arn:aws:iam::210987654321:role/Deploy").await;
    for d in ["900", "3600", "43200"] {
        assert_eq!(
            signin_token(&emu, &chained, Some(d)).await,
            (400, CHAINED_DURATION.to_owned()),
            "{d}"
        );
    }
    let t = token(&emu, &chained, None).await;
    let page = login(&emu, &t, Some(CONSOLE), None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        element(&page.body, "account").as_deref(),
        Some("210987654321")
    );
    assert_eq!(element(&page.body, "role").as_deref(), Some("Deploy"));
    assert_eq!(
        element(&page.body, "session-seconds").as_deref(),
        Some("default")
    );
}

#[tokio::test]
async fn login_goes_only_to_a_console_and_a_refusal_leaves_the_token() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (creds, _, _) = sso_credentials(&emu, &[0]).await.remove(0);

    for good in [
        "https://console.aws.amazon.com/",
        "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#Instances:",
        "https://123456789012-abcd.eu-west-1.console.aws.amazon.com/console/home",
        "https://console.amazonaws.cn/console/home",
        "https://cn-northwest-1.console.amazonaws.cn/s3/home",
        "https://console.amazonaws-us-gov.com/",
        "https://us-gov-west-1.console.amazonaws-us-gov.com/iam/home",
    ] {
        let t = token(&emu, &creds, None).await;
        let page = login(&emu, &t, Some(good), None).await;
        assert_eq!(page.status, 200, "{good}: {}", page.body);
        assert!(page.body.contains("id=\"console\""), "{good}");
        let spent = login(&emu, &t, Some(good), None).await;
        assert_eq!(spent.status, 400, "a token works once");
    }

    let t = token(&emu, &creds, None).await;
    let bad = [
        None,
        Some(""),
        Some("http://console.aws.amazon.com/"),
        Some("https://console.aws.amazon.com:443/"),
        Some("https://console.aws.amazon.com:8443/"),
        Some("https://user@console.aws.amazon.com/"),
        Some("https://user:secret@console.aws.amazon.com/"),
        Some("https://console.aws.amazon.com@evil.example/"),
        Some("https://evilconsole.aws.amazon.com/"),
        Some("https://console.aws.amazon.com.evil.example/"),
        Some("https://console.amazonaws.cn.evil.example/"),
        Some("https://evil-console.amazonaws-us-gov.com/"),
        Some("https://signin.aws.amazon.com/"),
        Some("javascript:alert(document.cookie)"),
        Some("javascript://console.aws.amazon.com/%0aalert(1)"),
        Some("https://console.aws.amazon.com/\r\nSet-Cookie: x=y"),
        Some("https://console.aws\t.amazon.com/"),
        Some("https://console.aws.amazon.com/\u{0}"),
        Some("//console.aws.amazon.com/"),
        Some("/console/home"),
    ];
    for destination in bad {
        let page = login(&emu, &t, destination, None).await;
        assert_eq!(
            (page.status, page.body.as_str()),
            (400, BAD_DESTINATION),
            "{destination:?}"
        );
        assert_eq!(page.cookie, None);
    }
    let page = login(&emu, &t, Some(CONSOLE), None).await;
    assert_eq!(page.status, 200, "the token was not spent: {}", page.body);
}

#[tokio::test]
async fn multi_session_signs_in_several_accounts_up_to_five() {
    let emu = emulator(EmulatorConfig::default()).await;
    let creds = sso_credentials(&emu, &[0, 1]).await;
    let (a, b) = (&creds[0], &creds[1]);

    let t = token(&emu, &a.0, None).await;
    let first = login(&emu, &t, Some(CONSOLE), None).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(
        first.cookie,
        Some(format!("emulator-console={}; Path=/; HttpOnly", a.1))
    );
    let t = token(&emu, &b.0, None).await;
    let second = login(&emu, &t, Some(CONSOLE), Some(&a.1)).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(element(&second.body, "account"), Some(b.1.clone()));
    assert_eq!(
        second.cookie,
        Some(format!(
            "emulator-console={},{}; Path=/; HttpOnly",
            a.1, b.1
        ))
    );
    // Signing in again to an account already signed in keeps the list as it is.
    let both = format!("{},{}", a.1, b.1);
    let t = token(&emu, &a.0, None).await;
    let again = login(&emu, &t, Some(CONSOLE), Some(&both)).await;
    assert_eq!(
        again.cookie,
        Some(format!("emulator-console={both}; Path=/; HttpOnly"))
    );

    // Five other accounts already: a sixth is turned away, its token kept.
    let five = [
        "111111111111",
        "222222222222",
        "333333333333",
        "444444444444",
        "555555555555",
    ]
    .join(",");
    let t = token(&emu, &a.0, None).await;
    let full = login(&emu, &t, Some(CONSOLE), Some(&five)).await;
    assert_eq!(full.status, 200);
    assert!(
        element(&full.body, "too-many-sessions").is_some(),
        "{}",
        full.body
    );
    assert_eq!(full.cookie, None);
    let page = login(&emu, &t, Some(CONSOLE), Some(&a.1)).await;
    assert_eq!(page.status, 200);
    assert_eq!(element(&page.body, "account"), Some(a.1.clone()), "unspent");
}

#[tokio::test]
async fn single_session_asks_to_log_out_of_the_other_account_first() {
    let emu = emulator(EmulatorConfig {
        console_multi_session: false,
        ..EmulatorConfig::default()
    })
    .await;
    let creds = sso_credentials(&emu, &[0, 1]).await;
    let (a, b) = (&creds[0], &creds[1]);

    let t = token(&emu, &a.0, None).await;
    let first = login(&emu, &t, Some(CONSOLE), None).await;
    assert_eq!(
        first.cookie,
        Some(format!("emulator-console={}; Path=/; HttpOnly", a.1))
    );
    let t = token(&emu, &a.0, None).await;
    let same = login(&emu, &t, Some(CONSOLE), Some(&a.1)).await;
    assert_eq!(same.status, 200);
    assert!(
        same.body.contains("id=\"console\""),
        "the same account again"
    );

    let t = token(&emu, &b.0, None).await;
    let other = login(&emu, &t, Some(CONSOLE), Some(&a.1)).await;
    assert_eq!(other.status, 200);
    assert_eq!(
        element(&other.body, "log-out-first").as_deref(),
        Some("You must first log out before logging into a different AWS account.")
    );
    assert_eq!(other.cookie, None);
    // Logged out (no cookie): the same token still signs in.
    let page = login(&emu, &t, Some(CONSOLE), None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(element(&page.body, "account"), Some(b.1.clone()));
    assert_eq!(
        page.cookie,
        Some(format!("emulator-console={}; Path=/; HttpOnly", b.1))
    );
}

/// `GET /v1/account-customizations` signed (SigV4, `uxc`) with `creds`, or unsigned.
async fn account_customizations(
    emu: &Emulator,
    creds: Option<&Credentials>,
) -> (u16, Option<String>, serde_json::Value) {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    let url = format!("{}/v1/account-customizations", emu.endpoint());
    let host = emu.addr().to_string();
    let mut request = reqwest::Client::new().get(&url);
    if let Some(creds) = creds {
        let identity = creds.clone().into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("uxc")
            .time(SystemClock.now())
            .settings(SigningSettings::default())
            .build()
            .expect("params")
            .into();
        let signable = SignableRequest::new(
            "GET",
            &url,
            [("host", host.as_str())].into_iter(),
            SignableBody::Bytes(&[]),
        )
        .expect("signable");
        let (instructions, _) = sign(signable, &params).expect("signs").into_parts();
        let (headers, _) = instructions.into_parts();
        for h in headers {
            request = request.header(h.name(), h.value());
        }
    }
    let r = request.send().await.expect("uxc");
    let status = r.status().as_u16();
    let error_type = r
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().expect("ascii").to_owned());
    (status, error_type, r.json().await.expect("json"))
}

#[tokio::test]
async fn uxc_tells_the_account_colour() {
    let emu = emulator(EmulatorConfig {
        denied_roles: vec!["NoConsoleRole".to_owned()],
        ..EmulatorConfig::default()
    })
    .await;
    let creds = sso_credentials(&emu, &[0, 1]).await;
    let (a, b) = (&creds[0], &creds[1]);
    emu.configure(|c| {
        c.account_colours.insert(a.1.clone(), "darkBlue".to_owned());
        c.account_colours
            .insert("210987654321".to_owned(), "orange".to_owned());
    });

    let colour = serde_json::json!({
        "accountColor": "darkBlue", "visibleServices": null, "visibleRegions": null,
    });
    assert_eq!(
        account_customizations(&emu, Some(&a.0)).await,
        (200, None, colour)
    );
    let none = serde_json::json!({
        "accountColor": "none", "visibleServices": null, "visibleRegions": null,
    });
    assert_eq!(
        account_customizations(&emu, Some(&b.0)).await,
        (200, None, none)
    );

    // An assumed role sees the colour of the account it was assumed in.
    let assumed = assume(&emu, a.0.clone(), "arn:aws:iam::210987654321:role/Viewer").await;
    let (status, _, body) = account_customizations(&emu, Some(&assumed)).await;
    assert_eq!(
        (status, body["accountColor"].as_str()),
        (200, Some("orange"))
    );

    let denied = assume(
        &emu,
        a.0.clone(),
        "arn:aws:iam::210987654321:role/NoConsoleRole",
    )
    .await;
    assert_eq!(
        account_customizations(&emu, Some(&denied)).await,
        (
            403,
            Some("AccessDeniedException".to_owned()),
            serde_json::json!({
                "message": "User is not authorized to perform: uxc:GetAccountCustomizations"
            })
        )
    );

    let (status, error, _) = account_customizations(&emu, None).await;
    assert_eq!(
        (status, error.as_deref()),
        (403, Some("MissingAuthenticationTokenException"))
    );
    let forged = Credentials::new(
        a.0.access_key_id(),
        "x".repeat(40),
        a.0.session_token().map(str::to_owned),
        None,
        "forged",
    );
    let (status, error, _) = account_customizations(&emu, Some(&forged)).await;
    assert_eq!(
        (status, error.as_deref()),
        (403, Some("InvalidSignatureException"))
    );
    assert_eq!(emu.counters().uxc_calls, 6);
}
