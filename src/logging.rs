//! Log set-up that cannot leak secrets.
//!
//! At TRACE level the AWS SDK's HTTP layer logs whole requests and responses: the portal's
//! `x-amz-sso_bearer_token` header (the access token) and role credentials in reply
//! bodies. [`no_wire_trace`] drops those events whatever filter the user asks for; every
//! subscriber this project installs applies it.
//!
//! A log line carries text from outside (a service's error message, a name, a path): every
//! field of every event is shown through [`crate::display::text`], as the rest of the
//! output is, so that no escape sequence or bidi control in it reaches a terminal.

use std::fmt::Write as _;
use tracing::Level;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::filter::FilterFn;
use tracing_subscriber::fmt::format::{Format, Writer};
use tracing_subscriber::fmt::{FormatFields, Layer as FmtLayer, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
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
    "aws_sdk_eks",
    "aws_sdk_ecr",
    // It logs what it signs at TRACE, a presigned URL's session token included.
    "aws_sigv4",
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
    let layer = fmt_layer(std::io::stderr)
        .with_target(false)
        .with_filter(filter)
        .with_filter(no_wire_trace());
    let _already_set = tracing_subscriber::registry().with(layer).try_init();
}

/// The lines of every logger this project installs, written to `writer`.
fn fmt_layer<S, W>(writer: W) -> FmtLayer<S, EscapedFields, Format, W>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    tracing_subscriber::fmt::layer()
        .fmt_fields(EscapedFields::default())
        .with_writer(writer)
}

/// Formats an event's fields as the default formatter does (`message key=value …`), each
/// value through [`crate::display::text`]: what a field carries is shown, never acted on.
#[derive(Debug, Default)]
pub struct EscapedFields(());

impl<'writer> FormatFields<'writer> for EscapedFields {
    fn format_fields<R: RecordFields>(
        &self,
        writer: Writer<'writer>,
        fields: R,
    ) -> std::fmt::Result {
        let mut visitor = EscapingVisitor {
            writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

/// Writes each field through [`crate::display::text`], space-separated; the `log.*`
/// fields of events from the `log` crate are left out, as the default formatter does.
struct EscapingVisitor<'writer> {
    writer: Writer<'writer>,
    first: bool,
    result: std::fmt::Result,
}

impl tracing::field::Visit for EscapingVisitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let name = field.name();
        if self.result.is_err() || name.starts_with("log.") {
            return;
        }
        let mut raw = String::new();
        if write!(raw, "{value:?}").is_err() {
            return;
        }
        let shown = crate::display::text(&raw);
        let space = if std::mem::take(&mut self.first) {
            ""
        } else {
            " "
        };
        self.result = match name {
            "message" => write!(self.writer, "{space}{shown}"),
            name => write!(
                self.writer,
                "{space}{}={shown}",
                name.strip_prefix("r#").unwrap_or(name)
            ),
        };
    }
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
    let layer = fmt_layer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_filter(filter)
        .with_filter(no_wire_trace());
    let _already_set = tracing_subscriber::registry().with(layer).try_init();
    Ok(())
}

/// Everything a test's subscriber wrote, kept for the test to read.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl Captured {
    /// What was written so far.
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("lock").clone()).expect("utf-8")
    }
}

#[cfg(test)]
impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` with every event down to TRACE written as text (no filter), and returns its
/// answer and what was written: for tests that a secret never reaches a log.
#[cfg(test)]
pub(crate) fn trace_of<T>(f: impl FnOnce() -> T) -> (T, String) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let out = tracing::subscriber::with_default(subscriber, f);
    (out, captured.text())
}

#[cfg(test)]
mod tests {
    use super::Captured;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn text_from_outside_reaches_the_log_escaped() {
        let captured = Captured::default();
        let writer = captured.clone();
        let layer = super::fmt_layer(move || writer.clone())
            .with_ansi(false)
            .with_target(false);
        let subscriber = tracing_subscriber::registry().with(layer);
        let hostile = "\x1b]0;pwned\x07\x1b[2Jcleared \u{202e}tfel two\nlines";
        tracing::subscriber::with_default(subscriber, || {
            let error = std::io::Error::other(hostile);
            tracing::warn!(error = %error, name = hostile, "could not renew {hostile}");
        });
        let out = captured.text();
        assert_eq!(out.matches('\n').count(), 1, "one line: {out:?}");
        let acting = out
            .trim_end_matches('\n')
            .chars()
            .find(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(c));
        assert_eq!(acting, None, "{out:?}");
        assert!(out.contains("could not renew \\u{1b}]0;pwned"), "{out}");
        assert!(out.contains("error=\\u{1b}]0;pwned"), "{out}");
        assert!(out.contains("\\u{202e}tfel two\\nlines"), "{out}");
    }

    #[test]
    fn wire_targets_by_crate_not_prefix() {
        assert!(super::is_wire("aws_smithy_runtime::client::orchestrator"));
        assert!(super::is_wire("hyper"));
        assert!(!super::is_wire("hyperlocal_project"));
        assert!(!super::is_wire("aws_sso_device_auth_provider::provider"));
    }
}
