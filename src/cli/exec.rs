//! `exec`: runs a command with credentials served from memory, renewed while it runs.
//!
//! The command finds the credentials where the AWS SDKs look for a container's
//! (`AWS_CONTAINER_CREDENTIALS_FULL_URI`, `AWS_CONTAINER_AUTHORIZATION_TOKEN`), served by
//! AWS SSO Tray when it runs, else by this process for as long as the command runs.

use super::args::ExecArgs;
use aws_sso_device_auth_provider::display;
use aws_sso_device_auth_provider::secret::Secret;
use aws_sso_device_auth_provider::serve::exec::{self as wire, Asked, Request, Target};
use aws_sso_device_auth_provider::workspace::{ExecRequest, RoleTarget, Serving, Workspace};
use aws_sso_device_auth_provider::{Error, Instance};
use std::ffi::OsString;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Set in the command's environment: the role it runs as, and the mark of a nested `exec`.
pub const EXEC_VARIABLE: &str = "AWS_SSO_AUTH_EXEC";

/// What would be read before the endpoint, and is taken out of the command's environment:
/// keys, a profile, another container endpoint, a web identity.
const SHADOWING: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CREDENTIAL_EXPIRATION",
];

/// Exit status when the command cannot be found, as shells use.
const EXIT_NOT_FOUND: u8 = 127;

/// Exit status when the command cannot be run, as shells use.
const EXIT_NOT_RUN: u8 = 126;

/// Where the command's credentials come from, while it runs.
enum Server {
    /// The app: the connection it watches (hung up when this process ends).
    App(wire::AppLink),
    /// This process: the workspace whose endpoint serves (dropped when the command ends).
    Here(Workspace, Serving),
}

