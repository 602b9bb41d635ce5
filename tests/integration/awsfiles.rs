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

pub(crate) fn fixtures(kind: &str) -> Vec<PathBuf> {
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

#[tokio::test]
async fn a_profile_of_the_users_is_refused_unless_forced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = AwsFiles::new(dir.path().join("credentials"), dir.path().join("config"));
    let creds = "# mine\n[dev]\naws_access_key_id = AKIAMINE\naws_secret_access_key = mine\n";
    let config = "[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Admin\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n";
    std::fs::write(files.credentials_file(), creds).expect("write");
    std::fs::write(files.config_file(), config).expect("write");

    let err = files
        .apply(&Changes::new().write(write("dev", 1)))
        .expect_err("not ours");
    assert!(
        matches!(err, Error::ProfileNotOurs { line: 2, .. }),
        "{err}"
    );
    // A fact, not the command line's flag: each face says how to go on.
    assert!(!err.to_string().contains("--force"), "{err}");
    let err = files
        .apply(&Changes::new().write(write("sso", 1)))
        .expect_err("shadowed");
    assert!(
        matches!(&err, Error::ProfileShadowed { line: 2, key, .. } if key == "sso_session"),
        "{err}"
    );
    let applied = files
        .apply(&Changes::new().remove(ProfileName::new("dev").expect("name")))
        .expect("remove");
    assert_eq!(applied.not_ours.len(), 1);
    assert!(applied.files_written.is_empty());
    assert_eq!(
        std::fs::read_to_string(files.credentials_file()).expect("read"),
        creds
    );
    assert_eq!(
        std::fs::read_to_string(files.config_file()).expect("read"),
        config
    );

    // Forced: both become ours, and the SDK now resolves our keys for both names.
    let applied = files
        .apply(
            &Changes::new()
                .write(write("dev", 1))
                .write(write("sso", 2))
                .force(true),
        )
        .expect("forced");
    assert_eq!(applied.took_over.len(), 2, "{applied:?}");
    for (name, n) in [("dev", 1), ("sso", 2)] {
        let got = sdk_credentials(&files, name).await;
        assert_eq!(got.access_key_id(), role_credentials(n).access_key_id);
    }
    let profiles = sdk_profiles(&files).await;
    assert!(profiles.sso_session("corp").is_some(), "the session stays");
    assert_eq!(files.managed_profiles().expect("list").len(), 2);
}

#[cfg(unix)]
#[tokio::test]
async fn read_only_files_and_symlinks() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let dotfiles = dir.path().join("dotfiles/aws");
    std::fs::create_dir_all(&dotfiles).expect("mkdir");
    std::fs::write(dotfiles.join("credentials"), "[mine]\nk = v\n").expect("write");
    std::os::unix::fs::symlink(dotfiles.join("credentials"), dir.path().join("credentials"))
        .expect("link");
    let files = AwsFiles::new(dir.path().join("credentials"), dir.path().join("config"));

    files
        .apply(&Changes::new().write(write("p", 1)))
        .expect("through the link");
    assert!(std::fs::symlink_metadata(files.credentials_file())
        .expect("stat")
        .file_type()
        .is_symlink());
    let written = std::fs::read_to_string(dotfiles.join("credentials")).expect("read");
    assert!(written.starts_with("[mine]\nk = v\n\n[p]\n"), "{written}");
    assert!(dotfiles.join(".credentials.aws-sso-tray.lock").exists());
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;

    std::fs::set_permissions(
        dotfiles.join("credentials"),
        PermissionsExt::from_mode(0o440),
    )
    .expect("chmod");
    let err = files
        .apply(&Changes::new().write(write("p", 2)))
        .expect_err("read-only");
    assert!(matches!(err, Error::ReadOnlyFile { .. }), "{err}");
    assert!(
        err.advice().is_some_and(|a| a.contains("chmod u+w")),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dotfiles.join("credentials")).expect("read"),
        written
    );
    assert_eq!(mode(&dotfiles.join("credentials")), 0o440);
    // An unchanged batch is not a write, so a read-only file is no obstacle to it.
    files
        .apply(&Changes::new().write(write("p", 1)))
        .expect("nothing to change");
}

