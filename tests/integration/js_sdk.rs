//! The AWS SDK for JavaScript v3 resolves the profiles the command line writes (keys, a
//! favourite that assumes a role, and a `credential_process` one), through `fromIni` and
//! through its default chain, and STS, the emulator's, takes the credentials it resolved.

use crate::cli::{text, Cli};
use crate::util::{as_a_tool, emulator, keys_of};
use aws_sso_device_auth_provider::awsfiles::AwsFiles;
use aws_sso_emulator::EmulatorConfig;
use std::path::{Path, PathBuf};

/// What the SDK resolved one way: the access key id, whose it is as STS says, and the
/// SDK's own codes for the providers that produced it.
#[derive(Debug)]
struct Resolved {
    access_key_id: String,
    arn: String,
    source: Vec<String>,
}

impl Resolved {
    /// Whether the SDK says provider `code` produced the credentials.
    fn from(&self, code: &str) -> bool {
        self.source.iter().any(|s| s == code)
    }
}

/// The directory of the JavaScript side: its package and `resolve.mjs`.
fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/js")
}

/// `profile` as the JavaScript SDK resolves it in a process of its own, with `fromIni`
/// then with the default chain under `AWS_PROFILE`: (fromIni's, the chain's).
async fn js_sdk(home: &Path, endpoint: &str, profile: &str) -> (Resolved, Resolved) {
    let dir = js_dir();
    assert!(
        dir.join("node_modules/@aws-sdk/client-sts").is_dir()
            && dir
                .join("node_modules/@aws-sdk/credential-providers")
                .is_dir(),
        "the AWS SDK for JavaScript is not installed in {} \
         (bash scripts/install-deps installs it)",
        dir.display()
    );
    // Awaited: the emulator answers on this test's runtime.
    let out = as_a_tool("node", home, endpoint)
        .arg(dir.join("resolve.mjs"))
        .arg(profile)
        .current_dir(&dir)
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!("node could not be run (bash scripts/install-deps installs it): {e}")
        });
    assert!(
        out.status.success(),
        "the JavaScript SDK, profile {profile}: {}",
        text(&out.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let resolved = |v: &serde_json::Value| Resolved {
        access_key_id: v["accessKeyId"].as_str().unwrap_or_default().to_owned(),
        arn: v["arn"].as_str().unwrap_or_default().to_owned(),
        source: v["source"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect(),
    };
    (resolved(&read), resolved(&read["chain"]))
}

#[tokio::test]
async fn the_javascript_sdk_resolves_keys_chained_and_credential_process_profiles_that_sts_takes() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let account = cli.signed_in_with_account(1).await;
    let other = emu.organisation()[2].account_id.clone();
    let home = cli.home.path();
    let files = AwsFiles::new(home.join(".aws/credentials"), home.join(".aws/config"));
    let deploy = format!("arn:aws:iam::{other}:role/Deploy");
    let sso_role = format!("arn:aws:sts::{account}:assumed-role/AWSReservedSSO_ReadOnlyAccess_");
    let deploy_role = format!("arn:aws:sts::{other}:assumed-role/Deploy/");

    // The SSO role's keys in the credentials file.
    cli.add_favourite("plain", &account, "ReadOnlyAccess").await;
    let key = keys_of(&files, "plain").expect("keys written");
    let (ini, chain) = js_sdk(home, &cli.endpoint, "plain").await;
    for r in [&ini, &chain] {
        assert_eq!(r.access_key_id, key, "{r:?}");
        assert!(r.arn.starts_with(&sso_role), "{r:?}");
        assert!(r.from("CREDENTIALS_PROFILE"), "{r:?}");
    }

    // The role assumed with the SSO role's credentials: its keys in the credentials file.
    let out = cli
        .add_assuming("deploy", &account, "ReadOnlyAccess", &deploy, &[])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key = keys_of(&files, "deploy").expect("keys written");
    let (ini, chain) = js_sdk(home, &cli.endpoint, "deploy").await;
    for r in [&ini, &chain] {
        assert_eq!(r.access_key_id, key, "{r:?}");
        assert!(r.arn.starts_with(&deploy_role), "{r:?}");
        assert!(r.from("CREDENTIALS_PROFILE"), "{r:?}");
    }

    // The same chain behind credential_process: no keys on disk, the SDK runs the command
    // line, whose cache serves the second resolution the same credentials.
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
    assert!(keys_of(&files, "deploy-cp").is_none(), "nothing on disk");
    let before = emu.counters();
    let (ini, chain) = js_sdk(home, &cli.endpoint, "deploy-cp").await;
    for r in [&ini, &chain] {
        assert!(r.arn.starts_with(&deploy_role), "{r:?}");
        // The profile's credential_process, not keys from anywhere else.
        assert!(r.from("CREDENTIALS_PROFILE_PROCESS"), "{r:?}");
    }
    assert_eq!(chain.access_key_id, ini.access_key_id, "from the cache");
    assert_eq!(
        emu.counters().assume_role - before.assume_role,
        1,
        "one AssumeRole for both"
    );
}
