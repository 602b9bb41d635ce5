//! What the commands print: tables for people, JSON for programs.

use super::args::Format;
use aws_sso_device_auth_provider::awsfiles::ManagedProfile;
use aws_sso_device_auth_provider::clock::rfc3339;
use aws_sso_device_auth_provider::display;
use aws_sso_device_auth_provider::settings::Favourite;
use aws_sso_device_auth_provider::{Account, AccountRoles, Role, RoleCredentials};
use serde_json::json;
use std::time::{Duration, SystemTime};

fn print_json(v: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

/// The widest a name column gets in a table; AWS caps account names at 50 characters,
/// so only a name that is not one is cut.
const NAME_CHARS: usize = 64;

/// Account names as shown in a table's NAME column, and that column's width.
fn name_column<'a>(names: impl Iterator<Item = &'a str>) -> (Vec<String>, usize) {
    let names: Vec<String> = names.map(|n| display::capped(n, NAME_CHARS)).collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    (names, width)
}

pub fn accounts(accounts: &[Account], as_json: bool) {
    if as_json {
        print_json(&json!(accounts));
        return;
    }
    let (names, width) = name_column(accounts.iter().map(|a| a.account_name.as_str()));
    println!("{:<12}  {:<width$}  EMAIL", "ACCOUNT", "NAME");
    for (a, name) in accounts.iter().zip(&names) {
        println!(
            "{:<12}  {:<width$}  {}",
            a.account_id,
            name,
            display::text(a.email_address.as_deref().unwrap_or(""))
        );
    }
}

/// One line per role: account id, account name, role; or the accounts with their roles
/// as JSON.
pub fn account_roles(accounts: &[AccountRoles], as_json: bool) {
    if as_json {
        print_json(&json!(accounts));
        return;
    }
    let (names, width) = name_column(accounts.iter().map(|a| a.account.account_name.as_str()));
    println!("{:<12}  {:<width$}  ROLE", "ACCOUNT", "NAME");
    for (a, name) in accounts.iter().zip(&names) {
        for r in &a.roles {
            println!(
                "{:<12}  {:<width$}  {}",
                display::text(&a.account.account_id),
                name,
                display::text(&r.role_name)
            );
        }
    }
}

pub fn roles(roles: &[Role], as_json: bool) {
    if as_json {
        print_json(&json!(roles));
        return;
    }
    println!("{:<12}  ROLE", "ACCOUNT");
    for r in roles {
        println!(
            "{:<12}  {}",
            display::text(&r.account_id),
            display::text(&r.role_name)
        );
    }
}

pub fn favourites(favourites: &[Favourite], as_json: bool) {
    if as_json {
        print_json(&json!(favourites));
        return;
    }
    let width = favourites
        .iter()
        .map(|f| f.profile.as_str().len())
        .max()
        .unwrap_or(0)
        .max(7);
    println!(
        "{:<width$}  {:<12}  {:<24}  {:<14}  INSTANCE",
        "PROFILE", "ACCOUNT", "ROLE", "REGION"
    );
    for f in favourites {
        println!(
            "{:<width$}  {:<12}  {:<24}  {:<14}  {}",
            f.profile.as_str(),
            f.account_id,
            match &f.assume_role {
                // The role assumed from it, by its ARN: the name alone may be in any account.
                Some(a) => format!("{} ⇒ {}", display::text(&f.role_name), a.role_arn()),
                None => display::text(&f.role_name).into_owned(),
            },
            f.region.as_deref().unwrap_or(""),
            f.instance,
        );
    }
}

pub fn profiles(profiles: &[ManagedProfile], now: SystemTime, as_json: bool) {
    if as_json {
        let list: Vec<_> = profiles
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "expiresAt": p.expires_at.map(rfc3339),
                    "expired": p.expires_at.map(|t| t <= now),
                    "region": p.region,
                })
            })
            .collect();
        print_json(&json!(list));
        return;
    }
    let width = profiles
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0)
        .max(7);
    println!(
        "{:<width$}  {:<20}  {:<18}  REGION",
        "PROFILE", "EXPIRES", ""
    );
    for p in profiles {
        let (at, relative) = match p.expires_at {
            Some(t) => (rfc3339(t), relative(now, t)),
            None => ("unknown".to_owned(), String::new()),
        };
        println!(
            "{:<width$}  {at:<20}  {relative:<18}  {}",
            p.name,
            p.region.as_deref().unwrap_or("")
        );
    }
}

/// "in 42 min", "expired 3 h ago".
fn relative(now: SystemTime, then: SystemTime) -> String {
    let span = |d: Duration| {
        let m = d.as_secs() / 60;
        if m < 120 {
            format!("{m} min")
        } else {
            format!("{} h", m / 60)
        }
    };
    match then.duration_since(now) {
        Ok(d) => format!("in {}", span(d)),
        Err(e) => format!("expired {} ago", span(e.duration())),
    }
}

pub fn credentials(c: &RoleCredentials, account: &str, role: &str, format: Format) {
    let expiration = rfc3339(c.expiration);
    match format {
        Format::Process => println!(
            "{}",
            json!({
                "Version": 1,
                "AccessKeyId": c.access_key_id,
                "SecretAccessKey": c.secret_access_key.expose(),
                "SessionToken": c.session_token.expose(),
                "Expiration": expiration,
            })
        ),
        Format::Env => {
            println!("export AWS_ACCESS_KEY_ID={}", shell_quote(&c.access_key_id));
            println!(
                "export AWS_SECRET_ACCESS_KEY={}",
                shell_quote(c.secret_access_key.expose())
            );
            println!(
                "export AWS_SESSION_TOKEN={}",
                shell_quote(c.session_token.expose())
            );
            println!(
                "export AWS_CREDENTIAL_EXPIRATION={}",
                shell_quote(&expiration)
            );
        }
        Format::Json => print_json(&json!({
            "accountId": account,
            "roleName": role,
            "accessKeyId": c.access_key_id,
            "secretAccessKey": c.secret_access_key.expose(),
            "sessionToken": c.session_token.expose(),
            "expiration": expiration,
        })),
    }
}

/// Single-quotes `value` for a POSIX shell: what the service sent can never end the quote
/// and run as a command under `eval "$(aws-sso-auth credentials --format env)"`.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn shell_quote_cannot_be_escaped() {
        assert_eq!(super::shell_quote("AKIA123"), "'AKIA123'");
        assert_eq!(super::shell_quote("x';y"), r"'x'\'';y'");
    }

    #[cfg(unix)]
    #[test]
    fn a_shell_reads_the_quoted_value_as_it_was() {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "printf %s {}",
                super::shell_quote("a'b;echo pwned")
            ))
            .output()
            .expect("sh");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a'b;echo pwned");
    }
}
