//! The account's colour as the AWS console shows it: AWS User Experience Customization
//! (UXC) `GetAccountCustomizations`, signed here with the role's credentials.

use super::{Colour, Partition};
use crate::error::{Error, Result};
use crate::portal::RoleCredentials;
use std::time::SystemTime;

const OPERATION: &str = "GetAccountCustomizations";
const PATH: &str = "/v1/account-customizations";
/// The name requests to UXC are signed for.
const SIGNING_NAME: &str = "uxc";
/// More than any reply of this operation; a bigger one is not UXC's.
const MAX_REPLY: usize = 256 * 1024;
/// How much of a service message an error repeats.
const MAX_MESSAGE: usize = 200;

/// The one region UXC answers in for `region`'s partition; requests are signed for it.
fn partition_region(region: &str) -> &'static str {
    Partition::of(region).uxc_region()
}

/// UXC's public endpoint for `region`'s partition.
fn default_endpoint(region: &str) -> &'static str {
    Partition::of(region).uxc_endpoint()
}

/// The colour the AWS console gives `account_id`, read with the credentials of its role
/// `role_name` at `now`: `None` when the account has none. `region` picks the partition
/// (UXC answers in one region of each); `endpoint` overrides where it is asked (an
/// emulator: plain `http` only to this machine, and then never through a proxy).
pub async fn account_colour(
    credentials: &RoleCredentials,
    account_id: &str,
    role_name: &str,
    region: &str,
    endpoint: Option<&str>,
    now: SystemTime,
) -> Result<Option<Colour>> {
    let endpoint = match endpoint {
        // Checked again here: the request carries the session token, never in clear
        // beyond this machine.
        Some(e) => crate::sdk::validate_endpoint(e.trim(), "the account colour endpoint")?,
        None => default_endpoint(region).to_owned(),
    };
    let url = format!("{}{PATH}", endpoint.trim_end_matches('/'));
    let headers = sign(credentials, &url, partition_region(region), now)?;

    let network = |e: reqwest::Error| Error::Network {
        operation: OPERATION,
        endpoint: endpoint.clone(),
        source: Box::new(e.without_url()),
    };
    let mut request = super::client_for(&endpoint).map_err(network)?.get(&url);
    for (name, value, sensitive) in headers {
        let mut value =
            reqwest::header::HeaderValue::from_str(&value).map_err(|_| Error::UnexpectedReply {
                operation: OPERATION,
                detail: "the role credentials hold characters no HTTP header can carry".into(),
            })?;
        // Kept out of any Debug output of the request.
        value.set_sensitive(sensitive);
        request = request.header(name, value);
    }
    let mut response = request.send().await.map_err(network)?;
    let status = response.status().as_u16();
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(network)? {
        if body.len() + chunk.len() > MAX_REPLY {
            return Err(Error::UnexpectedReply {
                operation: OPERATION,
                detail: format!("a reply of more than {MAX_REPLY} bytes (HTTP {status})"),
            });
        }
        body.extend_from_slice(&chunk);
    }
    let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();

    if !(200..300).contains(&status) {
        let code = error_type
            .as_deref()
            .and_then(error_code)
            .or_else(|| {
                // restJson1 also names the error in the body when no header does.
                let body = json.as_ref()?;
                ["__type", "code"]
                    .into_iter()
                    .find_map(|k| body.get(k)?.as_str())
                    .and_then(error_code)
            })
            .unwrap_or_else(|| format!("HTTP {status}"));
        if status == 403 && code == "AccessDeniedException" {
            return Err(Error::AccountColourDenied {
                account_id: account_id.to_owned(),
                role_name: role_name.to_owned(),
            });
        }
        let message = json.as_ref().and_then(|body| {
            ["message", "Message"]
                .into_iter()
                .find_map(|k| body.get(k)?.as_str())
                .map(|m| {
                    m.chars()
                        .filter(|c| !c.is_control())
                        .take(MAX_MESSAGE)
                        .collect()
                })
        });
        return Err(Error::Service {
            operation: OPERATION,
            code,
            message,
        });
    }

    let unexpected = |detail: String| Error::UnexpectedReply {
        operation: OPERATION,
        detail,
    };
    let json =
        json.ok_or_else(|| unexpected(format!("a reply that is not JSON (HTTP {status})")))?;
    let name = match json.get("accountColor") {
        Some(serde_json::Value::String(name)) => name,
        Some(_) => return Err(unexpected("an accountColor that is not a string".into())),
        None => return Err(unexpected("no accountColor in the reply".into())),
    };
    Colour::parse(name).map_err(|_| {
        unexpected(format!(
            "an account colour the console does not know: {:?}",
            name.chars().take(40).collect::<String>()
        ))
    })
}

