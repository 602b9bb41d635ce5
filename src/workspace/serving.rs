//! Credentials served from memory to running commands (`aws-sso-auth exec`), through the
//! local credential endpoint ([`crate::serve`]): by the app while it runs (renewed from
//! its session; a session that ended becomes one sign-in request in the tray), else by
//! the `exec` process itself for its command's lifetime.

use super::favourites::{Resolved, RoleTarget};
use super::{Event, Shared, Workspace};
use crate::ask::Answer;
use crate::awsfiles::ProfileName;
use crate::clock::later;
use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::serve::{Endpoint, Grant, Served, Supply, Unavailable};
use crate::source::{Fetch, Source};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};
use tokio::sync::{oneshot, watch};

/// How long credentials served have left, at least, unless the command asks otherwise:
/// the AWS SDKs take credentials that expire within 15 minutes as due (botocore's
/// margin, the widest of them) and ask again at once, so a minute more than that.
pub const SERVE_MARGIN: Duration = Duration::from_secs(16 * 60);

impl ExecSession {
    fn last(&self) -> Option<Served> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// One command served: whose credentials, for whom.
#[derive(Debug)]
pub struct ExecSession {
    /// The access portal.
    pub instance: Instance,
    /// Where its credentials come from.
    pub source: Source,
    /// The favourite, when it is one.
    pub favourite: Option<ProfileName>,
    /// The command, as the person would name it (untrusted text, one short line).
    pub program: String,
    /// Since when.
    pub since: SystemTime,
    margin: Duration,
    /// Served by the app (else by the `exec` process itself).
    in_app: bool,
    /// One fetch at a time for this command: a hundred requests at once make one call.
    fetching: tokio::sync::Mutex<()>,
    said_short: AtomicBool,
    /// What it was last served: served again while it has more than the margin left,
    /// with no lock held across a fetch and no look-up in the provider.
    last: Mutex<Option<Served>>,
    /// The sign-in asked of the person for it, until answered.
    asked: Mutex<Option<oneshot::Receiver<Answer>>>,
}

/// A command served, as the faces show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecStatus {
    /// Its number, to end it by.
    pub id: u64,
    /// The access portal.
    pub instance: Instance,
    /// The favourite's profile name, when it is one.
    pub favourite: Option<String>,
    /// Its role, in words (`ReadOnly in account 111122223333`).
    pub role: String,
    /// The command (untrusted text).
    pub program: String,
    /// Since when.
    pub since: SystemTime,
    /// How many times it was given credentials.
    pub served: u64,
    /// When it last was.
    pub last_served: Option<SystemTime>,
    /// Why it is served no more, once it is not ("you signed out of …").
    pub ended: Option<String>,
}

/// A command to serve.
#[derive(Debug, Clone)]
pub struct ExecRequest {
    /// Whose credentials.
    pub target: RoleTarget,
    /// The command, as the person would name it.
    pub program: String,
    /// Credentials served have more than this left (default [`SERVE_MARGIN`]).
    pub margin: Duration,
}

/// A command's grant: where it asks, and what it should know.
#[derive(Debug)]
pub struct Serving {
    /// The address and token.
    pub grant: Grant,
    /// Says why serving ended, once it does.
    pub ended: watch::Receiver<Option<String>>,
    /// The favourite's region, when it has one.
    pub region: Option<String>,
}

impl Workspace {
    /// This process's endpoint, started on first use.
    async fn endpoint(&self) -> Result<Endpoint<ExecSession>> {
        let (weak, clock) = (self.weak(), self.clock().clone());
        self.shared
            .serving
            .get_or_try_init(|| async move {
                let supply: Supply<ExecSession> = Arc::new(move |session: Arc<ExecSession>| {
                    let weak: Weak<Shared> = weak.clone();
                    Box::pin(async move {
                        match Workspace::from_weak(&weak) {
                            Some(world) => world.supply(&session).await,
                            None => Err(Unavailable {
                                code: "CredentialsUnavailable",
                                message: "the program that served these credentials is closing"
                                    .into(),
                            }),
                        }
                    })
                });
                Endpoint::start(supply, clock).await.map_err(|e| Error::Io {
                    action: "listen on",
                    path: "127.0.0.1".into(),
                    source: e,
                })
            })
            .await
            .cloned()
    }

    /// Serves `request`'s credentials to one command, through this process's endpoint,
    /// until the grant is revoked ([`Self::stop_serving`]). `in_app`: the app serves it
    /// (a session that ends asks the person to sign in in the tray); else this process
    /// serves its own command, and signs in first if it must.
    pub async fn serve_command(&self, request: ExecRequest, in_app: bool) -> Result<Serving> {
        let Resolved {
            instance,
            source,
            region,
            favourite,
        } = self.resolve(request.target)?;
        if !in_app {
            // The command starts with credentials at hand: a sign-in, if one is needed,
            // happens now (as for `credential_process`), before the command owns the
            // terminal.
            self.credentials(&instance, &source, Fetch::SigningIn)
                .await?;
        }
        let session = ExecSession {
            instance,
            source,
            favourite,
            program: request.program,
            since: self.now(),
            margin: request.margin,
            in_app,
            fetching: tokio::sync::Mutex::new(()),
            said_short: AtomicBool::new(false),
            last: Mutex::new(None),
            asked: Mutex::new(None),
        };
        let (grant, ended) = self.endpoint().await?.grant(session);
        tracing::info!(id = grant.id, "serving a command's credentials");
        self.emit(Event::Changed);
        Ok(Serving {
            grant,
            ended,
            region,
        })
    }

