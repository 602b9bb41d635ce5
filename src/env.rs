//! The environment the product reads: the process environment, with overrides. Demo mode
//! and tests point HOME, the XDG directories, the AWS files and the endpoints elsewhere
//! without changing the process environment, which other threads read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Environment lookups: an override if there is one, else the process environment.
#[derive(Debug, Clone, Default)]
pub struct Env {
    overrides: Arc<HashMap<String, Option<String>>>,
}

impl Env {
    /// The process environment as it is.
    pub fn process() -> Self {
        Self::default()
    }

    /// This environment with `key` set to `value`.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.overrides).insert(key.to_owned(), Some(value.into()));
        self
    }

    /// This environment without `key`, whatever the process environment holds.
    pub fn without(mut self, key: &str) -> Self {
        Arc::make_mut(&mut self.overrides).insert(key.to_owned(), None);
        self
    }

    /// This environment with everything the product reads and writes under `home`: HOME,
    /// the XDG directories and the AWS files, whatever the process environment names.
    pub fn in_home(self, home: &Path) -> Self {
        let path = |p: &str| home.join(p).to_string_lossy().into_owned();
        self.with("HOME", path(""))
            .with("XDG_CONFIG_HOME", path(".config"))
            .with("XDG_CACHE_HOME", path(".cache"))
            .with("XDG_STATE_HOME", path(".local/state"))
            .with("AWS_SHARED_CREDENTIALS_FILE", path(".aws/credentials"))
            .with("AWS_CONFIG_FILE", path(".aws/config"))
            .with("KUBECONFIG", path(".kube/config"))
            .with("DOCKER_CONFIG", path(".docker"))
    }

    /// This environment with every AWS endpoint the product uses at `url` (an emulator).
    pub fn with_endpoints(self, url: &str) -> Self {
        self.with("AWS_ENDPOINT_URL_SSO", url)
            .with("AWS_ENDPOINT_URL_SSO_OIDC", url)
            .with("AWS_ENDPOINT_URL_SIGNIN", url)
            .with("AWS_ENDPOINT_URL_STS", url)
            .with("AWS_ENDPOINT_URL_EKS", url)
            .with("AWS_ENDPOINT_URL_ECR", url)
            .with("AWS_ENDPOINT_URL_UXC", url)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<String> {
        match self.overrides.get(key) {
            Some(v) => v.clone(),
            None => std::env::var(key).ok(),
        }
    }

    /// A lookup function for the `from_env` constructors.
    pub fn lookup(&self) -> impl Fn(&str) -> Option<String> + '_ {
        move |k| self.get(k)
    }

    /// The user's home directory ([`home_dir`]).
    pub fn home(&self) -> Option<PathBuf> {
        home_dir(self.lookup())
    }
}

/// The user's home directory as the AWS CLI and SDKs find it: `HOME`, else `USERPROFILE`
/// (Windows sets only the latter; Git Bash and Cygwin set both).
pub fn home_dir(get: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    ["HOME", "USERPROFILE"]
        .into_iter()
        .find_map(|k| get(k).filter(|v| !v.is_empty()))
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_win_and_the_rest_falls_through() {
        let env = Env::process().with("HOME", "/tmp/demo-home");
        assert_eq!(env.get("HOME").as_deref(), Some("/tmp/demo-home"));
        assert_eq!(env.get("PATH"), std::env::var("PATH").ok());
        assert_eq!(env.home(), Some(PathBuf::from("/tmp/demo-home")));
        assert_eq!(env.without("PATH").get("PATH"), None);
    }
}
