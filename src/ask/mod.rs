//! Sign-in requests from the user's other processes to the running app.
//!
//! When a command needs a sign-in and the app runs, it asks the app instead of starting
//! a flow of its own that nobody may see: the app tells the person (one notification and
//! its window, however many processes ask), and every caller goes on once the person has
//! signed in, or fails with one sentence when they decline.
//!
//! The channel is a Unix socket, `sign-in.sock` in the user's runtime directory (mode
//! 0700), and each side checks that the other runs as the same user. Each message is one
//! line of JSON with a version, `v`. The caller sends one request:
//!
//! ```json
//! {"v":1,"start_url":"https://acme.awsapps.com/start","region":"eu-west-1","program":"terraform"}
//! ```
//!
//! and the app answers `{"v":1,"answer":"waiting"}` while the person is being asked,
//! then once `ready`, `declined`, or `refused` (with a `reason`: the app cannot answer
//! this request, and the caller signs in as it would without the app). No secret crosses
//! it: a caller told `ready` reads the session from the keychain as it always does.

mod client;
#[cfg(unix)]
mod server;

pub use client::{ask, AskApp, Outcome};
#[cfg(unix)]
pub use server::{Connection, Listener};

use serde::{Deserialize, Serialize};

/// The version of the protocol this build speaks.
pub const VERSION: u32 = 1;

/// The socket's name in the runtime directory.
pub const SOCKET: &str = "sign-in.sock";

/// The longest line either side reads.
#[cfg(unix)]
const MAX_LINE: u64 = 4096;

/// A caller's request: a sign-in to this access portal, for this program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The protocol version.
    pub v: u32,
    /// The access portal's start URL.
    pub start_url: String,
    /// Its region.
    pub region: String,
    /// The program the person would recognise as asking (`terraform`, `aws`).
    pub program: String,
}

/// What the app answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    /// The person is being asked; the final answer follows.
    Waiting,
    /// Signed in: read the session again.
    Ready,
    /// The person said no.
    Declined,
    /// The app cannot answer this request; sign in as without it.
    Refused {
        /// Why, as a sentence for the log.
        reason: String,
    },
}

/// One line on the wire: the version and the answer.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(not(unix), allow(dead_code))]
struct Reply {
    v: u32,
    #[serde(flatten)]
    answer: Answer,
}

/// The user id this process runs as, from the kernel's own answer about a socket pair
/// (no unsafe call needed).
#[cfg(unix)]
fn own_uid() -> std::io::Result<u32> {
    let (a, _b) = tokio::net::UnixStream::pair()?;
    Ok(a.peer_cred()?.uid())
}

/// [`calling_program`], else this program's own name: what to call the caller in words
/// for the person.
pub fn caller_name() -> String {
    calling_program().unwrap_or_else(|| "aws-sso-auth".to_owned())
}

/// The program that runs this one, as the person knows it: the parent, or above a
/// `sh -c` the parent is only a wrapper for (tools run `credential_process` both ways).
/// `None` where the system does not say.
pub fn calling_program() -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        let mut pid = std::os::unix::process::parent_id();
        for _ in 0..4 {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            let comm = comm.trim_end().to_owned();
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let wrapper = matches!(comm.as_str(), "sh" | "bash" | "dash" | "zsh" | "ash")
                && cmdline.split(|b| *b == 0).any(|a| a == b"-c");
            if !wrapper {
                return Some(comm);
            }
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // `pid (comm) state ppid …`: the comm may hold spaces and parentheses.
            pid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
        }
        None
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_tagged_lines() {
        let line = serde_json::to_string(&Reply {
            v: VERSION,
            answer: Answer::Refused {
                reason: "why".into(),
            },
        })
        .unwrap();
        assert_eq!(line, r#"{"v":1,"answer":"refused","reason":"why"}"#);
        let back: Reply = serde_json::from_str(r#"{"v":1,"answer":"ready"}"#).unwrap();
        assert_eq!(back.answer, Answer::Ready);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_calling_program_is_named() {
        // The test harness runs this test; its own process is the parent's child.
        assert!(calling_program().is_some_and(|p| !p.is_empty()));
    }
}
