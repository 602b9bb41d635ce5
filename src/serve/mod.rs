//! The local credential endpoint: credentials for a running program, from memory, with
//! nothing on disk.
//!
//! The AWS SDKs and the AWS CLI read credentials from a container's endpoint when
//! `AWS_CONTAINER_CREDENTIALS_FULL_URI` names it, sending `AWS_CONTAINER_AUTHORIZATION_TOKEN`
//! in the `Authorization` header, and ask again before what they hold expires. An
//! [`Endpoint`] answers them on loopback, for as long as a program runs
//! (`aws-sso-auth exec`): each program is given a [`Grant`], its own random path and
//! 256-bit token.
//!
//! What it answers, and what it refuses:
//!
//! - It listens on `127.0.0.1` only, on a port the system picks.
//! - A request must name that address and port in its `Host` header, exactly: a page
//!   whose name was pointed at 127.0.0.1 (DNS rebinding) names its own host, and is
//!   refused.
//! - A request that carries an `Origin` header comes from a web page, and is refused:
//!   no page can read credentials even where it could reach the port.
//! - On Linux, a connection from a process of another user is refused before a byte of
//!   it is read (the owner of the other end, from the kernel: `serve/peer.rs`); elsewhere
//!   the token alone guards it.
//! - The path names the grant; the token must be that grant's, compared in constant
//!   time. A token of another grant on this one's path is refused.
//! - Only `GET`. The answer is the container-credentials JSON, with
//!   `Cache-Control: no-store`.
//! - A grant can be ended (its session signed out, or stopped by the person): from then
//!   on each request is answered with the reason, as a sentence the SDK shows.
//!
//! Whether the credentials have enough time left is the supplier's to decide (see
//! `workspace/serving.rs`): the SDKs take credentials that expire within their own
//! margin as already due.

pub mod exec;
mod peer;

use crate::clock::{rfc3339, Clock};
use crate::portal::RoleCredentials;
use crate::secret::Secret;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use rand::RngCore;
use std::collections::HashMap;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};
use subtle::ConstantTimeEq;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How long a client has to send a request's headers.
const HEADERS_WITHIN: Duration = Duration::from_secs(5);

/// The bytes of a grant's token: 256 bits.
const TOKEN_BYTES: usize = 32;

/// The bytes of a grant's path: 128 bits.
const PATH_BYTES: usize = 16;

/// Credentials as an endpoint serves them, and the account they are of.
#[derive(Debug, Clone)]
pub struct Served {
    /// The credentials.
    pub credentials: RoleCredentials,
    /// The account they act in.
    pub account_id: String,
}

/// Why no credentials are served now, as the program's SDK shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    /// A short code (`SignInRequired`, `CredentialsUnavailable`).
    pub code: &'static str,
    /// What to do, as a sentence (no secret).
    pub message: String,
}

/// What an endpoint asks for the credentials of one grant.
pub type Supply<T> = Arc<
    dyn Fn(Arc<T>) -> Pin<Box<dyn Future<Output = Result<Served, Unavailable>> + Send>>
        + Send
        + Sync,
>;

/// What one program is given: where to ask, and the token to ask with.
#[derive(Debug, Clone)]
pub struct Grant {
    /// Its number, unique in this endpoint.
    pub id: u64,
    /// `http://127.0.0.1:PORT/PATH`: `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
    pub url: String,
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
    pub token: Secret,
}

/// One grant as the endpoint holds it.
struct Entry<T> {
    id: u64,
    token: Secret,
    what: Arc<T>,
    ended: watch::Sender<Option<String>>,
    served: u64,
    last_served: Option<SystemTime>,
}

/// A grant, as the faces show it.
#[derive(Debug, Clone)]
pub struct GrantView<T> {
    /// Its number.
    pub id: u64,
    /// What it serves.
    pub what: Arc<T>,
    /// Why it was ended, once it was.
    pub ended: Option<String>,
    /// How many times it answered with credentials.
    pub served: u64,
    /// When it last did.
    pub last_served: Option<SystemTime>,
}

struct Inner<T> {
    port: u16,
    grants: Mutex<HashMap<String, Entry<T>>>,
    next_id: AtomicU64,
    supply: Supply<T>,
    clock: Arc<dyn Clock>,
    /// Only this user's processes are answered, where the system says who they are.
    #[cfg(target_os = "linux")]
    uid: u32,
}

/// A local credential endpoint; it stops serving when the last clone is dropped.
pub struct Endpoint<T> {
    inner: Arc<Inner<T>>,
    _task: Arc<AbortOnDrop>,
}

