//! One-call conveniences for scripts: build a provider with defaults (OS keychain,
//! device flow, endpoints from the environment), do one thing.

use crate::error::Result;
use crate::oidc::SignInPrompt;
use crate::portal::{Account, Role, RoleCredentials};
use crate::provider::AwsSsoDeviceAuthProvider;
use crate::sdk::Endpoints;

fn provider(start_url: &str, region: &str) -> Result<AwsSsoDeviceAuthProvider> {
    AwsSsoDeviceAuthProvider::builder()
        .start_url(start_url)
        .region(region)
        .endpoints(Endpoints::from_env(|k| std::env::var(k).ok())?)
        .on_prompt(print_prompt)
        .build()
}

/// Prints a sign-in prompt to standard error, for terminal programs.
pub fn print_prompt(p: &SignInPrompt) {
    match p {
        SignInPrompt::DeviceCode {
            user_code,
            verification_uri,
            verification_uri_complete,
            ..
        } => {
            eprintln!("To sign in, open {verification_uri} and confirm the code: {user_code}");
            if let Some(full) = verification_uri_complete {
                eprintln!("(or open {full})");
            }
        }
        SignInPrompt::Browser { url, .. } => eprintln!("To sign in, open: {url}"),
    }
}

/// A valid access token, signing in if needed.
pub async fn access_token(start_url: &str, region: &str) -> Result<crate::Secret> {
    provider(start_url, region)?.access_token().await
}

/// Every account, optionally those whose name matches `name_glob`.
pub async fn accounts(
    start_url: &str,
    region: &str,
    name_glob: Option<&str>,
) -> Result<Vec<Account>> {
    provider(start_url, region)?
        .accounts_matching(&[], name_glob)
        .await
}

/// The roles of one account, optionally those matching `role_glob`.
pub async fn roles(
    start_url: &str,
    region: &str,
    account_id: &str,
    role_glob: Option<&str>,
) -> Result<Vec<Role>> {
    provider(start_url, region)?
        .roles(account_id, role_glob)
        .await
}

/// The one account id whose name matches `name_glob`.
pub async fn account_id_for_name(start_url: &str, region: &str, name_glob: &str) -> Result<String> {
    provider(start_url, region)?
        .account_id_for_name(name_glob)
        .await
}

/// Role credentials for (`account_id`, `role_name`).
pub async fn role_credentials(
    start_url: &str,
    region: &str,
    account_id: &str,
    role_name: &str,
) -> Result<RoleCredentials> {
    provider(start_url, region)?
        .role_credentials(account_id, role_name)
        .await
}
