//! The emulator's EKS (`ListClusters`, `DescribeCluster`) and ECR
//! (`GetAuthorizationToken`) through the unmodified official SDK clients, and its STS
//! `GetCallerIdentity` through a URL presigned as an EKS token is (with `aws-sigv4`),
//! all signed with role credentials the emulator issued.

use crate::util::emulator_with_clock;
use aws_sdk_eks::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_eks::error::ProvideErrorMetadata;
use aws_sso_device_auth_provider::clock::Clock;
use aws_sso_emulator::{EksCluster, Emulator, EmulatorConfig};
use base64::Engine as _;
use std::time::{Duration, SystemTime};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const STS_HOST: &str = "sts.us-east-1.amazonaws.com";

/// Role credentials as a person's tools get them (the device sign-in, approved at once,
/// then GetRoleCredentials) for `role` in `account`.
async fn role_credentials(emu: &Emulator, account: &str, role: &str) -> Credentials {
    let oidc = aws_sdk_ssooidc::Client::from_conf(
        aws_sdk_ssooidc::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(emu.endpoint())
            .build(),
    );
    let reg = oidc
        .register_client()
        .client_name("eks-ecr-test")
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
    let out = portal
        .get_role_credentials()
        .account_id(account)
        .role_name(role)
        .access_token(token.access_token().expect("access token"))
        .send()
        .await
        .expect("GetRoleCredentials");
    let c = out.role_credentials().expect("credentials");
    Credentials::new(
        c.access_key_id().expect("key"),
        c.secret_access_key().expect("secret"),
        c.session_token().map(str::to_owned),
        None,
        "emulator",
    )
}

fn eks(emu: &Emulator, credentials: &Credentials, region: &str) -> aws_sdk_eks::Client {
    aws_sdk_eks::Client::from_conf(
        aws_sdk_eks::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(emu.endpoint())
            .credentials_provider(credentials.clone())
            .retry_config(aws_sdk_eks::config::retry::RetryConfig::disabled())
            .build(),
    )
}

fn ecr(emu: &Emulator, credentials: &Credentials, region: &str) -> aws_sdk_ecr::Client {
    aws_sdk_ecr::Client::from_conf(
        aws_sdk_ecr::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_sdk_ecr::config::Region::new(region.to_owned()))
            .endpoint_url(emu.endpoint())
            .credentials_provider(credentials.clone())
            .retry_config(aws_sdk_ecr::config::retry::RetryConfig::disabled())
            .build(),
    )
}

/// An emulator (clock in the test's hands) approving sign-ins at once, with clusters in
/// the first two accounts: (emulator, clock, first account, its first role, second
/// account).
async fn with_clusters(
    config: EmulatorConfig,
) -> (
    Emulator,
    aws_sso_device_auth_provider::clock::ManualClock,
    String,
    String,
    String,
) {
    let (emu, clock) = emulator_with_clock(EmulatorConfig {
        auto_approve: true,
        ..config
    })
    .await;
    let org = emu.organisation();
    let (a, role, b) = (
        org[0].account_id.clone(),
        org[0].roles[0].clone(),
        org[1].account_id.clone(),
    );
    emu.configure(|c| {
        for name in ["prod", "staging", "dev"] {
            c.clusters.push(EksCluster::new(&a, "us-east-1", name));
        }
        c.clusters.push(EksCluster::new(&a, "eu-west-1", "eu-only"));
        c.clusters
            .push(EksCluster::new(&b, "us-east-1", "other-account"));
    });
    (emu, clock, a, role, b)
}

