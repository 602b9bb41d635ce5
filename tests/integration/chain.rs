//! Favourites that assume a role with an SSO role's credentials (role chaining), through
//! the command line, the daemon and botocore, against the emulator's STS.

use crate::cli::{text, Cli};
use crate::util::{botocore_credentials, emulator, keys_of};
use aws_sso_device_auth_provider::awsfiles::AwsFiles;
use aws_sso_emulator::EmulatorConfig;
use std::path::Path;

/// `profile` as botocore resolves it: (the provider it chose, the access key id).
async fn botocore(home: &Path, endpoint: &str, profile: &str) -> (String, String) {
    let read = botocore_credentials(home, endpoint, profile)
        .await
        .unwrap_or_else(|e| panic!("botocore: {e}"));
    (
        read["method"].as_str().unwrap_or_default().to_owned(),
        read["accessKeyId"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn a_favourite_that_assumes_a_role_is_written_served_renewed_and_named_in_errors() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let account = cli.signed_in_with_account(1).await;
    let other = emu.organisation()[2].account_id.clone();
    let home = cli.home.path();
    let files = AwsFiles::new(home.join(".aws/credentials"), home.join(".aws/config"));
    let deploy = format!("arn:aws:iam::{other}:role/ci/Deploy");

    // Added: the SSO role's credentials, then STS, then the profile holds the assumed
    // role's keys.
    let before = emu.counters();
    let out = cli
        .add_assuming(
            "deploy",
            &account,
            "ReadOnlyAccess",
            &deploy,
            &["--role-session-name", "alice", "--duration-seconds", "1800"],
        )
        .await;
    let said = text(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains(&format!("then {deploy}")), "{said}");
    let after = emu.counters();
    assert_eq!(after.assume_role - before.assume_role, 1, "one AssumeRole");
    let key = keys_of(&files, "deploy").expect("keys written");
    let list = cli.run(&["favourite", "list", "--json"]).await;
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).expect("json");
    assert_eq!(
        list[0]["assumeRole"],
        serde_json::json!({"roleArn": deploy, "sessionName": "alice", "durationSeconds": 1800})
    );
    // What the table says names the role assumed.
    let table = text(&cli.run(&["favourite", "list"]).await.stdout);
    assert!(
        table.contains(&format!("ReadOnlyAccess ⇒ {deploy}")),
        "{table}"
    );

    // Served warm to credential_process from the profile: no call to AWS.
    let before = emu.counters();
    for _ in 0..3 {
        let out = cli.run(&["credentials", "--profile", "deploy"]).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        let c: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(c["AccessKeyId"], key.as_str());
    }
    let after = emu.counters();
    assert_eq!(
        (after.assume_role, after.get_role_credentials),
        (before.assume_role, before.get_role_credentials),
        "warm"
    );
    // botocore, as the AWS CLI runs it, reads the assumed role's keys.
    let (method, read) = botocore(home, &cli.endpoint, "deploy").await;
    assert_eq!(
        (method.as_str(), read.as_str()),
        ("shared-credentials-file", key.as_str())
    );

    // The daemon writes a chained favourite's missing profile, through STS again.
    let out = cli.run(&["profile", "remove", "deploy"]).await;
    assert!(!out.status.success(), "a favourite's profile goes with it");
    assert!(
        text(&out.stderr).contains("favourite's profile"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(files.credentials_file(), "").expect("emptied");
    let before = emu.counters();
    let (mut daemon, log) = cli.daemon_until("profile deploy renewed").await;
    assert!(log.contains("profile deploy renewed"), "{log}");
    let renewed = keys_of(&files, "deploy").expect("written again");
    assert_ne!(renewed, key, "new credentials");
    assert!(emu.counters().assume_role > before.assume_role);
    daemon.kill().await.expect("stopped");

    // A credential_process favourite: nothing on disk, the chain fetched when asked, then
    // served from its private cache.
    let out = cli
        .add_assuming(
            "deploy-cp",
            &account,
            "ReadOnlyAccess",
            &deploy,
            &["--credential-process"],
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (method, first) = botocore(home, &cli.endpoint, "deploy-cp").await;
    assert_eq!(method, "custom-process");
    let before = emu.counters();
    let (_, again) = botocore(home, &cli.endpoint, "deploy-cp").await;
    assert_eq!(again, first, "from the cache");
    assert_eq!(emu.counters().assume_role, before.assume_role, "warm");

    // A role whose trust policy refuses the SSO role: said, with who refused whom, and
    // nothing added.
    let refused = format!("arn:aws:iam::{other}:role/NoTrustAudit");
    let out = cli
        .add_assuming("audit", &account, "ReadOnlyAccess", &refused, &[])
        .await;
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!(
            "role {refused} refused ReadOnlyAccess in account {account}"
        )) && said.contains("trust policy"),
        "{said}"
    );
    assert!(keys_of(&files, "audit").is_none());
    let list = text(&cli.run(&["favourite", "list"]).await.stdout);
    assert!(!list.contains("audit"), "{list}");

    // A session longer than AWS gives a chained role is refused before any call.
    let before = emu.counters();
    let out = cli
        .run(&[
            "favourite",
            "edit",
            "deploy",
            "--assume-role",
            &deploy,
            "--duration-seconds",
            "7200",
        ])
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("at most one hour"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(emu.counters().assume_role, before.assume_role);

    // The console opens as the role assumed, not the SSO role.
    let out = cli
        .command(&["console", "--profile", "deploy", "--print"])
        .env("AWS_ENDPOINT_URL_SIGNIN", emu.endpoint())
        .output()
        .await
        .expect("runs");
    let url = text(&out.stdout).trim().to_owned();
    assert!(url.contains("SigninToken="), "{url}{}", text(&out.stderr));
    let page = reqwest::get(&url)
        .await
        .expect("get")
        .text()
        .await
        .expect("page");
    assert!(page.contains("Deploy") && page.contains(&other), "{page}");

    // Back to the SSO role alone.
    let out = cli
        .run(&["favourite", "edit", "deploy", "--no-assume-role"])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list = cli.run(&["favourite", "list", "--json"]).await;
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).expect("json");
    assert!(list[0].get("assumeRole").is_none(), "{list}");
    let sso_key = keys_of(&files, "deploy").expect("keys");
    assert_ne!(sso_key, renewed);
}
