//! Writing profiles into a corpus of hostile but realistic credentials and config files
//! (`tests/fixtures/aws-files`), each checked byte for byte and through the AWS SDK's own
//! profile loader.

use aws_config::profile::{ProfileFileCredentialsProvider, ProfileSet};
use aws_credential_types::provider::ProvideCredentials;
use aws_runtime::env_config::file::{
    EnvConfigFileKind as ProfileFileKind, EnvConfigFiles as ProfileFiles,
};
use aws_sso_device_auth_provider::awsfiles::{
    AwsFiles, Changes, ProfileName, ProfileWrite, MARKER,
};
use aws_sso_device_auth_provider::clock::{from_epoch_seconds, rfc3339};
use aws_sso_device_auth_provider::{Error, RoleCredentials, Secret};
use aws_types::os_shim_internal::{Env, Fs};
use std::path::{Path, PathBuf};

/// The profile every fixture test writes.
pub const NAME: &str = "aws-sso-tray-fixture";

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aws-files");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(kind))
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e != "expected"))
        .collect();
    files.sort();
    files
}

/// Distinct, realistic-looking credentials number `n`.
pub fn role_credentials(n: u32) -> RoleCredentials {
    RoleCredentials {
        access_key_id: format!("ASIAFIXTURE{n:09}"),
        secret_access_key: Secret::new(format!("wJalr/K7MDENG+bPxRfiCY{n}==")),
        session_token: Secret::new(format!("IQoJb3JpZ2luX2VjEJr//////////wEaCXVz{n}Zm9v")),
        expiration: from_epoch_seconds(1_800_000_000 + i64::from(n)),
    }
}

pub fn write(name: &str, n: u32) -> ProfileWrite {
    ProfileWrite::new(ProfileName::new(name).expect("name"), &role_credentials(n))
}

/// A temporary home for one fixture: the file under test at its place, the other absent.
struct Case {
    _dir: tempfile::TempDir,
    files: AwsFiles,
    target: PathBuf,
    original: String,
    kind: ProfileFileKind,
}

impl Case {
    fn new(fixture: &Path) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = AwsFiles::new(dir.path().join("credentials"), dir.path().join("config"));
        let (target, kind) = match fixture.extension().and_then(|e| e.to_str()) {
            Some("credentials") => (files.credentials_file(), ProfileFileKind::Credentials),
            Some("config") => (files.config_file(), ProfileFileKind::Config),
            other => panic!("fixture kind {other:?}"),
        };
        let target = target.to_path_buf();
        // The SDK refuses a named file that is missing: the other one starts empty.
        std::fs::write(files.credentials_file(), "").expect("empty");
        std::fs::write(files.config_file(), "").expect("empty");
        std::fs::copy(fixture, &target).expect("copy");
        Self {
            original: std::fs::read_to_string(&target).unwrap_or_default(),
            _dir: dir,
            files,
            target,
            kind,
        }
    }

    fn bytes(&self) -> String {
        std::fs::read_to_string(&self.target).expect("read")
    }

    fn apply(&self, changes: Changes) {
        self.files.apply(&changes).expect("apply");
    }

    async fn sdk(&self) -> ProfileSet {
        sdk_profiles(&self.files).await
    }
}

/// Both files as the AWS SDK for Rust reads them.
pub async fn sdk_profiles(files: &AwsFiles) -> ProfileSet {
    aws_config::profile::load(
        &Fs::real(),
        &Env::from_slice(&[]),
        &profile_files(files),
        None,
    )
    .await
    .expect("the SDK reads both files")
}

fn profile_files(files: &AwsFiles) -> ProfileFiles {
    ProfileFiles::builder()
        .with_file(ProfileFileKind::Credentials, files.credentials_file())
        .with_file(ProfileFileKind::Config, files.config_file())
        .build()
}

/// What the SDK's credential chain resolves for `name` from these two files.
pub async fn sdk_credentials(files: &AwsFiles, name: &str) -> aws_credential_types::Credentials {
    ProfileFileCredentialsProvider::builder()
        .profile_files(profile_files(files))
        .profile_name(name)
        .build()
        .provide_credentials()
        .await
        .expect("the SDK resolves the profile")
}