/// Runs this test binary again as a writer process (see [`child_writer`]).
pub fn child(mode: &str, files: &AwsFiles, prefix: &str, rounds: u32) -> std::process::Command {
    let mut c = std::process::Command::new(std::env::current_exe().expect("exe"));
    c.args([
        "--exact",
        "awsfiles::child_writer",
        "--include-ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("AWSFILES_CHILD", mode)
    .env("AWSFILES_CREDENTIALS", files.credentials_file())
    .env("AWSFILES_CONFIG", files.config_file())
    .env("AWSFILES_PREFIX", prefix)
    .env("AWSFILES_ROUNDS", rounds.to_string())
    .stdout(std::process::Stdio::null());
    c
}

/// The writer side of the multi-process tests; does nothing unless run by them.
#[test]
#[ignore = "a child process of the multi-process tests"]
fn child_writer() {
    let Ok(mode) = std::env::var("AWSFILES_CHILD") else {
        return;
    };
    let var = |k: &str| std::env::var(k).expect("set by the parent");
    let files = AwsFiles::new(var("AWSFILES_CREDENTIALS"), var("AWSFILES_CONFIG"));
    let prefix = var("AWSFILES_PREFIX");
    let rounds: u32 = var("AWSFILES_ROUNDS").parse().expect("number");
    let start: u32 = std::env::var("AWSFILES_START").map_or(0, |s| s.parse().expect("number"));
    for round in start..start + rounds {
        match mode.as_str() {
            // Distinct profiles, each with its region: both files contended.
            "distinct" => {
                let w = write(&format!("{prefix}-{round}"), round).region("eu-west-1");
                files
                    .apply(&Changes::new().write(w.expect("region")))
                    .expect("write");
            }
            // One profile renewed over and over, with a batch of others that grows and
            // shrinks so the file size keeps changing.
            "churn" => {
                let mut changes = Changes::new().write(write(&prefix, round));
                for i in 0..(round % 40) {
                    changes = changes.write(write(&format!("{prefix}-extra-{i}"), round));
                }
                files.apply(&changes).expect("write");
            }
            // What a careless writer does: truncate and write in place, in pieces.
            // What a careless writer does: truncate and write in place, in pieces,
            // alternating between two versions the parent prepared.
            "in-place" => {
                let version = if round % 2 == 0 { "a" } else { "b" };
                let source = format!("{}.{version}", files.credentials_file().display());
                let next = std::fs::read_to_string(source).expect("read");
                let mut f = std::fs::File::create(files.credentials_file()).expect("open");
                for piece in next.as_bytes().chunks(256) {
                    std::io::Write::write_all(&mut f, piece).expect("write");
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
            // The AWS SDK for Rust reading the AWS CLI's token cache (HOME is the test's).
            "sso-token" => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                let token = runtime.block_on(async {
                    use aws_credential_types::provider::token::ProvideToken;
                    let config = aws_config::SdkConfig::builder()
                        .behavior_version(aws_config::BehaviorVersion::latest())
                        .region(aws_types::region::Region::new("eu-west-1"))
                        .time_source(aws_smithy_async::time::SystemTimeSource::new())
                        .build();
                    aws_config::sso::SsoTokenProvider::builder()
                        .configure(&config)
                        .session_name(var("AWSFILES_SESSION"))
                        .start_url(var("AWSFILES_START_URL"))
                        .region(aws_types::region::Region::new("eu-west-1"))
                        .build()
                        .await
                        .provide_token()
                        .await
                });
                match token {
                    Ok(t) => print!("TOKEN={}", t.token()),
                    Err(e) => {
                        eprintln!("{e}");
                        std::process::exit(1)
                    }
                }
                return;
            }
            // The AWS SDK for Rust resolving a profile from the files under HOME.
            "profile-creds" => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                let creds = runtime.block_on(
                    ProfileFileCredentialsProvider::builder()
                        .profile_name(&prefix)
                        .build()
                        .provide_credentials(),
                );
                match creds {
                    Ok(c) => print!("KEY={}", c.access_key_id()),
                    Err(e) => {
                        eprintln!(
                            "{}",
                            aws_smithy_types::error::display::DisplayErrorContext(&e)
                        );
                        std::process::exit(1)
                    }
                }
                return;
            }
            // One write; an error is reported the way the CLI does.
            "once" => {
                if let Err(e) = files.apply(&Changes::new().write(write(&prefix, round + 1))) {
                    eprintln!("{e}");
                    std::process::exit(1);
                }
            }
            other => panic!("unknown child mode {other}"),
        }
    }
}

/// A credentials file full of the user's own profiles, and the SDK's view of it.
async fn users_file() -> (tempfile::TempDir, AwsFiles, ProfileSet) {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = AwsFiles::new(dir.path().join("credentials"), dir.path().join("config"));
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/aws-files/accepted/15-two-hundred-profiles.credentials");
    std::fs::copy(fixture, files.credentials_file()).expect("copy");
    std::fs::write(files.config_file(), "[default]\nregion = us-east-1\n").expect("config");
    let before = sdk_profiles(&files).await;
    (dir, files, before)
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

#[tokio::test]
async fn concurrent_writers_lose_nothing() {
    const PROCESSES: u32 = 6;
    const ROUNDS: u32 = 25;
    let (dir, files, before) = users_file().await;
    let mut children: Vec<_> = (0..PROCESSES)
        .map(|i| {
            child("distinct", &files, &format!("c{i}"), ROUNDS)
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in &mut children {
        assert!(c.wait().expect("wait").success());
    }
    let after = sdk_profiles(&files).await;
    let mut ours = 0;
    for i in 0..PROCESSES {
        for round in 0..ROUNDS {
            let name = format!("c{i}-{round}");
            let p = after
                .get_profile(&name)
                .unwrap_or_else(|| panic!("{name} lost"));
            assert_eq!(
                p.get("aws_access_key_id"),
                Some(role_credentials(round).access_key_id.as_str())
            );
            assert_eq!(
                p.get("region"),
                Some("eu-west-1"),
                "{name}: config entry lost"
            );
            ours += 1;
        }
    }
    assert_eq!(ours, PROCESSES * ROUNDS);
    for name in before.profiles() {
        assert_eq!(before.get_profile(name), after.get_profile(name), "{name}");
    }
    assert_eq!(
        files.managed_profiles().expect("list").len() as u32,
        PROCESSES * ROUNDS
    );
    assert!(leftovers(dir.path()).is_empty());
}

/// Kills a writer at random moments; returns how many times the file was torn (the
/// user's profiles changed or ours half-written) and how many versions were seen.
async fn kill_writers(mode: &str, kills: u32) -> (u32, std::collections::BTreeSet<String>) {
    use rand::Rng;
    let (dir, files, before) = users_file().await;
    if mode == "in-place" {
        for (version, n) in [("a", 0), ("b", 1)] {
            files
                .apply(&Changes::new().write(write("gen", n)))
                .expect("a version");
            let path = format!("{}.{version}", files.credentials_file().display());
            std::fs::copy(files.credentials_file(), path).expect("copy");
        }
    }
    let mut torn = 0;
    let mut versions = std::collections::BTreeSet::new();
    for kill in 0..kills {
        let unchanged = std::fs::read(files.credentials_file()).expect("read");
        let mut c = child(mode, &files, "gen", 1_000_000)
            .env("AWSFILES_START", (kill * 1_000 + 1).to_string())
            .spawn()
            .expect("spawn");
        // Kill while it writes, not while the process starts: wait for its first change.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::fs::read(files.credentials_file()).ok().as_ref() == Some(&unchanged)
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let wait = rand::thread_rng().gen_range(0..15);
        std::thread::sleep(std::time::Duration::from_millis(wait));
        c.kill().expect("kill");
        c.wait().expect("reap");
        let Ok(after) = aws_config::profile::load(
            &Fs::real(),
            &Env::from_slice(&[]),
            &profile_files(&files),
            None,
        )
        .await
        else {
            torn += 1;
            continue;
        };
        let intact = before
            .profiles()
            .all(|n| before.get_profile(n) == after.get_profile(n));
        let ours = after.get_profile("gen");
        let whole = ours.is_some_and(|p| {
            KEYS_OF_A_WRITE
                .iter()
                .all(|k| p.get(k).is_some_and(|v| !v.is_empty()))
        });
        if !(intact && whole) {
            torn += 1;
        }
        if let Some(p) = ours {
            versions.insert(p.get("aws_access_key_id").unwrap_or_default().to_owned());
        }
    }
    if mode != "in-place" {
        files
            .apply(&Changes::new().write(write("gen", 0)))
            .expect("a later write");
        assert!(
            leftovers(dir.path()).is_empty(),
            "stale temporaries are cleared"
        );
    }
    (torn, versions)
}

const KEYS_OF_A_WRITE: [&str; 4] = [
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "x_security_token_expires",
];

#[tokio::test]
async fn a_killed_writer_never_leaves_a_torn_file() {
    const KILLS: u32 = 250;
    let (torn, versions) = kill_writers("churn", KILLS).await;
    assert_eq!(torn, 0, "torn files after {KILLS} kills");
    assert!(
        versions.len() as u32 > KILLS / 2,
        "killed while writing: {} versions",
        versions.len()
    );
    // The same harness does catch a writer that is not atomic.
    let (torn, _) = kill_writers("in-place", 10).await;
    assert!(
        torn > 0,
        "the harness sees torn files of an in-place writer"
    );
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_full_disk_changes_nothing() {
    let (dir, files, _) = users_file().await;
    let original = std::fs::read(files.credentials_file()).expect("read");
    // A file-size limit makes the temporary file's write fail the way a full disk does
    // (with SIGXFSZ ignored, the write returns EFBIG instead of killing the process).
    let exe = std::env::current_exe().expect("exe");
    let inner = child("once", &files, "p", 1);
    let mut c = std::process::Command::new("bash");
    c.arg("-c")
        .arg(r#"trap "" XFSZ; exec prlimit --fsize=4096 -- "$@""#)
        .arg("bash")
        .arg(exe)
        .args(inner.get_args())
        .envs(inner.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .stdout(std::process::Stdio::null());
    let out = c.output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("could not write") && err.contains("the file is unchanged"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(files.credentials_file()).expect("read"),
        original
    );
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
}

#[tokio::test]
async fn fifty_profiles_are_one_write_per_file() {
    let (_dir, files, before) = users_file().await;
    let names: Vec<String> = (0..50).map(|i| format!("batch-{i}")).collect();
    let changes = names.iter().fold(Changes::new(), |c, n| {
        c.write(write(n, 7).region("eu-west-1").expect("region"))
    });
    let applied = files.apply(&changes).expect("batch");
    assert_eq!(
        applied.files_written,
        [files.credentials_file(), files.config_file()]
    );
    assert_eq!(applied.created.len(), 50);
    let after = sdk_profiles(&files).await;
    same_except_all(&before, &after, &names);
    // Renewing them all is again one write per file; removing them too.
    let applied = files
        .apply(
            &names
                .iter()
                .fold(Changes::new(), |c, n| c.write(write(n, 8))),
        )
        .expect("renew");
    assert_eq!(
        (applied.updated.len(), applied.files_written.len()),
        (50, 1)
    );
    let removal = names.iter().fold(Changes::new(), |c, n| {
        c.remove(ProfileName::new(n).expect("name"))
    });
    let applied = files.apply(&removal).expect("remove");
    assert_eq!(
        (applied.removed.len(), applied.files_written.len()),
        (50, 2)
    );
    assert_eq!(sdk_profiles(&files).await, before);
}

fn same_except_all(before: &ProfileSet, after: &ProfileSet, ours: &[String]) {
    for name in before.profiles() {
        assert_eq!(before.get_profile(name), after.get_profile(name), "{name}");
    }
    for name in ours {
        let p = after.get_profile(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(
            p.get("aws_access_key_id"),
            Some(role_credentials(7).access_key_id.as_str())
        );
        assert_eq!(p.get("region"), Some("eu-west-1"));
    }
}

#[test]
fn instances_are_imported_from_real_shaped_configs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = AwsFiles::new(dir.path().join("credentials"), dir.path().join("config"));
    assert!(files.configured_instances().expect("no file").is_empty());
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aws-files/accepted");
    let mut config = String::new();
    for name in [
        "41-sso-session-cli-v2.config",
        "44-legacy-sso.config",
        "42-default-crlf.config",
    ] {
        config.push_str(&std::fs::read_to_string(fixtures.join(name)).expect("fixture"));
        config.push('\n');
    }
    // The same instance again, through a second session name and a legacy profile.
    config.push_str("[sso-session again]\nsso_start_url = https://my-org.awsapps.com/start\nsso_region = eu-west-1\n\n[profile old-way]\nsso_start_url = https://old.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = r\n");
    std::fs::write(files.config_file(), &config).expect("write");
    let found = files.configured_instances().expect("read");
    let got: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|c| (c.start_url.as_str(), c.region.as_str(), c.source.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "https://my-org.awsapps.com/start",
                "eu-west-1",
                "sso-session my-org"
            ),
            (
                "https://old.awsapps.com/start",
                "us-east-1",
                "profile legacy"
            ),
        ]
    );
    assert_eq!(
        std::fs::read_to_string(files.config_file()).expect("read"),
        config,
        "read only"
    );
}

/// Texts in the shapes that matter to the two grammars: headers with and without text
/// after `]`, `=` and `:`, indented settings and comments, sub-settings, `[DEFAULT]`,
/// duplicates, lone carriage returns, and character soup.
#[cfg(target_os = "linux")]
fn ini_texts(count: usize) -> Vec<String> {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let pick = |next: &mut dyn FnMut(usize) -> usize, from: &[&'static str]| from[next(from.len())];
    const INDENTS: [&str; 4] = ["", "", " ", "\t"];
    (0..count)
        .map(|_| {
            let mut text = String::new();
            for _ in 0..next(8) {
                let line = match next(6) {
                    0 => format!(
                        "{}[{}]{}",
                        pick(&mut next, &["", "", " "]),
                        pick(
                            &mut next,
                            &["a", "b", "profile a", "DEFAULT", " a ", "a]b", ""]
                        ),
                        pick(&mut next, &["", "", " x", " # c", "]"])
                    ),
                    1 | 2 => format!(
                        "{}{}{}{}",
                        pick(&mut next, &INDENTS),
                        pick(&mut next, &["k", "K", "j", "", "a b"]),
                        pick(&mut next, &["=", ":", " = ", " : ", "=:"]),
                        pick(&mut next, &["", "v", "v # c", "x=y", "x", ":"])
                    ),
                    3 => format!(
                        "{}{}{}",
                        pick(&mut next, &INDENTS),
                        pick(&mut next, &["#", ";"]),
                        pick(&mut next, &["", " c", "[a]"])
                    ),
                    4 => pick(&mut next, &["", " ", "\t"]).to_owned(),
                    _ => (0..next(7))
                        .map(|_| {
                            pick(
                                &mut next,
                                &["[", "]", "=", ":", "#", ";", " ", "\t", "a", "b"],
                            )
                        })
                        .collect(),
                };
                text.push_str(&line);
                text.push_str(pick(&mut next, &["\n", "\n", "\n", "\n", "\r\n", "\r"]));
            }
            text
        })
        .collect()
}

/// Botocore's reading of each text (`None`: refused), by its own parser in Python.
#[cfg(target_os = "linux")]
pub(crate) fn botocore_reads(texts: &[String]) -> Vec<Option<serde_json::Value>> {
    let dir = tempfile::tempdir().expect("tempdir");
    let (input, output) = (dir.path().join("in.json"), dir.path().join("out.json"));
    std::fs::write(&input, serde_json::to_vec(texts).expect("json")).expect("write");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/botocore_ini.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(&input)
        .arg(&output)
        .env("PYTHONUTF8", "1")
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "botocore could not be run (bash scripts/install-deps installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: Vec<Option<serde_json::Value>> =
        serde_json::from_slice(&std::fs::read(&output).expect("output")).expect("json");
    assert_eq!(read.len(), texts.len());
    read
}

#[cfg(target_os = "linux")]
async fn rust_sdk_reads(text: &str) -> bool {
    let files = ProfileFiles::builder()
        .with_contents(ProfileFileKind::Credentials, text.to_owned())
        .build();
    aws_config::profile::load(&Fs::from_slice(&[]), &Env::from_slice(&[]), &files, None)
        .await
        .is_ok()
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn every_file_the_aws_cli_or_the_rust_sdk_reads_is_written_and_botocore_agrees() {
    const OURS: &str = "aws-sso-differential";
    let texts = ini_texts(2_000);
    let botocore = botocore_reads(&texts);
    let dir = tempfile::tempdir().expect("tempdir");
    let files = AwsFiles::new(dir.path().join("credentials"), dir.path().join("config"));
    let (mut written, mut mismatches) = (Vec::new(), Vec::new());
    let mut without_profiles = 0;
    let mut tally = std::collections::BTreeMap::<(bool, bool), usize>::new();
    for (text, cli) in texts.iter().zip(&botocore) {
        let sdk = rust_sdk_reads(text).await;
        *tally.entry((cli.is_some(), sdk)).or_default() += 1;
        std::fs::write(files.credentials_file(), text).expect("write");
        let (ours, only_without_profiles) = match files.apply(&Changes::new().write(write(OURS, 1)))
        {
            Ok(_) => (true, false),
            Err(e @ Error::UnreadableProfileFile { .. }) => {
                (false, e.to_string().contains("once it holds one"))
            }
            Err(e) => panic!("{text:?}: {e}"),
        };
        if only_without_profiles {
            // Refused as a file the AWS CLI reads only while it holds no profile.
            let probe = botocore_reads(&[format!("{text}\n[probe]\n")]);
            assert!(
                cli.is_some() && probe[0].is_none(),
                "{text:?}: refused as read only without profiles, but botocore reads it \
                 {} and with a profile {}",
                cli.is_some(),
                probe[0].is_some()
            );
            *tally.entry((true, sdk)).or_default() -= 1;
            without_profiles += 1;
            continue;
        }
        if ours != (cli.is_some() || sdk) {
            mismatches.push(format!(
                "{text:?}: ours {ours}, the AWS CLI {}, the Rust SDK {sdk}",
                cli.is_some()
            ));
        }
        if ours && cli.is_some() {
            let after = std::fs::read_to_string(files.credentials_file()).expect("read");
            assert!(
                after.starts_with(text.as_str()),
                "{text:?} became {after:?}"
            );
            written.push((cli.clone().expect("read"), after));
        }
    }
    println!(
        "{} files: {} read by both, {} by the AWS CLI only, {} by the Rust SDK only, {} by \
         neither, {} by the AWS CLI only while they hold no profile",
        texts.len(),
        tally.get(&(true, true)).unwrap_or(&0),
        tally.get(&(true, false)).unwrap_or(&0),
        tally.get(&(false, true)).unwrap_or(&0),
        tally.get(&(false, false)).unwrap_or(&0),
        without_profiles
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} files are refused though one of them reads it, or accepted though neither \
         does:\n{}",
        mismatches.len(),
        texts.len(),
        mismatches[..mismatches.len().min(10)].join("\n")
    );
    let sdk_reads: usize = tally
        .iter()
        .filter(|((_, sdk), _)| *sdk)
        .map(|(_, n)| n)
        .sum();
    assert!(
        sdk_reads > 100,
        "too few files the Rust SDK reads: {tally:?}"
    );
    assert!(
        tally.get(&(true, false)).is_some_and(|n| *n > 100),
        "too few files only the AWS CLI reads: {tally:?}"
    );

    // What botocore reads after our write: the user's sections as before, and ours.
    let after: Vec<String> = written.iter().map(|(_, a)| a.clone()).collect();
    let reread = botocore_reads(&after);
    for ((before, text), now) in written.iter().zip(reread) {
        let mut now = now.unwrap_or_else(|| panic!("botocore refuses what we wrote: {text:?}"));
        let ours = now
            .as_object_mut()
            .and_then(|m| m.remove(OURS))
            .unwrap_or_else(|| panic!("botocore does not see our profile in {text:?}"));
        assert_eq!(
            ours["aws_access_key_id"],
            role_credentials(1).access_key_id,
            "{text:?}"
        );
        assert_eq!(&now, before, "the user's sections changed in {text:?}");
    }
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn files_only_the_aws_cli_reads_keep_their_bytes_and_botocore_reads_our_profile() {
    let fixtures = fixtures("aws-cli-only");
    assert!(fixtures.len() >= 6, "{} fixtures", fixtures.len());
    let mut originals = Vec::new();
    let mut written = Vec::new();
    for fixture in &fixtures {
        let label = fixture.file_name().unwrap_or_default().to_string_lossy();
        let case = Case::new(fixture);
        // The Rust SDK refuses it, or reads no profile in it (lone carriage returns).
        assert!(
            !rust_sdk_reads(&case.original).await || label.contains("carriage-return"),
            "{label}: the Rust SDK reads it; it belongs with the accepted fixtures"
        );
        case.apply(Changes::new().write(write(NAME, 1)));
        let after = case.bytes();
        assert!(after.starts_with(&case.original), "{label}: {after:?}");
        case.apply(Changes::new().write(write(NAME, 1)));
        assert_eq!(case.bytes(), after, "{label}: idempotent");
        case.apply(Changes::new().remove(ProfileName::new(NAME).expect("name")));
        assert!(
            case.bytes().starts_with(&case.original)
                && case.bytes().trim_end() == case.original.trim_end(),
            "{label}: removal gave {:?}",
            case.bytes()
        );
        originals.push(case.original.clone());
        written.push(after);
    }
    let before = botocore_reads(&originals);
    let after = botocore_reads(&written);
    for ((fixture, before), after) in fixtures.iter().zip(before).zip(after) {
        let label = fixture.file_name().unwrap_or_default().to_string_lossy();
        let before = before.unwrap_or_else(|| panic!("{label}: botocore refuses the fixture"));
        let mut after = after.unwrap_or_else(|| panic!("{label}: botocore refuses our write"));
        let ours = after
            .as_object_mut()
            .and_then(|m| m.remove(NAME))
            .unwrap_or_else(|| panic!("{label}: botocore does not see our profile"));
        let expected = role_credentials(1);
        assert_eq!(ours["aws_access_key_id"], expected.access_key_id, "{label}");
        assert_eq!(
            ours["aws_session_token"],
            expected.session_token.expose(),
            "{label}"
        );
        assert_eq!(after, before, "{label}: the user's sections changed");
    }
}
