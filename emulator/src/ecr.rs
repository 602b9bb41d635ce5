//! ECR in awsJson1.1: `POST /` with `X-Amz-Target:
//! AmazonEC2ContainerRegistry_V20150921.<Operation>`, signed (SigV4, scope `ecr`) with
//! role credentials the emulator issued. `GetAuthorizationToken` hands out a password
//! valid 12 hours, remembered with its account and region so that a registry stand-in
//! can check it.

use super::eks::{admit, json_reply, Protocol, ServiceError};
use super::state::Service;
use aws_sso_device_auth_provider::clock::epoch_seconds;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::json;

/// The target prefix of every ECR operation.
pub const TARGET_PREFIX: &str = "AmazonEC2ContainerRegistry_V20150921.";

/// Answers `POST /` for `target` (the `X-Amz-Target` header).
pub async fn serve(
    svc: &Service,
    target: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let answer = async {
        if target != "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken" {
            return Err(ServiceError::new(400, "UnknownOperationException", ""));
        }
        let signed = admit(
            svc,
            &svc.counters.ecr_calls,
            Protocol::AwsJson,
            ("POST", uri, headers, body),
            "ecr",
            "GetAuthorizationToken",
            |_| "*".to_owned(),
        )
        .await?;
        // `registryIds` (deprecated, still honoured): one token per registry.
        let request: serde_json::Value = if body.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(body).map_err(|_| {
                ServiceError::new(400, "SerializationException", "Start of structure or map found where not expected.")
            })?
        };
        let accounts: Vec<String> = match request.get("registryIds").and_then(|v| v.as_array()) {
            Some(ids) if !ids.is_empty() => ids
                .iter()
                .map(|id| {
                    id.as_str()
                        .filter(|s| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()))
                        .map(str::to_owned)
                        .ok_or_else(|| {
                            ServiceError::new(
                                400,
                                "InvalidParameterException",
                                "Invalid parameter at 'registryIds' failed to satisfy constraint: 'Member must satisfy constraint: [Member must satisfy regular expression pattern: [0-9]{12}]'",
                            )
                        })
                })
                .collect::<Result<_, _>>()?,
            _ => vec![signed.caller.principal.account_id.clone()],
        };
        let data: Vec<serde_json::Value> = accounts
            .iter()
            .map(|account| {
                let (password, expires_at) = svc.ecr_password(account, &signed.region);
                json!({
                    "authorizationToken": crate::base64(format!("AWS:{password}").as_bytes()),
                    "expiresAt": epoch_seconds(expires_at),
                    "proxyEndpoint": format!("https://{account}.dkr.ecr.{}.amazonaws.com", signed.region),
                })
            })
            .collect();
        Ok(json!({ "authorizationData": data }))
    }
    .await;
    match answer {
        Ok(body) => json_reply(StatusCode::OK, "application/x-amz-json-1.1", &body),
        Err(e) => e.reply(Protocol::AwsJson),
    }
}
