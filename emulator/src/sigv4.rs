//! SigV4 as every AWS service checks it, for any method and any service's credential
//! scope: in the `Authorization` header (what the SDK clients send) or in the query
//! string (a presigned URL). Each protocol turns a [`SigError`] into its own error reply.

use super::state::{Caller, CredentialProblem, Service};
use aws_sso_device_auth_provider::clock::{parse_rfc3339, rfc3339};
use axum::http::{header, HeaderMap, Uri};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

/// The message of a signature that does not match, as AWS words it.
pub const MISMATCH: &str = "The request signature we calculated does not match the signature \
     you provided. Check your AWS Secret Access Key and signing method. Consult the service \
     documentation for details.";

/// How far a presigned request's `X-Amz-Date` may be from now.
const PRESIGNED_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Why a request's signature is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigError {
    /// No `Authorization` header.
    Missing,
    /// The signature's parts are missing or malformed (the message says which).
    Incomplete(String),
    /// Credentials the emulator never issued, or a session token not theirs.
    UnknownCredentials,
    /// Credentials past their expiry.
    ExpiredCredentials,
    /// The signature does not match, is scoped wrongly or is out of its time window
    /// (the message says which).
    Mismatch(String),
}

/// A request whose signature checks out.
#[derive(Debug, Clone)]
pub struct Signed {
    /// Who signed it.
    pub caller: Caller,
    /// The region of the credential scope.
    pub region: String,
    /// The headers the signature covers, lower case.
    pub signed_headers: Vec<String>,
}

/// The parts of `<key id>/<date>/<region>/<service>/aws4_request`.
struct Scope<'a> {
    access_key_id: &'a str,
    /// `<date>/<region>/<service>/aws4_request`.
    scope: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
}

const SCOPE_ELEMENTS: &str =
    "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term,";

fn parse_scope(credential: &str) -> Result<Scope<'_>, SigError> {
    let Some((access_key_id, scope)) = credential.split_once('/') else {
        return Err(SigError::Incomplete(SCOPE_ELEMENTS.to_owned()));
    };
    let parts: Vec<&str> = scope.split('/').collect();
    let [date, region, service, terminator] = parts[..] else {
        return Err(SigError::Incomplete(SCOPE_ELEMENTS.to_owned()));
    };
    if terminator != "aws4_request" {
        return Err(SigError::Mismatch(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. "
        )));
    }
    Ok(Scope {
        access_key_id,
        scope,
        date,
        region,
        service,
    })
}

/// The credentials' holder, then the scope's service, then the signature, in the real
/// services' order.
fn check(
    svc: &Service,
    scope: &Scope<'_>,
    token: Option<&str>,
    service: &str,
    amz_date: &str,
    canonical: &str,
    signature: &str,
) -> Result<Caller, SigError> {
    let caller = svc
        .caller(scope.access_key_id, token)
        .map_err(|p| match p {
            CredentialProblem::Unknown => SigError::UnknownCredentials,
            CredentialProblem::Expired => SigError::ExpiredCredentials,
        })?;
    if scope.service != service {
        return Err(SigError::Mismatch(format!(
            "Credential should be scoped to correct service: '{service}'. "
        )));
    }
    let expected = sign(&caller.secret, scope, amz_date, canonical);
    if expected.as_bytes() != signature.as_bytes() {
        return Err(SigError::Mismatch(MISMATCH.to_owned()));
    }
    Ok(caller)
}

