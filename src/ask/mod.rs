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
//! {"v":1,"start_url":"https://acme.awsapps.com/start","region":"eu-west-1","program":"terraform","profile":"ops"}
//! ```
//!
//! with what the caller wants the sign-in for, where it says: a profile (`profile`), or
//! an account and a role (`account`, `role`). A caller that does not say is answered all
//! the same, and shown by its program alone.
//!
//! and the app answers `{"v":1,"answer":"waiting"}` while the person is being asked,
//! then once `ready`, `declined`, or `refused` (with a `reason`: the app cannot answer
//! this request, and the caller signs in as it would without the app). No secret crosses
//! it: a caller told `ready` reads the session from the keychain as it always does.
//!
//! An app that answers as many callers as it takes ([`MAX_CALLERS`]) answers the next
//! `{"v":1,"answer":"busy"}` at once, before reading its request, and hangs up: that
//! caller signs in as without the app, with no wait. (A caller that does not know `busy`
//! does the same with any answer it does not understand.)

mod client;
#[cfg(unix)]
mod server;

pub use client::{ask, AskApp, Outcome, Wants};
#[cfg(unix)]
pub use server::{serve, Accept, Connection, Listener, MAX_CALLERS};

#[cfg(unix)]
use crate::atomic_file::own_uid;
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
    /// The profile it wants credentials for, if it says (untrusted text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The account it wants credentials in, if it says (untrusted text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The role it wants credentials for, if it says (untrusted text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
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
    /// The app answers as many callers as it takes; sign in as without it, now.
    Busy,
}

/// One line on the wire: the version and the answer.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(not(unix), allow(dead_code))]
struct Reply {
    v: u32,
    #[serde(flatten)]
    answer: Answer,
}

/// [`calling_program`], else this program's own name: what to call the caller in words
/// for the person.
pub fn caller_name() -> String {
    calling_program().unwrap_or_else(|| "aws-sso-auth".to_owned())
}

/// How many processes above this one are looked at for the program the person knows.
const ANCESTORS: usize = 8;

/// Programs that only run another one, with a limit, a priority, a lock, another user or
/// its arguments: never what the person would name.
const WRAPPERS: &[&str] = &[
    "timeout", "env", "nice", "nohup", "xargs", "sudo", "ionice", "stdbuf", "setsid", "flock",
];

/// Shells: wrappers when they run a command line (`sh -c '…'`), not when the person
/// types into them.
const SHELLS: &[&str] = &["sh", "bash", "dash", "zsh", "ash"];

/// The program that runs this one, as the person knows it: the nearest process above
/// this one that is not only a wrapper for it (`timeout`, `env`, `sudo`, `sh -c`: tools
/// run `credential_process` in many ways). `None` where the system does not say, or
/// every process within a few levels up is a wrapper.
pub fn calling_program() -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        program_above(proc_ancestors())
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// The first of `ancestors` (nearest first, each its `comm` and its command line as the
/// kernel keeps it, arguments ended by NULs) that is not a wrapper, looking at no more
/// than [`ANCESTORS`] of them.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn program_above(ancestors: impl IntoIterator<Item = (String, Vec<u8>)>) -> Option<String> {
    ancestors
        .into_iter()
        .take(ANCESTORS)
        .find(|(comm, cmdline)| !is_wrapper(comm, cmdline))
        .map(|(comm, _)| comm)
}

/// Whether the process `comm`, run as `cmdline`, only runs another program.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn is_wrapper(comm: &str, cmdline: &[u8]) -> bool {
    WRAPPERS.contains(&comm)
        || (SHELLS.contains(&comm) && cmdline.split(|b| *b == 0).any(|a| a == b"-c"))
}

/// The processes above this one, nearest first, each its `comm` and command line, read
/// from `/proc` one at a time as they are asked for; they end where `/proc` does not say.
#[cfg(target_os = "linux")]
fn proc_ancestors() -> impl Iterator<Item = (String, Vec<u8>)> {
    let mut last: Option<u32> = None;
    std::iter::from_fn(move || {
        let pid = match last {
            None => std::os::unix::process::parent_id(),
            Some(child) => {
                parent_in_stat(&std::fs::read_to_string(format!("/proc/{child}/stat")).ok()?)?
            }
        };
        last = Some(pid);
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        Some((comm.trim_end().to_owned(), cmdline))
    })
}

