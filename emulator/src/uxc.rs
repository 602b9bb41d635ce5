//! AWS User Experience Customization (UXC) in restJson1: `GetAccountCustomizations`
//! (`GET /v1/account-customizations`), signed (SigV4, scope `uxc`) with role credentials
//! the emulator issued. It reports the colour the console shows for the credentials'
//! account (for an assumed role, the assumed role's account), from
//! [`crate::EmulatorConfig::account_colours`].

use super::eks::{json_reply, Protocol, ServiceError};
use super::routes::gate;
use super::sigv4;
use super::state::Service;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::json;

/// The colour of an account no colour was chosen for.
const NO_COLOUR: &str = "none";

/// `GET /v1/account-customizations`.
pub async fn get_account_customizations(svc: &Service, uri: &Uri, headers: &HeaderMap) -> Response {
    let answer = async {
        gate(svc, &svc.counters.uxc_calls)
            .await
            .map_err(|e| ServiceError::from_gate(&e, Protocol::RestJson))?;
        let signed = sigv4::verify_header(svc, "GET", uri, headers, b"", "uxc")
            .map_err(ServiceError::from_signature)?;
        let config = svc.config();
        let caller = &signed.caller;
        if config
            .denied_roles
            .iter()
            .any(|r| *r == caller.role || *r == caller.principal.role)
        {
            return Err(ServiceError::new(
                403,
                "AccessDeniedException",
                "User is not authorized to perform: uxc:GetAccountCustomizations",
            ));
        }
        let colour = config
            .account_colours
            .get(&caller.principal.account_id)
            .map_or(NO_COLOUR, String::as_str);
        // Neither list has been configured: every service and region is visible.
        Ok::<_, ServiceError>(json!({
            "accountColor": colour,
            "visibleServices": null,
            "visibleRegions": null,
        }))
    }
    .await;
    match answer {
        Ok(body) => json_reply(StatusCode::OK, "application/json", &body),
        Err(e) => e.reply(Protocol::RestJson),
    }
}