/// Checks a request signed in its `Authorization` header for `service` (`sts`, `eks`,
/// `ecr`).
pub fn verify_header(
    svc: &Service,
    method: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    service: &str,
) -> Result<Signed, SigError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(SigError::Missing);
    };
    let amz_date = headers.get("x-amz-date").and_then(|v| v.to_str().ok());
    let value = value.to_str().unwrap_or_default();
    let (algorithm, rest) = value.split_once(' ').unwrap_or((value, ""));
    let field = |name: &str| {
        (algorithm == "AWS4-HMAC-SHA256")
            .then(|| {
                rest.split(',')
                    .filter_map(|part| part.trim().split_once('='))
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v)
            })
            .flatten()
    };
    let (credential, signed_headers, signature) = (
        field("Credential"),
        field("SignedHeaders"),
        field("Signature"),
    );
    let mut missing = String::new();
    for (name, present) in [
        ("Credential", credential.is_some()),
        ("Signature", signature.is_some()),
        ("SignedHeaders", signed_headers.is_some()),
    ] {
        if !present {
            let _ = write!(
                missing,
                "Authorization header requires '{name}' parameter. "
            );
        }
    }
    if amz_date.is_none() {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        );
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some(amz_date)) =
        (credential, signed_headers, signature, amz_date)
    else {
        return Err(SigError::Incomplete(missing.trim_end().to_owned()));
    };
    let scope = parse_scope(credential)?;
    let token = headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok());
    let canonical = canonical_request(method, uri, headers, body, signed_headers, false);
    let caller = check(svc, &scope, token, service, amz_date, &canonical, signature)?;
    Ok(Signed {
        caller,
        region: scope.region.to_owned(),
        signed_headers: split_headers(signed_headers),
    })
}

/// Checks a presigned request (SigV4 in the query string) for `service`, as the real
/// services do: every part present, the credential scope's date that of `X-Amz-Date`,
/// within 15 minutes of `X-Amz-Date` by the service's clock (whatever `X-Amz-Expires`
/// says, as STS ignores it for GetCallerIdentity), then the credentials and the signature
/// (over the empty payload's hash, as SDKs sign a presigned GET).
pub fn verify_presigned(
    svc: &Service,
    method: &str,
    uri: &Uri,
    headers: &HeaderMap,
    service: &str,
) -> Result<Signed, SigError> {
    let params = query_pairs(uri);
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut missing = Vec::new();
    let mut need = |name: &'static str| {
        let v = get(name);
        if v.is_none() {
            missing.push(name);
        }
        v
    };
    let (algorithm, credential, amz_date, signed_headers, signature) = (
        need("X-Amz-Algorithm"),
        need("X-Amz-Credential"),
        need("X-Amz-Date"),
        need("X-Amz-SignedHeaders"),
        need("X-Amz-Signature"),
    );
    let (Some(algorithm), Some(credential), Some(amz_date), Some(signed_headers), Some(signature)) =
        (algorithm, credential, amz_date, signed_headers, signature)
    else {
        let names = missing
            .iter()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(SigError::Incomplete(format!(
            "AWS query-string parameters must include {names}. Re-examine the query-string parameters."
        )));
    };
    if algorithm != "AWS4-HMAC-SHA256" {
        return Err(SigError::Incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'"
        )));
    }
    let scope = parse_scope(credential)?;
    let Some(signed_at) = parse_amz_date(amz_date) else {
        return Err(SigError::Incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
        )));
    };
    if !amz_date.starts_with(scope.date) || scope.date.len() != 8 {
        return Err(SigError::Mismatch(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            scope.date,
            &amz_date[..8.min(amz_date.len())]
        )));
    }
    let now = svc.clock.now();
    if signed_at + PRESIGNED_WINDOW < now {
        return Err(SigError::Mismatch(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            amz_format(now - PRESIGNED_WINDOW),
            amz_format(now)
        )));
    }
    if signed_at > now + PRESIGNED_WINDOW {
        return Err(SigError::Mismatch(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
            amz_format(now + PRESIGNED_WINDOW),
            amz_format(now)
        )));
    }
    let token = get("X-Amz-Security-Token");
    let canonical = canonical_request(method, uri, headers, b"", signed_headers, true);
    let caller = check(svc, &scope, token, service, amz_date, &canonical, signature)?;
    Ok(Signed {
        caller,
        region: scope.region.to_owned(),
        signed_headers: split_headers(signed_headers),
    })
}

