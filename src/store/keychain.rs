use super::SecretStore;
use crate::error::BoxError;
use crate::secret::Secret;

/// The OS keychain: Secret Service on Linux, Keychain on macOS, Credential Manager on
/// Windows. Each key is one item under the service name.
#[derive(Debug, Clone)]
pub struct KeychainStore {
    service: String,
}

impl KeychainStore {
    /// The service name items are filed under by default.
    pub const DEFAULT_SERVICE: &'static str = "aws-sso-tray";

    /// A store filing items under [`Self::DEFAULT_SERVICE`].
    pub fn new() -> Self {
        Self::with_service(Self::DEFAULT_SERVICE)
    }

    /// A store filing items under `service` (keeps test runs apart from a user's items).
    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    fn entry(&self, key: &str) -> Result<keyring::Entry, BoxError> {
        Ok(keyring::Entry::new(&self.service, key)?)
    }
}

impl Default for KeychainStore {
    fn default() -> Self {
        Self::new()
    }
}

impl SecretStore for KeychainStore {
    fn get(&self, key: &str) -> Result<Option<Secret>, BoxError> {
        match self.entry(key)?.get_secret() {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(s) => Ok(Some(Secret::new(s))),
                Err(_) => Err("the keychain item is not UTF-8 text".into()),
            },
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(Box::new(e)),
        }
    }

    fn set(&self, key: &str, value: &Secret) -> Result<(), BoxError> {
        Ok(self.entry(key)?.set_secret(value.expose().as_bytes())?)
    }

    fn delete(&self, key: &str) -> Result<(), BoxError> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(Box::new(e)),
        }
    }
}
