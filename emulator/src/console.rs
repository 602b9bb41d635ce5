//! The console federation endpoint (`signin.aws.amazon.com/federation`): `getSigninToken`
//! turns role credentials into a one-time sign-in token, `login` spends it on a console
//! page, with the real endpoint's checks of `SessionDuration` and `Destination` and the
//! console's multi-session rule (a cookie naming the accounts signed in in a browser).

use super::pages;
use super::state::{ConsoleSignin, Service, SigninRefusal};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::collections::HashMap;

/// The cookie that lists the accounts signed in in one browser, comma-separated.
pub const COOKIE: &str = "emulator-console";

/// The most accounts one browser may be signed in to at once with multi-session on.
pub const MAX_SESSIONS: usize = 5;

/// `SessionDuration` outside its range or not a number.
pub const BAD_DURATION: &str =
    "SessionDuration must be a whole number of seconds from 900 to 43200";

/// `SessionDuration` with credentials from `AssumeRole`.
pub const CHAINED_DURATION: &str =
    "SessionDuration is not allowed with credentials from role chaining (AssumeRole)";

/// Credentials the emulator did not issue, or expired ones.
pub const BAD_CREDENTIALS: &str = "invalid or expired session credentials";

/// A `Destination` outside the consoles of the AWS partitions.
pub const BAD_DESTINATION: &str = "Destination is not an AWS console address";

/// A sign-in token never issued, spent or expired.
pub const BAD_TOKEN: &str = "invalid or used sign-in token";

/// The console hosts of the AWS partitions (commercial, China, GovCloud); a destination's
/// host is one of them or a subdomain of one.
const CONSOLE_HOSTS: [&str; 3] = [
    "console.aws.amazon.com",
    "console.amazonaws.cn",
    "console.amazonaws-us-gov.com",
];

/// `GET /federation`.
pub fn federation(svc: &Service, q: &HashMap<String, String>, headers: &HeaderMap) -> Response {
    match q.get("Action").map(String::as_str) {
        Some("getSigninToken") => get_signin_token(svc, q),
        Some("login") => login(svc, q, headers),
        _ => refuse("unknown Action"),
    }
}

/// A 400 with a plain-text reason (never one that holds what the request sent).
fn refuse(reason: &'static str) -> Response {
    (StatusCode::BAD_REQUEST, reason).into_response()
}

fn get_signin_token(svc: &Service, q: &HashMap<String, String>) -> Response {
    let seconds = match q.get("SessionDuration") {
        None => None,
        Some(v) => match session_duration(v) {
            Some(s) => Some(s),
            None => return refuse(BAD_DURATION),
        },
    };
    let Some(session) = q.get("Session") else {
        return refuse(BAD_CREDENTIALS);
    };
    match svc.signin_token(session, seconds) {
        Ok(token) => Json(json!({ "SigninToken": token })).into_response(),
        Err(SigninRefusal::Credentials) => refuse(BAD_CREDENTIALS),
        Err(SigninRefusal::ChainedDuration) => refuse(CHAINED_DURATION),
    }
}

/// `SessionDuration`: decimal digits (no sign, no spaces) naming 900 to 43200 seconds.
fn session_duration(v: &str) -> Option<u32> {
    // Digits only, and few enough of them that parsing cannot overflow.
    if v.is_empty() || v.len() > 9 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u32>().ok().filter(|s| (900..=43_200).contains(s))
}

/// What a `login` does with the browser's sessions.
enum Sessions {
    /// Signed in; the cookie's new value.
    SignedIn(String),
    /// Multi-session on and the browser already holds the most accounts.
    TooMany,
    /// Multi-session off and the browser is signed in to another account.
    LogOutFirst,
}

