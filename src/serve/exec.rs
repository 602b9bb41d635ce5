//! `aws-sso-auth exec` asks the running app to serve its command's credentials.
//!
//! The channel is the Unix socket `exec.sock` in the user's runtime directory, guarded
//! as the sign-in requests' socket is ([`crate::ask`]: a private directory, the peer's
//! user checked on both sides). `exec` sends one line:
//!
//! ```json
//! {"v":1,"program":"k9s","margin_seconds":960,"profile":"ops"}
//! ```
//!
//! (or, for a role that is not a favourite, `start_url`, `region`, `account` and `role`
//! instead of `profile`). The app answers one line, `serving` with the grant's address
//! and token, or `refused` with a reason (then `exec` serves by itself), or `busy`. It
//! keeps the connection for as long as the command runs: when `exec` hangs up (its
//! command ended, or it was killed), the grant is forgotten. When the person ends the
//! session or signs out, the app says `ended`, with the reason, and the command's next
//! request is refused with it.
//!
//! The token crosses this socket, and only this one: it is the same user's, and the
//! token only opens the app's loopback endpoint.

use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// The protocol version this build speaks.
pub const VERSION: u32 = 1;

/// The socket's name in the runtime directory.
pub const SOCKET: &str = "exec.sock";

/// The longest line read.
#[cfg(unix)]
const MAX_LINE: u64 = 4096;

/// What `exec` asks the app to serve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The protocol version.
    pub v: u32,
    /// The command it runs, as the person would name it (untrusted text).
    pub program: String,
    /// Credentials served have more than this left, in seconds.
    pub margin_seconds: u64,
    /// Whose credentials.
    #[serde(flatten)]
    pub target: Target,
}

/// Whose credentials, on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Target {
    /// A favourite's, by its profile name.
    Favourite {
        /// The profile name.
        profile: String,
    },
    /// A role of an account of an access portal.
    Role {
        /// The access portal's start URL.
        start_url: String,
        /// Its region.
        region: String,
        /// The account id.
        account: String,
        /// The role name.
        role: String,
    },
}

/// What the app answers. (No `Debug`: it may hold the token.)
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    /// Served at `url`, with `token`.
    Serving {
        /// `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
        url: String,
        /// `AWS_CONTAINER_AUTHORIZATION_TOKEN` (a secret: wrapped as one once read).
        token: String,
    },
    /// Not served by the app: why (serve by itself).
    Refused {
        /// A sentence.
        reason: String,
    },
    /// The app serves no more now (serve by itself).
    Busy,
    /// Serving ended, for this reason (said once the command runs).
    Ended {
        /// A sentence.
        reason: String,
    },
}

/// One line on the wire: the version and the answer.
#[derive(Serialize, Deserialize)]
pub struct Reply {
    /// The protocol version.
    pub v: u32,
    /// The answer.
    #[serde(flatten)]
    pub answer: Answer,
}

impl Reply {
    /// `answer` in this build's version.
    pub fn new(answer: Answer) -> Self {
        Self { v: VERSION, answer }
    }
}

/// How an ask ended.
#[derive(Debug)]
pub enum Asked {
    /// The app serves: its address and token, and the connection to keep open for as
    /// long as the command runs (it says when serving ends).
    Serving {
        /// `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
        url: String,
        /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
        token: Secret,
        /// The rest of the app's lines.
        app: AppLink,
    },
    /// No app serves: why (for the log).
    NoApp(String),
}

/// The open connection to the app that serves a command.
#[derive(Debug)]
pub struct AppLink {
    #[cfg(unix)]
    read: tokio::io::BufReader<tokio::net::unix::OwnedReadHalf>,
    #[cfg(unix)]
    _write: tokio::net::unix::OwnedWriteHalf,
}

