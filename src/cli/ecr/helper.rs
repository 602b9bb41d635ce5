//! `docker-credential-aws-sso ACTION`: docker's credential-helper protocol, as
//! docker-credential-helpers defines it. The action is the one argument; its input comes
//! on stdin; the answer, or the error docker shows, on stdout (one line), with exit
//! status 1 for an error. Logs and sign-in codes go to stderr, which docker passes on.
//!
//! - `get`: a server URL in, `{"ServerURL","Username","Secret"}` out. A host that is not
//!   an ECR registry is `credentials not found in native keychain`, which docker takes
//!   as "no credentials".
//! - `list`: the registries a favourite is chosen for, each with the user name `AWS`.
//! - `store`: passwords are never kept. What docker stores back after a `docker login`
//!   with the password this helper gave is accepted (there is nothing to keep); any other
//!   password, or any host that is not ECR, is refused with the reason.
//! - `erase`: forgets the password kept for an ECR registry (the next `get` gets a new
//!   one); for any other host there is nothing to forget. Both succeed.
//! - `version`.

use aws_sso_device_auth_provider::display;
use aws_sso_device_auth_provider::ecr::{Registry, HELPER_PROGRAM};
use aws_sso_device_auth_provider::Error;
use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;

/// The protocol's own messages, which docker matches.
const NOT_FOUND: &str = "credentials not found in native keychain";
const NO_SERVER_URL: &str = "no credentials server URL";
const NO_USERNAME: &str = "no credentials username";

/// The most read from stdin: a server URL, or one set of credentials.
const MAX_INPUT: u64 = 64 * 1024;

/// Whether this program was started as `docker-credential-aws-sso`.
pub fn invoked_as_helper(argv0: Option<&std::ffi::OsStr>) -> bool {
    let Some(name) = argv0
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
    else {
        return false;
    };
    let name = name.strip_suffix(".exe").unwrap_or(name);
    name == HELPER_PROGRAM
}

/// Runs the action named by the one argument.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let usage = format!("Usage: {HELPER_PROGRAM} <store|get|erase|list|version>");
    let action = match args.as_slice() {
        [one] => one.to_string_lossy().into_owned(),
        _ => return fail(&usage),
    };
    match action.as_str() {
        "version" => {
            answer(&format!(
                "{HELPER_PROGRAM} (aws-sso-auth) {}\n",
                env!("CARGO_PKG_VERSION")
            ));
            return ExitCode::SUCCESS;
        }
        "get" | "list" | "store" | "erase" => {}
        other => {
            return fail(&format!(
                "Unknown credential action `{}`; {usage}",
                display::text(other)
            ))
        }
    }
    crate::cli::init_logging(0);
    // Docker gives no flags: the variable alone, read as clap reads `--no-app`'s.
    let no_app = std::env::var("AWS_SSO_AUTH_NO_APP").is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "t" | "true" | "y" | "yes" | "on"
        )
    });
    let _ = crate::cli::ASK_APP.set((!no_app).then(|| {
        crate::cli::ask_app(
            Duration::from_secs(300),
            aws_sso_device_auth_provider::ask::Wants::Unsaid,
        )
    }));
    // `list` reads nothing (docker sends a word it does not use).
    let input = match action.as_str() {
        "list" => String::new(),
        _ => match read_input() {
            Ok(input) => input,
            Err(e) => return fail(&format!("could not read the input: {e}")),
        },
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start: {e}")),
    };
    let outcome = runtime.block_on(async {
        match action.as_str() {
            "get" => get(&input).await,
            "list" => list().await,
            "store" => store(&input).await,
            _ => erase(&input).await,
        }
    });
    match outcome {
        Ok(out) => {
            answer(&out);
            ExitCode::SUCCESS
        }
        Err(message) => fail(&message),
    }
}

/// Stdin as docker-credential-helpers reads it: its lines joined without their ends.
fn read_input() -> std::io::Result<String> {
    let mut bytes = Vec::new();
    std::io::stdin().take(MAX_INPUT).read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text.lines().collect())
}

/// `get`: the password of an ECR registry.
async fn get(input: &str) -> Result<String, String> {
    let server_url = input.trim();
    if server_url.is_empty() {
        return Err(NO_SERVER_URL.into());
    }
    let Some(registry) = Registry::parse(server_url) else {
        return Err(NOT_FOUND.into());
    };
    let world = crate::cli::open()
        .await
        .map_err(|e| sentence(&e, &registry))?;
    let printer = crate::cli::login::print_sign_in_codes(&world, crate::cli::login::Seen::Notify);
    let login = world.docker_login(&registry).await;
    printer.abort();
    let login = login.map_err(|e| sentence(&e, &registry))?;
    if let Some(e) = &login.warning {
        crate::cli::warn("docker-credential-aws-sso", e);
    }
    let json = serde_json::json!({
        "ServerURL": server_url,
        "Username": login.username,
        "Secret": login.secret.expose(),
    });
    Ok(format!("{json}\n"))
}