fn login(svc: &Service, q: &HashMap<String, String>, headers: &HeaderMap) -> Response {
    // The destination first: a refused one leaves the token for a good one.
    let Some(destination) = q
        .get("Destination")
        .map(String::as_str)
        .filter(|d| is_console_destination(d))
    else {
        return refuse(BAD_DESTINATION);
    };
    let Some(token) = q.get("SigninToken") else {
        return refuse(BAD_TOKEN);
    };
    let signed_in = signed_in_accounts(headers);
    let multi = svc.config().console_multi_session;
    let mut outcome = None;
    let decided = svc.console_login(token, |signin| {
        let sessions = sessions_after(&signed_in, &signin.account_id, multi);
        let go = matches!(sessions, Sessions::SignedIn(_));
        outcome = Some(sessions);
        go
    });
    let Some((signin, _)) = decided else {
        return refuse(BAD_TOKEN);
    };
    match outcome {
        Some(Sessions::SignedIn(cookie)) => console_page(&signin, destination, &cookie),
        Some(Sessions::TooMany) => Html(pages::notice(
            "too-many-sessions",
            "Too many sessions",
            &format!(
                "You are signed in to {MAX_SESSIONS} accounts in this browser, the most it \
                 can hold. Sign out of one of them before signing in to another account."
            ),
        ))
        .into_response(),
        Some(Sessions::LogOutFirst) | None => Html(pages::notice(
            "log-out-first",
            "Sign out first",
            "You must first log out before logging into a different AWS account.",
        ))
        .into_response(),
    }
}

