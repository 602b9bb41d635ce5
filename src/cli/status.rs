//! `status`: each session and each favourite's profile, from the keychain and the files.

use aws_sso_device_auth_provider::clock::rfc3339;
use aws_sso_device_auth_provider::display;
use aws_sso_device_auth_provider::workspace::SessionPhase;
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
    for i in &status.instances {
        let state = match (i.phase, i.expires_at) {
            (SessionPhase::SignedIn, Some(t)) if t > now && i.renewable => {
                format!(
                    "signed in, token valid until {} (renews itself)",
                    rfc3339(t)
                )
            }
            (SessionPhase::SignedIn, Some(t)) if t > now => {
                format!("signed in until {}", rfc3339(t))
            }
            (SessionPhase::SignedIn, _) => "token expired; renews on next use".to_owned(),
            (SessionPhase::NeedsSignIn, _) => "needs a new sign-in".to_owned(),
            _ => "not signed in".to_owned(),
        };
        println!("{}: {state}", i.settings.instance);
    }
    for f in &status.favourites {
        let state = match f.expires_at {
            Some(t) if t > now => format!("valid until {}", rfc3339(t)),
            Some(t) => format!("expired at {}", rfc3339(t)),
            None => "not written".to_owned(),
        };
        println!(
            "  {}  {}/{}  {state}",
            f.favourite.profile.as_str(),
            f.favourite.account_id,
            display::text(&f.favourite.role_name)
        );
    }
    Ok(())
}
