//! `daemon`: keeps every favourite's profile fresh without a GUI, until Ctrl-C or SIGTERM.

use aws_sso_device_auth_provider::clock::rfc3339;
use aws_sso_device_auth_provider::workspace::{Event, SessionPhase};
use aws_sso_device_auth_provider::Error;

pub async fn daemon() -> Result<(), Error> {
    let world = super::open().await?;
    super::note_overrides(&world);
    let mut events = world.subscribe();
    say(&format!(
        "Keeping favourites fresh in {}; stop with Ctrl-C.",
        world.credentials_file().display()
    ));
    world.keep_fresh().await;
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        let event = tokio::select! {
            _ = &mut stop => break,
            event = events.recv() => event,
        };
        let now = rfc3339(world.now());
        let line = match event {
            Ok(Event::ProfileWritten {
                profile,
                expires_at,
            }) => format!("profile {profile} renewed, valid until {}", rfc3339(expires_at)),
            Ok(Event::RenewalFailed {
                profile,
                message,
                retry_at,
                ..
            }) => {
                let what = profile.map_or("the session".to_owned(), |p| format!("profile {p}"));
                format!("renewing {what} failed: {message} (next try {})", rfc3339(retry_at))
            }
            Ok(Event::Session { instance, phase }) => match phase {
                SessionPhase::SignedIn => {
                    let until = world
                        .status()
                        .instance(&instance)
                        .and_then(|i| i.expires_at)
                        .map(rfc3339)
                        .unwrap_or_default();
                    format!("signed in to {instance}; the session token is valid until {until}")
                }
                SessionPhase::SignedOut | SessionPhase::NeedsSignIn => format!(
                    "no session with {instance}; sign in with: aws-sso-auth login --start-url {} --sso-region {} (renewal resumes by itself)",
                    instance.start_url(),
                    instance.region()
                ),
                SessionPhase::SigningIn => continue,
            },
            Ok(Event::Renewing { instance, margins }) => format!(
                "renewing {instance}: the session {} min and profiles {} min before they expire",
                margins.token.as_secs() / 60,
                margins.credentials.as_secs() / 60
            ),
            Ok(Event::Stopped { instance }) => format!(
                "stopped renewing {instance}: it is no longer the default, and no favourite uses it"
            ),
            Ok(Event::SettingsEntrySkipped(e)) => format!("skipped: {e}"),
            Ok(Event::SettingsReloaded) => {
                let settings = world.settings();
                let names: Vec<&str> = settings
                    .favourites
                    .iter()
                    .map(|f| f.profile.as_str())
                    .collect();
                format!(
                    "settings read again; favourites: {}",
                    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
                )
            }
            Ok(Event::Resumed { slept }) => {
                format!("resumed after {} s; renewing what came due", slept.as_secs())
            }
            _ => continue,
        };
        say(&format!("{now} {line}"));
    }
    say("Stopped.");
    Ok(())
}

/// One line of the log on stderr (what a service said in it shown, never acted on); a
/// closed stderr (the terminal went away) stops nothing.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "{}",
        aws_sso_device_auth_provider::display::text(line)
    );
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