fn console_page(signin: &ConsoleSignin, destination: &str, cookie: &str) -> Response {
    let mut resp = Html(pages::console(
        &signin.account_id,
        &signin.role,
        destination,
        signin.session_seconds,
    ))
    .into_response();
    // The value holds only 12-digit account ids and commas (see `signed_in_accounts`).
    if let Ok(v) = HeaderValue::from_str(&format!("{COOKIE}={cookie}; Path=/; HttpOnly")) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// The accounts the browser's cookie names, in order, without repeats; anything but a
/// 12-digit account id is ignored.
fn signed_in_accounts(headers: &HeaderMap) -> Vec<String> {
    let mut accounts: Vec<String> = Vec::new();
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for pair in value.split(';') {
            let Some((name, v)) = pair.trim().split_once('=') else {
                continue;
            };
            if name.trim() != COOKIE {
                continue;
            }
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            for id in v.split(',').map(str::trim) {
                if is_account_id(id) && !accounts.iter().any(|a| a == id) {
                    accounts.push(id.to_owned());
                }
            }
        }
    }
    accounts
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The console's rule for signing in to `account` in a browser signed in to
/// `signed_in`.
fn sessions_after(signed_in: &[String], account: &str, multi: bool) -> Sessions {
    let already = signed_in.iter().any(|a| a == account);
    if multi {
        if already {
            Sessions::SignedIn(signed_in.join(","))
        } else if signed_in.len() >= MAX_SESSIONS {
            Sessions::TooMany
        } else {
            let mut all = signed_in.to_vec();
            all.push(account.to_owned());
            Sessions::SignedIn(all.join(","))
        }
    } else if signed_in.iter().any(|a| a != account) {
        Sessions::LogOutFirst
    } else {
        Sessions::SignedIn(account.to_owned())
    }
}

/// An `https` URL, without userinfo or port, whose host is a console host of an AWS
/// partition or a subdomain of one. The raw text is checked as well as the parsed URL,
/// because a parser forgives what the real endpoint refuses (tabs and newlines dropped,
/// `:443` dropped, `\` read as `/`).
pub fn is_console_destination(raw: &str) -> bool {
    if raw
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return false;
    }
    let Some(scheme) = raw.get(..8) else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("https://") {
        return false;
    }
    let rest = &raw[8..];
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains(['@', ':']) {
        return false;
    }
    let Ok(url) = url::Url::parse(raw) else {
        return false;
    };
    if url.scheme() != "https"
        || !url.username().is_empty()
        || url.password().is_some()
        || url.port().is_some()
    {
        return false;
    }
    let Some(url::Host::Domain(host)) = url.host() else {
        return false;
    };
    let labels_ok = host.split('.').all(|label| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    labels_ok
        && CONSOLE_HOSTS.iter().any(|console| {
            host == *console
                || host
                    .strip_suffix(console)
                    .is_some_and(|prefix| prefix.ends_with('.'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_destinations() {
        for good in [
            "https://console.aws.amazon.com/",
            "https://console.aws.amazon.com",
            "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#Instances:",
            "https://123456789012-abcd.eu-west-1.console.aws.amazon.com/console/home",
            "https://console.amazonaws.cn/console/home",
            "https://cn-north-1.console.amazonaws.cn/",
            "https://console.amazonaws-us-gov.com/",
            "https://us-gov-west-1.console.amazonaws-us-gov.com/s3/home",
            "HTTPS://Console.AWS.Amazon.com/",
        ] {
            assert!(is_console_destination(good), "{good}");
        }
        for bad in [
            "",
            "http://console.aws.amazon.com/",
            "https://console.aws.amazon.com:443/",
            "https://console.aws.amazon.com:8443/",
            "https://user@console.aws.amazon.com/",
            "https://user:pw@console.aws.amazon.com/",
            "https://evil.example@console.aws.amazon.com/",
            "https://console.aws.amazon.com@evil.example/",
            "https://evilconsole.aws.amazon.com/",
            "https://console.aws.amazon.com.evil.example/",
            "https://console.aws.amazon.com./",
            "https://aws.amazon.com/",
            "https://amazonaws.cn/",
            "https://x..console.aws.amazon.com/",
            "javascript:alert(1)//https://console.aws.amazon.com/",
            "data:text/html,https://console.aws.amazon.com/",
            "//console.aws.amazon.com/",
            "https:console.aws.amazon.com/",
            "https:/console.aws.amazon.com/",
            "https://console.aws.amazon.com\\@evil.example/",
            "https://console.aws.amazon.com/\n",
            "https://console.aws\t.amazon.com/",
            "https://console.aws.amazon.com/\u{7f}",
            "https://console.aws.amazon.com/\u{85}",
            " https://console.aws.amazon.com/",
            "https://[::1]/",
            "https://127.0.0.1/",
        ] {
            assert!(!is_console_destination(bad), "{bad:?}");
        }
    }

    #[test]
    fn session_durations() {
        assert_eq!(session_duration("900"), Some(900));
        assert_eq!(session_duration("43200"), Some(43_200));
        assert_eq!(session_duration("0900"), Some(900));
        for bad in [
            "",
            "899",
            "43201",
            "abc",
            "+900",
            "-900",
            " 900",
            "900.0",
            "1e3",
            "99999999999",
        ] {
            assert_eq!(session_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_cookie_names_accounts_only() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static(
                "a=b; emulator-console=111111111111,<x>,222222222222,111111111111",
            ),
        );
        h.append(
            header::COOKIE,
            HeaderValue::from_static("emulator-console=\"333333333333\""),
        );
        assert_eq!(
            signed_in_accounts(&h),
            ["111111111111", "222222222222", "333333333333"]
        );
    }

    #[test]
    fn the_sessions_rule() {
        let five: Vec<String> = (1..=5).map(|i| format!("{i}").repeat(12)).collect();
        assert!(matches!(
            sessions_after(&five, "666666666666", true),
            Sessions::TooMany
        ));
        assert!(
            matches!(sessions_after(&five, "333333333333", true), Sessions::SignedIn(c) if c == five.join(","))
        );
        assert!(
            matches!(sessions_after(&five[..1], "666666666666", true), Sessions::SignedIn(c) if c == "111111111111,666666666666")
        );
        assert!(matches!(
            sessions_after(&five[..1], "666666666666", false),
            Sessions::LogOutFirst
        ));
        assert!(
            matches!(sessions_after(&five[..1], "111111111111", false), Sessions::SignedIn(c) if c == "111111111111")
        );
        assert!(
            matches!(sessions_after(&[], "111111111111", false), Sessions::SignedIn(c) if c == "111111111111")
        );
    }
}
