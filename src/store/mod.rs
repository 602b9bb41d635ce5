//! Where the session's secrets live, and only they: a small trait, the OS keychain by
//! default, memory for tests and short-lived programs. There is no plaintext-file store;
//! the on-disk caches of non-secret data are [`crate::cache`]'s.

mod keychain;
mod memory;
mod record;

pub use keychain::KeychainStore;
pub use memory::MemoryStore;
pub use record::{ClientRegistration, SessionEndpoints, SessionRecord, SignInFlow, TokenSet};

use crate::error::BoxError;
use crate::secret::Secret;
use std::fmt::Debug;

/// A key-value store for secrets (the seed library's Keyv). Implementations are blocking;
/// async callers run them on a blocking thread.
///
/// Contract, checked by one conformance suite for every implementation:
/// a missing entry reads as `Ok(None)`; deleting a missing entry succeeds; `set` replaces.
pub trait SecretStore: Send + Sync + Debug {
    /// Reads the value under `key`, `None` if there is none.
    fn get(&self, key: &str) -> Result<Option<Secret>, BoxError>;
    /// Stores `value` under `key`, replacing any previous value.
    fn set(&self, key: &str, value: &Secret) -> Result<(), BoxError>;
    /// Removes `key`; succeeds when it is already absent.
    fn delete(&self, key: &str) -> Result<(), BoxError>;
}

/// Windows' credential manager holds at most this many bytes per item; every record we
/// write must fit, on every platform, so a session moves between machines unchanged.
pub const MAX_ITEM_BYTES: usize = 2_560;