#[tokio::test]
async fn eks_lists_and_describes_the_callers_clusters() {
    let (emu, _clock, account, role, _) = with_clusters(EmulatorConfig::default()).await;
    let creds = role_credentials(&emu, &account, &role).await;
    let before = emu.counters().eks_calls;
    let c = eks(&emu, &creds, "us-east-1");

    let all = c.list_clusters().send().await.expect("ListClusters");
    assert_eq!(all.clusters(), ["prod", "staging", "dev"]);
    assert_eq!(all.next_token(), None);

    // Pages of two.
    let first = c
        .list_clusters()
        .max_results(2)
        .send()
        .await
        .expect("first page");
    assert_eq!(first.clusters(), ["prod", "staging"]);
    let second = c
        .list_clusters()
        .max_results(2)
        .set_next_token(first.next_token().map(str::to_owned))
        .send()
        .await
        .expect("second page");
    assert_eq!(second.clusters(), ["dev"]);
    assert_eq!(second.next_token(), None);
    let bad = c
        .list_clusters()
        .max_results(101)
        .send()
        .await
        .expect_err("past the limit")
        .into_service_error();
    assert!(bad.is_invalid_parameter_exception(), "{bad:?}");

    let described = c
        .describe_cluster()
        .name("prod")
        .send()
        .await
        .expect("DescribeCluster");
    let cluster = described.cluster().expect("cluster");
    let expected = EksCluster::new(&account, "us-east-1", "prod");
    assert_eq!(cluster.name(), Some("prod"));
    assert_eq!(
        cluster.arn(),
        Some(format!("arn:aws:eks:us-east-1:{account}:cluster/prod").as_str())
    );
    assert_eq!(cluster.endpoint(), Some(expected.endpoint.as_str()));
    assert_eq!(
        cluster.certificate_authority().and_then(|a| a.data()),
        Some(expected.certificate_authority_data.as_str())
    );
    assert_eq!(
        cluster.status(),
        Some(&aws_sdk_eks::types::ClusterStatus::Active)
    );
    assert_eq!(cluster.version(), Some("1.31"));
    assert!(cluster.created_at().is_some());

    // Another region: its own clusters only.
    let eu = eks(&emu, &creds, "eu-west-1")
        .list_clusters()
        .send()
        .await
        .expect("ListClusters in eu-west-1");
    assert_eq!(eu.clusters(), ["eu-only"]);
    assert_eq!(emu.counters().eks_calls - before, 6);
}

#[tokio::test]
async fn eks_refuses_unknown_clusters_denied_roles_and_bad_credentials() {
    let (emu, clock, account, role, _) = with_clusters(EmulatorConfig::default()).await;
    let creds = role_credentials(&emu, &account, &role).await;
    let c = eks(&emu, &creds, "us-east-1");

    // Unknown here: no such cluster, another account's, another region's.
    for name in ["nope", "other-account", "eu-only"] {
        let e = c
            .describe_cluster()
            .name(name)
            .send()
            .await
            .expect_err("unknown cluster");
        assert_eq!(
            e.raw_response().map(|r| r.status().as_u16()),
            Some(404),
            "{name}"
        );
        let e = e.into_service_error();
        assert!(e.is_resource_not_found_exception(), "{name}: {e:?}");
        assert_eq!(
            e.message(),
            Some(format!("No cluster found for name: {name}.").as_str())
        );
    }

    // A role whose policy allows no EKS.
    emu.configure(|c| c.denied_roles.push(role.clone()));
    let e = c.list_clusters().send().await.expect_err("denied");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(403));
    let e = e.into_service_error();
    assert_eq!(e.code(), Some("AccessDeniedException"), "{e:?}");
    assert!(
        e.message()
            .is_some_and(|m| m.contains("is not authorized to perform: eks:ListClusters")),
        "{e:?}"
    );
    let e = c
        .describe_cluster()
        .name("prod")
        .send()
        .await
        .expect_err("denied")
        .into_service_error();
    assert_eq!(e.code(), Some("AccessDeniedException"), "{e:?}");
    emu.configure(|c| c.denied_roles.clear());
    c.list_clusters().send().await.expect("allowed again");

    // Credentials the emulator never issued.
    let forged = Credentials::new(
        "ASIAFORGEDFORGED0000",
        "secret",
        Some("token".into()),
        None,
        "test",
    );
    let e = eks(&emu, &forged, "us-east-1")
        .list_clusters()
        .send()
        .await
        .expect_err("forged");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(403));
    assert_eq!(
        e.into_service_error().code(),
        Some("UnrecognizedClientException")
    );

    // The right key id with the wrong secret.
    let wrong = Credentials::new(
        creds.access_key_id(),
        "not-the-secret",
        creds.session_token().map(str::to_owned),
        None,
        "test",
    );
    let e = eks(&emu, &wrong, "us-east-1")
        .list_clusters()
        .send()
        .await
        .expect_err("wrong secret")
        .into_service_error();
    assert_eq!(e.code(), Some("InvalidSignatureException"), "{e:?}");

    // Past their hour.
    clock.advance(Duration::from_secs(3601));
    let e = c.list_clusters().send().await.expect_err("expired");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(403));
    assert_eq!(e.into_service_error().code(), Some("ExpiredTokenException"));
}

