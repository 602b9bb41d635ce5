//! A local AWS IAM Identity Center (SSO OIDC + portal) that the unmodified official SDK
//! clients accept: the operations, paths, JSON shapes, status codes and error headers of
//! the real service, pages where a person approves a sign-in, a generated organisation,
//! and knobs for lifetimes, throttling, latency, faults and malformed replies.
//!
//! Both services answer on one loopback port; point `AWS_ENDPOINT_URL_SSO` and
//! `AWS_ENDPOINT_URL_SSO_OIDC` (or `aws_sso_device_auth_provider::Endpoints::both`) at [`Emulator::endpoint`].
//!
//! STS answers on the same port too (`AWS_ENDPOINT_URL_STS`): `AssumeRole` and
//! `GetCallerIdentity` in the Query protocol, signed (SigV4, checked) with role
//! credentials the emulator issued — by GetRoleCredentials or an earlier `AssumeRole`,
//! so roles chain — with the real service's XML, errors and limits (role chaining: at most
//! one hour). Who may assume what: any role in any account
//! (`arn:aws:iam::<12 digits>:role/<path/><name>`), except a role whose name starts with
//! `NoTrust` (it refuses everyone: `AccessDenied`) and a role whose name ends with
//! `External` without [`EmulatorConfig::external_id`] as the request's `ExternalId`
//! (`AccessDenied` too). [`EmulatorConfig::assume_role_lifetime`] caps the credentials'
//! life. Credentials from `AssumeRole` work wherever role credentials do (the console
//! federation endpoint, a further `AssumeRole`).
//!
//! STS also answers a presigned `GET /?Action=GetCallerIdentity&…` (SigV4 in the query
//! string), as an EKS token carries it: the signature, 15 minutes from its `X-Amz-Date`
//! by the emulator's clock, signed headers naming `host` and `x-k8s-aws-id`, credentials
//! not expired and their sign-in session not revoked.
//!
//! EKS (`AWS_ENDPOINT_URL_EKS`, restJson1: `ListClusters`, `DescribeCluster`) and ECR
//! (`AWS_ENDPOINT_URL_ECR`, awsJson1.1: `GetAuthorizationToken`) answer on the same port,
//! signed with role credentials the emulator issued; [`EmulatorConfig::clusters`] holds
//! the clusters, [`EmulatorConfig::denied_roles`] the roles both refuse. An ECR password
//! is remembered with its account, region and expiry, so that a registry stand-in can
//! check it ([`Emulator::ecr_password_owner`], `POST /_emulator/ecr/check`).
//!
//! The console federation endpoint (`GET /federation`, as at `signin.aws.amazon.com`)
//! turns role credentials the emulator issued into a console page. `getSigninToken`
//! takes a `Session` (the credentials' JSON) and an optional `SessionDuration`: a whole
//! number of seconds from 900 to 43200, refused (400) with credentials from `AssumeRole`,
//! as the real endpoint refuses it for role chaining. Its sign-in token works once
//! within 15 minutes. `login` takes `SigninToken` and `Destination`, which must be an
//! `https` URL without userinfo or port (and without control characters) on a console
//! host of an AWS partition: `console.aws.amazon.com`, `console.amazonaws.cn`,
//! `console.amazonaws-us-gov.com`, or a subdomain of one (regional and multi-session
//! hosts such as `123456789012-abcd.eu-west-1.console.aws.amazon.com`). Any other
//! destination is refused (400, `Destination is not an AWS console address`) before the
//! token is looked at, so it stays usable. The page shows the account, the role, the
//! destination and the session length (`id="session-seconds"`, `default` when none was
//! asked for).
//!
//! `login` follows the console's multi-session switch,
//! [`EmulatorConfig::console_multi_session`], with the cookie `emulator-console`: the
//! comma-separated 12-digit ids of the accounts signed in in that browser, sent back as
//! `Set-Cookie: emulator-console=<ids>; Path=/; HttpOnly`. With multi-session on (the
//! default) a browser holds up to five accounts; a sixth gets a page with
//! `id="too-many-sessions"`. With it off, a browser signed in to another account gets a
//! page with `id="log-out-first"` ("You must first log out before logging into a
//! different AWS account."). Either way the token is not spent.
//!
//! AWS User Experience Customization (`AWS_ENDPOINT_URL_UXC`, restJson1:
//! `GetAccountCustomizations`, `GET /v1/account-customizations`) answers on the same port
//! too, signed with role credentials the emulator issued: the account colour of
//! [`EmulatorConfig::account_colours`] (`none` for an account not named) for the
//! credentials' account, `visibleServices` and `visibleRegions` null. It refuses the
//! roles of [`EmulatorConfig::denied_roles`] with 403 `AccessDeniedException`.