impl<T> Clone for Endpoint<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            _task: self._task.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Endpoint<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("port", &self.inner.port)
            .finish_non_exhaustive()
    }
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T: Send + Sync + 'static> Endpoint<T> {
    /// Listens on a port of 127.0.0.1 the system picks, answering each grant's requests
    /// with what `supply` gives for it (`clock` says when it last did). Needs a Tokio
    /// runtime.
    pub async fn start(supply: Supply<T>, clock: Arc<dyn Clock>) -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let port = listener.local_addr()?.port();
        let inner = Arc::new(Inner {
            port,
            grants: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            supply,
            clock,
            #[cfg(target_os = "linux")]
            uid: crate::atomic_file::own_uid()?,
        });
        let serving = inner.clone();
        let task = tokio::spawn(async move { serving.accept(listener).await });
        tracing::info!(port, "serving credentials on loopback");
        Ok(Self {
            inner,
            _task: Arc::new(AbortOnDrop(task.abort_handle())),
        })
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.inner.port
    }

    /// A new grant for `what`: a random path and token. The receiver says why it was
    /// ended, once it is.
    pub fn grant(&self, what: T) -> (Grant, watch::Receiver<Option<String>>) {
        let mut rng = rand::rngs::OsRng;
        let mut path = [0u8; PATH_BYTES];
        let mut token = [0u8; TOKEN_BYTES];
        rng.fill_bytes(&mut path);
        rng.fill_bytes(&mut token);
        let path = hex(&path);
        let token = Secret::new(hex(&token));
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let (ended, told) = watch::channel(None);
        self.inner.lock().insert(
            path.clone(),
            Entry {
                id,
                token: token.clone(),
                what: Arc::new(what),
                ended,
                served: 0,
                last_served: None,
            },
        );
        let grant = Grant {
            id,
            url: format!("http://127.0.0.1:{}/{path}", self.inner.port),
            token,
        };
        (grant, told)
    }

    /// Ends the grant `id` (if it is still there): its requests are answered with
    /// `reason` ([`ended_sentence`]) from now on. `false` if there is no such grant, or it was ended before.
    pub fn end(&self, id: u64, reason: &str) -> bool {
        self.end_where(|e_id, _| e_id == id, reason) > 0
    }

    /// Ends every grant still serving for which `which` holds; how many.
    pub fn end_where(&self, which: impl Fn(u64, &T) -> bool, reason: &str) -> usize {
        let grants = self.inner.lock();
        let mut ended = 0;
        for e in grants.values() {
            if e.ended.borrow().is_none() && which(e.id, &e.what) {
                e.ended.send_replace(Some(reason.to_owned()));
                ended += 1;
            }
        }
        ended
    }

    /// Forgets the grant `id`: its path is unknown from now on (its program ended).
    pub fn revoke(&self, id: u64) {
        self.inner.lock().retain(|_, e| e.id != id);
    }

    /// The grants, in the order they were made.
    pub fn grants(&self) -> Vec<GrantView<T>> {
        let mut all: Vec<_> = self
            .inner
            .lock()
            .values()
            .map(|e| GrantView {
                id: e.id,
                what: e.what.clone(),
                ended: e.ended.borrow().clone(),
                served: e.served,
                last_served: e.last_served,
            })
            .collect();
        all.sort_by_key(|g| g.id);
        all
    }
}

