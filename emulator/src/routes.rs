//! HTTP: the restJson1 operations of both services, STS's Query protocol at `/` (and its
//! presigned `GET /`), ECR's awsJson1.1 at `POST /` (told apart by `X-Amz-Target`), EKS's
//! restJson1 under `/clusters`, UXC's restJson1 at `/v1/account-customizations`, the
//! console federation endpoint, the approval pages, and a small control API under
//! `/_emulator/` for tests in other processes.

use super::config::ReplyFault;
use super::pages;
use super::state::{bump, ApiError, Service, TokenRequest};
use axum::body::Bytes;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone)]
struct Ctx {
    svc: Arc<Service>,
    base: String,
}

type Params = Query<HashMap<String, String>>;

pub fn router(svc: Arc<Service>, base: String) -> Router {
    Router::new()
        .route("/", post(post_root).get(sts_presigned))
        .route("/clusters", get(eks_list_clusters))
        .route("/clusters/{name}", get(eks_describe_cluster))
        .route(
            "/v1/account-customizations",
            get(uxc_account_customizations),
        )
        .route("/client/register", post(register_client))
        .route("/device_authorization", post(start_device_authorization))
        .route("/token", post(create_token))
        .route("/authorize", get(authorize))
        .route("/authorize/decision", post(authorize_decision))
        .route("/device", get(device_page))
        .route("/device/decision", post(device_decision))
        .route("/assignment/accounts", get(list_accounts))
        .route("/assignment/roles", get(list_account_roles))
        .route("/federation/credentials", get(get_role_credentials))
        .route("/logout", post(logout))
        .route("/federation", get(federation))
        .route("/_emulator/counters", get(counters))
        .route("/_emulator/pending", get(pending))
        .route("/_emulator/decide", post(control_decide))
        .route("/_emulator/revoke", post(control_revoke))
        .route("/_emulator/ecr/check", post(control_ecr_check))
        .with_state(Ctx { svc, base })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let service = if self.oauth_code.is_some() {
            "switchboard.oidc"
        } else {
            "switchboard.portal"
        };
        let body = match self.oauth_code {
            Some(code) => json!({ "error": code, "error_description": self.message }),
            None => json!({ "message": self.message }),
        };
        let mut resp = (
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST),
            Json(body),
        )
            .into_response();
        let header_value = format!(
            "{}:http://internal.amazon.com/coral/com.amazonaws.{service}/",
            self.type_name
        );
        if let Ok(v) = HeaderValue::from_str(&header_value) {
            resp.headers_mut().insert("x-amzn-errortype", v);
        }
        resp
    }
}

/// Counts, delays, throttles and injects faults before an operation.
pub(crate) async fn gate(
    svc: &Service,
    counter: &std::sync::atomic::AtomicU64,
) -> Result<(), ApiError> {
    bump(counter);
    let latency = svc.config().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    svc.admit()
}

/// `body` as the success reply, or malformed as the config asks. `key` is the field a
/// client cannot do without.
fn reply(svc: &Service, key: &str, mut body: serde_json::Value) -> Response {
    let json = |status: StatusCode, bytes: Vec<u8>| {
        (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
    };
    match svc.config().reply_fault {
        None => Json(body).into_response(),
        Some(ReplyFault::MissingFields) => {
            for_each_field(&mut body, key, &mut |_| None);
            Json(body).into_response()
        }
        Some(ReplyFault::WrongTypes) => {
            for_each_field(&mut body, key, &mut |v| {
                Some(if v.is_string() {
                    json!(42)
                } else {
                    json!("soon")
                })
            });
            Json(body).into_response()
        }
        Some(ReplyFault::HugeBody) => {
            const SIZE: usize = 32 << 20;
            let mut bytes = Vec::with_capacity(SIZE + 2);
            bytes.push(b'[');
            while bytes.len() < SIZE {
                bytes.extend_from_slice(b"0,");
            }
            bytes.extend_from_slice(b"0]");
            json(StatusCode::OK, bytes)
        }
        Some(ReplyFault::Html(status)) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            Html(pages::outcome(
                "Bad Gateway",
                "The upstream server sent an invalid response.",
            )),
        )
            .into_response(),
        Some(ReplyFault::Truncated) => {
            let mut bytes = body.to_string().into_bytes();
            bytes.truncate(bytes.len() / 2);
            json(StatusCode::OK, bytes)
        }
        Some(ReplyFault::NoList) => {
            if let Some(map) = body.as_object_mut() {
                map.remove("accountList");
                map.remove("roleList");
            }
            Json(body).into_response()
        }
    }
}

