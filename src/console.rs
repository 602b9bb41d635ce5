//! A URL that signs the user into the AWS console as a role: role credentials exchanged
//! at the federation endpoint for a sign-in token; and handing it to the browser without
//! putting it on a command line.

use crate::error::{Error, Result};
use crate::portal::RoleCredentials;
use crate::secret::Secret;
use rand::distributions::{Alphanumeric, DistString};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The federation endpoint's base URL for `region`'s partition.
pub fn federation_base(region: &str) -> &'static str {
    if region.starts_with("us-gov-") {
        "https://signin.amazonaws-us-gov.com"
    } else if region.starts_with("cn-") {
        "https://signin.amazonaws.cn"
    } else {
        "https://signin.aws.amazon.com"
    }
}

/// The console's home page in `region`.
pub fn console_home(region: &str) -> String {
    let host = if region.starts_with("us-gov-") {
        "console.amazonaws-us-gov.com".to_owned()
    } else if region.starts_with("cn-") {
        "console.amazonaws.cn".to_owned()
    } else {
        format!("{region}.console.aws.amazon.com")
    };
    format!("https://{host}/console/home?region={region}")
}

/// Exchanges `credentials` for a console sign-in token at `base` (default: the
/// partition's federation endpoint) and returns the sign-in URL for the console home of
/// `region`. The URL is a secret: whoever opens it within 15 minutes is signed in.
pub async fn signin_url(
    credentials: &RoleCredentials,
    region: &str,
    base: Option<&str>,
) -> Result<Secret> {
    let base = base.unwrap_or_else(|| federation_base(region));
    let endpoint = format!("{}/federation", base.trim_end_matches('/'));
    let invalid = || Error::InvalidEndpoint {
        url: base.to_owned(),
        origin: "the console sign-in endpoint".to_owned(),
        reason: "it is not an http(s) URL",
    };
    let mut url = url::Url::parse(&endpoint).map_err(|_| invalid())?;
    let session = serde_json::json!({
        "sessionId": credentials.access_key_id,
        "sessionKey": credentials.secret_access_key.expose(),
        "sessionToken": credentials.session_token.expose(),
    })
    .to_string();
    url.query_pairs_mut()
        .append_pair("Action", "getSigninToken")
        .append_pair("Session", &session);
    let network = |e: reqwest::Error| Error::Network {
        operation: "GetSigninToken",
        endpoint: endpoint.clone(),
        // The request URL carries the credentials: never in a message.
        source: Box::new(e.without_url()),
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(network)?;
    let response = client.get(url).send().await.map_err(network)?;
    let status = response.status();
    if !status.is_success() {
        return Err(Error::Service {
            operation: "GetSigninToken",
            code: format!("HTTP {}", status.as_u16()),
            message: Some("the console sign-in endpoint refused the role credentials".into()),
        });
    }
    let body: serde_json::Value = response.json().await.map_err(|e| Error::UnexpectedReply {
        operation: "GetSigninToken",
        detail: e.without_url().to_string(),
    })?;
    let token = body
        .get("SigninToken")
        .and_then(|t| t.as_str())
        .ok_or_else(|| Error::UnexpectedReply {
            operation: "GetSigninToken",
            detail: "no SigninToken in the reply".into(),
        })?;
    let mut login = url::Url::parse(&endpoint).map_err(|_| invalid())?;
    login
        .query_pairs_mut()
        .append_pair("Action", "login")
        .append_pair("Issuer", "aws-sso-tray")
        .append_pair("Destination", &console_home(region))
        .append_pair("SigninToken", token);
    Ok(Secret::new(login.to_string()))
}

// ---- handing the sign-in URL to a browser ----
// A secret URL never goes on a command line: the browser gets a one-time loopback
// address that redirects to it.

/// How long the loopback address waits for the browser.
const WAIT: Duration = Duration::from_secs(120);

/// Opens `url` in the browser through `http://127.0.0.1:PORT/console/<random>`, served
/// once with a redirect: other users of the machine can read a process's arguments, and
/// the browser's would hold the sign-in token.
pub async fn open_once(url: &Secret) -> Result<()> {
    let loopback = |source| Error::Loopback {
        action: "listen on a loopback port for the browser",
        source,
    };
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(loopback)?;
    let port = listener.local_addr().map_err(loopback)?.port();
    let path = format!(
        "/console/{}",
        Alphanumeric.sample_string(&mut rand::thread_rng(), 32)
    );
    let local = format!("http://127.0.0.1:{port}{path}");
    let opened = tokio::task::spawn_blocking(move || crate::browser::open(&local)).await;
    match opened {
        Ok(Ok(())) => {}
        Ok(Err(source)) => return Err(Error::NoBrowser { source }),
        Err(_) => {
            return Err(Error::Interrupted {
                what: "start of the browser",
            })
        }
    }
    let serve = async {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let mut buf = vec![0u8; 8192];
            let mut len = 0;
            while len < buf.len() {
                match stream.read(&mut buf[len..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => len += n,
                }
                if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let request = String::from_utf8_lossy(&buf[..len]);
            let wanted = request.starts_with(&format!("GET {path} "));
            let reply = if wanted {
                format!(
                    "HTTP/1.1 302 Found\r\nLocation: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    url.expose()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_owned()
            };
            let _ = stream.write_all(reply.as_bytes()).await;
            let _ = stream.shutdown().await;
            if wanted {
                return;
            }
        }
    };
    tokio::time::timeout(WAIT, serve)
        .await
        .map_err(|_| Error::ConsoleNotOpened { waited: WAIT })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_have_their_own_hosts() {
        assert_eq!(
            federation_base("eu-west-1"),
            "https://signin.aws.amazon.com"
        );
        assert_eq!(
            federation_base("us-gov-west-1"),
            "https://signin.amazonaws-us-gov.com"
        );
        assert_eq!(federation_base("cn-north-1"), "https://signin.amazonaws.cn");
        assert_eq!(
            console_home("eu-west-1"),
            "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"
        );
        assert!(console_home("cn-north-1").starts_with("https://console.amazonaws.cn/"));
    }
}
