//! STS on the same port, in the AWS Query protocol: `POST /` with a form body naming the
//! `Action`. `AssumeRole` and `GetCallerIdentity` answer requests signed (SigV4) with
//! credentials the emulator issued — by GetRoleCredentials or an earlier AssumeRole — in
//! the real service's XML, with its status codes, error codes and messages.

use super::routes::gate;
use super::sigv4::{self, SigError};
use super::state::{ApiError, Caller, Principal, Service};
use aws_sso_device_auth_provider::clock::rfc3339;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use std::time::Duration;

/// The only API version STS has.
const VERSION: &str = "2011-06-15";
/// The namespace of STS's replies and of its operations' errors.
const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// The namespace of errors raised before an operation is found.
const FAULT_NS: &str = "http://webservices.amazon.com/AWSFault/2005-15-09";
/// Where the real endpoint sends a request that names no operation.
const LANDING: &str = "https://aws.amazon.com/iam";
/// The default session, and the longest for a role assumed with role credentials (role
/// chaining), which every caller here holds.
const CHAINED_MAX_SECS: i32 = 3600;

/// An error reply, as STS writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StsError {
    status: u16,
    ns: &'static str,
    /// `Sender` (the request is wrong) or `Receiver` (the service failed).
    fault: &'static str,
    code: &'static str,
    /// Left out altogether for some errors (`MalformedInput`), as the real service does.
    message: Option<String>,
}

impl StsError {
    fn sender(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            ns: NS,
            fault: "Sender",
            code,
            message: Some(message.into()),
        }
    }

    fn validation(message: impl Into<String>) -> Self {
        Self::sender(400, "ValidationError", message)
    }

    fn malformed(message: Option<&str>) -> Self {
        Self {
            status: 400,
            ns: NS,
            fault: "Sender",
            code: "MalformedInput",
            message: message.map(str::to_owned),
        }
    }

    fn invalid_token() -> Self {
        Self::sender(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )
    }

    fn expired_token() -> Self {
        Self::sender(
            400,
            "ExpiredToken",
            "The security token included in the request is expired",
        )
    }

    fn signature_mismatch(message: impl Into<String>) -> Self {
        Self::sender(403, "SignatureDoesNotMatch", message)
    }

    /// What the gate's refusal (throttle, injected fault) looks like from STS.
    fn from_gate(e: &ApiError) -> Self {
        if e.status == 429 {
            Self::sender(400, "Throttling", "Rate exceeded")
        } else {
            Self {
                status: 500,
                ns: NS,
                fault: "Receiver",
                code: "InternalFailure",
                message: Some(
                    "The request processing has failed because of an unknown error, exception or failure."
                        .to_owned(),
                ),
            }
        }
    }
}

