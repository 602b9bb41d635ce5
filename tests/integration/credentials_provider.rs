//! The AWS SDK credentials provider: a real SDK client (STS) signs its requests with the
//! role's credentials, and fetches fresh ones before they expire.

use crate::util::{approving, builder, emulator, memory_store};
use aws_sso_emulator::EmulatorConfig;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CALLER_IDENTITY: &str = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<GetCallerIdentityResult><Arn>arn:aws:sts::123456789012:assumed-role/ReadOnlyAccess/test</Arn>
<UserId>AROAEXAMPLE:test</UserId><Account>123456789012</Account></GetCallerIdentityResult>
<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>"#;

/// A local STS stand-in that records each request's Authorization header.
async fn recording_sts() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    let Some(head_end) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let len: usize = text[..head_end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() < head_end + 4 + len {
                        continue;
                    }
                    if let Some(auth) = text[..head_end]
                        .lines()
                        .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                    {
                        record.lock().expect("lock").push(auth.to_owned());
                    }
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{CALLER_IDENTITY}",
                        CALLER_IDENTITY.len()
                    );
                    let _ = s.write_all(reply.as_bytes()).await;
                    buf.clear();
                }
            });
        }
    });
    (url, seen)
}

fn key_in(authorization: &str) -> String {
    authorization
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').next())
        .expect("a SigV4 Credential")
        .to_owned()
}

async fn sts_with(
    provider: aws_sso_device_auth_provider::RoleCredentialsProvider,
    endpoint: &str,
) -> aws_sdk_sts::Client {
    let conf = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("eu-west-1"))
        .endpoint_url(endpoint)
        .credentials_provider(provider)
        .build();
    aws_sdk_sts::Client::from_conf(conf)
}

/// A provider for `emu`, and an STS client signing with ReadOnlyAccess in its second
/// account through it, against the recording stand-in.
async fn signed_sts(
    emu: &aws_sso_emulator::Emulator,
) -> (
    Arc<aws_sso_device_auth_provider::AwsSsoDeviceAuthProvider>,
    String,
    aws_sdk_sts::Client,
    Arc<Mutex<Vec<String>>>,
) {
    let sso = Arc::new(
        builder(emu)
            .store(memory_store())
            .on_prompt(approving(true))
            .build()
            .expect("provider"),
    );
    let account = emu.organisation()[1].account_id.clone();
    let (sts_url, seen) = recording_sts().await;
    let sts = sts_with(
        sso.credentials_provider(&account, "ReadOnlyAccess"),
        &sts_url,
    )
    .await;
    (sso, account, sts, seen)
}

#[tokio::test]
async fn a_real_sdk_client_signs_with_the_role_credentials() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (sso, account, sts, seen) = signed_sts(&emu).await;
    let who = sts.get_caller_identity().send().await.expect("signed call");
    assert_eq!(who.account(), Some("123456789012"));
    sts.get_caller_identity().send().await.expect("second call");
    let expected = sso
        .role_credentials(&account, "ReadOnlyAccess")
        .await
        .expect("creds")
        .access_key_id;
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 2);
    assert!(
        seen.iter().all(|a| key_in(a) == expected),
        "{seen:?} vs {expected}"
    );
    assert_eq!(
        emu.counters().get_role_credentials,
        1,
        "valid credentials are reused"
    );
}

#[tokio::test]
async fn short_lived_credentials_are_renewed_before_expiry() {
    let emu = emulator(EmulatorConfig {
        role_credentials_lifetime: Duration::from_secs(5),
        ..EmulatorConfig::default()
    })
    .await;
    let (_sso, _account, sts, seen) = signed_sts(&emu).await;
    sts.get_caller_identity().send().await.expect("first");
    sts.get_caller_identity().send().await.expect("second");
    let seen = seen.lock().expect("lock").clone();
    assert_ne!(
        key_in(&seen[0]),
        key_in(&seen[1]),
        "credentials inside the margin are replaced"
    );
    assert_eq!(emu.counters().get_role_credentials, 2);
}