#[tokio::test]
async fn ecr_token_is_remembered_until_it_expires() {
    let (emu, clock, account, role, _) = with_clusters(EmulatorConfig::default()).await;
    let creds = role_credentials(&emu, &account, &role).await;
    let before = emu.counters().ecr_calls;
    let out = ecr(&emu, &creds, "eu-west-1")
        .get_authorization_token()
        .send()
        .await
        .expect("GetAuthorizationToken");
    assert_eq!(emu.counters().ecr_calls - before, 1);
    let [data] = out.authorization_data() else {
        panic!("one authorization: {out:?}");
    };
    assert_eq!(
        data.proxy_endpoint(),
        Some(format!("https://{account}.dkr.ecr.eu-west-1.amazonaws.com").as_str())
    );
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(data.authorization_token().expect("token"))
        .expect("base64");
    let decoded = String::from_utf8(decoded).expect("utf-8");
    let password = decoded.strip_prefix("AWS:").expect("user AWS");
    let now = clock
        .now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let expires = data.expires_at().expect("expiry").secs();
    assert!(
        (expires - (now + 12 * 3600)).abs() < 60,
        "12 hours: {expires} vs {now}"
    );
    assert_eq!(
        emu.ecr_password_owner(password),
        Some((account.clone(), "eu-west-1".to_owned()))
    );
    assert_eq!(emu.ecr_password_owner("not-a-password"), None);

    // The control endpoint, for a registry stand-in in another process.
    let http = reqwest::Client::new();
    let check = |password: String| {
        let http = http.clone();
        let url = format!("{}/_emulator/ecr/check", emu.endpoint());
        async move {
            let resp = http
                .post(url)
                .json(&serde_json::json!({ "password": password }))
                .send()
                .await
                .expect("check");
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap_or_default())
        }
    };
    let (status, body) = check(password.to_owned()).await;
    assert_eq!(status, 200, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body["accountId"], account.as_str());
    assert_eq!(body["region"], "eu-west-1");
    assert_eq!(check("wrong".to_owned()).await.0, 401);

    // Twelve hours later the registry no longer takes it.
    clock.advance(Duration::from_secs(12 * 3600 + 1));
    assert_eq!(emu.ecr_password_owner(password), None);
    assert_eq!(check(password.to_owned()).await.0, 401);
}

#[tokio::test]
async fn ecr_refuses_denied_roles_and_bad_credentials() {
    let (emu, _clock, account, role, _) = with_clusters(EmulatorConfig::default()).await;
    let creds = role_credentials(&emu, &account, &role).await;
    emu.configure(|c| c.denied_roles.push(role.clone()));
    let e = ecr(&emu, &creds, "us-east-1")
        .get_authorization_token()
        .send()
        .await
        .expect_err("denied");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(403));
    let e = e.into_service_error();
    assert_eq!(
        aws_sdk_ecr::error::ProvideErrorMetadata::code(&e),
        Some("AccessDeniedException"),
        "{e:?}"
    );
    let forged = Credentials::new(
        "ASIAFORGEDFORGED0000",
        "secret",
        Some("token".into()),
        None,
        "test",
    );
    let e = ecr(&emu, &forged, "us-east-1")
        .get_authorization_token()
        .send()
        .await
        .expect_err("forged")
        .into_service_error();
    assert_eq!(
        aws_sdk_ecr::error::ProvideErrorMetadata::code(&e),
        Some("UnrecognizedClientException")
    );
}