impl<T: Send + Sync + 'static> Inner<T> {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry<T>>> {
        self.grants.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn accept(self: Arc<Self>, listener: TcpListener) {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    // Out of descriptors, or a client gone before it was accepted: wait it
                    // out rather than spin.
                    tracing::warn!(error = %e, "cannot accept a credential request for now");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let inner = self.clone();
            tokio::spawn(async move { inner.connection(stream, peer).await });
        }
    }

    async fn connection(self: Arc<Self>, stream: TcpStream, peer: SocketAddr) {
        #[cfg(target_os = "linux")]
        {
            let (uid, port) = (self.uid, self.port);
            let owner = match peer::owner_by_diag(peer, port) {
                Ok(o) => Ok(o),
                Err(why) => {
                    tracing::debug!(%why, "netlink cannot say who connected; reading the table");
                    tokio::task::spawn_blocking(move || peer::owner(peer, port)).await
                }
            };
            match owner {
                Ok(peer::Owner::Uid(u)) if u == uid => {}
                Ok(peer::Owner::Unknown(why)) => {
                    tracing::debug!(%why, "the owner of a connection is not known; the token guards it");
                }
                Ok(peer::Owner::Uid(other)) => {
                    tracing::warn!(
                        uid = other,
                        "a process of another user asked for credentials; refused"
                    );
                    return;
                }
                Ok(peer::Owner::Absent) | Err(_) => {
                    tracing::warn!("a connection whose owner is not listed; refused");
                    return;
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = peer;
        let inner = self.clone();
        let service = hyper::service::service_fn(move |req| {
            let inner = inner.clone();
            async move { Ok::<_, std::convert::Infallible>(inner.answer(req).await) }
        });
        let served = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(HEADERS_WITHIN)
            .max_buf_size(16 * 1024)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
            .await;
        if let Err(e) = served {
            tracing::debug!(error = %e, "a credential request's connection ended");
        }
    }

    async fn answer(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let refusal = |status, code, message: &str| reply(status, &error_body(code, message));
        let expected_host = format!("127.0.0.1:{}", self.port);
        let host = req.headers().get(hyper::header::HOST);
        if !host.is_some_and(|h| h.as_bytes().eq_ignore_ascii_case(expected_host.as_bytes())) {
            return refusal(
                StatusCode::FORBIDDEN,
                "HostRefused",
                "this endpoint answers only requests to 127.0.0.1 and its own port",
            );
        }
        if req.headers().contains_key(hyper::header::ORIGIN) {
            return refusal(
                StatusCode::FORBIDDEN,
                "OriginRefused",
                "credentials are not served to web pages",
            );
        }
        if req.method() != Method::GET {
            let mut r = refusal(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "only GET is answered",
            );
            r.headers_mut()
                .insert(hyper::header::ALLOW, HeaderValue::from_static("GET"));
            return r;
        }
        let path = req.uri().path().trim_start_matches('/');
        let token = authorization(req.headers());
        let what = {
            let grants = self.lock();
            let Some(entry) = grants.get(path) else {
                return refusal(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    "no credentials are served at this address: the command that was given it has ended",
                );
            };
            let same: bool = token
                .map(|t| t.ct_eq(entry.token.expose().as_bytes()).into())
                .unwrap_or(false);
            if !same {
                return refusal(
                    StatusCode::UNAUTHORIZED,
                    "TokenRefused",
                    "the authorization token is missing or not this address's",
                );
            }
            if let Some(reason) = entry.ended.borrow().as_deref() {
                return refusal(
                    StatusCode::FORBIDDEN,
                    "SessionEnded",
                    &ended_sentence(reason),
                );
            }
            entry.what.clone()
        };
        match (self.supply)(what).await {
            Ok(served) => {
                let now = self.clock.now();
                if let Some(e) = self.lock().get_mut(path) {
                    e.served = e.served.saturating_add(1);
                    e.last_served = Some(now);
                }
                reply(StatusCode::OK, &credentials_body(&served))
            }
            Err(u) => refusal(StatusCode::SERVICE_UNAVAILABLE, u.code, &u.message),
        }
    }
}

/// What a command whose grant was ended for `reason` is told.
pub fn ended_sentence(reason: &str) -> String {
    format!("credentials are no longer served to this command: {reason}")
}

/// The `Authorization` header's bytes, as the SDKs send the token: the value as it is
/// (some SDKs add nothing, none adds a scheme).
fn authorization(headers: &HeaderMap) -> Option<&[u8]> {
    headers
        .get(hyper::header::AUTHORIZATION)
        .map(HeaderValue::as_bytes)
}

/// The container-credentials JSON the SDKs read.
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct Body<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    expiration: String,
    account_id: &'a str,
}

fn credentials_body(served: &Served) -> Secret {
    let c = &served.credentials;
    let body = Body {
        access_key_id: &c.access_key_id,
        secret_access_key: c.secret_access_key.expose(),
        token: c.session_token.expose(),
        expiration: rfc3339(c.expiration),
        account_id: &served.account_id,
    };
    Secret::new(serde_json::to_string(&body).unwrap_or_default())
}

fn error_body(code: &str, message: &str) -> Secret {
    Secret::new(serde_json::json!({ "code": code, "message": message }).to_string())
}

fn reply(status: StatusCode, body: &Secret) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.expose().to_owned())));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        hyper::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    r
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn creds(key: &str) -> Served {
        Served {
            credentials: RoleCredentials {
                access_key_id: key.into(),
                secret_access_key: Secret::new("secret"),
                session_token: Secret::new("session"),
                expiration: SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000),
            },
            account_id: "111122223333".into(),
        }
    }

    async fn endpoint() -> Endpoint<String> {
        Endpoint::start(
            Arc::new(|what: Arc<String>| {
                Box::pin(async move {
                    if what.as_str() == "broken" {
                        Err(Unavailable {
                            code: "SignInRequired",
                            message: "sign in".into(),
                        })
                    } else {
                        Ok(creds(&what))
                    }
                })
            }),
            Arc::new(crate::clock::SystemClock),
        )
        .await
        .expect("start")
    }

    /// Sends `head` (the request line and headers) and reads the whole answer.
    async fn raw(port: u16, head: &str) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        s.write_all(head.as_bytes()).await.expect("write");
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.expect("read");
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, text)
    }

    fn get(grant: &Grant, host: &str, token: Option<&str>, extra: &str) -> String {
        let path = grant.url.splitn(4, '/').nth(3).unwrap_or_default();
        let auth = token.map_or(String::new(), |t| format!("Authorization: {t}\r\n"));
        format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\n{auth}{extra}Connection: close\r\n\r\n")
    }

    #[tokio::test]
    async fn serves_its_grant_and_refuses_every_other_request() {
        let e = endpoint().await;
        let host = format!("127.0.0.1:{}", e.port());
        let (first, _) = e.grant("AKIAFIRST".to_owned());
        let (second, _) = e.grant("AKIASECOND".to_owned());
        assert_eq!(first.token.expose().len(), 64);
        assert_ne!(first.url, second.url);

        let (status, body) = raw(
            e.port(),
            &get(&first, &host, Some(first.token.expose()), ""),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains(r#""AccessKeyId":"AKIAFIRST""#), "{body}");
        assert!(body
            .to_ascii_lowercase()
            .contains("cache-control: no-store"));

        let refused = [
            get(&first, &host, None, ""),
            get(&first, &host, Some("0".repeat(64).as_str()), ""),
            // The second's token on the first's path.
            get(&first, &host, Some(second.token.expose()), ""),
            get(
                &first,
                &format!("localhost:{}", e.port()),
                Some(first.token.expose()),
                "",
            ),
            get(&first, "evil.example:80", Some(first.token.expose()), ""),
            get(
                &first,
                &host,
                Some(first.token.expose()),
                "Origin: https://evil.example\r\n",
            ),
            get(
                &first,
                &host,
                Some(first.token.expose()),
                "Origin: null\r\n",
            ),
        ];
        for head in refused {
            let (status, body) = raw(e.port(), &head).await;
            assert!(matches!(status, 401 | 403), "{status} for {head:?}: {body}");
            assert!(!body.contains("AKIAFIRST"), "{body}");
        }
        let (status, _) = raw(
            e.port(),
            &get(&first, &host, Some(first.token.expose()), "").replace("GET", "POST"),
        )
        .await;
        assert_eq!(status, 405);

        // Ended: the reason, to the one grant only.
        assert!(e.end(first.id, "you signed out of AWS SSO Tray"));
        let (status, body) = raw(
            e.port(),
            &get(&first, &host, Some(first.token.expose()), ""),
        )
        .await;
        assert_eq!(status, 403);
        assert!(body.contains("you signed out"), "{body}");
        let (status, _) = raw(
            e.port(),
            &get(&second, &host, Some(second.token.expose()), ""),
        )
        .await;
        assert_eq!(status, 200);
        let views = e.grants();
        assert_eq!(views.len(), 2);
        assert_eq!((views[0].served, views[1].served), (1, 1));
        assert!(views[0]
            .ended
            .as_deref()
            .is_some_and(|r| r.contains("signed out")));
        assert!(views[1].ended.is_none());

        // Revoked: its path is unknown.
        e.revoke(second.id);
        let (status, _) = raw(
            e.port(),
            &get(&second, &host, Some(second.token.expose()), ""),
        )
        .await;
        assert_eq!(status, 404);
    }

    #[tokio::test]
    async fn what_the_supplier_cannot_give_is_a_sentence() {
        let e = endpoint().await;
        let host = format!("127.0.0.1:{}", e.port());
        let (g, _) = e.grant("broken".to_owned());
        let (status, body) = raw(e.port(), &get(&g, &host, Some(g.token.expose()), "")).await;
        assert_eq!(status, 503);
        assert!(body.contains(r#""code":"SignInRequired""#), "{body}");
    }

    #[tokio::test]
    async fn dropping_the_endpoint_closes_its_port() {
        let e = endpoint().await;
        let port = e.port();
        drop(e);
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    }
}
