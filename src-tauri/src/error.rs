//! The one error the window receives: a small `code` it branches on and a sentence that
//! says what happened and what to do next, in the app's words ("Sign in", "Settings").
//! Built from the core's typed errors; never carries a secret.

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

/// Capitalised, ending in a full stop: the core's messages are lower-case clauses.
pub fn sentence(s: &str) -> String {
    let mut chars = s.chars();
    let mut out: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// The core's fact, then the next step (the app's own, else the core's advice).
fn said(e: &Error, next: Option<&str>) -> String {
    let mut out = sentence(&e.to_string());
    if let Some(step) = next.map(str::to_owned).or_else(|| e.advice()) {
        out.push(' ');
        out.push_str(&sentence(&step));
    }
    out
}

impl From<&Error> for CommandError {
    fn from(e: &Error) -> Self {
        use ErrorCode as C;
        let (code, next) = match e {
            Error::SignInRequired { .. } => (C::SignInNeeded, Some("Sign in, then try again")),
            Error::SessionElsewhere { .. } => (C::SignInNeeded, None),
            Error::Unauthorized { .. } => (
                C::SignInNeeded,
                Some("Sign in again, then try again"),
            ),
            Error::NoInstance => (
                C::InvalidInput,
                Some("Add the access portal's start URL and region in Settings"),
            ),
            Error::ProfileNotOurs { .. } | Error::ProfileShadowed { .. } => {
                (C::Conflict, Some("Choose another profile name"))
            }
            Error::SignInInProgress { .. } => (
                C::Conflict,
                Some("Approve the code shown in the window, or cancel it"),
            ),
            Error::ConsoleDestination { .. } => (
                C::InvalidInput,
                Some("Give an https address of the AWS console, as its address bar shows it, or choose a service"),
            ),
            // Shown in the form where the role was given: that is what to change.
            Error::AssumeRoleRefused { .. } => (C::InvalidInput, None),
            Error::SignInCancelled => (C::Cancelled, None),
            Error::SignInDenied => (C::Denied, Some("Sign in again and choose Allow if you meant to")),
            Error::SignInExpired | Error::SignInTimedOut { .. } => {
                (C::Expired, Some("Start the sign-in again"))
            }
            Error::NoCli => (
                C::Files,
                Some("Install aws-sso-auth beside the app, or add the favourite without on-demand credentials"),
            ),
            Error::InvalidStartUrl { .. }
            | Error::InvalidRegion { .. }
            | Error::InvalidGlob { .. }
            | Error::InvalidProfileName { .. }
            | Error::InvalidProfileValue { .. }
            | Error::InvalidEndpoint { .. }
            | Error::InvalidPreference { .. }
            | Error::InvalidTemplate { .. }
            | Error::InvalidAssumeRole { .. }
            | Error::InvalidClusterName { .. }
            | Error::EmptyContextName
            | Error::ConsoleService { .. }
            | Error::ConsoleRegion { .. }
            | Error::ConsoleSessionLength { .. }
            | Error::BrowserChoice { .. }
            | Error::InvalidColour { .. }
            | Error::SettingsTooLarge { .. } => (C::InvalidInput, None),
            Error::Network { .. } | Error::Throttled { .. } | Error::Gateway { .. } => {
                (C::Network, None)
            }
            Error::Store { .. } | Error::CorruptRecord { .. } => (C::Keychain, None),
            Error::Io { .. }
            | Error::UnreadableProfileFile { .. }
            | Error::ReadOnlyFile { .. }
            | Error::WriteFailed { .. }
            | Error::NoAwsFile { .. }
            | Error::NoHome { .. }
            | Error::Settings { .. }
            | Error::SettingsEntry { .. }
            | Error::KubeconfigUnreadable { .. }
            | Error::KubeconfigUnsafeEdit { .. } => (C::Files, None),
            Error::KubeconfigNoCli => (
                C::Files,
                Some("Install aws-sso-auth beside the app: the kubeconfig's user runs it"),
            ),
            Error::AccountNotFound { .. }
            | Error::BrowserNotFound { .. }
            | Error::RoleNotFound { .. }
            | Error::NoSuchFavourite { .. }
            | Error::NothingToRemove { .. }
            | Error::EksClusterNotFound { .. } => (C::NotFound, None),
            Error::FavouriteNameTaken { .. }
            | Error::AmbiguousAccount { .. }
            | Error::FavouritesProfile { .. }
            | Error::KubeContextTaken { .. } => {
                (C::Conflict, None)
            }
            _ => (C::Internal, None),
        };
        Self {
            code,
            // What a service or a file put in it is shown, never acted on.
            message: aws_sso_device_auth_provider::display::text(&said(e, next)).into_owned(),
        }
    }
}

impl From<Error> for CommandError {
    fn from(e: Error) -> Self {
        Self::from(&e)
    }
}

/// The result of a command.
pub type CommandResult<T> = Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sso_device_auth_provider::Instance;

    #[test]
    fn the_app_says_sign_in_not_a_cli_command() {
        let e = CommandError::from(Error::SignInRequired {
            instance: Instance::new("https://x.awsapps.com/start", "eu-west-1").unwrap(),
        });
        assert_eq!(e.code, ErrorCode::SignInNeeded);
        assert!(!e.message.contains("aws-sso-auth"), "{}", e.message);
        assert!(
            e.message.ends_with("Sign in, then try again."),
            "{}",
            e.message
        );
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["code"], "signInNeeded");
    }

    #[test]
    fn core_clauses_become_sentences_with_the_advice() {
        let e = CommandError::from(Error::InvalidRegion {
            region: "mars-1".into(),
        });
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert!(e.message.starts_with('\''), "{}", e.message);
        assert!(e.message.ends_with('.'), "{}", e.message);
        assert_eq!(sentence("could not read x"), "Could not read x.");
        let e = CommandError::from(Error::Throttled {
            operation: "ListAccounts",
        });
        assert_eq!(
            e.message,
            "AWS SSO kept throttling ListAccounts (too many requests). Wait a minute and try again."
        );
    }
}