/// The request's parameters in order; like the real service, the first of a repeated
/// name wins.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Answers `POST /`.
pub async fn serve(svc: &Service, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Response {
    let request_id = request_id();
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    let params = Params(
        url::form_urlencoded::parse(body)
            .into_owned()
            .collect::<Vec<_>>(),
    );
    let action = match params.get("Action") {
        Some(action) if form => action,
        // The real endpoint sends what it cannot read as an operation to the IAM page.
        _ => return landing(&request_id),
    };
    let version = params.get("Version");
    let counter = match (action, version) {
        ("AssumeRole", Some(VERSION)) => &svc.counters.assume_role,
        ("GetCallerIdentity", Some(VERSION)) => &svc.counters.get_caller_identity,
        _ => {
            let e = StsError {
                status: 400,
                ns: FAULT_NS,
                fault: "Sender",
                code: "InvalidAction",
                message: Some(format!(
                    "Could not find operation {action} for version {}",
                    version.unwrap_or("NO_VERSION_SPECIFIED")
                )),
            };
            return error_reply(&request_id, &e);
        }
    };
    let answer = async {
        gate(svc, counter)
            .await
            .map_err(|e| StsError::from_gate(&e))?;
        let caller = authenticate(svc, uri, headers, body)?;
        if action == "AssumeRole" {
            assume_role(svc, &caller, &params)
        } else {
            Ok(get_caller_identity(&caller.principal))
        }
    }
    .await;
    answer_reply(&request_id, action, answer)
}

/// The reply to `action`: its result, or the error.
fn answer_reply(request_id: &str, action: &str, answer: Result<String, StsError>) -> Response {
    match answer {
        Ok(result) => {
            let body = format!(
                "<{action}Response xmlns=\"{NS}\">\n  <{action}Result>\n{result}  </{action}Result>\n  \
                 <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n\
                 </{action}Response>\n"
            );
            xml_reply(StatusCode::OK, request_id, body)
        }
        Err(e) => error_reply(request_id, &e),
    }
}

/// Answers a presigned `GET /?Action=GetCallerIdentity&…&X-Amz-Signature=…`, as an EKS
/// token carries it, with the checks of STS and of the EKS authenticator: the signature
/// (over the request's own `Host` and `x-k8s-aws-id` headers), 15 minutes from
/// `X-Amz-Date`, `host` and `x-k8s-aws-id` among the signed headers, credentials not
/// expired and their sign-in session not revoked.
pub async fn serve_presigned(svc: &Service, uri: &Uri, headers: &HeaderMap) -> Response {
    let request_id = request_id();
    let params = Params(sigv4::query_pairs(uri));
    let action = match params.get("Action") {
        Some(action) => action.to_owned(),
        None => return landing(&request_id),
    };
    let version = params.get("Version");
    if action != "GetCallerIdentity" || version != Some(VERSION) {
        let e = StsError {
            status: 400,
            ns: FAULT_NS,
            fault: "Sender",
            code: "InvalidAction",
            message: Some(format!(
                "Could not find operation {action} for version {}",
                version.unwrap_or("NO_VERSION_SPECIFIED")
            )),
        };
        return error_reply(&request_id, &e);
    }
    let answer = async {
        gate(svc, &svc.counters.presigned_identity_calls)
            .await
            .map_err(|e| StsError::from_gate(&e))?;
        let signed = sigv4::verify_presigned(svc, "GET", uri, headers, "sts").map_err(sig_error)?;
        for needed in ["host", "x-k8s-aws-id"] {
            if !signed.signed_headers.iter().any(|h| h == needed) {
                return Err(StsError::sender(
                    403,
                    "AccessDenied",
                    format!("client did not sign the {needed} header in the pre-signed URL"),
                ));
            }
        }
        if signed.caller.session_revoked {
            return Err(StsError::invalid_token());
        }
        Ok(get_caller_identity(&signed.caller.principal))
    }
    .await;
    answer_reply(&request_id, &action, answer)
}

/// `AssumeRole`: the checks of the real service, in its order, then new credentials.
fn assume_role(svc: &Service, caller: &Caller, p: &Params) -> Result<String, StsError> {
    // Reading the request comes first: a number that is not one fails before any rule.
    let duration = match p.get("DurationSeconds") {
        None => None,
        Some(v) => Some(parse_int(v)?),
    };
    let role_arn = p.get("RoleArn");
    let session = p.get("RoleSessionName");
    let external_id = p.get("ExternalId");

    // The model's constraints, every failure reported at once in the members' order.
    let mut problems = Vec::new();
    check_text(&mut problems, "roleArn", role_arn, arn_char, 20, 2048);
    check_text(&mut problems, "roleSessionName", session, word_char, 2, 64);
    if let Some(d) = duration {
        if d < 900 {
            problems.push(format!("Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"));
        } else if d > 43_200 {
            problems.push(format!("Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"));
        }
    }
    if external_id.is_some() {
        check_text(
            &mut problems,
            "externalId",
            external_id,
            external_id_char,
            2,
            1224,
        );
    }
    let (Some(role_arn), Some(session), true) = (role_arn, session, problems.is_empty()) else {
        let n = problems.len();
        return Err(StsError::validation(format!(
            "{n} validation error{} detected: {}",
            if n == 1 { "" } else { "s" },
            problems.join("; ")
        )));
    };

    let Some((account_id, role_name)) = parse_role_arn(role_arn) else {
        return Err(StsError::validation(format!("{role_arn} is invalid")));
    };
    let config = svc.config();
    let trusted = !role_name.starts_with("NoTrust")
        && (!role_name.ends_with("External") || external_id == Some(config.external_id.as_str()));
    if !trusted {
        return Err(StsError::sender(
            403,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.principal.arn()
            ),
        ));
    }
    let seconds = duration.unwrap_or(CHAINED_MAX_SECS);
    if seconds > CHAINED_MAX_SECS {
        return Err(StsError::validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    let mut lifetime = Duration::from_secs(u64::try_from(seconds).unwrap_or(0));
    if let Some(cap) = config.assume_role_lifetime {
        lifetime = lifetime.min(cap);
    }
    let (principal, c) = svc.assume_role(account_id, role_name, session, lifetime, caller.session);
    Ok(format!(
        "    <AssumedRoleUser>\n      <AssumedRoleId>{}</AssumedRoleId>\n      <Arn>{}</Arn>\n    \
         </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n      \
         <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      \
         <Expiration>{}</Expiration>\n    </Credentials>\n",
        escape(&principal.user_id()),
        escape(&principal.arn()),
        escape(&c.access_key_id),
        escape(&c.secret),
        escape(&c.token),
        rfc3339(c.expires_at),
    ))
}

/// `GetCallerIdentity`: who the signing credentials belong to.
fn get_caller_identity(caller: &Principal) -> String {
    format!(
        "    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n",
        escape(&caller.arn()),
        escape(&caller.user_id()),
        escape(&caller.account_id),
    )
}

/// An integer as the service's Java front end reads it: an optional sign, decimal digits
/// (leading zeros allowed), within 32 bits.
fn parse_int(v: &str) -> Result<i32, StsError> {
    if v.is_empty() {
        return Err(StsError::malformed(Some("missing value for decimal type")));
    }
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StsError::malformed(None));
    }
    v.parse::<i32>().map_err(|_| StsError::malformed(None))
}