pub async fn exec(args: ExecArgs, no_app: bool, sign_in_timeout: Duration) -> ExitCode {
    match prepare(args, no_app, sign_in_timeout).await {
        Ok((command, env, server)) => run(command, env, server).await,
        Err(e) => {
            super::report(&e);
            if e.needs_sign_in() {
                ExitCode::from(super::EXIT_SIGN_IN_REQUIRED)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// What the command's environment gains, and loses, and what to say of it.
struct Environment {
    set: Vec<(&'static str, Secret)>,
    removed: Vec<&'static str>,
    notes: Vec<String>,
}

/// A file that is always empty, for a command that must read no credentials file.
const NO_FILE: &str = if cfg!(windows) { "NUL" } else { "/dev/null" };

async fn prepare(
    args: ExecArgs,
    no_app: bool,
    sign_in_timeout: Duration,
) -> Result<(Vec<OsString>, Environment, Server), Error> {
    if let Some(outer) = std::env::var_os(EXEC_VARIABLE).filter(|_| !args.nested) {
        return Err(Error::ExecNested {
            outer: outer.to_string_lossy().into_owned(),
        });
    }
    let world = super::open().await?;
    super::note_overrides(&world);
    let credentials_file = world.credentials_file().to_owned();
    let target = super::role_target(&world, &args.whose, &args.instance)?;
    let (instance, own_region) = world.instance_and_region(&target)?;
    let region = match &args.region {
        Some(r) => Some(aws_sso_device_auth_provider::instance::validate_region(r)?),
        None => own_region,
    };
    let label = match &target {
        RoleTarget::Favourite(p) => p.clone(),
        RoleTarget::Role {
            account_id,
            role_name,
            ..
        } => format!("{account_id}/{role_name}"),
    };
    let program = args
        .command
        .first()
        .map(|c| {
            std::path::Path::new(c)
                .file_name()
                .unwrap_or(c)
                .to_string_lossy()
                .into_owned()
        })
        .unwrap_or_default();
    let margin = Duration::from_secs(args.margin);
    let read_before = world
        .files_read_before_the_endpoint()
        .await
        .unwrap_or_else(|e| {
            super::warn("the AWS files could not be read", &e);
            Vec::new()
        });
    let asked = match world.paths().runtime_dir() {
        Some(dir) if !no_app => {
            let request = Request {
                v: wire::VERSION,
                program: program.clone(),
                margin_seconds: args.margin,
                target: match &target {
                    RoleTarget::Favourite(p) => Target::Favourite { profile: p.clone() },
                    RoleTarget::Role {
                        instance,
                        account_id,
                        role_name,
                    } => Target::Role {
                        start_url: instance.start_url().to_owned(),
                        region: instance.region().to_owned(),
                        account: account_id.clone(),
                        role: role_name.clone(),
                    },
                },
            };
            wire::ask(dir, &request).await
        }
        _ => Asked::NoApp("not asked".into()),
    };
    let (url, token, server) = match asked {
        Asked::Serving { url, token, app } => {
            tracing::info!("AWS SSO Tray serves the command's credentials");
            ready_at(&url, &token, &instance, sign_in_timeout).await?;
            (url, token, Server::App(app))
        }
        Asked::NoApp(why) => {
            tracing::info!(%why, "serving the command's credentials here");
            let request = ExecRequest {
                target,
                program,
                margin,
            };
            let serving = world.serve_command(request, false).await?;
            let (url, token) = (serving.grant.url.clone(), serving.grant.token.clone());
            (url, token, Server::Here(world, serving))
        }
    };
    let mut set = vec![
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", Secret::new(url)),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", token),
        (EXEC_VARIABLE, Secret::new(label)),
    ];
    if let Some(r) = region {
        set.push(("AWS_REGION", Secret::new(r.clone())));
        set.push(("AWS_DEFAULT_REGION", Secret::new(r)));
    }
    let removed = SHADOWING
        .iter()
        .copied()
        .filter(|v| std::env::var_os(v).is_some())
        .collect();
    let mut notes = Vec::new();
    for file in read_before {
        let shown = display::text(&file.to_string_lossy()).into_owned();
        if file.as_path() == credentials_file.as_path() {
            // Keys in [default] there win over the endpoint in every SDK; the command
            // reads no credentials file instead (a profile it names goes with it).
            set.push(("AWS_SHARED_CREDENTIALS_FILE", Secret::new(NO_FILE)));
            notes.push(format!(
                "the command reads no credentials file (AWS_SHARED_CREDENTIALS_FILE={NO_FILE}): the keys of [default] in {shown} would be read before the served credentials."
            ));
        } else {
            notes.push(format!(
                "warning: [default] in {shown} sets credentials that the AWS SDKs read before the served ones; move them to a named profile for the command to use the served credentials."
            ));
        }
    }
    Ok((
        args.command,
        Environment {
            set,
            removed,
            notes,
        },
        server,
    ))
}

/// Waits until the app serves credentials at `url`: at once while the session is good;
/// while the person signs in in the tray (asked by the app at the first request), up to
/// `timeout`.
async fn ready_at(
    url: &str,
    token: &Secret,
    instance: &Instance,
    timeout: Duration,
) -> Result<(), Error> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| Error::ExecNotServed {
            reason: e.to_string(),
        })?;
    let started = Instant::now();
    let mut said = false;
    loop {
        let answer = client
            .get(url)
            .header("Authorization", token.expose())
            .send()
            .await;
        let (status, body) = match answer {
            Ok(r) => (r.status(), r.text().await.unwrap_or_default()),
            Err(e) => {
                return Err(Error::ExecNotServed {
                    reason: e.without_url().to_string(),
                })
            }
        };
        if status.is_success() {
            return Ok(());
        }
        let (code, message) = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .map(|j| {
                let text = |k: &str| {
                    j.get(k)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_owned()
                };
                (text("code"), text("message"))
            })
            .unwrap_or_default();
        match code.as_str() {
            "SignInRequired" => {}
            "SignInDeclined" => {
                return Err(Error::SignInDeclined {
                    instance: instance.clone(),
                })
            }
            _ => return Err(Error::ExecNotServed { reason: message }),
        }
        if started.elapsed() >= timeout {
            return Err(Error::SignInNotAnswered {
                instance: instance.clone(),
                waited: timeout,
            });
        }
        if !said {
            eprintln!(
                "aws-sso-auth: {}; waiting up to {} s.",
                display::text(&message),
                timeout.as_secs()
            );
            said = true;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn run(command: Vec<OsString>, env: Environment, server: Server) -> ExitCode {
    if !env.removed.is_empty() {
        eprintln!(
            "aws-sso-auth: removed {} from the command's environment: they would be read before the served credentials.",
            env.removed.join(", ")
        );
    }
    for note in &env.notes {
        eprintln!("aws-sso-auth: {note}");
    }
    let Some((program, args)) = command.split_first() else {
        return ExitCode::FAILURE;
    };
    let mut child = tokio::process::Command::new(program);
    child.args(args);
    for v in &env.removed {
        child.env_remove(v);
    }
    for (k, v) in &env.set {
        child.env(k, v.expose());
    }
    let mut child = match child.spawn() {
        Ok(c) => c,
        Err(e) => {
            let name = program.to_string_lossy();
            let shown = display::text(&name);
            eprintln!("aws-sso-auth: cannot run {shown}: {e}");
            return ExitCode::from(if e.kind() == std::io::ErrorKind::NotFound {
                EXIT_NOT_FOUND
            } else {
                EXIT_NOT_RUN
            });
        }
    };
    // Said once, while the command runs, when the app stops serving it. The connection
    // to the app, or this process's endpoint, is kept until the command ends: hanging up
    // tells the app the command ended.
    let watching = match server {
        Server::App(mut app) => tokio::spawn(async move {
            if let Some(reason) = app.ended().await {
                eprintln!("aws-sso-auth: {}", display::text(&reason));
            }
            std::future::pending::<()>().await;
        }),
        Server::Here(world, serving) => tokio::spawn(async move {
            let _serving = (world, serving);
            std::future::pending::<()>().await;
        }),
    };
    let status = signals::wait_forwarding(&mut child).await;
    watching.abort();
    match status {
        Ok(s) => exit_code(s),
        Err(e) => {
            eprintln!("aws-sso-auth: lost the command: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The command's exit status as this process's: its code, or 128 and the signal that
/// ended it, as shells report it.
fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    if let Some(code) = status.code() {
        return ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1));
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return ExitCode::from(u8::try_from(128 + (signal & 0x7f)).unwrap_or(1));
        }
    }
    ExitCode::FAILURE
}

#[cfg(unix)]
mod signals {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    use tokio::signal::unix::{signal, SignalKind};

    /// Waits for `child`, passing on the signals sent to this process. Those a terminal
    /// sends to its whole foreground group (Ctrl-C, Ctrl-\) already reached the command
    /// when this process is in that group: they are not sent twice.
    pub(super) async fn wait_forwarding(
        child: &mut tokio::process::Child,
    ) -> std::io::Result<std::process::ExitStatus> {
        let pid = child
            .id()
            .and_then(|p| i32::try_from(p).ok())
            .map(Pid::from_raw);
        let kinds = [
            (SignalKind::interrupt(), Signal::SIGINT, true),
            (SignalKind::quit(), Signal::SIGQUIT, true),
            (SignalKind::terminate(), Signal::SIGTERM, false),
            (SignalKind::hangup(), Signal::SIGHUP, false),
            (SignalKind::user_defined1(), Signal::SIGUSR1, false),
            (SignalKind::user_defined2(), Signal::SIGUSR2, false),
        ];
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut listeners = Vec::new();
        for (kind, sig, from_terminal) in kinds {
            let Ok(mut stream) = signal(kind) else {
                continue;
            };
            let tx = tx.clone();
            listeners.push(tokio::spawn(async move {
                while stream.recv().await.is_some() {
                    if tx.send((sig, from_terminal)).is_err() {
                        return;
                    }
                }
            }));
        }
        let status = loop {
            tokio::select! {
                status = child.wait() => break status,
                Some((sig, from_terminal)) = rx.recv() => {
                    if from_terminal && in_terminal_foreground() {
                        continue;
                    }
                    if let Some(pid) = pid {
                        let _ = kill(pid, sig);
                    }
                }
            }
        };
        for l in listeners {
            l.abort();
        }
        status
    }

    /// Whether this process is in the foreground group of the terminal on its standard
    /// input (where Ctrl-C reaches every process of the group).
    fn in_terminal_foreground() -> bool {
        nix::unistd::tcgetpgrp(std::io::stdin()).is_ok_and(|g| g == nix::unistd::getpgrp())
    }
}

#[cfg(not(unix))]
mod signals {
    pub(super) async fn wait_forwarding(
        child: &mut tokio::process::Child,
    ) -> std::io::Result<std::process::ExitStatus> {
        child.wait().await
    }
}