    /// The access portal of `target`, and its region where it has one (a favourite's);
    /// an error where the target is not there.
    pub fn instance_and_region(&self, target: &RoleTarget) -> Result<(Instance, Option<String>)> {
        let r = self.resolve(target.clone())?;
        Ok((r.instance, r.region))
    }

    /// The AWS files whose default profile holds credentials the SDKs would read before
    /// the served ones (see [`crate::awsfiles::AwsFiles::default_profile_credentials`]).
    pub async fn files_read_before_the_endpoint(&self) -> Result<Vec<std::path::PathBuf>> {
        let files = self.shared.files.clone();
        super::blocking("read of the AWS files", move || {
            files.default_profile_credentials()
        })
        .await
    }

    /// Forgets the grant `id`: its command ended.
    pub fn stop_serving(&self, id: u64) {
        if let Some(e) = self.shared.serving.get() {
            e.revoke(id);
            self.emit(Event::Changed);
        }
    }

    /// Ends serving the command `id`, at the person's word: its next request is refused
    /// with a sentence. `false` when it was not served.
    pub fn end_exec_session(&self, id: u64) -> bool {
        let ended = self.shared.serving.get().is_some_and(|e| {
            e.end(
                id,
                "it was stopped in AWS SSO Tray; run it again with aws-sso-auth exec",
            )
        });
        if ended {
            self.emit(Event::Changed);
        }
        ended
    }

    /// Ends serving every command of `instance` (signed out).
    pub(super) fn end_exec_sessions_of(&self, instance: &Instance) {
        let Some(e) = self.shared.serving.get() else {
            return;
        };
        let reason = format!(
            "you signed out of {instance}; sign in and run it again with aws-sso-auth exec"
        );
        if e.end_where(|_, s| &s.instance == instance, &reason) > 0 {
            self.emit(Event::Changed);
        }
    }

    /// Ends serving every command of the favourite `profile` (removed).
    pub(super) fn end_exec_sessions_of_favourite(&self, profile: &ProfileName) {
        let Some(e) = self.shared.serving.get() else {
            return;
        };
        let reason = format!("the favourite {profile} was removed");
        if e.end_where(|_, s| s.favourite.as_ref() == Some(profile), &reason) > 0 {
            self.emit(Event::Changed);
        }
    }

    /// The commands served, oldest first.
    pub fn exec_sessions(&self) -> Vec<ExecStatus> {
        let Some(e) = self.shared.serving.get() else {
            return Vec::new();
        };
        e.grants()
            .into_iter()
            .map(|g| ExecStatus {
                id: g.id,
                instance: g.what.instance.clone(),
                favourite: g.what.favourite.as_ref().map(ToString::to_string),
                role: g.what.source.to_string(),
                program: g.what.program.clone(),
                since: g.what.since,
                served: g.served,
                last_served: g.last_served,
                ended: g.ended,
            })
            .collect()
    }

    /// Credentials for `session` with more than its margin left: from memory while they
    /// have it, else fetched (one fetch at a time per command). A source whose
    /// credentials last less than the margin is served what it gives, and logged once.
    async fn supply(&self, session: &ExecSession) -> std::result::Result<Served, Unavailable> {
        let enough = |c: &Served| later(self.now(), session.margin) < c.credentials.expiration;
        if let Some(last) = session.last().filter(enough) {
            return Ok(last);
        }
        let _one = session.fetching.lock().await;
        let (instance, source) = (&session.instance, &session.source);
        let fetched = self
            .credentials(instance, source, Fetch::Fresh(session.margin))
            .await;
        match fetched {
            Ok(credentials) => {
                let enough = later(self.now(), session.margin) < credentials.expiration;
                if !enough && !session.said_short.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        source = %source,
                        margin_s = session.margin.as_secs(),
                        "credentials of this source last less than the margin: SDKs will ask for them on every call"
                    );
                }
                let account_id = source
                    .assume
                    .as_ref()
                    .map_or(source.account_id.clone(), |a| a.account_id().to_owned());
                let served = Served {
                    credentials,
                    account_id,
                };
                *session.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(served.clone());
                Ok(served)
            }
            Err(e) if e.needs_sign_in() => Err(self.sign_in_for(session)),
            Err(e) => Err(Unavailable {
                code: "CredentialsUnavailable",
                message: match e.advice() {
                    Some(advice) => format!("{e}; {advice}"),
                    None => e.to_string(),
                },
            }),
        }
    }

    /// The session of `session`'s instance ended: in the app, the person is asked to sign
    /// in (once, however many requests come); what to tell the command. A sign-in the
    /// person declined is said once (`SignInDeclined`); the next request asks again.
    fn sign_in_for(&self, session: &ExecSession) -> Unavailable {
        let instance = &session.instance;
        if !session.in_app {
            return Unavailable {
                code: "SignInRequired",
                message: format!(
                    "the AWS SSO session of {instance} has ended: sign in with aws-sso-auth login (in another terminal); credentials are served again once you have"
                ),
            };
        }
        let mut asked = session.asked.lock().unwrap_or_else(|e| e.into_inner());
        match asked.as_mut().map(oneshot::Receiver::try_recv) {
            // Asked; the person has not answered yet.
            Some(Err(oneshot::error::TryRecvError::Empty)) => {}
            Some(Ok(Answer::Declined)) => {
                *asked = None;
                return Unavailable {
                    code: "SignInDeclined",
                    message: format!("the sign-in to {instance} was declined in AWS SSO Tray"),
                };
            }
            // Never asked, or asked and answered otherwise (yet the session is over
            // again): ask.
            _ => {
                let what = session
                    .favourite
                    .as_ref()
                    .map_or_else(|| session.source.to_string(), |f| format!("profile {f}"));
                let shown = format!("{} ({what})", session.program);
                *asked = Some(self.wait_for_sign_in(instance, session.program.clone(), shown));
            }
        }
        Unavailable {
            code: "SignInRequired",
            message: format!(
                "sign in to {instance} in AWS SSO Tray (it is asking you now); credentials are served again once you have"
            ),
        }
    }
}

