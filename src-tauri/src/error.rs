//! The one error the window receives: a small `code` it branches on and a sentence that
//! says what to do next. Built from the core's typed errors; never carries a secret.

use aws_sso_device_auth_provider::Error;
use serde::Serialize;

/// What the UI branches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorCode {
    /// Not signed in, or the session ended: offer "Sign in".
    SignInNeeded,
    /// Something the user typed is not valid.
    InvalidInput,
    /// AWS could not be reached, or throttled us.
    Network,
    /// The sign-in was denied.
    Denied,
    /// The code or the wait expired.
    Expired,
    /// A file could not be read or written.
    Files,
    /// The OS keychain failed.
    Keychain,
    /// No such account, role, favourite or profile.
    NotFound,
    /// A name is taken, or something is already under way.
    Conflict,
    /// The user cancelled.
    Cancelled,
    /// Anything else.
    Internal,
}

/// An error as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("{message}")]
pub struct CommandError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// A sentence with the next step.
    pub message: String,
}

impl CommandError {
    /// An error of `code` saying `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Capitalised, ending in a full stop: the core's messages are lower-case clauses.
fn sentence(s: &str) -> String {
    let mut chars = s.chars();
    let mut out: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?', ')']) {
        out.push('.');
    }
    out
}

impl From<Error> for CommandError {
    fn from(e: Error) -> Self {
        use ErrorCode as C;
        let (code, message) = match &e {
            // The core's sentences name CLI commands here; the app has buttons instead.
            Error::SignInRequired { start_url } => (
                C::SignInNeeded,
                format!("You are not signed in to {start_url}. Sign in, then try again."),
            ),
            Error::Unauthorized { .. } => (
                C::SignInNeeded,
                "AWS no longer accepts this session. Sign in again, then try again.".to_owned(),
            ),
            Error::NoInstance => (
                C::InvalidInput,
                "No AWS access portal is set up yet. Add its start URL and region in Settings."
                    .to_owned(),
            ),
            Error::ProfileNotOurs { path, line, name } => (
                C::Conflict,
                format!(
                    "{} line {line} already has a profile '{name}' that aws-sso-tray did not write. Choose another profile name (nothing was changed).",
                    path.display()
                ),
            ),
            Error::ProfileShadowed {
                path, line, name, key, ..
            } => (
                C::Conflict,
                format!(
                    "Profile '{name}' in {} (line {line}) sets {key}, which the AWS CLI and SDKs would use instead of these credentials. Choose another profile name (nothing was changed).",
                    path.display()
                ),
            ),
            Error::InvalidStartUrl { .. }
            | Error::InvalidRegion { .. }
            | Error::InvalidGlob { .. }
            | Error::InvalidProfileName { .. }
            | Error::InvalidProfileValue { .. }
            | Error::InvalidEndpoint { .. } => (C::InvalidInput, sentence(&e.to_string())),
            Error::SignInDenied => (C::Denied, sentence(&e.to_string())),
            Error::SignInExpired | Error::SignInTimedOut { .. } => {
                (C::Expired, sentence(&e.to_string()))
            }
            Error::Network { .. } | Error::Throttled { .. } => (C::Network, sentence(&e.to_string())),
            Error::Store { .. } | Error::CorruptRecord { .. } => {
                (C::Keychain, sentence(&e.to_string()))
            }
            Error::Io { .. }
            | Error::UnreadableProfileFile { .. }
            | Error::ReadOnlyFile { .. }
            | Error::WriteFailed { .. }
            | Error::NoAwsFile { .. }
            | Error::Settings { .. } => (C::Files, sentence(&e.to_string())),
            Error::AccountNotFound { .. }
            | Error::RoleNotFound { .. }
            | Error::NoSuchFavourite { .. }
            | Error::NothingToRemove { .. } => (C::NotFound, sentence(&e.to_string())),
            Error::FavouriteNameTaken { .. } | Error::AmbiguousAccount { .. } => {
                (C::Conflict, sentence(&e.to_string()))
            }
            _ => (C::Internal, sentence(&e.to_string())),
        };
        Self { code, message }
    }
}

/// The result of a command.
pub type CommandResult<T> = Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_says_sign_in_not_a_cli_command() {
        let e = CommandError::from(Error::SignInRequired {
            start_url: "https://x.awsapps.com/start".into(),
        });
        assert_eq!(e.code, ErrorCode::SignInNeeded);
        assert!(!e.message.contains("aws-sso-auth"), "{}", e.message);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["code"], "signInNeeded");
    }

    #[test]
    fn core_clauses_become_sentences() {
        let e = CommandError::from(Error::InvalidRegion {
            region: "mars-1".into(),
        });
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert!(e.message.starts_with('\''), "{}", e.message);
        assert!(e.message.ends_with('.'), "{}", e.message);
        assert_eq!(sentence("could not read x"), "Could not read x.");
    }
}
