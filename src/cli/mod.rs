mod args;
mod favourites;
mod output;

use args::{Cli, Command, Format, InstanceArgs, ProfileCommand};
use aws_sso_device_auth_provider::awsfiles::{AwsFiles, Changes, ProfileName, ProfileWrite};
use aws_sso_device_auth_provider::browser;
use aws_sso_device_auth_provider::clock::{Clock, SystemClock};
use aws_sso_device_auth_provider::provider::Builder;
use aws_sso_device_auth_provider::settings::{config_dir, Settings};
use aws_sso_device_auth_provider::store::AwsCliTokenCache;
use aws_sso_device_auth_provider::{
    AwsSsoDeviceAuthProvider, Endpoints, Error, Instance, SignInFlow, SignInPrompt,
};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code when a sign-in is needed, so scripts can tell it from other failures.
const EXIT_SIGN_IN_REQUIRED: u8 = 3;

/// Exit code of a command line clap cannot parse, as clap itself uses.
const EXIT_USAGE: u8 = 2;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and the version are not errors, and print as clap lays them out.
        Err(e)
            if !e.use_stderr()
                || e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            e.exit()
        }
        Err(e) => {
            // One line in the same form as every other error; clap's usage and hint
            // lines follow it.
            let rendered = e.render().to_string();
            let message = rendered.strip_prefix("error: ").unwrap_or(&rendered);
            eprint!("aws-sso-auth: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("aws-sso-auth: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let message = e.to_string();
            eprintln!("aws-sso-auth: {message}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                let cause = s.to_string();
                if !message.contains(&cause) {
                    eprintln!("  caused by: {cause}");
                }
                source = s.source();
            }
            match e {
                Error::SignInRequired { .. } | Error::Unauthorized { .. } | Error::NoInstance => {
                    ExitCode::from(EXIT_SIGN_IN_REQUIRED)
                }
                _ => ExitCode::FAILURE,
            }
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    aws_sso_device_auth_provider::logging::init_stderr("AWS_SSO_AUTH_LOG", default);
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

fn settings_path() -> Result<PathBuf, Error> {
    config_dir(env)
        .map(|d| d.join("settings.json"))
        .ok_or_else(|| Error::Settings {
            path: PathBuf::from("$HOME/.config/aws-sso-tray/settings.json"),
            detail: "neither XDG_CONFIG_HOME nor HOME is set".into(),
        })
}

/// The instance from the flags, else the remembered default.
fn instance(args: &InstanceArgs) -> Result<Instance, Error> {
    if let (Some(url), Some(region)) = (&args.start_url, &args.sso_region) {
        return Instance::new(url, region);
    }
    let settings = Settings::load(&settings_path()?)?;
    match settings.default_instance() {
        Some(i) => Instance::new(&i.start_url, &i.region),
        None => Err(Error::NoInstance),
    }
}

/// A provider builder for `instance`, as the user's `settings` ask.
fn builder(instance: &Instance, settings: &Settings) -> Result<Builder, Error> {
    let cache = match (settings.preferences.share_session_with_aws_cli, env("HOME")) {
        (true, Some(home)) => Some(AwsCliTokenCache::for_instance(
            instance,
            &AwsFiles::from_env(env)?,
            std::path::Path::new(&home),
        )?),
        _ => None,
    };
    Ok(AwsSsoDeviceAuthProvider::builder()
        .start_url(instance.start_url())
        .region(instance.region())
        .endpoints(Endpoints::from_env(env)?)
        .aws_cli_token_cache(cache))
}

/// A provider for the commands other than `login`: they never start a sign-in.
fn provider(instance: &Instance) -> Result<AwsSsoDeviceAuthProvider, Error> {
    builder(instance, &Settings::load(&settings_path()?)?)?
        .sign_in_on_demand(false)
        .build()
}

async fn run(command: Command) -> Result<(), Error> {
    match command {
        Command::Login {
            start_url,
            sso_region,
            no_browser,
            device_code,
            pkce,
        } => login(&start_url, &sso_region, no_browser, device_code, pkce).await,
        Command::Accounts {
            name,
            json,
            instance: i,
        } => {
            let sso = provider(&instance(&i)?)?;
            let accounts = sso.accounts_matching(&[], name.as_deref()).await?;
            output::accounts(&accounts, json);
            Ok(())
        }
        Command::Roles {
            account,
            account_name,
            role,
            json,
            instance: i,
        } => {
            let sso = provider(&instance(&i)?)?;
            // clap requires one of the two.
            let account = match account {
                Some(id) => id,
                None => {
                    sso.account_id_for_name(account_name.as_deref().unwrap_or_default())
                        .await?
                }
            };
            let roles = sso.roles(&account, role.as_deref()).await?;
            if roles.is_empty() && role.is_some() {
                return Err(Error::RoleNotFound {
                    account_id: account,
                    role: role.unwrap_or_default(),
                });
            }
            output::roles(&roles, json);
            Ok(())
        }
        Command::Credentials {
            profile: Some(profile),
            format,
            ..
        } => favourites::credentials(&profile, format).await,
        Command::Credentials {
            account,
            role,
            format,
            instance: i,
            ..
        } => {
            // clap requires both when there is no --profile.
            let (account, role) = (account.unwrap_or_default(), role.unwrap_or_default());
            let sso = provider(&instance(&i)?)?;
            let creds = sso.role_credentials(&account, &role).await?;
            output::credentials(&creds, &account, &role, format);
            Ok(())
        }
        Command::Profile(command) => profile(command).await,
        Command::Favourite(command) => favourites::favourite(command).await,
        Command::Status { json } => favourites::status(json).await,
        Command::Settings(command) => favourites::settings(command),
        Command::Daemon => favourites::daemon().await,
        Command::Console {
            profile,
            account,
            role,
            region,
            print,
            instance: i,
        } => {
            let (instance, account, role, fav_region) = match profile {
                Some(p) => {
                    let settings = Settings::load(&settings_path()?)?;
                    let f = settings
                        .favourite(&p)
                        .cloned()
                        .ok_or(Error::NoSuchFavourite { profile: p })?;
                    let instance = Instance::new(&f.start_url, &f.sso_region)?;
                    (instance, f.account_id, f.role_name, f.region)
                }
                // clap requires both without --profile.
                None => (
                    instance(&i)?,
                    account.unwrap_or_default(),
                    role.unwrap_or_default(),
                    None,
                ),
            };
            let region = match region.or(fav_region) {
                Some(r) => aws_sso_device_auth_provider::instance::validate_region(&r)?,
                None => instance.region().to_owned(),
            };
            let creds = provider(&instance)?
                .role_credentials(&account, &role)
                .await?;
            let url = aws_sso_device_auth_provider::console::signin_url(
                &creds,
                &region,
                env("AWS_ENDPOINT_URL_SIGNIN").as_deref(),
            )
            .await?;
            if print {
                println!("{}", url.expose());
                return Ok(());
            }
            aws_sso_device_auth_provider::console::open_once(&url).await?;
            eprintln!("Opened the AWS console as {role} in {account}.");
            Ok(())
        }
        Command::Logout { instance: i } => {
            let instance = instance(&i)?;
            provider(&instance)?.sign_out().await?;
            eprintln!("Signed out of {instance}.");
            favourites::remove_profiles_on_sign_out(&instance)
        }
    }
}

async fn profile(command: ProfileCommand) -> Result<(), Error> {
    let files = AwsFiles::from_env(env)?;
    match command {
        ProfileCommand::Write {
            name,
            account,
            role,
            region,
            force,
            instance: i,
        } => {
            // Everything local is checked before the network is used.
            let name = ProfileName::new(&name)?;
            if let Some(r) = &region {
                aws_sso_device_auth_provider::instance::validate_region(r)?;
            }
            let sso = provider(&instance(&i)?)?;
            let creds = sso.role_credentials(&account, &role).await?;
            let mut write = ProfileWrite::new(name.clone(), &creds);
            if let Some(r) = &region {
                write = write.region(r)?;
            }
            let applied = files.apply(&Changes::new().write(write).force(force))?;
            let verb = if applied.took_over.contains(&name) {
                "Replaced"
            } else if applied.created.contains(&name) {
                "Wrote"
            } else {
                "Renewed"
            };
            eprintln!(
                "{verb} profile '{name}' ({account}/{role}) in {}; valid until {}.",
                files.credentials_file().display(),
                aws_sso_device_auth_provider::clock::rfc3339(creds.expiration)
            );
            if let Some(r) = region {
                eprintln!("Its region {r} is in {}.", files.config_file().display());
            }
            Ok(())
        }
        ProfileCommand::Remove { names } => {
            let mut changes = Changes::new();
            for name in &names {
                changes = changes.remove(ProfileName::new(name)?);
            }
            let applied = files.apply(&changes)?;
            for name in &applied.removed {
                eprintln!("Removed profile '{name}'.");
            }
            if let Some((name, path, line)) = applied.not_ours.first() {
                return Err(Error::NothingToRemove {
                    name: name.to_string(),
                    detail: format!(
                        "; the one in {} line {line} is not from aws-sso-tray and was left alone",
                        path.display()
                    ),
                });
            }
            if let Some(name) = applied.not_found.first() {
                return Err(Error::NothingToRemove {
                    name: name.to_string(),
                    detail: String::new(),
                });
            }
            Ok(())
        }
        ProfileCommand::List { json } => {
            let profiles = files.managed_profiles()?;
            if profiles.is_empty() && !json {
                eprintln!(
                    "No profiles from aws-sso-tray in {}.",
                    files.credentials_file().display()
                );
                return Ok(());
            }
            output::profiles(&profiles, SystemClock.now(), json);
            Ok(())
        }
    }
}

async fn login(
    start_url: &str,
    region: &str,
    no_browser: bool,
    device_code: bool,
    pkce: bool,
) -> Result<(), Error> {
    let instance = Instance::new(start_url, region)?;
    let path = settings_path()?;
    let mut settings = Settings::load(&path)?;
    let flow = match (device_code, pkce) {
        (true, _) => SignInFlow::Device,
        (_, true) => SignInFlow::Pkce,
        _ => favourites::flow_for(settings.preferences.sign_in_flow, no_browser),
    };
    let sso = builder(&instance, &settings)?
        .flow(flow)
        .on_prompt(move |p| show_prompt(p, no_browser))
        .build()?;
    eprintln!("Signing in to {instance}.");
    let session = sso.sign_in().await?;
    settings.remember_default(&instance);
    settings.save(&path)?;
    let renew = if session.renewable {
        "it renews itself with its refresh token"
    } else {
        "sign in again then"
    };
    eprintln!(
        "Signed in. The session token is valid until {} ({renew}).",
        aws_sso_device_auth_provider::clock::rfc3339(session.expires_at)
    );
    Ok(())
}

fn show_prompt(p: &SignInPrompt, no_browser: bool) {
    match p {
        SignInPrompt::DeviceCode { user_code, .. } => {
            eprintln!("Open {}", p.browser_url());
            eprintln!("and check that it shows this code: {user_code}");
        }
        SignInPrompt::Browser { url, .. } => {
            eprintln!("Approve the sign-in in your browser:");
            eprintln!("{url}");
        }
    }
    if no_browser {
        return;
    }
    if let Err(e) = browser::open(p.browser_url()) {
        eprintln!("(could not open a browser: {e}; open the address above yourself)");
    }
    eprintln!("Waiting for approval…");
}