// ---- presigned GetCallerIdentity, as an EKS token carries it ----

/// `https://<host>/?Action=GetCallerIdentity&…` presigned at `time` for 60 s, signing
/// `host` and, when `cluster` is given, `x-k8s-aws-id`: the path and query to send.
fn presign(credentials: &Credentials, time: SystemTime, cluster: Option<&str>) -> String {
    use aws_sigv4::http_request::{
        sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    };
    let url = format!("https://{STS_HOST}/?Action=GetCallerIdentity&Version=2011-06-15");
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(60));
    let identity = credentials.clone().into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("sts")
        .time(time)
        .settings(settings)
        .build()
        .expect("signing params")
        .into();
    let headers: Vec<(&str, &str)> = cluster.map(|c| ("x-k8s-aws-id", c)).into_iter().collect();
    let request = SignableRequest::new("GET", &url, headers.into_iter(), SignableBody::Bytes(&[]))
        .expect("signable");
    let (instructions, _) = sign(request, &params).expect("signed").into_parts();
    let mut url = url::Url::parse(&url).expect("url");
    for (k, v) in instructions.params() {
        url.query_pairs_mut().append_pair(k, v);
    }
    format!("/?{}", url.query().unwrap_or_default())
}

/// GETs `path_and_query` from the emulator as a forwarding API server would: `Host` the
/// signed host, `x-k8s-aws-id` the cluster (when given). (status, body)
async fn forward(
    emu: &Emulator,
    path_and_query: &str,
    host: &str,
    cluster: Option<&str>,
) -> (u16, String) {
    let mut req = reqwest::Client::new()
        .get(format!("{}{path_and_query}", emu.endpoint()))
        .header("host", host);
    if let Some(c) = cluster {
        req = req.header("x-k8s-aws-id", c);
    }
    let resp = req.send().await.expect("GET");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

/// The `<Code>` of an STS error reply.
fn code(body: &str) -> &str {
    body.split("<Code>")
        .nth(1)
        .and_then(|s| s.split("</Code>").next())
        .unwrap_or_default()
}

#[tokio::test]
async fn presigned_caller_identity_as_an_eks_token() {
    let (emu, clock, account, role, _) = with_clusters(EmulatorConfig::default()).await;
    let creds = role_credentials(&emu, &account, &role).await;
    // Who STS says the caller is, through the ordinary signed POST.
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .endpoint_url(emu.endpoint())
            .credentials_provider(creds.clone())
            .build(),
    );
    let arn = sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity")
        .arn()
        .expect("arn")
        .to_owned();
    assert!(
        arn.starts_with(&format!("arn:aws:sts::{account}:assumed-role/")),
        "{arn}"
    );

    let before = emu.counters().presigned_identity_calls;
    let now = clock.now();
    let url = presign(&creds, now, Some("prod"));
    let (status, body) = forward(&emu, &url, STS_HOST, Some("prod")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&format!("<Arn>{arn}</Arn>")), "{body}");
    assert!(
        body.contains(&format!("<Account>{account}</Account>")),
        "{body}"
    );
    assert!(body.contains("<GetCallerIdentityResponse"), "{body}");
    assert_eq!(emu.counters().presigned_identity_calls - before, 1);

    // A signature changed by one character.
    let at = url.find("X-Amz-Signature=").expect("signature") + "X-Amz-Signature=".len();
    let flipped = if url[at..].starts_with('0') { "1" } else { "0" };
    let tampered = format!("{}{flipped}{}", &url[..at], &url[at + 1..]);
    let (status, body) = forward(&emu, &tampered, STS_HOST, Some("prod")).await;
    assert_eq!(
        (status, code(&body)),
        (403, "SignatureDoesNotMatch"),
        "{body}"
    );

    // Presented to another host than it was signed for.
    let (status, body) = forward(&emu, &url, "sts.eu-west-1.amazonaws.com", Some("prod")).await;
    assert_eq!(
        (status, code(&body)),
        (403, "SignatureDoesNotMatch"),
        "{body}"
    );

    // Another cluster's id than the signed one, and none at all.
    let (status, body) = forward(&emu, &url, STS_HOST, Some("staging")).await;
    assert_eq!(
        (status, code(&body)),
        (403, "SignatureDoesNotMatch"),
        "{body}"
    );
    let (status, body) = forward(&emu, &url, STS_HOST, None).await;
    assert_eq!(
        (status, code(&body)),
        (403, "SignatureDoesNotMatch"),
        "{body}"
    );

    // Signed without x-k8s-aws-id: STS would take it, the EKS authenticator does not.
    let unbound = presign(&creds, now, None);
    let (status, body) = forward(&emu, &unbound, STS_HOST, None).await;
    assert_eq!((status, code(&body)), (403, "AccessDenied"), "{body}");
    assert!(body.contains("x-k8s-aws-id"), "{body}");

    // Signed with other credentials' secret.
    let wrong = Credentials::new(
        creds.access_key_id(),
        "not-the-secret",
        creds.session_token().map(str::to_owned),
        None,
        "test",
    );
    let (status, body) = forward(
        &emu,
        &presign(&wrong, now, Some("prod")),
        STS_HOST,
        Some("prod"),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (403, "SignatureDoesNotMatch"),
        "{body}"
    );

    // Fourteen minutes on it still works (X-Amz-Expires=60 is ignored, as STS does);
    // sixteen minutes on it no longer does.
    clock.advance(Duration::from_secs(14 * 60));
    let (status, body) = forward(&emu, &url, STS_HOST, Some("prod")).await;
    assert_eq!(status, 200, "{body}");
    clock.advance(Duration::from_secs(2 * 60));
    let (status, body) = forward(&emu, &url, STS_HOST, Some("prod")).await;
    assert_eq!(
        (status, code(&body)),
        (403, "SignatureDoesNotMatch"),
        "{body}"
    );
    assert!(body.contains("Signature expired"), "{body}");

    // A fresh one works until the sign-in session is revoked.
    let fresh = presign(&creds, now + Duration::from_secs(16 * 60), Some("prod"));
    let (status, body) = forward(&emu, &fresh, STS_HOST, Some("prod")).await;
    assert_eq!(status, 200, "{body}");
    emu.revoke_sessions();
    let (status, body) = forward(&emu, &fresh, STS_HOST, Some("prod")).await;
    assert_eq!(
        (status, code(&body)),
        (403, "InvalidClientTokenId"),
        "{body}"
    );
}

#[tokio::test]
async fn presigned_caller_identity_with_expired_credentials() {
    let (emu, clock, account, role, _) = with_clusters(EmulatorConfig {
        role_credentials_lifetime: Duration::from_secs(600),
        ..EmulatorConfig::default()
    })
    .await;
    let creds = role_credentials(&emu, &account, &role).await;
    let url = presign(&creds, clock.now(), Some("prod"));
    assert_eq!(forward(&emu, &url, STS_HOST, Some("prod")).await.0, 200);
    // Within the URL's 15 minutes, past the credentials' 10.
    clock.advance(Duration::from_secs(11 * 60));
    let (status, body) = forward(&emu, &url, STS_HOST, Some("prod")).await;
    assert_eq!(code(&body), "ExpiredToken", "{body}");
    assert_ne!(status, 200);
}
