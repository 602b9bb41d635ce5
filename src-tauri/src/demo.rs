//! Demo mode (the `demo` feature): the app against the built-in emulator in a throw-away
//! home, a keychain in memory and short lifetimes, so a new user sees sign-in, profiles
//! and renewals within minutes without an AWS account and without touching their
//! `~/.aws`, settings or keychain.

use aws_sso_device_auth_provider::console::Colour;
use aws_sso_device_auth_provider::env::Env;
use aws_sso_device_auth_provider::instance::Instance;
use aws_sso_device_auth_provider::renewer::RenewerConfig;
use aws_sso_device_auth_provider::settings::{FlowPreference, Settings};
use aws_sso_device_auth_provider::workspace::{Margins, Options};
use aws_sso_device_auth_provider::FileLock;
use aws_sso_device_auth_provider::MemoryStore;
use aws_sso_emulator::{EksCluster, Emulator, EmulatorConfig};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The demo's organisation.
pub const START_URL: &str = "https://demo-org.awsapps.com/start";
/// Its region.
pub const REGION: &str = "eu-west-1";

/// The EKS clusters every demo account has, in [`REGION`].
const DEMO_CLUSTERS: [&str; 2] = ["payments", "platform-tools"];

/// The console colours of the demo's first accounts, in the organisation's order.
const DEMO_COLOURS: [Colour; 6] = [
    Colour::Red,
    Colour::Orange,
    Colour::Green,
    Colour::LightBlue,
    Colour::Purple,
    Colour::Yellow,
];

/// How each demo home's name begins, in the temporary directory.
const HOME_PREFIX: &str = "aws-sso-tray-demo-";
/// In each demo home: locked by its demo while it runs, and holding its process id.
const RUNNING: &str = ".running";

/// What the demo keeps alive while the app runs; the home goes when it is dropped.
pub struct Demo {
    /// The emulated AWS.
    pub emulator: Emulator,
    /// The throw-away home.
    pub home: tempfile::TempDir,
    /// Says "this demo is running" to the next demo, until the process ends.
    _running: FileLock,
}

/// Makes a demo home in `tmp`: private to the user (0700), marked as running.
fn make_home(tmp: &Path) -> std::io::Result<(tempfile::TempDir, FileLock)> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(HOME_PREFIX);
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    let home = builder.tempdir_in(tmp)?;
    let running = FileLock::acquire(&home.path().join(RUNNING))?;
    // Written only once locked: a lock that can be taken with an id in it means the demo
    // that wrote the id has ended.
    running
        .file()
        .write_all(std::process::id().to_string().as_bytes())?;
    Ok((home, running))
}

/// Removes the demo homes in `tmp` that demos left behind when they were killed (a
/// demo that quits removes its own): those of this user whose running mark is no longer
/// held. Returns what it removed.
fn remove_leftovers(tmp: &Path, ours: &Path) -> Vec<PathBuf> {
    #[cfg(unix)]
    let owner = std::fs::metadata(ours).map(|m| std::os::unix::fs::MetadataExt::uid(&m));
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return removed;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let named = entry.file_name().to_string_lossy().starts_with(HOME_PREFIX);
        // Not a link: only a directory a demo made.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !named || path == ours || !meta.is_dir() {
            continue;
        }
        #[cfg(unix)]
        if owner.as_ref().ok() != Some(&std::os::unix::fs::MetadataExt::uid(&meta)) {
            continue;
        }
        // Held: a demo runs there. Missing or empty: a demo is making it.
        let Ok(Some(lock)) = FileLock::try_acquire(&path.join(RUNNING)) else {
            continue;
        };
        let mut id = String::new();
        let mut mark = lock.file();
        if mark.read_to_string(&mut id).is_err() || id.trim().is_empty() {
            continue;
        }
        match std::fs::remove_dir_all(&path) {
            Ok(()) => removed.push(path),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "could not remove a demo home left behind")
            }
        }
    }
    removed
}

