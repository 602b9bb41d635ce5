//! Authorization code + PKCE (RFC 7636) on a loopback redirect, as the AWS CLI does it.

use crate::error::{Error, Result};
use crate::secret::Secret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The redirect URI registered with the client; the port is added per sign-in.
pub const REGISTERED_REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";
const CALLBACK_PATH: &str = "/oauth/callback";

/// A fresh verifier, its S256 challenge and a random `state`.
#[derive(Debug)]
pub struct PkcePair {
    /// 43 characters of `[A-Za-z0-9-_]`.
    pub verifier: Secret,
    /// base64url(sha256(verifier)), no padding.
    pub challenge: String,
    /// Ties the browser's answer to this sign-in.
    pub state: String,
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

impl PkcePair {
    /// Generates a new pair from the OS random source.
    pub fn generate() -> Self {
        let verifier = random_token(32);
        Self {
            challenge: challenge_for(&verifier),
            verifier: Secret::new(verifier),
            state: random_token(16),
        }
    }
}

/// The S256 challenge of `verifier`.
pub fn challenge_for(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The `/authorize` URL the browser opens.
pub fn authorize_url(
    oidc_endpoint: &str,
    client_id: &str,
    redirect_uri: &str,
    pair: &PkcePair,
    scopes: &[String],
) -> String {
    let mut url = format!("{}/authorize", oidc_endpoint.trim_end_matches('/'));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("state", &pair.state)
        .append_pair("code_challenge_method", "S256")
        .append_pair("scopes", &scopes.join(" "))
        .append_pair("code_challenge", &pair.challenge)
        .finish();
    url.push('?');
    url.push_str(&query);
    url
}

/// A listener on `127.0.0.1:<free port>` waiting for the browser to come back.
#[derive(Debug)]
pub struct LoopbackRedirect {
    listener: TcpListener,
    redirect_uri: String,
}

impl LoopbackRedirect {
    /// Binds a free loopback port.
    pub async fn bind() -> Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|source| Error::Loopback {
                action: "listen on a loopback port for the browser sign-in",
                source,
            })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        Ok(Self {
            listener,
            redirect_uri: format!("http://127.0.0.1:{port}{CALLBACK_PATH}"),
        })
    }

    /// The redirect URI, with this listener's port.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits up to `wait` for the browser's callback carrying `state`, and returns the code.
    /// Each connection is served on its own, so an idle speculative connection a browser
    /// opens never holds up the real callback; requests for other paths or with another
    /// state are answered and ignored.
    pub async fn wait_for_code(&self, state: &str, wait: Duration) -> Result<Secret> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Secret>>(1);
        let mut connections = tokio::task::JoinSet::new();
        let outcome = tokio::time::timeout(wait, async {
            loop {
                tokio::select! {
                    accepted = self.listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            let (tx, state) = (tx.clone(), state.to_owned());
                            connections.spawn(async move {
                                if let Some(result) = handle_callback(stream, &state).await {
                                    let _ = tx.send(result).await;
                                }
                            });
                        }
                        // Out of file descriptors and the like: do not spin.
                        Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                    },
                    Some(result) = rx.recv() => return result,
                }
            }
        })
        .await;
        connections.abort_all();
        outcome.unwrap_or(Err(Error::SignInTimedOut { waited: wait }))
    }
}

/// Reads one request; `None` when it was not our callback.
async fn handle_callback(mut stream: TcpStream, state: &str) -> Option<Result<Secret>> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    if read.is_err() {
        return None;
    }
    let head = String::from_utf8_lossy(&buf);
    let target = head.lines().next()?.split_whitespace().nth(1)?.to_owned();
    let url = url::Url::parse(&format!("http://127.0.0.1{target}")).ok()?;
    if url.path() != CALLBACK_PATH {
        respond(&mut stream, 404, "Not found.").await;
        return None;
    }
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if param("state").as_deref() != Some(state) {
        respond(
            &mut stream,
            400,
            "This sign-in link does not belong to the running sign-in.",
        )
        .await;
        return None;
    }
    if let Some(error) = param("error") {
        respond(
            &mut stream,
            200,
            "Sign-in was not completed. You can close this tab.",
        )
        .await;
        return Some(Err(match error.as_str() {
            "access_denied" => Error::SignInDenied,
            other => Error::AuthorizationCallback {
                reason: format!(
                    "the service answered '{}'",
                    other.chars().take(64).collect::<String>()
                ),
            },
        }));
    }
    match param("code") {
        Some(code) if !code.is_empty() => {
            respond(
                &mut stream,
                200,
                "Signed in. You can close this tab and return to aws-sso-tray.",
            )
            .await;
            Some(Ok(Secret::new(code)))
        }
        _ => {
            respond(&mut stream, 400, "The sign-in answer carried no code.").await;
            Some(Err(Error::AuthorizationCallback {
                reason: "the browser came back without an authorization code".into(),
            }))
        }
    }
}