#[cfg(not(unix))]
impl Workspace {
    /// Where there is no Unix socket, `exec` serves its command by itself.
    pub async fn serve_exec_requests(&self) {
        tracing::info!("commands serve their own credentials: the app is asked over a Unix socket");
    }
}

#[cfg(unix)]
mod app {
    use super::*;
    use crate::ask::{Connection, Listener};
    use crate::serve::exec::{self, Answer as ExecAnswer, Reply, Request, Target};

    impl Workspace {
        /// Serves the credentials of `aws-sso-auth exec` commands that ask at the socket in
        /// the runtime directory, for as long as the app runs (nothing where there is no
        /// runtime directory, or another app answers there).
        pub async fn serve_exec_requests(&self) {
            let Some(dir) = self.shared.paths.runtime_dir().map(ToOwned::to_owned) else {
                return;
            };
            let listener = match Listener::bind_named(&dir, exec::SOCKET).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot serve commands' credentials");
                    return;
                }
            };
            tracing::info!(socket = %listener.path().display(), "serving commands' credentials");
            let world = self.clone();
            crate::ask::serve(listener, move |conn| {
                let world = world.clone();
                async move { world.answer_exec(conn).await }
            })
            .await;
        }

        async fn answer_exec(&self, mut conn: Connection) {
            let request = match conn.message::<Request>().await {
                Ok(r) if r.v == exec::VERSION => r,
                Ok(r) => {
                    let reason = format!(
                        "this app speaks version {} of exec requests, not {}",
                        exec::VERSION,
                        r.v
                    );
                    let _ = conn.send(&Reply::new(ExecAnswer::Refused { reason })).await;
                    return;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "an exec request was not understood");
                    return;
                }
            };
            let program = super::super::asks::program_name(&request.program, conn.pid());
            let serving = match self.target_of(request.target) {
                Ok(target) => {
                    let margin = Duration::from_secs(request.margin_seconds);
                    let request = ExecRequest {
                        target,
                        program,
                        margin,
                    };
                    self.serve_command(request, true).await
                }
                Err(e) => Err(e),
            };
            let Serving {
                grant, mut ended, ..
            } = match serving {
                Ok(s) => s,
                Err(e) => {
                    let reason = e.to_string();
                    let _ = conn.send(&Reply::new(ExecAnswer::Refused { reason })).await;
                    return;
                }
            };
            let answer = ExecAnswer::Serving {
                url: grant.url.clone(),
                token: grant.token.expose().to_owned(),
            };
            if conn.send(&Reply::new(answer)).await.is_ok() {
                let ended_for = tokio::select! {
                    () = conn.closed() => None,
                    r = ended.wait_for(Option::is_some) => r.ok().and_then(|r| r.clone()),
                };
                if let Some(reason) = ended_for {
                    let reason = crate::serve::ended_sentence(&reason);
                    let _ = conn.send(&Reply::new(ExecAnswer::Ended { reason })).await;
                    conn.closed().await;
                }
            }
            self.stop_serving(grant.id);
        }

        /// What the request names, as this app knows it: a role of another access
        /// portal than the app's is refused (its `exec` serves by itself).
        fn target_of(&self, target: Target) -> Result<RoleTarget> {
            Ok(match target {
                Target::Favourite { profile } => RoleTarget::Favourite(profile),
                Target::Role {
                    start_url,
                    region,
                    account,
                    role,
                } => {
                    let instance = Instance::new(&start_url, &region)?;
                    RoleTarget::Role {
                        instance,
                        account_id: account,
                        role_name: role,
                    }
                }
            })
        }
    }
}
