//! A credentials provider for the AWS SDK for Rust, for one (account, role).

use crate::error::Error;
use crate::provider::AwsSsoDeviceAuthProvider;
use aws_credential_types::provider::{self, error::CredentialsError, future, ProvideCredentials};
use aws_credential_types::Credentials;
use std::sync::Arc;

/// Gives any AWS SDK for Rust client the role's credentials, renewed before they expire.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use aws_sso_device_auth_provider::AwsSsoDeviceAuthProvider;
/// use std::sync::Arc;
/// let sso = Arc::new(
///     AwsSsoDeviceAuthProvider::builder()
///         .start_url("https://my-org.awsapps.com/start")
///         .region("eu-west-1")
///         .build()?,
/// );
/// let creds = sso.credentials_provider("111122223333", "ReadOnlyAccess");
/// let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
///     .credentials_provider(creds)
///     .load()
///     .await;
/// # let _ = config; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RoleCredentialsProvider {
    sso: Arc<AwsSsoDeviceAuthProvider>,
    account_id: String,
    role_name: String,
}

impl RoleCredentialsProvider {
    /// A provider for (`account_id`, `role_name`) through `sso`.
    pub fn new(sso: Arc<AwsSsoDeviceAuthProvider>, account_id: &str, role_name: &str) -> Self {
        Self {
            sso,
            account_id: account_id.to_owned(),
            role_name: role_name.to_owned(),
        }
    }

    async fn load(&self) -> provider::Result {
        let c = self
            .sso
            .role_credentials(&self.account_id, &self.role_name)
            .await
            .map_err(|e| match e {
                e @ (Error::SignInRequired { .. }
                | Error::SessionElsewhere { .. }
                | Error::SignInDenied
                | Error::SignInExpired) => CredentialsError::not_loaded(e),
                e => CredentialsError::provider_error(e),
            })?;
        Ok(Credentials::new(
            c.access_key_id,
            c.secret_access_key.expose(),
            Some(c.session_token.expose().to_owned()),
            Some(c.expiration),
            "AwsSsoDeviceAuthProvider",
        ))
    }
}

impl ProvideCredentials for RoleCredentialsProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.load())
    }
}