/// Every profile, sso-session and other section except `ours` is the same in both.
fn same_except(before: &ProfileSet, after: &ProfileSet, ours: &str) {
    let names = |s: &ProfileSet| {
        let mut v: Vec<String> = s
            .profiles()
            .filter(|p| *p != ours)
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(before), names(after));
    for name in names(before) {
        assert_eq!(
            before.get_profile(&name),
            after.get_profile(&name),
            "{name}"
        );
    }
    let sessions = |s: &ProfileSet| {
        let mut v: Vec<_> = s
            .sso_sessions()
            .map(|n| (n.to_owned(), s.sso_session(n).cloned()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    assert_eq!(sessions(before), sessions(after));
    assert_eq!(before.other_sections(), after.other_sections());
}

/// The line end new lines take: the one most lines of the file already use.
fn dominant_eol(text: &str) -> &'static str {
    let crlf = text.matches("\r\n").count();
    if crlf > text.matches('\n').count() - crlf {
        "\r\n"
    } else {
        "\n"
    }
}

/// The exact bytes a fresh section appends to `original`.
fn appended(original: &str, kind: ProfileFileKind, n: u32) -> String {
    let eol = dominant_eol(original);
    let mut out = original.to_owned();
    if !out.is_empty() {
        if !out.ends_with('\n') {
            out.push_str(eol);
        }
        out.push_str(eol);
    }
    let c = role_credentials(n);
    let lines: Vec<String> = match kind {
        ProfileFileKind::Credentials => vec![
            format!("[{NAME}]"),
            MARKER.to_owned(),
            format!("aws_access_key_id = {}", c.access_key_id),
            format!("aws_secret_access_key = {}", c.secret_access_key.expose()),
            format!("aws_session_token = {}", c.session_token.expose()),
            format!("x_security_token_expires = {}", rfc3339(c.expiration)),
        ],
        _ => vec![
            format!("[profile {NAME}]"),
            MARKER.to_owned(),
            "region = eu-west-1".to_owned(),
        ],
    };
    for l in lines {
        out.push_str(&l);
        out.push_str(eol);
    }
    out
}

/// `text` with credentials `from` swapped for `to`.
fn swap(text: &str, from: u32, to: u32) -> String {
    let (a, b) = (role_credentials(from), role_credentials(to));
    text.replace(&a.access_key_id, &b.access_key_id)
        .replace(a.secret_access_key.expose(), b.secret_access_key.expose())
        .replace(a.session_token.expose(), b.session_token.expose())
        .replace(&rfc3339(a.expiration), &rfc3339(b.expiration))
}

#[tokio::test]
async fn every_accepted_fixture_keeps_its_bytes_and_reads_back_in_the_sdk() {
    let fixtures = fixtures("accepted");
    assert!(fixtures.len() >= 40, "{} fixtures", fixtures.len());
    for fixture in &fixtures {
        let label = fixture.file_name().unwrap_or_default().to_string_lossy();
        let case = Case::new(fixture);
        let before = case.sdk().await;
        let ours_already = before.get_profile(NAME).is_some();
        let profile = || write(NAME, 1).region("eu-west-1").expect("region");

        case.apply(Changes::new().write(profile()));
        let first = case.bytes();
        let golden = fixture.with_extension(format!(
            "{}.expected",
            fixture.extension().unwrap_or_default().to_string_lossy()
        ));
        if ours_already {
            let expected = std::fs::read_to_string(&golden)
                .unwrap_or_else(|_| panic!("{label}: a fixture with our section needs {golden:?}"));
            assert_eq!(first, expected, "{label}: only our lines change");
        } else {
            assert_eq!(first, appended(&case.original, case.kind, 1), "{label}");
        }

        // The SDK reads exactly what we wrote, and everything else as before.
        let after = case.sdk().await;
        same_except(&before, &after, NAME);
        let ours = after.get_profile(NAME).expect("ours");
        assert_eq!(ours.get("region"), Some("eu-west-1"), "{label}");
        let creds = sdk_credentials(&case.files, NAME).await;
        let expected = role_credentials(1);
        assert_eq!(creds.access_key_id(), expected.access_key_id, "{label}");
        assert_eq!(
            creds.secret_access_key(),
            expected.secret_access_key.expose()
        );
        assert_eq!(creds.session_token(), Some(expected.session_token.expose()));

        // Idempotent, and a renewal changes only the values.
        case.apply(Changes::new().write(profile()));
        assert_eq!(case.bytes(), first, "{label}: idempotent");
        case.apply(Changes::new().write(write(NAME, 2).region("eu-west-1").expect("region")));
        assert_eq!(swap(&case.bytes(), 2, 1), first, "{label}: renewal");

        // Removing gives the user's file back.
        case.apply(Changes::new().remove(ProfileName::new(NAME).expect("name")));
        let removed = case.sdk().await;
        assert!(removed.get_profile(NAME).is_none(), "{label}");
        same_except(&before, &removed, NAME);
        if !ours_already {
            let mut original = case.original.clone();
            if !original.is_empty() && !original.ends_with('\n') {
                original.push_str(dominant_eol(&case.original));
            }
            assert_eq!(case.bytes(), original, "{label}: removal");
        }
    }
}

#[tokio::test]
async fn refused_fixtures_are_left_alone_with_the_line_named() {
    let fixtures = fixtures("refused");
    assert!(fixtures.len() >= 10);
    for fixture in &fixtures {
        let label = fixture.file_name().unwrap_or_default().to_string_lossy();
        let line: usize = label
            .split(".line")
            .nth(1)
            .and_then(|s| s.split('.').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{label}: name the bad line as .lineN."));
        let dir = tempfile::tempdir().expect("tempdir");
        let files = AwsFiles::new(dir.path().join("credentials"), dir.path().join("config"));
        let target = if label.ends_with(".config") {
            files.config_file()
        } else {
            files.credentials_file()
        };
        std::fs::copy(fixture, target).expect("copy");
        let original = std::fs::read(target).expect("read");
        let changes = Changes::new()
            .write(write(NAME, 1).region("eu-west-1").expect("region"))
            .force(true);
        for err in [
            files.apply(&changes).expect_err("refused"),
            files.managed_profiles().expect_err("refused"),
        ] {
            match &err {
                Error::UnreadableProfileFile { path, line: l, .. } => {
                    assert_eq!((path.as_path(), *l), (target, line), "{label}: {err}")
                }
                other => panic!("{label}: {other}"),
            }
            let message = err.to_string();
            assert!(
                message.contains(&format!("{} line {line} ", target.display()))
                    && message.contains("nothing was changed"),
                "{message}"
            );
        }
        assert_eq!(std::fs::read(target).expect("read"), original, "{label}");
        let other = if label.ends_with(".config") {
            files.credentials_file()
        } else {
            files.config_file()
        };
        assert!(!other.exists(), "{label}: nothing else written");
    }
}