/// Records `member`'s constraint failures: absent, a character outside its pattern, a
/// length (in code points) outside `min..=max`.
fn check_text(
    problems: &mut Vec<String>,
    member: &str,
    value: Option<&str>,
    allowed: fn(char) -> bool,
    min: usize,
    max: usize,
) {
    let Some(v) = value else {
        problems.push(format!(
            "Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ));
        return;
    };
    let prefix = format!("Value '{v}' at '{member}' failed to satisfy constraint: Member must");
    // `roleArn`'s pattern ends in `+`: the empty string fails it too.
    let empty_fails = member == "roleArn";
    if !v.chars().all(allowed) || (empty_fails && v.is_empty()) {
        let pattern = match member {
            "roleArn" => {
                r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+"
            }
            "externalId" => r"[\w+=,.@:\/-]*",
            _ => r"[\w+=,.@-]*",
        };
        problems.push(format!(
            "{prefix} satisfy regular expression pattern: {pattern}"
        ));
    }
    let len = v.chars().count();
    if len < min {
        problems.push(format!(
            "{prefix} have length greater than or equal to {min}"
        ));
    } else if len > max {
        problems.push(format!("{prefix} have length less than or equal to {max}"));
    }
}

/// Java's `\w`: ASCII letters, digits and `_`.
fn java_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `[\w+=,.@-]`: session names and role names.
fn word_char(c: char) -> bool {
    java_word(c) || "+=,.@-".contains(c)
}

/// `[\w+=,.@:\/-]`: external ids.
fn external_id_char(c: char) -> bool {
    java_word(c) || "+=,.@:/-".contains(c)
}

/// The role ARN's pattern. The real service's Java regular expression reads
/// `\u10000-\u10FFFF` as `\u1000`, `0-\u10FF`, `FF`: characters beyond the Basic
/// Multilingual Plane fail it, and so they do here.
fn arn_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
}

/// `arn:aws:iam::<12 digits>:role/<path/><name>` → (account, name).
fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let (account, resource) = arn.strip_prefix("arn:aws:iam::")?.split_once(':')?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let path_and_name = resource.strip_prefix("role/")?;
    let (path, name) = path_and_name
        .rsplit_once('/')
        .unwrap_or(("", path_and_name));
    let name_ok = (1..=64).contains(&name.chars().count()) && name.chars().all(word_char);
    let path_ok = path.chars().all(|c| ('!'..='~').contains(&c)) && !path.contains("//");
    (name_ok && path_ok).then_some((account, name))
}

