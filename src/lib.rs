//! Sign in to AWS IAM Identity Center (AWS SSO) and turn the session into role credentials.
//!
//! [`AwsSsoDeviceAuthProvider`] does the whole job for one instance (start URL + region):
//! it registers an OIDC client, signs the user in with the device flow or
//! authorization code + PKCE, keeps the session in the OS keychain and refreshes it only
//! when it nears expiry, lists accounts and roles (paging, with bounded adaptive
//! concurrency and back-off on throttling), and fetches role credentials, cached until
//! near expiry. [`RoleCredentialsProvider`] plugs one role into any AWS SDK for Rust client.
//!
//! ```no_run
//! # async fn demo() -> aws_sso_device_auth_provider::Result<()> {
//! use aws_sso_device_auth_provider::{AwsSsoDeviceAuthProvider, one_shot::print_prompt};
//! let sso = AwsSsoDeviceAuthProvider::builder()
//!     .start_url("https://my-org.awsapps.com/start")
//!     .region("eu-west-1")
//!     .on_prompt(print_prompt)
//!     .build()?;
//! for a in sso.accounts_matching(&[], Some("*prod*")).await? {
//!     println!("{} {}", a.account_id, a.account_name);
//! }
//! let creds = sso.role_credentials("111122223333", "ReadOnlyAccess").await?;
//! # let _ = creds; Ok(()) }
//! ```

pub mod ask;
mod atomic_file;
pub mod awsfiles;
pub mod browser;
pub mod cache;
pub mod clock;
pub mod console;
pub mod credentials;
pub mod display;
pub mod ecr;
pub mod eks;
pub mod env;
pub mod error;
pub mod instance;
pub mod logging;
pub mod notice;
pub mod oidc;
pub mod one_shot;
pub mod paths;
pub mod populate;
pub mod portal;
pub mod provider;
pub mod renewer;
pub mod sdk;
pub mod secret;
pub mod serve;
pub mod settings;
pub mod source;
pub mod store;
pub mod workspace;

/// Lower-case hex of `bytes`, for file names made from digests.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub use atomic_file::FileLock;
pub use credentials::RoleCredentialsProvider;
pub use error::{Error, Result};
pub use instance::Instance;
pub use oidc::{RegistrationOptions, SignInPrompt};
pub use portal::{Account, AccountFilter, AccountRoles, NameGlob, Role, RoleCredentials};
pub use provider::{AwsSsoDeviceAuthProvider, SessionInfo};
pub use sdk::Endpoints;
pub use secret::Secret;
pub use store::{KeychainStore, MemoryStore, SecretStore, SignInFlow};