/// `list`: the registries a favourite is chosen for.
async fn list() -> Result<String, String> {
    let world = crate::cli::open().await.map_err(|e| plain(&e))?;
    let map: serde_json::Map<String, serde_json::Value> = world
        .docker_registries()
        .into_iter()
        .map(|host| {
            (
                host,
                serde_json::Value::from(aws_sso_device_auth_provider::ecr::ECR_USER),
            )
        })
        .collect();
    Ok(format!("{}\n", serde_json::Value::Object(map)))
}

/// The credentials `store` is given, as docker sends them.
#[derive(serde::Deserialize)]
struct Credentials {
    #[serde(
        rename = "ServerURL",
        alias = "serverURL",
        alias = "serverurl",
        default
    )]
    server_url: String,
    #[serde(rename = "Username", alias = "username", default)]
    username: String,
    #[serde(rename = "Secret", alias = "secret", default)]
    secret: String,
}

/// `store`: nothing is kept; the password this helper gave is accepted back.
async fn store(input: &str) -> Result<String, String> {
    let creds: Credentials = serde_json::from_str(input)
        .map_err(|e| format!("the credentials are not JSON as docker sends them: {e}"))?;
    if creds.server_url.trim().is_empty() {
        return Err(NO_SERVER_URL.into());
    }
    if creds.username.is_empty() {
        return Err(NO_USERNAME.into());
    }
    let server = display::text(creds.server_url.trim());
    let Some(registry) = Registry::parse(&creds.server_url) else {
        return Err(format!(
            "{HELPER_PROGRAM} keeps no passwords and answers only for Amazon ECR registries, which {server} is not; remove it from credHelpers (or credsStore) in docker's config file to keep its password elsewhere"
        ));
    };
    let world = crate::cli::open().await.map_err(|e| plain(&e))?;
    if world
        .is_docker_login(&registry, &creds.username, &creds.secret)
        .await
    {
        return Ok(String::new());
    }
    Err(format!(
        "{HELPER_PROGRAM} keeps no passwords: docker gets the password of {registry} from a favourite's role; choose the favourite with: aws-sso-auth ecr login --profile NAME --region {}",
        registry.region()
    ))
}

/// `erase`: forgets the password kept for an ECR registry.
async fn erase(input: &str) -> Result<String, String> {
    let server_url = input.trim();
    if server_url.is_empty() {
        return Err(NO_SERVER_URL.into());
    }
    let Some(registry) = Registry::parse(server_url) else {
        return Ok(String::new());
    };
    let world = crate::cli::open().await.map_err(|e| plain(&e))?;
    world
        .forget_docker_login(&registry)
        .await
        .map_err(|e| plain(&e))?;
    Ok(String::new())
}

/// An error as the one line docker shows, with the next step on the command line.
fn sentence(e: &Error, registry: &Registry) -> String {
    let hint = match e {
        Error::EcrNoChoice { .. } => Some(format!(
            "choose one with: aws-sso-auth ecr login --profile NAME --region {}",
            registry.region()
        )),
        Error::EcrNoFavourite { account_id, .. } => Some(format!(
            "add one with: aws-sso-auth favourite add NAME --account {account_id} --role ROLE"
        )),
        _ => crate::cli::hint(e),
    };
    let message = match hint {
        Some(hint) => format!("{e}; {hint}"),
        None => e.to_string(),
    };
    display::text(&message).into_owned()
}

/// An error as one line, with its command-line next step.
fn plain(e: &Error) -> String {
    let message = match crate::cli::hint(e) {
        Some(hint) => format!("{e}; {hint}"),
        None => e.to_string(),
    };
    display::text(&message).into_owned()
}

/// Writes the answer to stdout.
fn answer(text: &str) {
    let mut out = std::io::stdout().lock();
    // Docker reads stdout to its end: a closed pipe leaves nothing to tell.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Writes the error to stdout, where docker reads it, and fails.
fn fail(message: &str) -> ExitCode {
    answer(&format!("{message}\n"));
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn the_helper_is_told_by_its_file_name() {
        for yes in [
            "docker-credential-aws-sso",
            "/usr/bin/docker-credential-aws-sso",
            "./docker-credential-aws-sso",
            r"docker-credential-aws-sso.exe",
        ] {
            assert!(invoked_as_helper(Some(OsStr::new(yes))), "{yes}");
        }
        for no in [
            "aws-sso-auth",
            "/usr/bin/aws-sso-auth",
            "docker-credential-aws-sso-x",
            "docker-credential-ecr-login",
            "",
        ] {
            assert!(!invoked_as_helper(Some(OsStr::new(no))), "{no}");
        }
        assert!(!invoked_as_helper(None));
    }
}
