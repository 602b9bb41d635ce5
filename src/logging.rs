//! Log set-up that cannot leak secrets.
//!
//! At TRACE level the AWS SDK's HTTP layer logs whole requests and responses: the portal's
//! `x-amz-sso_bearer_token` header (the access token) and role credentials in reply
//! bodies. [`no_wire_trace`] drops those events whatever filter the user asks for; every
//! subscriber this project installs applies it.

use tracing::Level;
use tracing_subscriber::filter::FilterFn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Crates whose TRACE events print raw HTTP traffic.
const WIRE_CRATES: &[&str] = &[
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_smithy_http",
    "aws_sdk_sso",
    "aws_sdk_ssooidc",
    "aws_sdk_sts",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
];

fn is_wire(target: &str) -> bool {
    WIRE_CRATES.iter().any(|c| {
        target == *c
            || target
                .strip_prefix(c)
                .is_some_and(|rest| rest.starts_with("::"))
    })
}

/// A filter that passes everything except TRACE events of the HTTP stack.
pub fn no_wire_trace() -> FilterFn<impl Fn(&tracing::Metadata<'_>) -> bool + Clone> {
    FilterFn::new(|m: &tracing::Metadata<'_>| !(m.level() == &Level::TRACE && is_wire(m.target())))
}

/// Installs a stderr logger: the filter from `env_var` (same syntax as `RUST_LOG`), else
/// `default`, always behind [`no_wire_trace`].
pub fn init_stderr(env_var: &str, default: &str) {
    let filter = EnvFilter::try_from_env(env_var).unwrap_or_else(|_| EnvFilter::new(default));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter(filter)
        .with_filter(no_wire_trace());
    let _already_set = tracing_subscriber::registry().with(layer).try_init();
}

/// A log file past this size at start is kept as `NAME.1` and a new one begun.
const ROTATE_AT: u64 = 5 * 1024 * 1024;

/// Installs a logger appending to `path` (its directory made private, the file 0600; one
/// older file kept as `NAME.1` once it passes 5 MiB), with the filter from `env_var`,
/// else `default`, behind [`no_wire_trace`].
pub fn init_file(path: &std::path::Path, env_var: &str, default: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        crate::atomic_file::create_private_dir(dir)?;
    }
    if std::fs::metadata(path).is_ok_and(|m| m.len() > ROTATE_AT) {
        let mut old = path.as_os_str().to_owned();
        old.push(".1");
        std::fs::rename(path, old)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    let filter = EnvFilter::try_from_env(env_var).unwrap_or_else(|_| EnvFilter::new(default));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_filter(filter)
        .with_filter(no_wire_trace());
    let _already_set = tracing_subscriber::registry().with(layer).try_init();
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn wire_targets_by_crate_not_prefix() {
        assert!(super::is_wire("aws_smithy_runtime::client::orchestrator"));
        assert!(super::is_wire("hyper"));
        assert!(!super::is_wire("hyperlocal_project"));
        assert!(!super::is_wire("aws_sso_device_auth_provider::provider"));
    }
}
