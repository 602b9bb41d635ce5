use super::SecretStore;
use crate::error::BoxError;
use crate::secret::Secret;
use std::collections::HashMap;
use std::sync::Mutex;

/// A store that keeps secrets in this process's memory only.
#[derive(Debug, Default)]
pub struct MemoryStore(Mutex<HashMap<String, Secret>>);

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Secret>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, key: &str) -> Result<Option<Secret>, BoxError> {
        Ok(self.map().get(key).cloned())
    }

    fn set(&self, key: &str, value: &Secret) -> Result<(), BoxError> {
        self.map().insert(key.to_owned(), value.clone());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), BoxError> {
        self.map().remove(key);
        Ok(())
    }
}