async fn respond(stream: &mut TcpStream, status: u16, message: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        _ => "Not Found",
    };
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>aws-sso-tray</title>\
         <body style=\"font-family:sans-serif;margin:3em\"><p>{message}</p></body>"
    );
    let reply = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\nCache-Control: no-store\r\n\r\n{body}",
        body.len()
    );
    let _ignored_client_gone = stream.write_all(reply.as_bytes()).await;
    let _ignored_client_gone = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(lb: &LoopbackRedirect) -> std::net::SocketAddr {
        lb.listener.local_addr().unwrap()
    }

    #[test]
    fn challenge_matches_rfc7636_appendix_b() {
        assert_eq!(
            challenge_for("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifier_has_the_allowed_shape() {
        let p = PkcePair::generate();
        let v = p.verifier.expose();
        assert!((43..=128).contains(&v.len()));
        assert!(v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c)));
        assert_ne!(PkcePair::generate().state, p.state);
    }

    #[test]
    fn authorize_url_carries_plural_scopes_and_s256() {
        let p = PkcePair::generate();
        let u = authorize_url(
            "http://127.0.0.1:9/",
            "cid",
            "http://127.0.0.1:5/oauth/callback",
            &p,
            &["sso:account:access".into()],
        );
        let parsed = url::Url::parse(&u).unwrap();
        assert_eq!(parsed.path(), "/authorize");
        let q: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
        assert_eq!(q["scopes"], "sso:account:access");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"], p.challenge);
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:5/oauth/callback");
        assert!(!u.contains(p.verifier.expose()));
    }

    #[tokio::test]
    async fn callback_checks_state_and_returns_code() {
        let lb = LoopbackRedirect::bind().await.unwrap();
        let addr = addr(&lb);
        let client = tokio::spawn(async move {
            let get = |q: String| async move {
                let mut s = TcpStream::connect(addr).await.unwrap();
                s.write_all(
                    format!("GET /oauth/callback?{q} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
                )
                .await
                .unwrap();
                let mut out = String::new();
                s.read_to_string(&mut out).await.unwrap();
                out
            };
            let wrong = get("code=c1&state=forged".into()).await;
            assert!(wrong.starts_with("HTTP/1.1 400"), "{wrong}");
            get("code=c2&state=good".into()).await
        });
        let code = lb
            .wait_for_code("good", Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(code.expose(), "c2");
        assert!(client.await.unwrap().starts_with("HTTP/1.1 200"));
    }

    #[tokio::test]
    async fn an_idle_connection_does_not_hold_up_the_callback() {
        let lb = LoopbackRedirect::bind().await.unwrap();
        let addr = addr(&lb);
        // A browser's speculative connection: opened, never used.
        let _idle = TcpStream::connect(&addr).await.unwrap();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET /oauth/callback?code=c&state=st HTTP/1.1\r\n\r\n")
                .await
                .unwrap();
        });
        let started = tokio::time::Instant::now();
        let code = lb
            .wait_for_code("st", Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(code.expose(), "c");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn callback_error_and_timeout() {
        let lb = LoopbackRedirect::bind().await.unwrap();
        let addr = addr(&lb);
        tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET /oauth/callback?error=access_denied&state=st HTTP/1.1\r\n\r\n")
                .await
                .unwrap();
        });
        assert!(matches!(
            lb.wait_for_code("st", Duration::from_secs(10)).await,
            Err(Error::SignInDenied)
        ));
        let err = lb
            .wait_for_code("st", Duration::from_millis(50))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::SignInTimedOut { .. }));
    }
}
