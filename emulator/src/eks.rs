//! EKS in restJson1: `ListClusters` (`GET /clusters`) and `DescribeCluster`
//! (`GET /clusters/{name}`), signed (SigV4, scope `eks`) with role credentials the
//! emulator issued. The region is the signature's, the account the caller's. Also the
//! JSON error replies EKS and ECR share.

use super::config::EksCluster;
use super::routes::gate;
use super::sigv4::{self, SigError, Signed};
use super::state::{ApiError, Service};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The most clusters one page lists (and the default), as the real service's limit.
const MAX_RESULTS: usize = 100;

/// How an error reply is written: restJson1 names the error in a header, awsJson1.1 in
/// the body's `__type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// EKS.
    RestJson,
    /// ECR.
    AwsJson,
}

/// An error reply of a JSON service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// The HTTP status.
    pub status: u16,
    /// The modelled error's name, e.g. `ResourceNotFoundException`.
    pub code: &'static str,
    /// Its message.
    pub message: String,
}

impl ServiceError {
    /// An error of `status` named `code`.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// How a JSON service refuses a signature.
    pub fn from_signature(e: SigError) -> Self {
        match e {
            SigError::Missing => Self::new(
                403,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            ),
            SigError::Incomplete(message) => {
                Self::new(400, "IncompleteSignatureException", message)
            }
            SigError::UnknownCredentials => Self::new(
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
            SigError::ExpiredCredentials => Self::new(
                403,
                "ExpiredTokenException",
                "The security token included in the request is expired",
            ),
            SigError::Mismatch(message) => Self::new(403, "InvalidSignatureException", message),
        }
    }

    /// What the gate's refusal (throttle, injected fault) looks like from a JSON service.
    pub fn from_gate(e: &ApiError, protocol: Protocol) -> Self {
        if e.status == 429 {
            let status = if protocol == Protocol::RestJson {
                429
            } else {
                400
            };
            Self::new(status, "ThrottlingException", "Rate exceeded")
        } else {
            Self::new(500, "ServerException", "An internal error occurred.")
        }
    }

    /// The reply, as `protocol` writes it.
    pub fn reply(&self, protocol: Protocol) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        match protocol {
            Protocol::RestJson => {
                let mut resp = json_reply(
                    status,
                    "application/json",
                    &json!({ "message": self.message }),
                );
                if let Ok(v) = HeaderValue::from_str(self.code) {
                    resp.headers_mut().insert("x-amzn-errortype", v);
                }
                resp
            }
            Protocol::AwsJson => json_reply(
                status,
                "application/x-amz-json-1.1",
                &json!({ "__type": self.code, "message": self.message }),
            ),
        }
    }
}

/// A JSON reply with a request id, as AWS sends them.
pub fn json_reply(
    status: StatusCode,
    content_type: &'static str,
    body: &serde_json::Value,
) -> Response {
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, content_type)],
        body.to_string(),
    )
        .into_response();
    let id = format!("{:032x}", rand::random::<u128>());
    let id = format!(
        "{}-{}-{}-{}-{}",
        &id[..8],
        &id[8..12],
        &id[12..16],
        &id[16..20],
        &id[20..]
    );
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    resp
}

/// The gate, the signature and the role's permission, for `action` on `resource` (a
/// function of the region): the signed request, or the error to send.
pub async fn admit(
    svc: &Service,
    counter: &std::sync::atomic::AtomicU64,
    protocol: Protocol,
    request: (&str, &Uri, &HeaderMap, &[u8]),
    service: &str,
    action: &str,
    resource: impl FnOnce(&Signed) -> String,
) -> Result<Signed, ServiceError> {
    gate(svc, counter)
        .await
        .map_err(|e| ServiceError::from_gate(&e, protocol))?;
    let (method, uri, headers, body) = request;
    let signed = sigv4::verify_header(svc, method, uri, headers, body, service)
        .map_err(ServiceError::from_signature)?;
    let denied = svc.config().denied_roles;
    let caller = &signed.caller;
    if denied
        .iter()
        .any(|r| *r == caller.role || *r == caller.principal.role)
    {
        let because = if protocol == Protocol::AwsJson {
            format!(" because no identity-based policy allows the {service}:{action} action")
        } else {
            String::new()
        };
        return Err(ServiceError::new(
            403,
            "AccessDeniedException",
            format!(
                "User: {} is not authorized to perform: {service}:{action} on resource: {}{because}",
                caller.principal.arn(),
                resource(&signed)
            ),
        ));
    }
    Ok(signed)
}

/// The clusters the caller sees: its account's, in the signature's region.
fn visible(svc: &Service, signed: &Signed) -> Vec<EksCluster> {
    svc.config()
        .clusters
        .into_iter()
        .filter(|c| c.account_id == signed.caller.principal.account_id && c.region == signed.region)
        .collect()
}

fn cluster_arn(region: &str, account_id: &str, name: &str) -> String {
    format!("arn:aws:eks:{region}:{account_id}:cluster/{name}")
}