/// Replaces (or, when `change` gives `None`, removes) every `key` field in `v`.
fn for_each_field(
    v: &mut serde_json::Value,
    key: &str,
    change: &mut impl FnMut(&serde_json::Value) -> Option<serde_json::Value>,
) {
    match v {
        serde_json::Value::Object(map) => {
            if let Some(old) = map.remove(key) {
                if let Some(new) = change(&old) {
                    map.insert(key.to_owned(), new);
                }
            }
            map.values_mut()
                .for_each(|v| for_each_field(v, key, change));
        }
        serde_json::Value::Array(items) => items
            .iter_mut()
            .for_each(|v| for_each_field(v, key, change)),
        _ => {}
    }
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid_request(true, format!("Malformed request body: {e}")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterReq {
    client_name: Option<String>,
    client_type: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    grant_types: Vec<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
}

async fn register_client(State(c): State<Ctx>, body: Bytes) -> Result<Response, ApiError> {
    gate(&c.svc, &c.svc.counters.register_client).await?;
    let r: RegisterReq = parse_json(&body)?;
    let (id, secret, issued, expires) = c.svc.register_client(
        r.client_name.as_deref(),
        r.client_type.as_deref(),
        r.scopes,
        r.grant_types,
        r.redirect_uris,
    )?;
    Ok(Json(json!({
        "clientId": id, "clientSecret": secret,
        "clientIdIssuedAt": issued, "clientSecretExpiresAt": expires,
        "authorizationEndpoint": format!("{}/authorize", c.base),
        "tokenEndpoint": format!("{}/token", c.base),
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceReq {
    client_id: Option<String>,
    client_secret: Option<String>,
    start_url: Option<String>,
}

async fn start_device_authorization(
    State(c): State<Ctx>,
    body: Bytes,
) -> Result<Response, ApiError> {
    gate(&c.svc, &c.svc.counters.start_device_authorization).await?;
    let r: DeviceReq = parse_json(&body)?;
    let (device_code, user_code, expires_in, interval) = c.svc.start_device_authorization(
        r.client_id.as_deref(),
        r.client_secret.as_deref(),
        r.start_url.as_deref(),
    )?;
    let page = c
        .svc
        .config()
        .verification_uri
        .unwrap_or_else(|| format!("{}/device", c.base));
    let complete = format!("{page}?user_code={user_code}");
    let mut reply = json!({
        "deviceCode": device_code, "userCode": user_code,
        "verificationUri": page,
        "verificationUriComplete": complete, "expiresIn": expires_in,
    });
    if interval > 0 {
        reply["interval"] = json!(interval);
    }
    Ok(Json(reply).into_response())
}

async fn create_token(State(c): State<Ctx>, body: Bytes) -> Result<Response, ApiError> {
    gate(&c.svc, &c.svc.counters.create_token).await?;
    let r: TokenRequest = parse_json(&body)?;
    let token = serde_json::to_value(c.svc.create_token(&r)?).unwrap_or_default();
    Ok(reply(&c.svc, "accessToken", token))
}

async fn authorize(State(c): State<Ctx>, Query(q): Params) -> Result<Response, ApiError> {
    bump(&c.svc.counters.authorize);
    let id = c.svc.authorize(&q)?;
    if c.svc.config().auto_approve {
        return Ok(match c.svc.decide_authorize(&id, true) {
            Some(to) => Redirect::to(&to).into_response(),
            None => Html(pages::outcome("Expired", "This request has expired.")).into_response(),
        });
    }
    let client = q.get("client_id").cloned().unwrap_or_default();
    Ok(Html(pages::authorize(&id, &client)).into_response())
}

async fn authorize_decision(
    State(c): State<Ctx>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let allow = f.get("decision").map(String::as_str) == Some("allow");
    match f
        .get("request")
        .and_then(|id| c.svc.decide_authorize(id, allow))
    {
        Some(to) => Redirect::to(&to).into_response(),
        None => (
            StatusCode::BAD_REQUEST,
            Html(pages::outcome(
                "Request not found",
                "This sign-in request has expired or was already answered.",
            )),
        )
            .into_response(),
    }
}

async fn device_page(Query(q): Params) -> Html<String> {
    Html(pages::device(
        q.get("user_code")
            .map(String::as_str)
            .filter(|s| !s.is_empty()),
    ))
}

async fn device_decision(State(c): State<Ctx>, Form(f): Form<HashMap<String, String>>) -> Response {
    let allow = f.get("decision").map(String::as_str) == Some("allow");
    let code = f.get("user_code").cloned().unwrap_or_default();
    if c.svc.decide_device(&code, allow) {
        let (title, text) = if allow {
            (
                "Request approved",
                "You can close this window and return to your application.",
            )
        } else {
            (
                "Request denied",
                "The application will not get access. You can close this window.",
            )
        };
        Html(pages::outcome(title, text)).into_response()
    } else {
        (
            StatusCode::BAD_REQUEST,
            Html(pages::outcome(
                "Code not recognised",
                "That code is not waiting for approval; it may have expired.",
            )),
        )
            .into_response()
    }
}

fn bearer(h: &HeaderMap) -> Option<&str> {
    h.get("x-amz-sso_bearer_token")
        .and_then(|v| v.to_str().ok())
}

/// One page of `items`, with the real service's limits on `max_result`.
fn page<T: Clone>(
    items: &[T],
    q: &HashMap<String, String>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let size = match q.get("max_result") {
        None => 20,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid_request(
                    false,
                    "max_result must be between 1 and 100",
                ))
            }
        },
    };
    let start = match q.get("next_token") {
        None => 0,
        Some(t) => t
            .strip_prefix("nt-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| ApiError::invalid_request(false, "Invalid next token"))?,
    };
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| format!("nt-{end}"));
    Ok((items[start..end].to_vec(), next))
}

async fn list_accounts(
    State(c): State<Ctx>,
    h: HeaderMap,
    Query(q): Params,
) -> Result<Response, ApiError> {
    gate(&c.svc, &c.svc.counters.list_accounts).await?;
    c.svc.authenticate(bearer(&h))?;
    let org = c.svc.org();
    let (items, next) = page(&org, &q)?;
    let list: Vec<_> = items
        .iter()
        .map(|a| json!({"accountId": a.account_id, "accountName": a.account_name, "emailAddress": a.email_address}))
        .collect();
    Ok(reply(
        &c.svc,
        "accountId",
        json!({ "accountList": list, "nextToken": next }),
    ))
}

async fn list_account_roles(
    State(c): State<Ctx>,
    h: HeaderMap,
    Query(q): Params,
) -> Result<Response, ApiError> {
    gate(&c.svc, &c.svc.counters.list_account_roles).await?;
    c.svc.authenticate(bearer(&h))?;
    let Some(account_id) = q.get("account_id") else {
        return Err(ApiError::invalid_request(false, "account_id is required"));
    };
    let org = c.svc.org();
    let Some(account) = org.iter().find(|a| &a.account_id == account_id) else {
        return Err(ApiError::not_found("Account not found"));
    };
    let (items, next) = page(&account.roles, &q)?;
    let list: Vec<_> = items
        .iter()
        .map(|r| json!({"roleName": r, "accountId": account_id}))
        .collect();
    Ok(reply(
        &c.svc,
        "roleName",
        json!({ "roleList": list, "nextToken": next }),
    ))
}

async fn get_role_credentials(
    State(c): State<Ctx>,
    h: HeaderMap,
    Query(q): Params,
) -> Result<Response, ApiError> {
    gate(&c.svc, &c.svc.counters.get_role_credentials).await?;
    let session = c.svc.authenticate(bearer(&h))?;
    let (Some(account), Some(role)) = (q.get("account_id"), q.get("role_name")) else {
        return Err(ApiError::invalid_request(
            false,
            "account_id and role_name are required",
        ));
    };
    let (ak, sk, st, exp) = c.svc.role_credentials(account, role, session)?;
    let mut resp = reply(
        &c.svc,
        "expiration",
        json!({"roleCredentials": {
            "accessKeyId": ak, "secretAccessKey": sk, "sessionToken": st, "expiration": exp,
        }}),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// The console federation endpoint (signin.aws.amazon.com/federation): `getSigninToken`
/// and `login`.
async fn federation(State(c): State<Ctx>, Query(q): Params, h: HeaderMap) -> Response {
    super::console::federation(&c.svc, &q, &h)
}

/// UXC `GetAccountCustomizations`.
async fn uxc_account_customizations(State(c): State<Ctx>, uri: Uri, h: HeaderMap) -> Response {
    super::uxc::get_account_customizations(&c.svc, &uri, &h).await
}

/// `POST /`: ECR when `X-Amz-Target` names one of its operations (awsJson1.1), else STS,
/// where every operation names its `Action` in a form.
async fn post_root(State(c): State<Ctx>, uri: Uri, h: HeaderMap, body: Bytes) -> Response {
    let target = h
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .filter(|t| t.starts_with(super::ecr::TARGET_PREFIX));
    match target {
        Some(target) => super::ecr::serve(&c.svc, target, &uri, &h, &body).await,
        None => super::sts::serve(&c.svc, &uri, &h, &body).await,
    }
}

/// STS's presigned `GET /?Action=GetCallerIdentity&…` (an EKS token).
async fn sts_presigned(State(c): State<Ctx>, uri: Uri, h: HeaderMap) -> Response {
    super::sts::serve_presigned(&c.svc, &uri, &h).await
}

/// EKS `ListClusters`.
async fn eks_list_clusters(State(c): State<Ctx>, uri: Uri, h: HeaderMap) -> Response {
    super::eks::list_clusters(&c.svc, &uri, &h).await
}

/// EKS `DescribeCluster`.
async fn eks_describe_cluster(
    State(c): State<Ctx>,
    Path(name): Path<String>,
    uri: Uri,
    h: HeaderMap,
) -> Response {
    super::eks::describe_cluster(&c.svc, &name, &uri, &h).await
}

async fn logout(State(c): State<Ctx>, h: HeaderMap) -> Result<Response, ApiError> {
    gate(&c.svc, &c.svc.counters.logout).await?;
    c.svc.logout(bearer(&h));
    Ok(StatusCode::OK.into_response())
}

async fn counters(State(c): State<Ctx>) -> Json<super::CountersSnapshot> {
    Json(c.svc.counters.snapshot())
}

async fn pending(State(c): State<Ctx>) -> Json<serde_json::Value> {
    Json(
        json!({ "userCodes": c.svc.pending_user_codes(), "authorizations": c.svc.pending_authorizations() }),
    )
}

async fn control_decide(State(c): State<Ctx>, Query(q): Params) -> StatusCode {
    let allow = q.get("allow").map(String::as_str) != Some("false");
    match q.get("user_code") {
        Some(code) if c.svc.decide_device(code, allow) => StatusCode::NO_CONTENT,
        _ => StatusCode::NOT_FOUND,
    }
}

/// Whose an ECR password is: 200 `{"accountId", "region"}`, or 401 for a password never
/// issued or expired (for a registry stand-in in another process).
async fn control_ecr_check(State(c): State<Ctx>, body: Bytes) -> Response {
    let password = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("password")
                .and_then(|p| p.as_str())
                .map(str::to_owned)
        });
    match password.and_then(|p| c.svc.ecr_password_owner(&p)) {
        Some((account_id, region)) => {
            Json(json!({ "accountId": account_id, "region": region })).into_response()
        }
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn control_revoke(State(c): State<Ctx>) -> StatusCode {
    c.svc.revoke_sessions();
    StatusCode::NO_CONTENT
}
