//! `login` and `logout`.

use super::args::InstanceArgs;
use aws_sso_device_auth_provider::clock::rfc3339;
use aws_sso_device_auth_provider::display;
use aws_sso_device_auth_provider::workspace::{BrowserOutcome, Event, Workspace};
use aws_sso_device_auth_provider::{Error, Instance, SignInFlow};

pub async fn login(
    start_url: &str,
    region: &str,
    no_browser: bool,
    device_code: bool,
    pkce: bool,
) -> Result<(), Error> {
    let instance = Instance::new(start_url, region)?;
    let world = super::open_with(!no_browser).await?;
    super::note_overrides(&world);
    let flow = match (device_code, pkce) {
        (true, _) => Some(SignInFlow::Device),
        (_, true) => Some(SignInFlow::Pkce),
        // No browser here: the preference's flow as if none could reach this machine.
        _ if no_browser => Some(world.settings().preferences.sign_in_flow.resolve(false)),
        _ => None,
    };
    eprintln!("Signing in to {instance}.");
    let printer = print_sign_in_codes(&world, Seen::Terminal);
    let session = world.sign_in(&instance, flow).await;
    printer.abort();
    let session = session?;
    // The other commands use it from now on.
    world.add_instance(instance, None).await?;
    let renew = if session.renewable {
        "it renews itself with its refresh token"
    } else {
        "sign in again then"
    };
    eprintln!(
        "Signed in. The session token is valid until {} ({renew}).",
        rfc3339(session.expires_at)
    );
    Ok(())
}

pub async fn logout(args: &InstanceArgs) -> Result<(), Error> {
    let world = super::open().await?;
    super::note_overrides(&world);
    let instance = super::instance(&world, args)?;
    let signed_out = world.sign_out(&instance).await?;
    eprintln!("Signed out of {instance}.");
    if !signed_out.removed_profiles.is_empty() {
        eprintln!(
            "Removed {} profiles of favourites.",
            signed_out.removed_profiles.len()
        );
    }
    signed_out.cleanup_error.map_or(Ok(()), Err)
}

/// Where a sign-in code must be seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The person runs the command: the terminal is enough.
    Terminal,
    /// A tool runs it, maybe in the background: also a desktop notification, where
    /// there is a desktop.
    Notify,
}

/// Prints each sign-in code (and whether the browser opened) as it comes, while the
/// returned task runs: for the commands that may sign in.
pub fn print_sign_in_codes(world: &Workspace, seen: Seen) -> tokio::task::JoinHandle<()> {
    let mut events = world.subscribe();
    let desktop = seen == Seen::Notify
        && aws_sso_device_auth_provider::notice::desktop_session(|k| std::env::var(k).ok());
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(Event::SignInCode {
                    instance,
                    code,
                    browser,
                }) => {
                    if desktop {
                        let (i, c) = (instance.clone(), code.clone());
                        tokio::task::spawn_blocking(move || notify_code(&i, &c));
                    }
                    let url = display::text(&code.url);
                    match &code.user_code {
                        Some(user_code) => {
                            eprintln!("Open {url}");
                            eprintln!(
                                "and check that it shows this code: {}",
                                display::text(user_code)
                            );
                        }
                        None => {
                            eprintln!("Approve the sign-in in your browser:");
                            eprintln!("{url}");
                        }
                    }
                    match browser {
                        BrowserOutcome::NotAsked => continue,
                        BrowserOutcome::Opened => {}
                        BrowserOutcome::Failed(e) => {
                            eprintln!("({e}; open the address above yourself)")
                        }
                        BrowserOutcome::Refused(why) => eprintln!(
                            "(AWS sent a sign-in address that was not opened: {why}; check the endpoint settings, and open it only if it is your organisation's AWS sign-in page)"
                        ),
                    }
                    eprintln!("Waiting for approval…");
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    })
}

/// The code as a desktop notification, naming the program that asked: a failure is
/// only logged (the terminal has it too).
fn notify_code(instance: &Instance, code: &aws_sso_device_auth_provider::workspace::SignInCode) {
    let program = aws_sso_device_auth_provider::ask::caller_name();
    let summary = format!("{program} needs AWS sign-in for {instance}");
    let body = match &code.user_code {
        Some(user_code) => format!(
            "Open {} and check that it shows the code {user_code}.",
            code.url
        ),
        None => format!("Approve the sign-in in your browser: {}", code.url),
    };
    if let Err(e) = aws_sso_device_auth_provider::notice::show(&summary, &body) {
        tracing::info!(error = %e, "no desktop notification of the sign-in code");
    }
}
