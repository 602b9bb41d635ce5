//! `prompt`: the time left on a profile's credentials, for a shell prompt, from the
//! credentials file (no keychain or network), so a prompt can call it on every line.

use aws_sso_device_auth_provider::Error;
use std::time::{Duration, SystemTime};

/// Prints `42m`, `1h05m` or `expired` for `profile` (else `$AWS_PROFILE`); prints nothing
/// and succeeds when no profile is named or it is not one this tool wrote, so a prompt
/// stays quiet for the user's own profiles.
pub async fn prompt(profile: Option<String>) -> Result<(), Error> {
    let Some(name) = profile.or_else(|| std::env::var("AWS_PROFILE").ok()) else {
        return Ok(());
    };
    let world = super::open().await?;
    let expires_at = world
        .managed_profiles()
        .await?
        .into_iter()
        .find(|p| p.name == name)
        .and_then(|p| p.expires_at);
    if let Some(t) = expires_at {
        println!("{}", left(t, world.now()));
    }
    Ok(())
}

/// `42m`, `1h05m`, `expired`: short enough for a prompt.
fn left(expires_at: SystemTime, now: SystemTime) -> String {
    match expires_at.duration_since(now) {
        Ok(d) if d >= Duration::from_secs(60) => {
            let m = d.as_secs() / 60;
            if m < 60 {
                format!("{m}m")
            } else {
                format!("{}h{:02}m", m / 60, m % 60)
            }
        }
        Ok(d) if !d.is_zero() => "<1m".to_owned(),
        _ => "expired".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::left;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn time_left_fits_a_prompt() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let at = |s: u64| now + Duration::from_secs(s);
        assert_eq!(left(at(42 * 60 + 30), now), "42m");
        assert_eq!(left(at(65 * 60), now), "1h05m");
        assert_eq!(left(at(30), now), "<1m");
        assert_eq!(left(now, now), "expired");
        assert_eq!(left(now - Duration::from_secs(5), now), "expired");
    }
}
