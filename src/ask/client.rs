//! The caller's end.

#[cfg_attr(not(unix), allow(unused_imports))]
use super::{Answer, Request, VERSION};
use crate::Instance;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How a command asks the running app for a sign-in.
#[derive(Clone)]
pub struct AskApp {
    /// The program named to the person; `None`: the one that runs this process
    /// ([`super::caller_name`]), looked up only when the app is asked.
    pub program: Option<String>,
    /// What the credentials are for, said to the app to show the person.
    pub wants: Wants,
    /// How long to wait for the person.
    pub timeout: Duration,
    /// Runs once the person is being asked (to say so to whoever watches the caller).
    pub on_waiting: Arc<dyn Fn(&Instance) + Send + Sync>,
}

impl std::fmt::Debug for AskApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AskApp")
            .field("program", &self.program)
            .field("wants", &self.wants)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// What a caller wants the sign-in for, as the person would name it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Wants {
    /// It does not say.
    #[default]
    Unsaid,
    /// The credentials of this profile.
    Profile(String),
    /// The credentials of this role in this account.
    Role {
        /// The account id.
        account: String,
        /// The role name.
        role: String,
    },
}

/// How the request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The person signed in.
    Ready,
    /// The person declined.
    Declined,
    /// Nobody answered within the timeout.
    TimedOut,
    /// No app answers (none runs, a socket left by a killed one, another version, it
    /// cannot serve this access portal, or it answers as many callers as it takes): sign
    /// in as without it, at once. Why, for the log.
    NoApp(String),
}

/// Asks the app whose socket is in `dir` for a sign-in to `instance`.
pub async fn ask(dir: &Path, app: &AskApp, instance: &Instance) -> Outcome {
    #[cfg(unix)]
    {
        let request = Request {
            v: VERSION,
            start_url: instance.start_url().to_owned(),
            region: instance.region().to_owned(),
            program: app.program.clone().unwrap_or_else(super::caller_name),
            profile: match &app.wants {
                Wants::Profile(p) => Some(p.clone()),
                _ => None,
            },
            account: match &app.wants {
                Wants::Role { account, .. } => Some(account.clone()),
                _ => None,
            },
            role: match &app.wants {
                Wants::Role { role, .. } => Some(role.clone()),
                _ => None,
            },
        };
        unix::ask(dir, app, &request, || (app.on_waiting)(instance)).await
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, app, instance);
        Outcome::NoApp("sign-in requests need a Unix socket".into())
    }
}

#[cfg(unix)]
mod unix {
    use super::super::{own_uid, Reply, MAX_LINE, SOCKET};
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::UnixStream;

    pub(super) async fn ask(
        dir: &Path,
        app: &AskApp,
        request: &Request,
        on_waiting: impl FnOnce(),
    ) -> Outcome {
        let path = dir.join(SOCKET);
        let stream =
            match tokio::time::timeout(Duration::from_secs(2), UnixStream::connect(&path)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return Outcome::NoApp(format!("no app at {}: {e}", path.display())),
                Err(_) => {
                    return Outcome::NoApp(format!("the app at {} does not answer", path.display()))
                }
            };
        // Only an app of this user is asked (the directory is private: this is the
        // second lock on the door).
        match (stream.peer_cred(), own_uid()) {
            (Ok(peer), Ok(uid)) if peer.uid() == uid => {}
            _ => return Outcome::NoApp(format!("{} is not this user's app", path.display())),
        }
        let (read, mut write) = stream.into_split();
        let mut line = match serde_json::to_vec(request) {
            Ok(l) => l,
            Err(e) => return Outcome::NoApp(e.to_string()),
        };
        line.push(b'\n');
        // An app that is busy answers before it reads, and hangs up: its answer is read
        // even when the request could not be sent.
        let hung_up = write
            .write_all(&line)
            .await
            .err()
            .map(|e| format!("the app hung up: {e}"));
        let mut read = BufReader::new(read);
        let mut on_waiting = Some(on_waiting);
        let answers = async {
            loop {
                let mut line = String::new();
                match (&mut read).take(MAX_LINE).read_line(&mut line).await {
                    Ok(0) => {
                        return Outcome::NoApp(
                            hung_up.unwrap_or_else(|| "the app quit before the sign-in".into()),
                        )
                    }
                    Err(e) => {
                        return Outcome::NoApp(
                            hung_up.unwrap_or_else(|| format!("the app hung up: {e}")),
                        )
                    }
                    Ok(_) => {}
                }
                let reply: Reply = match serde_json::from_str(&line) {
                    Ok(r) => r,
                    Err(e) => {
                        return Outcome::NoApp(format!("the app's answer is not understood: {e}"))
                    }
                };
                match reply.answer {
                    Answer::Waiting => {
                        if let Some(f) = on_waiting.take() {
                            f();
                        }
                    }
                    Answer::Ready => return Outcome::Ready,
                    Answer::Declined => return Outcome::Declined,
                    Answer::Refused { reason } => return Outcome::NoApp(reason),
                    Answer::Busy => {
                        return Outcome::NoApp("the app is busy with other sign-in requests".into())
                    }
                }
            }
        };
        tokio::time::timeout(app.timeout, answers)
            .await
            .unwrap_or(Outcome::TimedOut)
    }
}