// ---- SigV4 ----

/// How STS words a signature's refusal.
fn sig_error(e: SigError) -> StsError {
    match e {
        SigError::Missing => StsError::sender(
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        ),
        SigError::Incomplete(message) => StsError::sender(400, "IncompleteSignature", message),
        SigError::UnknownCredentials => StsError::invalid_token(),
        SigError::ExpiredCredentials => StsError::expired_token(),
        SigError::Mismatch(message) => StsError::signature_mismatch(message),
    }
}

/// Who signed the request (in its `Authorization` header), once the signature is checked.
fn authenticate(
    svc: &Service,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Caller, StsError> {
    sigv4::verify_header(svc, "POST", uri, headers, body, "sts")
        .map(|signed| signed.caller)
        .map_err(sig_error)
}

// ---- replies ----

/// A request id of the real service's shape (a random UUID).
fn request_id() -> String {
    let mut rng = rand::thread_rng();
    let mut hexes = |n: usize| -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)]))
            .collect()
    };
    // Version 4, variant 1, as the real ids are.
    let variant = ["8", "9", "a", "b"][rand::thread_rng().gen_range(0..4)];
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        hexes(8),
        hexes(4),
        hexes(3),
        hexes(3),
        hexes(12)
    )
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn xml_reply(status: StatusCode, request_id: &str, body: String) -> Response {
    let mut resp = (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    resp
}

fn error_reply(request_id: &str, e: &StsError) -> Response {
    let message = e
        .message
        .as_deref()
        .map(|m| format!("    <Message>{}</Message>\n", escape(m)))
        .unwrap_or_default();
    let body = format!(
        "<ErrorResponse xmlns=\"{}\">\n  <Error>\n    <Type>{}</Type>\n    <Code>{}</Code>\n\
         {message}  </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
        e.ns, e.fault, e.code
    );
    xml_reply(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        request_id,
        body,
    )
}

/// What the real endpoint answers a request that names no operation.
fn landing(request_id: &str) -> Response {
    let mut resp = (StatusCode::FOUND, [(header::LOCATION, LANDING)]).into_response();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/Deploy"),
            Some(("123456789012", "Deploy"))
        );
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/team/ci/Deploy"),
            Some(("123456789012", "Deploy"))
        );
        for bad in [
            "arn:aws:iam::12345678901:role/Deploy",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:user/Deploy",
            "arn:aws:s3:::123456789012:role/Deploy",
            "arn:aws:iam::123456789012:role/De ploy",
            "xxxxxxxxxxxxxxxxxxxx",
        ] {
            assert_eq!(parse_role_arn(bad), None, "{bad}");
        }
    }

    #[test]
    fn integers_as_java_reads_them() {
        assert_eq!(parse_int("+900"), Ok(900));
        assert_eq!(parse_int("0900"), Ok(900));
        assert_eq!(parse_int("-1"), Ok(-1));
        assert_eq!(
            parse_int(""),
            Err(StsError::malformed(Some("missing value for decimal type")))
        );
        for bad in ["abc", "900.0", "2147483648", "-2147483649", "+"] {
            assert_eq!(parse_int(bad), Err(StsError::malformed(None)), "{bad}");
        }
    }

    #[test]
    fn constraint_messages() {
        let mut p = Vec::new();
        check_text(&mut p, "roleArn", Some(""), arn_char, 20, 2048);
        assert_eq!(
            p.join("; "),
            r"Value '' at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+; Value '' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"
        );
        let mut p = Vec::new();
        check_text(&mut p, "roleSessionName", Some("a"), word_char, 2, 64);
        check_text(
            &mut p,
            "roleSessionName",
            Some("bad/name"),
            word_char,
            2,
            64,
        );
        check_text(&mut p, "roleSessionName", None, word_char, 2, 64);
        assert_eq!(
            p,
            [
                "Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
                r"Value 'bad/name' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*",
                "Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null",
            ]
        );
        let mut p = Vec::new();
        check_text(
            &mut p,
            "roleArn",
            Some(&"é".repeat(2048)),
            arn_char,
            20,
            2048,
        );
        assert!(p.is_empty(), "length counts characters, not bytes");
    }
}