impl AppLink {
    /// Why the app ended serving, when it does; `None` when the app went away (quit):
    /// the command's next request then finds nobody at the address.
    pub async fn ended(&mut self) -> Option<String> {
        #[cfg(unix)]
        {
            use tokio::io::{AsyncBufReadExt, AsyncReadExt};
            loop {
                let mut line = String::new();
                match (&mut self.read).take(MAX_LINE).read_line(&mut line).await {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
                if let Ok(Reply {
                    answer: Answer::Ended { reason },
                    ..
                }) = serde_json::from_str(&line)
                {
                    return Some(reason);
                }
            }
        }
        #[cfg(not(unix))]
        None
    }
}

/// Asks the app whose socket is in `dir` to serve `request`.
pub async fn ask(dir: &Path, request: &Request) -> Asked {
    #[cfg(unix)]
    {
        unix::ask(dir, request).await
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, request);
        Asked::NoApp("the app is asked over a Unix socket".into())
    }
}

#[cfg(unix)]
mod unix {
    use super::*;
    use crate::atomic_file::own_uid;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::UnixStream;

    /// How long the app has to connect and answer: it answers at once.
    const ANSWER_WITHIN: Duration = Duration::from_secs(5);

    pub(super) async fn ask(dir: &Path, request: &Request) -> Asked {
        let path = dir.join(SOCKET);
        let stream = match tokio::time::timeout(ANSWER_WITHIN, UnixStream::connect(&path)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Asked::NoApp(format!("no app at {}: {e}", path.display())),
            Err(_) => {
                return Asked::NoApp(format!("the app at {} does not answer", path.display()))
            }
        };
        match (stream.peer_cred(), own_uid()) {
            (Ok(peer), Ok(uid)) if peer.uid() == uid => {}
            _ => return Asked::NoApp(format!("{} is not this user's app", path.display())),
        }
        let (read, mut write) = stream.into_split();
        let mut line = match serde_json::to_vec(request) {
            Ok(l) => l,
            Err(e) => return Asked::NoApp(e.to_string()),
        };
        line.push(b'\n');
        // A busy app answers before it reads and hangs up: read its answer all the same.
        let _ = write.write_all(&line).await;
        let mut read = BufReader::new(read);
        let mut answer = String::new();
        let got = tokio::time::timeout(
            ANSWER_WITHIN,
            (&mut read).take(MAX_LINE).read_line(&mut answer),
        )
        .await;
        match got {
            Ok(Ok(n)) if n > 0 => {}
            Ok(_) => return Asked::NoApp("the app hung up".into()),
            Err(_) => return Asked::NoApp("the app did not answer in time".into()),
        }
        match serde_json::from_str::<Reply>(&answer) {
            Ok(Reply {
                answer: Answer::Serving { url, token },
                ..
            }) => Asked::Serving {
                url,
                token: Secret::new(token),
                app: AppLink {
                    read,
                    _write: write,
                },
            },
            Ok(Reply {
                answer: Answer::Refused { reason } | Answer::Ended { reason },
                ..
            }) => Asked::NoApp(reason),
            Ok(Reply {
                answer: Answer::Busy,
                ..
            }) => Asked::NoApp("the app serves as many commands as it takes".into()),
            Err(e) => Asked::NoApp(format!("the app's answer is not understood: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_name_a_favourite_or_a_role() {
        let line = serde_json::to_string(&Request {
            v: VERSION,
            program: "k9s".into(),
            margin_seconds: 960,
            target: Target::Favourite {
                profile: "ops".into(),
            },
        })
        .expect("json");
        assert_eq!(
            line,
            r#"{"v":1,"program":"k9s","margin_seconds":960,"profile":"ops"}"#
        );
        let role: Request = serde_json::from_str(
            r#"{"v":1,"program":"k9s","margin_seconds":60,"start_url":"https://a.awsapps.com/start","region":"eu-west-1","account":"111122223333","role":"Dev"}"#,
        )
        .expect("parses");
        assert!(matches!(role.target, Target::Role { ref role, .. } if role == "Dev"));
    }

    #[test]
    fn the_busy_line_of_the_sign_in_channel_is_understood() {
        let reply: Reply = serde_json::from_str(r#"{"v":1,"answer":"busy"}"#).expect("parses");
        assert!(matches!(reply.answer, Answer::Busy));
    }
}