/// `GET /clusters`.
pub async fn list_clusters(svc: &Service, uri: &Uri, headers: &HeaderMap) -> Response {
    let answer = async {
        let signed = admit(
            svc,
            &svc.counters.eks_calls,
            Protocol::RestJson,
            ("GET", uri, headers, b""),
            "eks",
            "ListClusters",
            |s| cluster_arn(&s.region, &s.caller.principal.account_id, "*"),
        )
        .await?;
        let params = sigv4::query_pairs(uri);
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let size = match get("maxResults") {
            None => MAX_RESULTS,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_RESULTS).contains(n))
                .ok_or_else(|| {
                    ServiceError::new(
                        400,
                        "InvalidParameterException",
                        "maxResults must be between 1 and 100",
                    )
                })?,
        };
        let names: Vec<String> = visible(svc, &signed).into_iter().map(|c| c.name).collect();
        let start = match get("nextToken") {
            None => 0,
            Some(t) => t
                .strip_prefix("eks-page-")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n <= names.len())
                .ok_or_else(|| {
                    ServiceError::new(
                        400,
                        "InvalidParameterException",
                        "The nextToken provided is invalid.",
                    )
                })?,
        };
        let end = (start + size).min(names.len());
        let mut body = json!({ "clusters": names[start..end] });
        if end < names.len() {
            body["nextToken"] = json!(format!("eks-page-{end}"));
        }
        Ok::<_, ServiceError>(body)
    }
    .await;
    match answer {
        Ok(body) => json_reply(StatusCode::OK, "application/json", &body),
        Err(e) => e.reply(Protocol::RestJson),
    }
}

/// `GET /clusters/{name}`.
pub async fn describe_cluster(
    svc: &Service,
    name: &str,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    let answer = async {
        let signed = admit(
            svc,
            &svc.counters.eks_calls,
            Protocol::RestJson,
            ("GET", uri, headers, b""),
            "eks",
            "DescribeCluster",
            |s| cluster_arn(&s.region, &s.caller.principal.account_id, name),
        )
        .await?;
        let Some(c) = visible(svc, &signed).into_iter().find(|c| c.name == name) else {
            return Err(ServiceError::new(
                404,
                "ResourceNotFoundException",
                format!("No cluster found for name: {name}."),
            ));
        };
        Ok(describe(&c))
    }
    .await;
    match answer {
        Ok(body) => json_reply(StatusCode::OK, "application/json", &body),
        Err(e) => e.reply(Protocol::RestJson),
    }
}

/// `DescribeCluster`'s reply, with the fields the real service fills for an active
/// cluster.
fn describe(c: &EksCluster) -> serde_json::Value {
    let arn = cluster_arn(&c.region, &c.account_id, &c.name);
    let oidc_id = c
        .endpoint
        .trim_start_matches("https://")
        .split('.')
        .next()
        .unwrap_or_default()
        .to_owned();
    json!({ "cluster": {
        "name": c.name,
        "arn": arn,
        "createdAt": 1_700_000_000.0,
        "version": c.version,
        "endpoint": c.endpoint,
        "roleArn": format!("arn:aws:iam::{}:role/eks-cluster-role", c.account_id),
        "resourcesVpcConfig": {
            "subnetIds": [], "securityGroupIds": [], "clusterSecurityGroupId": "sg-0123456789abcdef0",
            "vpcId": "vpc-0123456789abcdef0", "endpointPublicAccess": true,
            "endpointPrivateAccess": true, "publicAccessCidrs": ["0.0.0.0/0"],
        },
        "kubernetesNetworkConfig": { "serviceIpv4Cidr": "10.100.0.0/16", "ipFamily": "ipv4" },
        "logging": { "clusterLogging": [] },
        "identity": { "oidc": {
            "issuer": format!("https://oidc.eks.{}.amazonaws.com/id/{oidc_id}", c.region),
        } },
        "status": "ACTIVE",
        "certificateAuthority": { "data": c.certificate_authority_data },
        "platformVersion": "eks.1",
        "tags": {},
        "accessConfig": { "authenticationMode": "API_AND_CONFIG_MAP" },
    } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_the_cluster_as_the_service_does() {
        let c = EksCluster::new("123456789012", "eu-west-1", "prod");
        let v = describe(&c);
        assert_eq!(
            v["cluster"]["arn"],
            "arn:aws:eks:eu-west-1:123456789012:cluster/prod"
        );
        assert_eq!(v["cluster"]["status"], "ACTIVE");
        assert!(
            c.endpoint.starts_with("https://")
                && c.endpoint.ends_with(".gr7.eu-west-1.eks.amazonaws.com")
        );
        assert!(v["cluster"]["identity"]["oidc"]["issuer"]
            .as_str()
            .is_some_and(|i| i.ends_with(&c.endpoint[8..40])));
    }

    #[test]
    fn errors_as_each_protocol_writes_them() {
        let e = ServiceError::new(
            404,
            "ResourceNotFoundException",
            "No cluster found for name: x.",
        );
        let rest = e.reply(Protocol::RestJson);
        assert_eq!(rest.status(), 404);
        assert_eq!(
            rest.headers()
                .get("x-amzn-errortype")
                .map(HeaderValue::as_bytes),
            Some(&b"ResourceNotFoundException"[..])
        );
        let json = e.reply(Protocol::AwsJson);
        assert_eq!(
            json.headers()
                .get(header::CONTENT_TYPE)
                .map(HeaderValue::as_bytes),
            Some(&b"application/x-amz-json-1.1"[..])
        );
    }
}