mod config;
mod console;
mod ecr;
mod eks;
mod org;
mod pages;
mod routes;
mod sigv4;
mod state;
mod sts;
mod uxc;

pub use config::{EksCluster, EmulatorConfig, ReplyFault};
pub use org::OrgAccount;
pub use state::CountersSnapshot;

use aws_sso_device_auth_provider::clock::{Clock, SystemClock};
use state::Service;
use std::net::SocketAddr;
use std::sync::Arc;

/// A running emulator; it stops when dropped.
pub struct Emulator {
    addr: SocketAddr,
    service: Arc<Service>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts on a free loopback port.
    pub async fn start(config: EmulatorConfig) -> std::io::Result<Self> {
        Self::start_with(("127.0.0.1", 0), config, Arc::new(SystemClock)).await
    }

    /// Starts on `addr` with `clock` deciding every expiry.
    pub async fn start_with(
        addr: impl tokio::net::ToSocketAddrs,
        config: EmulatorConfig,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let service = Arc::new(Service::new(config, clock));
        let app = routes::router(service.clone(), format!("http://{addr}"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "emulator stopped");
            }
        });
        Ok(Self {
            addr,
            service,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// The base URL of every service (SSO OIDC, the portal, STS), `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Request counters.
    pub fn counters(&self) -> CountersSnapshot {
        self.service.counters.snapshot()
    }

    /// The current knobs.
    pub fn config(&self) -> EmulatorConfig {
        self.service.config()
    }

    /// Changes knobs while running. A change of organisation size regenerates it.
    pub fn configure(&self, change: impl FnOnce(&mut EmulatorConfig)) {
        let mut cfg = self
            .service
            .config
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let before = (
            cfg.accounts,
            cfg.roles_per_account,
            cfg.account_names.clone(),
        );
        change(&mut cfg);
        if before
            != (
                cfg.accounts,
                cfg.roles_per_account,
                cfg.account_names.clone(),
            )
        {
            *self.service.org.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(org::of(&cfg));
        }
    }

    /// The organisation it serves.
    pub fn organisation(&self) -> Arc<Vec<OrgAccount>> {
        self.service.org()
    }

    /// Serves `org` from now on (accounts come and go, roles change), until the next
    /// change of size regenerates it.
    pub fn set_organisation(&self, org: Vec<OrgAccount>) {
        *self.service.org.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(org);
    }

    /// User codes waiting for approval.
    pub fn pending_user_codes(&self) -> Vec<String> {
        self.service.pending_user_codes()
    }

    /// Approves (or denies) a pending user code, as the person on the page would.
    pub fn decide(&self, user_code: &str, allow: bool) -> bool {
        self.service.decide_device(user_code, allow)
    }

    /// Ends every session: refresh tokens stop working, access tokens are refused.
    pub fn revoke_sessions(&self) {
        self.service.revoke_sessions();
    }

    /// The account and region of the ECR password `password` (the part after `AWS:` of
    /// a `GetAuthorizationToken` reply's token) while it is valid; `None` for a password
    /// the emulator never issued or one past its 12 hours.
    pub fn ecr_password_owner(&self, password: &str) -> Option<(String, String)> {
        self.service.ecr_password_owner(password)
    }

    /// Forgets every client registration.
    pub fn expire_registrations(&self) {
        self.service.expire_registrations();
    }

    /// Serves until Ctrl-C (for the command line).
    pub async fn run_until_ctrl_c(mut self) -> std::io::Result<()> {
        tokio::signal::ctrl_c().await?;
        self.stop().await;
        Ok(())
    }

    /// Stops serving and waits for the server to finish.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Standard base64 with padding (ECR tokens, certificate data).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_as_rfc_4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(plain.as_bytes()), encoded);
        }
    }
}
