//! `status`: each session and each favourite's profile, from the keychain and the files.

use aws_sso_device_auth_provider::clock::rfc3339;
use aws_sso_device_auth_provider::display;
use aws_sso_device_auth_provider::workspace::{words, SessionPhase, Status};
use aws_sso_device_auth_provider::Error;
use serde_json::json;

pub async fn status(json: bool) -> Result<(), Error> {
    let world = super::open().await?;
    world.check_sessions().await?;
    let status = world.status();
    let now = world.now();
    if json {
        let sessions: Vec<_> = status
            .instances
            .iter()
            .map(|i| {
                json!({
                    "startUrl": i.settings.instance.start_url(),
                    "region": i.settings.instance.region(),
                    "signedIn": i.phase == SessionPhase::SignedIn,
                    "expiresAt": i.expires_at.map(rfc3339),
                    "renewable": i.expires_at.map(|_| i.renewable),
                    "state": status.session_line(Some(i), now, words::local_clock).text,
                })
            })
            .collect();
        let favourites: Vec<_> = status
            .favourites
            .iter()
            .map(|f| {
                json!({
                    "profile": f.favourite.profile.as_str(),
                    "accountId": f.favourite.account_id,
                    "roleName": f.favourite.role_name,
                    "startUrl": f.favourite.instance.start_url(),
                    "expiresAt": f.expires_at.map(rfc3339),
                    "valid": f.expires_at.is_some_and(|t| t > now),
                    "state": status.favourite_line(f, now, words::local_clock).text,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({ "sessions": sessions, "favourites": favourites })
            )
            .unwrap_or_default()
        );
        return Ok(());
    }
    for e in world.skipped_settings() {
        super::warn("skipped", &e);
    }
    if status.instances.is_empty() {
        println!("No AWS SSO instance yet; sign in with: aws-sso-auth login --start-url URL --sso-region REGION");
    }
    // The same words as the tray and the window, made by the workspace.
    for i in &status.instances {
        let line = status.session_line(Some(i), now, words::local_clock);
        println!("{}: {}", i.settings.instance, line.text);
    }
    for f in &status.favourites {
        let line = status.favourite_line(f, now, words::local_clock);
        println!(
            "  {}  {}/{}  {}",
            f.favourite.profile.as_str(),
            f.favourite.account_id,
            display::text(&f.favourite.role_name),
            line.text
        );
    }
    for p in &status.one_off {
        let line = Status::one_off_line(p, now, words::local_clock);
        println!(
            "  {}  (written once)  {}",
            display::text(&p.profile),
            line.text
        );
    }
    Ok(())
}