fn split_headers(signed_headers: &str) -> Vec<String> {
    signed_headers
        .split(';')
        .map(str::to_ascii_lowercase)
        .collect()
}

/// The query string's pairs, decoded, in order.
pub fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// `20240102T030405Z` → the time it names.
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16
        || b[8] != b'T'
        || b[15] != b'Z'
        || !b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
    {
        return None;
    }
    parse_rfc3339(&format!(
        "{}-{}-{}T{}:{}:{}Z",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[9..11],
        &s[11..13],
        &s[13..15]
    ))
}

/// A time as `X-Amz-Date` writes it.
fn amz_format(t: SystemTime) -> String {
    rfc3339(t)
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .take(15)
        .chain(std::iter::once('Z'))
        .collect()
}

/// The canonical request of SigV4 (the variant of every service but S3: the path encoded
/// once more). A presigned request's own `X-Amz-Signature` is not part of it.
fn canonical_request(
    method: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    signed_headers: &str,
    presigned: bool,
) -> String {
    let path = match uri.path() {
        "" => "/".to_owned(),
        p => encode(p, true),
    };
    let mut query: Vec<(String, String)> = query_pairs(uri)
        .into_iter()
        .filter(|(k, _)| !(presigned && k == "X-Amz-Signature"))
        .map(|(k, v)| (encode(&k, false), encode(&v, false)))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let _ = writeln!(canonical_headers, "{name}:{}", values.join(","));
    }
    let payload = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .filter(|_| !presigned)
        .map_or_else(|| hex(&Sha256::digest(body)), str::to_owned);
    format!("{method}\n{path}\n{query}\n{canonical_headers}\n{signed_headers}\n{payload}")
}

/// The signature `secret` gives `canonical` under `scope`.
fn sign(secret: &str, scope: &Scope<'_>, amz_date: &str, canonical: &str) -> String {
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{}\n{}",
        scope.scope,
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let key = [scope.date, scope.region, scope.service, "aws4_request"]
        .iter()
        .fold(format!("AWS4{secret}").into_bytes(), |key, part| {
            hmac(&key, part.as_bytes())
        });
    hex(&hmac(&key, string_to_sign.as_bytes()))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Percent-encodes all but RFC 3986's unreserved characters (and `/` in a path).
fn encode(s: &str, path: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (path && b == b'/') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derived signing key of AWS's SigV4 documentation.
    #[test]
    fn signing_key_and_hex() {
        let key = ["20120215", "us-east-1", "iam", "aws4_request"]
            .iter()
            .fold(
                b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_vec(),
                |key, part| hmac(&key, part.as_bytes()),
            );
        assert_eq!(
            hex(&key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    /// AWS's documented GET example (IAM ListUsers), its canonical request and signature.
    #[test]
    fn get_example_of_the_documentation() {
        let uri: Uri = "/?Action=ListUsers&Version=2010-05-08"
            .parse()
            .expect("uri");
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .expect("header"),
        );
        headers.insert("host", "iam.amazonaws.com".parse().expect("header"));
        headers.insert("x-amz-date", "20150830T123600Z".parse().expect("header"));
        let canonical = canonical_request(
            "GET",
            &uri,
            &headers,
            b"",
            "content-type;host;x-amz-date",
            false,
        );
        assert_eq!(
            hex(&Sha256::digest(canonical.as_bytes())),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        let scope = parse_scope("AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request").expect("scope");
        assert_eq!(
            sign(
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                &scope,
                "20150830T123600Z",
                &canonical
            ),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn amz_dates() {
        let t = parse_amz_date("20150830T123600Z").expect("date");
        assert_eq!(amz_format(t), "20150830T123600Z");
        for bad in [
            "2015-08-30T12:36:00Z",
            "20150830T123600",
            "20150830X123600Z",
            "",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }
}