/// The parent's id in a `/proc/PID/stat` line, `pid (comm) state ppid …` (the comm may
/// hold spaces and parentheses).
#[cfg(target_os = "linux")]
fn parent_in_stat(stat: &str) -> Option<u32> {
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
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

    #[test]
    fn what_a_request_is_for_is_optional_on_the_wire() {
        let request = |profile: Option<&str>| Request {
            v: VERSION,
            start_url: "https://a.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            program: "aws".into(),
            profile: profile.map(Into::into),
            account: None,
            role: None,
        };
        // An older caller's request, without it, is read as saying nothing.
        let old: Request = serde_json::from_str(
            r#"{"v":1,"start_url":"https://a.awsapps.com/start","region":"eu-west-1","program":"aws"}"#,
        )
        .unwrap();
        assert_eq!(old, request(None));
        assert_eq!(
            serde_json::to_string(&request(None)).unwrap(),
            r#"{"v":1,"start_url":"https://a.awsapps.com/start","region":"eu-west-1","program":"aws"}"#
        );
        let line = serde_json::to_string(&request(Some("ops"))).unwrap();
        assert!(
            line.ends_with(r#""program":"aws","profile":"ops"}"#),
            "{line}"
        );
        assert_eq!(
            serde_json::from_str::<Request>(&line).unwrap(),
            request(Some("ops"))
        );
    }

    #[test]
    fn busy_is_a_line_of_its_own() {
        let line = serde_json::to_string(&Reply {
            v: VERSION,
            answer: Answer::Busy,
        })
        .unwrap();
        assert_eq!(line, r#"{"v":1,"answer":"busy"}"#);
    }

    /// A process above this one: its `comm` and its arguments.
    fn process(comm: &str, args: &[&str]) -> (String, Vec<u8>) {
        let mut cmdline = Vec::new();
        for a in args {
            cmdline.extend_from_slice(a.as_bytes());
            cmdline.push(0);
        }
        (comm.to_owned(), cmdline)
    }

    #[test]
    fn the_program_above_a_timeout_is_named() {
        // `aws` runs `credential_process = timeout 5 aws-sso-auth credentials …`.
        let chain = vec![
            process("timeout", &["timeout", "5", "aws-sso-auth", "credentials"]),
            process("aws", &["/usr/bin/python3", "/usr/bin/aws", "s3", "ls"]),
            process("bash", &["-bash"]),
        ];
        assert_eq!(program_above(chain).as_deref(), Some("aws"));
    }

    #[test]
    fn every_wrapper_is_skipped() {
        let chain = vec![
            process(
                "sh",
                &["sh", "-c", "aws-sso-auth credentials --profile ops"],
            ),
            process("timeout", &["timeout", "30", "sh", "-c", "…"]),
            process("flock", &["flock", "/tmp/l", "timeout", "30", "…"]),
            process("xargs", &["xargs", "-P4", "flock", "/tmp/l", "…"]),
            process("env", &["env", "AWS_PROFILE=ops", "xargs", "…"]),
            process("nice", &["nice", "env", "…"]),
            process("nohup", &["nohup", "nice", "…"]),
            process("terraform", &["terraform", "apply"]),
        ];
        assert_eq!(program_above(chain).as_deref(), Some("terraform"));
        for wrapper in WRAPPERS {
            let chain = vec![
                process(wrapper, &[wrapper, "…"]),
                process("make", &["make"]),
            ];
            assert_eq!(program_above(chain).as_deref(), Some("make"), "{wrapper}");
        }
    }

    #[test]
    fn the_walk_up_stops_after_a_few_levels() {
        let wrappers = |n: usize| {
            let mut chain: Vec<_> = (0..n).map(|_| process("env", &["env", "…"])).collect();
            chain.push(process("aws", &["aws"]));
            chain
        };
        assert_eq!(
            program_above(wrappers(ANCESTORS - 1)).as_deref(),
            Some("aws")
        );
        assert_eq!(program_above(wrappers(ANCESTORS)), None);
        // A chain that never ends is read no further than that.
        let endless = std::iter::repeat_with(|| process("nice", &["nice", "…"]));
        assert_eq!(program_above(endless), None);
        assert_eq!(program_above(Vec::new()), None);
    }

    #[test]
    fn a_shell_is_a_wrapper_only_when_it_runs_a_command_line() {
        let above =
            |shell: (String, Vec<u8>)| program_above(vec![shell, process("make", &["make"])]);
        for shell in SHELLS {
            assert_eq!(
                above(process(shell, &[shell, "-c", "aws-sso-auth …"])).as_deref(),
                Some("make")
            );
            // The one the person types into.
            assert_eq!(above(process(shell, &[shell])).as_deref(), Some(*shell));
            assert_eq!(
                above(process(shell, &["-bash", "-l"])).as_deref(),
                Some(*shell)
            );
        }
        assert_eq!(
            above(process("fish", &["fish", "-c", "…"])).as_deref(),
            Some("fish")
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_parent_is_read_from_a_stat_line() {
        assert_eq!(parent_in_stat("42 (a) b) S 7 42 42 0"), Some(7));
        assert_eq!(parent_in_stat("42 (x"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_calling_program_is_named() {
        // The test harness runs this test; its own process is the parent's child.
        assert!(calling_program().is_some_and(|p| !p.is_empty()));
    }
}