/// An error type as restJson1 names it (`Code`, `Code:uri`, `namespace#Code`): the code
/// alone, if it looks like one.
fn error_code(raw: &str) -> Option<String> {
    let code = raw.split(':').next()?.rsplit('#').next()?.trim();
    let plausible = !code.is_empty()
        && code.len() <= 100
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
    plausible.then(|| code.to_owned())
}

/// The headers that sign a `GET` of `url` for UXC in `signing_region` at `now`: host,
/// `x-amz-date`, `x-amz-security-token` and `authorization`, each with whether it is
/// a secret.
fn sign(
    credentials: &RoleCredentials,
    url: &str,
    signing_region: &str,
    now: SystemTime,
) -> Result<Vec<(&'static str, String, bool)>> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    let invalid = || Error::InvalidEndpoint {
        url: url.chars().take(200).collect(),
        origin: "the account colour endpoint".to_owned(),
        reason: "it is not an http(s) URL",
    };
    let parsed = url::Url::parse(url).map_err(|_| invalid())?;
    let host = match (parsed.host_str(), parsed.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => return Err(invalid()),
    };
    let failed = |e: &dyn std::fmt::Display| Error::UnexpectedReply {
        operation: OPERATION,
        detail: format!("the role credentials could not sign the request ({e})"),
    };
    let session_token = credentials.session_token.expose();
    let identity = aws_credential_types::Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.expose().to_owned(),
        (!session_token.is_empty()).then(|| session_token.to_owned()),
        Some(credentials.expiration),
        "aws-sso-tray",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(signing_region)
        .name(SIGNING_NAME)
        .time(now)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| failed(&e))?
        .into();
    let request = SignableRequest::new(
        "GET",
        url,
        [("host", host.as_str())].into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| failed(&e))?;
    // The signer traces its canonical request, whose headers hold the session token
    // (redacted by recent versions of the signer, not by every one): nothing it logs
    // leaves this call.
    let signed =
        tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::new(), || {
            sign(request, &params)
        });
    let (instructions, _signature) = signed.map_err(|e| failed(&e))?.into_parts();
    let (signed_headers, _) = instructions.into_parts();
    let mut headers = vec![("host", host, false)];
    headers.extend(
        signed_headers
            .into_iter()
            .map(|h| (h.name(), h.value().to_owned(), h.sensitive())),
    );
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_epoch_seconds;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// 2026-12-07T20:00:00Z.
    const SIGNED_AT: i64 = 1_796_673_600;
    const SECRET_KEY: &str = "uxc-secret/key+x";
    const SESSION_TOKEN: &str = "uxc-session/token+y=";

    fn creds() -> RoleCredentials {
        RoleCredentials {
            access_key_id: "ASIAUXCEXAMPLE".into(),
            secret_access_key: SECRET_KEY.into(),
            session_token: SESSION_TOKEN.into(),
            expiration: from_epoch_seconds(SIGNED_AT + 3600),
        }
    }

    /// A server on this machine that answers one request with `status`, `headers` and
    /// `body`, and hands back the request it read.
    async fn serve_once(
        status: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut reply = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
            body.len()
        );
        for (name, value) in headers {
            reply.push_str(&format!("{name}: {value}\r\n"));
        }
        reply.push_str("\r\n");
        reply.push_str(body);
        let task = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut buf).await.unwrap();
                assert!(n > 0, "the request ended early");
                request.extend_from_slice(&buf[..n]);
            }
            stream.write_all(reply.as_bytes()).await.unwrap();
            stream.shutdown().await.unwrap();
            String::from_utf8(request).unwrap()
        });
        (url, task)
    }

    /// The request's header `name` (lower-cased names), if sent.
    fn header<'a>(request: &'a str, name: &str) -> Option<&'a str> {
        request.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn assert_signed(request: &str, region: &str) {
        assert!(
            request.starts_with("GET /v1/account-customizations HTTP/1.1\r\n"),
            "{request}"
        );
        let auth = header(request, "authorization").expect("an authorization header");
        assert!(auth.starts_with("AWS4-HMAC-SHA256 "), "{auth}");
        assert!(
            auth.contains(&format!(
                "Credential=ASIAUXCEXAMPLE/20261207/{region}/uxc/aws4_request"
            )),
            "{auth}"
        );
        assert!(
            auth.contains("SignedHeaders=host;x-amz-date;x-amz-security-token"),
            "{auth}"
        );
        assert_eq!(header(request, "x-amz-security-token"), Some(SESSION_TOKEN));
        assert_eq!(header(request, "x-amz-date"), Some("20261207T200000Z"));
        assert!(!request.contains(SECRET_KEY), "{request}");
    }

    async fn ask(url: &str, region: &str) -> Result<Option<Colour>> {
        account_colour(
            &creds(),
            "123456789012",
            "ReadOnly",
            region,
            Some(url),
            from_epoch_seconds(SIGNED_AT),
        )
        .await
    }

    fn assert_no_secret(e: &Error) {
        for shown in [
            e.to_string(),
            format!("{e:?}"),
            e.advice().unwrap_or_default(),
        ] {
            for secret in [SECRET_KEY, SESSION_TOKEN] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
        }
    }

    #[tokio::test]
    async fn reads_the_colour() {
        let (url, server) = serve_once(
            "200 OK",
            &[],
            r#"{"accountColor":"darkBlue","visibleServices":["s3"],"visibleRegions":["eu-west-1"]}"#,
        )
        .await;
        let colour = ask(&url, "eu-west-1").await.unwrap();
        assert_eq!(colour, Some(Colour::DarkBlue));
        assert_signed(&server.await.unwrap(), "us-east-1");
    }

    #[tokio::test]
    async fn none_is_no_colour() {
        let (url, server) = serve_once("200 OK", &[], r#"{"accountColor":"none"}"#).await;
        assert_eq!(ask(&url, "us-gov-east-1").await.unwrap(), None);
        // An override is signed for the region of the partition, as AWS's own endpoint.
        assert_signed(&server.await.unwrap(), "us-gov-west-1");
    }

    #[tokio::test]
    async fn access_denied_names_the_account_and_role() {
        let (url, server) = serve_once(
            "403 Forbidden",
            &[(
                "x-amzn-ErrorType",
                "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/",
            )],
            r#"{"message":"User is not authorized to perform uxc:GetAccountCustomizations"}"#,
        )
        .await;
        let e = ask(&url, "cn-north-1").await.unwrap_err();
        match &e {
            Error::AccountColourDenied {
                account_id,
                role_name,
            } => {
                assert_eq!(account_id, "123456789012");
                assert_eq!(role_name, "ReadOnly");
            }
            other => panic!("{other:?}"),
        }
        assert_no_secret(&e);
        assert_signed(&server.await.unwrap(), "cn-north-1");
    }

    #[tokio::test]
    async fn other_errors_carry_the_code_and_message() {
        let long = "x".repeat(500);
        let (url, server) = serve_once(
            "429 Too Many Requests",
            &[("x-amzn-ErrorType", "ThrottlingException")],
            &format!(r#"{{"message":"Rate exceeded {long}"}}"#),
        )
        .await;
        let e = ask(&url, "eu-west-1").await.unwrap_err();
        match &e {
            Error::Service {
                operation,
                code,
                message,
            } => {
                assert_eq!(*operation, "GetAccountCustomizations");
                assert_eq!(code, "ThrottlingException");
                let message = message.as_deref().unwrap();
                assert!(message.starts_with("Rate exceeded x"), "{message}");
                assert_eq!(message.chars().count(), MAX_MESSAGE);
            }
            other => panic!("{other:?}"),
        }
        assert_no_secret(&e);
        server.await.unwrap();

        // No error type at all: the status stands for it.
        let (url, server) = serve_once("502 Bad Gateway", &[], "<html>bad gateway</html>").await;
        let e = ask(&url, "eu-west-1").await.unwrap_err();
        match &e {
            Error::Service { code, message, .. } => {
                assert_eq!(code, "HTTP 502");
                assert_eq!(message, &None);
            }
            other => panic!("{other:?}"),
        }
        server.await.unwrap();

        // A 403 that is not AccessDeniedException is not a denial of the colour.
        let (url, server) = serve_once(
            "403 Forbidden",
            &[],
            r#"{"__type":"com.amazon.coral#ExpiredTokenException","message":"expired"}"#,
        )
        .await;
        match ask(&url, "eu-west-1").await.unwrap_err() {
            Error::Service { code, .. } => assert_eq!(code, "ExpiredTokenException"),
            other => panic!("{other:?}"),
        }
        server.await.unwrap();
    }

    #[tokio::test]
    async fn garbage_is_an_unexpected_reply() {
        for body in [
            "not json",
            r#"{"visibleServices":[]}"#,
            r#"{"accountColor":7}"#,
            r#"{"accountColor":"chartreuse"}"#,
        ] {
            let (url, server) = serve_once("200 OK", &[], body).await;
            let e = ask(&url, "eu-west-1").await.unwrap_err();
            assert!(
                matches!(
                    &e,
                    Error::UnexpectedReply {
                        operation: "GetAccountCustomizations",
                        ..
                    }
                ),
                "{body}: {e:?}"
            );
            assert_no_secret(&e);
            server.await.unwrap();
        }
    }

    #[tokio::test]
    async fn no_answer_is_a_network_error_without_secrets() {
        // A port that was just free: nothing listens there.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let e = ask(&url, "eu-west-1").await.unwrap_err();
        match &e {
            Error::Network {
                operation,
                endpoint,
                ..
            } => {
                assert_eq!(*operation, "GetAccountCustomizations");
                assert_eq!(endpoint, &url);
            }
            other => panic!("{other:?}"),
        }
        assert_no_secret(&e);
    }

    #[tokio::test]
    async fn plain_http_elsewhere_is_refused_before_sending() {
        let e = ask("http://uxc.example.com", "eu-west-1")
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidEndpoint { .. }), "{e:?}");
    }

    #[test]
    fn each_partition_has_its_endpoint() {
        for (region, endpoint, signing) in [
            ("eu-west-1", "https://uxc.us-east-1.api.aws", "us-east-1"),
            ("us-east-1", "https://uxc.us-east-1.api.aws", "us-east-1"),
            (
                "ap-southeast-2",
                "https://uxc.us-east-1.api.aws",
                "us-east-1",
            ),
            (
                "us-gov-east-1",
                "https://uxc.us-gov-west-1.api.aws",
                "us-gov-west-1",
            ),
            (
                "us-gov-west-1",
                "https://uxc.us-gov-west-1.api.aws",
                "us-gov-west-1",
            ),
            (
                "cn-northwest-1",
                "https://uxc.cn-north-1.api.amazonwebservices.com.cn",
                "cn-north-1",
            ),
        ] {
            assert_eq!(default_endpoint(region), endpoint, "{region}");
            assert_eq!(partition_region(region), signing, "{region}");
        }
    }

    #[test]
    fn signs_the_host_with_its_port() {
        let headers = sign(
            &creds(),
            "http://127.0.0.1:8123/v1/account-customizations",
            "us-east-1",
            from_epoch_seconds(SIGNED_AT),
        )
        .unwrap();
        let names: Vec<_> = headers.iter().map(|(n, _, _)| *n).collect();
        assert_eq!(
            names,
            [
                "host",
                "x-amz-date",
                "authorization",
                "x-amz-security-token"
            ]
        );
        assert_eq!(headers[0].1, "127.0.0.1:8123");
        let token = headers
            .iter()
            .find(|h| h.0 == "x-amz-security-token")
            .unwrap();
        assert!(token.2, "the session token is marked sensitive");
        let https = sign(
            &creds(),
            "https://uxc.us-east-1.api.aws/v1/account-customizations",
            "us-east-1",
            from_epoch_seconds(SIGNED_AT),
        )
        .unwrap();
        assert_eq!(https[0].1, "uxc.us-east-1.api.aws");
        // botocore 1.43's SigV4Auth("uxc") with these credentials, regions and instant.
        let authorization = |h: &[(&str, String, bool)]| {
            h.iter()
                .find(|h| h.0 == "authorization")
                .map(|h| h.1.clone())
                .unwrap()
        };
        assert_eq!(
            authorization(&https),
            "AWS4-HMAC-SHA256 Credential=ASIAUXCEXAMPLE/20261207/us-east-1/uxc/aws4_request, \
             SignedHeaders=host;x-amz-date;x-amz-security-token, \
             Signature=ec0ea2b15e42c20eba774614a1bf5b23af33d0d030b59bf85749b2efe42200cf"
        );
        let gov = sign(
            &creds(),
            "http://127.0.0.1:8123/v1/account-customizations",
            "us-gov-west-1",
            from_epoch_seconds(SIGNED_AT),
        )
        .unwrap();
        assert!(
            authorization(&gov).ends_with(
                "Signature=174ea23cadc65afafd18f0a2bfcaa63a37c520c02da6390a179eca27ce7aee04"
            ),
            "{}",
            authorization(&gov)
        );
    }

    #[test]
    fn signing_logs_no_secret() {
        let (_, logs) = crate::logging::trace_of(|| {
            tracing::trace!("signing");
            sign(
                &creds(),
                "https://uxc.us-east-1.api.aws/v1/account-customizations",
                "us-east-1",
                from_epoch_seconds(SIGNED_AT),
            )
            .unwrap()
        });
        assert!(logs.contains("signing"), "the capture works: {logs}");
        for secret in [SESSION_TOKEN, SECRET_KEY] {
            assert!(!logs.contains(secret), "{secret} in {logs}");
        }
    }

    #[test]
    fn error_codes_as_rest_json_names_them() {
        assert_eq!(
            error_code("ThrottlingException").as_deref(),
            Some("ThrottlingException")
        );
        assert_eq!(
            error_code("AccessDeniedException:http://internal.amazon.com/").as_deref(),
            Some("AccessDeniedException")
        );
        assert_eq!(
            error_code("aws.uxc#ValidationException").as_deref(),
            Some("ValidationException")
        );
        assert_eq!(error_code("").as_deref(), None);
        assert_eq!(error_code("<html>").as_deref(), None);
    }
}
