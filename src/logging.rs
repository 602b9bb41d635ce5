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
