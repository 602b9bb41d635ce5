//! Demo mode (the `demo` feature): the app against the built-in emulator in a throw-away
//! home, a keychain in memory and short lifetimes, so a new user sees sign-in, profiles
//! and renewals within minutes without an AWS account and without touching their
//! `~/.aws`, settings or keychain.

use aws_sso_device_auth_provider::env::Env;
use aws_sso_device_auth_provider::instance::Instance;
use aws_sso_device_auth_provider::renewer::RenewerConfig;
use aws_sso_device_auth_provider::settings::{FlowPreference, Settings};
use aws_sso_device_auth_provider::workspace::{Margins, Options};
use aws_sso_device_auth_provider::MemoryStore;
use aws_sso_emulator::{Emulator, EmulatorConfig};
use std::sync::Arc;
use std::time::Duration;

/// The demo's organisation.
pub const START_URL: &str = "https://demo-org.awsapps.com/start";
/// Its region.
pub const REGION: &str = "eu-west-1";

/// What the demo keeps alive while the app runs; the home goes when it is dropped.
pub struct Demo {
    /// The emulated AWS.
    pub emulator: Emulator,
    /// The throw-away home.
    pub home: tempfile::TempDir,
}

/// Starts the emulator and makes the throw-away home, with the demo organisation set up.
pub async fn start() -> std::io::Result<(Demo, Options)> {
    let home = tempfile::Builder::new()
        .prefix("aws-sso-tray-demo-")
        .tempdir()?;
    let emulator = Emulator::start(EmulatorConfig {
        accounts: 150,
        // Short enough to watch a renewal in a few minutes.
        access_token_lifetime: Duration::from_secs(15 * 60),
        role_credentials_lifetime: Duration::from_secs(5 * 60),
        ..EmulatorConfig::default()
    })
    .await?;
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
    Ok((Demo { emulator, home }, options))
}