/// Starts the emulator and makes the throw-away home, with the demo organisation set up.
pub async fn start() -> std::io::Result<(Demo, Options)> {
    let tmp = std::env::temp_dir();
    let (home, running) = make_home(&tmp)?;
    let left = remove_leftovers(&tmp, home.path());
    if !left.is_empty() {
        tracing::info!(
            count = left.len(),
            "removed demo homes left behind by demos that were killed"
        );
    }
    let emulator = Emulator::start(EmulatorConfig {
        accounts: 150,
        // Short enough to watch a renewal in a few minutes.
        access_token_lifetime: Duration::from_secs(15 * 60),
        role_credentials_lifetime: Duration::from_secs(5 * 60),
        ..EmulatorConfig::default()
    })
    .await?;
    // Two clusters in every account, in the demo's region, for the kubeconfig button.
    let accounts: Vec<String> = emulator
        .organisation()
        .iter()
        .map(|a| a.account_id.clone())
        .collect();
    emulator.configure(|c| {
        for account in &accounts {
            for name in DEMO_CLUSTERS {
                c.clusters.push(EksCluster::new(account, REGION, name));
            }
        }
        // The first accounts have a colour in the console, as an organisation marks its
        // production accounts: a favourite of one takes it with "From the account".
        for (account, colour) in accounts.iter().zip(DEMO_COLOURS) {
            c.account_colours
                .insert(account.clone(), colour.name().to_owned());
        }
    });
    let url = emulator.endpoint();
    let h = home.path();
    let env = Env::process().in_home(h).with_endpoints(&url);
    let instance = Instance::new(START_URL, REGION).map_err(std::io::Error::other)?;
    let mut settings = Settings::default();
    settings.add_instance(&instance, Some("Demo organisation".into()));
    settings.remember_default(&instance);
    // The device code flow, so the demo shows the code to compare.
    settings.preferences.sign_in_flow = FlowPreference::Device;
    settings
        .save(&h.join(".config/aws-sso-tray/settings.json"))
        .map_err(std::io::Error::other)?;
    let mut options = crate::options(env);
    options.store = Arc::new(MemoryStore::new());
    options.renewer = RenewerConfig {
        jitter: Duration::from_secs(10),
        ..RenewerConfig::default()
    };
    options.margins = Some(Margins {
        token: Duration::from_secs(5 * 60),
        credentials: Duration::from_secs(3 * 60),
    });
    Ok((
        Demo {
            emulator,
            home,
            _running: running,
        },
        options,
    ))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_demo_home_is_private_and_what_killed_demos_left_is_removed() {
        let tmp = tempfile::tempdir().expect("tmp");
        // A demo that was killed: its mark holds an id, and no one holds the lock.
        let (killed, mark) = make_home(tmp.path()).expect("home");
        std::fs::write(killed.path().join("settings.json"), "{}").expect("file");
        drop(mark);
        let killed = killed.keep();
        // A demo still running beside us, and one being made (no id yet).
        let (running, _held) = make_home(tmp.path()).expect("home");
        let making = tmp.path().join(format!("{HOME_PREFIX}making"));
        std::fs::create_dir(&making).expect("dir");
        std::fs::write(making.join(RUNNING), "").expect("mark");
        // Not a demo home, and a link that only looks like one.
        let other = tmp.path().join("aws-sso-tray-other");
        std::fs::create_dir(&other).expect("dir");
        let link = tmp.path().join(format!("{HOME_PREFIX}link"));
        std::os::unix::fs::symlink(&killed, &link).expect("link");

        let (ours, _mark) = make_home(tmp.path()).expect("home");
        let mode = std::fs::metadata(ours.path())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        assert_eq!(
            remove_leftovers(tmp.path(), ours.path()),
            vec![killed.clone()]
        );
        assert!(!killed.exists());
        for kept in [running.path(), &making, &other, ours.path()] {
            assert!(kept.exists(), "{}", kept.display());
        }
        // Running twice removes nothing more.
        assert!(remove_leftovers(tmp.path(), ours.path()).is_empty());
    }
}
