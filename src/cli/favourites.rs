//! Favourites and what hangs off them: `favourite`, `credentials --profile`, `status`,
//! `settings export|import`.

use super::args::{FavouriteCommand, Format, SettingsCommand};
use super::{env, instance, output, provider, settings_path, show_prompt};
use aws_sso_device_auth_provider::awsfiles::{
    AwsFiles, Changes, ProcessProfile, ProfileName, ProfileWrite,
};
use aws_sso_device_auth_provider::browser;
use aws_sso_device_auth_provider::clock::{later, rfc3339, Clock, SystemClock};
use aws_sso_device_auth_provider::settings::{Favourite, FlowPreference, Settings};
use aws_sso_device_auth_provider::store::CredentialsCache;
use aws_sso_device_auth_provider::{Error, Instance, SignInFlow};
use serde_json::json;
use std::time::Duration;

/// Profile credentials with less than this left are renewed rather than handed out.
const CACHE_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The flow a preference asks for, on this machine.
pub fn flow_for(preference: FlowPreference, no_browser: bool) -> SignInFlow {
    preference.resolve(!no_browser && browser::local_browser_likely(env))
}

pub async fn favourite(command: FavouriteCommand) -> Result<(), Error> {
    let path = settings_path()?;
    let mut settings = Settings::load(&path)?;
    match command {
        FavouriteCommand::Add {
            name,
            account,
            role,
            region,
            credential_process,
            instance: i,
        } => {
            ProfileName::new(&name)?;
            if let Some(r) = &region {
                aws_sso_device_auth_provider::instance::validate_region(r)?;
            }
            let instance = instance(&i)?;
            let roles = provider(&instance)?.roles(&account, None).await?;
            if !roles.iter().any(|r| r.role_name == role) {
                return Err(Error::RoleNotFound {
                    account_id: account,
                    role,
                });
            }
            settings.add_favourite(Favourite {
                profile: name.clone(),
                start_url: instance.start_url().to_owned(),
                sso_region: instance.region().to_owned(),
                account_id: account.clone(),
                account_name: None,
                role_name: role.clone(),
                region: region.clone(),
                credential_process,
            })?;
            if credential_process {
                // The profile runs this very binary, by its full path.
                let exe = std::env::current_exe().map_err(|source| Error::Io {
                    action: "find the path of",
                    path: "aws-sso-auth".into(),
                    source,
                })?;
                let mut profile = ProcessProfile::aws_sso_auth(ProfileName::new(&name)?, &exe)?;
                if let Some(r) = &region {
                    profile = profile.region(r)?;
                }
                let files = AwsFiles::from_env(env)?;
                files.apply(&Changes::new().write_process(profile))?;
                settings.save(&path)?;
                eprintln!("Added favourite '{name}' ({account}/{role}) as a credential_process profile in {}.", files.config_file().display());
                return Ok(());
            }
            settings.save(&path)?;
            eprintln!("Added favourite '{name}' ({account}/{role}).");
            eprintln!("Its profile is written by `aws-sso-auth credentials --profile {name}`, and kept fresh by the app or `aws-sso-auth daemon`.");
            Ok(())
        }
        FavouriteCommand::Remove { name } => {
            let removed =
                settings
                    .remove_favourite(&name)
                    .ok_or_else(|| Error::NoSuchFavourite {
                        profile: name.clone(),
                    })?;
            settings.save(&path)?;
            remove_cached(&removed.profile);
            let files = AwsFiles::from_env(env)?;
            let applied =
                files.apply(&Changes::new().remove(ProfileName::new(&removed.profile)?))?;
            if applied.removed.is_empty() {
                eprintln!("Removed favourite '{name}'.");
            } else {
                eprintln!("Removed favourite '{name}' and its profile.");
            }
            Ok(())
        }
        FavouriteCommand::List { json } => {
            output::favourites(&settings.favourites, json);
            Ok(())
        }
    }
}

/// `credentials --profile NAME`: the favourite's profile while it is valid, else renewed.
pub async fn credentials(profile: &str, format: Format) -> Result<(), Error> {
    let settings = Settings::load(&settings_path()?)?;
    let fav = settings
        .favourite(profile)
        .cloned()
        .ok_or_else(|| Error::NoSuchFavourite {
            profile: profile.to_owned(),
        })?;
    let files = AwsFiles::from_env(env)?;
    // The warm path reads one file and makes no network or keychain call; an unreadable
    // file only costs the cold path. Keys live in the favourite's own profile, or, for a
    // credential_process favourite, in a private cache file.
    let now = SystemClock.now();
    let cached = if fav.credential_process {
        credentials_cache().and_then(|c| c.get(profile))
    } else {
        files
            .managed_profiles()
            .ok()
            .and_then(|list| list.into_iter().find(|m| m.name == profile))
            .and_then(|m| m.credentials)
    };
    if let Some(c) = cached.filter(|c| later(now, CACHE_MARGIN) < c.expiration) {
        output::credentials(&c, &fav.account_id, &fav.role_name, format);
        return Ok(());
    }
    let instance = Instance::new(&fav.start_url, &fav.sso_region)?;
    let sso = super::builder(&instance, &settings)?
        .flow(flow_for(settings.preferences.sign_in_flow, false))
        .on_prompt(|p| show_prompt(p, false))
        .build()?;
    let creds = sso
        .role_credentials(&fav.account_id, &fav.role_name)
        .await?;
    if fav.credential_process {
        let cached = credentials_cache()
            .ok_or_else(|| std::io::Error::other("neither XDG_CACHE_HOME nor HOME is set"))
            .and_then(|c| c.put(profile, &creds));
        if let Err(e) = cached {
            eprintln!("aws-sso-auth: warning: the credentials were not cached: {e}");
        }
        output::credentials(&creds, &fav.account_id, &fav.role_name, format);
        return Ok(());
    }
    let mut write = ProfileWrite::new(ProfileName::new(profile)?, &creds);
    if let Some(r) = &fav.region {
        write = write.region(r)?;
    }
    // The credentials are what was asked for; a profile that cannot be written is a
    // warning, not a failure.
    if let Err(e) = files.apply(&Changes::new().write(write)) {
        eprintln!("aws-sso-auth: warning: the profile was not updated: {e}");
    }
    output::credentials(&creds, &fav.account_id, &fav.role_name, format);
    Ok(())
}

pub async fn status(json: bool) -> Result<(), Error> {
    let settings = Settings::load(&settings_path()?)?;
    let files = AwsFiles::from_env(env)?;
    let now = SystemClock.now();
    let mut sessions = Vec::new();
    for i in &settings.instances {
        let instance = Instance::new(&i.start_url, &i.region)?;
        let session = provider(&instance)?.session().await?;
        sessions.push((instance, session));
    }
    let profiles = files.managed_profiles()?;
    let expiry_of = |name: &str| {
        profiles
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.expires_at)
    };
    if json {
        let sessions: Vec<_> = sessions
            .iter()
            .map(|(i, s)| {
                json!({
                    "startUrl": i.start_url(),
                    "region": i.region(),
                    "signedIn": s.as_ref().is_some_and(|s| s.expires_at > now || s.renewable),
                    "expiresAt": s.as_ref().map(|s| rfc3339(s.expires_at)),
                    "renewable": s.as_ref().map(|s| s.renewable),
                })
            })
            .collect();
        let favourites: Vec<_> = settings
            .favourites
            .iter()
            .map(|f| {
                let expires = expiry_of(&f.profile);
                json!({
                    "profile": f.profile,
                    "accountId": f.account_id,
                    "roleName": f.role_name,
                    "startUrl": f.start_url,
                    "expiresAt": expires.map(rfc3339),
                    "valid": expires.is_some_and(|t| t > now),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({ "sessions": sessions, "favourites": favourites })
            )
            .unwrap_or_default()
        );
        return Ok(());
    }
    if sessions.is_empty() {
        println!("No AWS SSO instance yet; sign in with: aws-sso-auth login --start-url URL --sso-region REGION");
    }
    for (instance, session) in &sessions {
        let state = match session {
            Some(s) if s.expires_at > now && s.renewable => {
                format!(
                    "signed in, token valid until {} (renews itself)",
                    rfc3339(s.expires_at)
                )
            }
            Some(s) if s.expires_at > now => format!("signed in until {}", rfc3339(s.expires_at)),
            Some(s) if s.renewable => "token expired; renews on next use".to_owned(),
            _ => "not signed in".to_owned(),
        };
        println!("{instance}: {state}");
    }
    for f in &settings.favourites {
        let state = match expiry_of(&f.profile) {
            Some(t) if t > now => format!("valid until {}", rfc3339(t)),
            Some(t) => format!("expired at {}", rfc3339(t)),
            None => "not written".to_owned(),
        };
        println!("  {}  {}/{}  {state}", f.profile, f.account_id, f.role_name);
    }
    Ok(())
}

pub fn settings(command: SettingsCommand) -> Result<(), Error> {
    let path = settings_path()?;
    let mut settings = Settings::load(&path)?;
    match command {
        SettingsCommand::Export => {
            println!(
                "{}",
                serde_json::to_string_pretty(&settings).unwrap_or_default()
            );
            Ok(())
        }
        SettingsCommand::ImportAwsConfig => {
            let files = AwsFiles::from_env(env)?;
            let found = files.configured_instances()?;
            if found.is_empty() {
                eprintln!(
                    "No IAM Identity Center instance in {}.",
                    files.config_file().display()
                );
            }
            for c in found {
                let label = c.source.split_once(' ').map(|(_, n)| n.to_owned());
                match Instance::new(&c.start_url, &c.region) {
                    Ok(instance) if settings.add_instance(&instance, label) => {
                        eprintln!("Added {instance} (from [{}]).", c.source)
                    }
                    Ok(instance) => eprintln!("Already known: {instance}."),
                    Err(e) => eprintln!("Skipped [{}]: {e}", c.source),
                }
            }
            settings.save(&path)
        }
        SettingsCommand::Import { file } => {
            let bytes = if file.as_os_str() == "-" {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map(|_| buf)
            } else {
                std::fs::read(&file)
            }
            .map_err(|source| Error::Io {
                action: "read",
                path: file.clone(),
                source,
            })?;
            let other: Settings = serde_json::from_slice(&bytes).map_err(|e| Error::Settings {
                path: file.clone(),
                detail: e.to_string(),
            })?;
            let (instances, favourites) = (other.instances.len(), other.favourites.len());
            settings.import(other)?;
            settings.save(&path)?;
            eprintln!(
                "Imported {instances} instances and {favourites} favourites into {}.",
                path.display()
            );
            Ok(())
        }
    }
}

/// The cache of credential_process favourites, where the environment names one.
fn credentials_cache() -> Option<CredentialsCache> {
    CredentialsCache::from_env(env)
}

fn remove_cached(profile: &str) {
    if let Some(cache) = credentials_cache() {
        if let Err(e) = cache.remove(profile) {
            eprintln!("aws-sso-auth: warning: could not remove the cached credentials of '{profile}': {e}");
        }
    }
}

/// On sign-out: the cached credentials of the instance's favourites go; their profiles
/// too when the user asked for that.
pub fn remove_profiles_on_sign_out(instance: &Instance) -> Result<(), Error> {
    let settings = Settings::load(&settings_path()?)?;
    for f in settings
        .favourites
        .iter()
        .filter(|f| f.start_url == instance.start_url() && f.sso_region == instance.region())
    {
        remove_cached(&f.profile);
    }
    if !settings.preferences.remove_profiles_on_sign_out {
        return Ok(());
    }
    let mut changes = Changes::new();
    for f in settings
        .favourites
        .iter()
        .filter(|f| f.start_url == instance.start_url() && f.sso_region == instance.region())
    {
        changes = changes.remove(ProfileName::new(&f.profile)?);
    }
    let applied = AwsFiles::from_env(env)?.apply(&changes)?;
    if !applied.removed.is_empty() {
        eprintln!("Removed {} profiles of favourites.", applied.removed.len());
    }
    Ok(())
}

/// `daemon`: the renewer of every instance with favourites, until Ctrl-C or SIGTERM. The
/// settings are read again when they change, so new favourites are picked up.
pub async fn daemon() -> Result<(), Error> {
    use aws_sso_device_auth_provider::renewer::{
        Event, Events, Renewer, RenewerConfig, SessionState,
    };
    use std::collections::HashMap;
    use std::sync::Arc;

    let path = settings_path()?;
    let files = AwsFiles::from_env(env)?;
    let events = Events::new();
    let mut rx = events.subscribe();
    let mut renewers: HashMap<(String, String), Renewer> = HashMap::new();
    let mut seen: Option<std::time::SystemTime> = None;
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    let stop = shutdown_signal();
    tokio::pin!(stop);
    eprintln!(
        "Keeping favourites fresh in {}; stop with Ctrl-C.",
        files.credentials_file().display()
    );
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tick.tick() => {
                let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
                if modified == seen && !renewers.is_empty() {
                    continue;
                }
                seen = modified;
                let settings = Settings::load(&path)?;
                let minutes = |m: u32| Duration::from_secs(u64::from(m) * 60);
                for f in &settings.favourites {
                    let key = (f.start_url.clone(), f.sso_region.clone());
                    if renewers.contains_key(&key) {
                        continue;
                    }
                    let instance = Instance::new(&f.start_url, &f.sso_region)?;
                    let sso = super::builder(&instance, &settings)?
                        .sign_in_on_demand(false)
                        .token_refresh_margin(minutes(settings.preferences.token_refresh_minutes))
                        .build()?;
                    let config = RenewerConfig {
                        credentials_margin: minutes(settings.preferences.credentials_refresh_minutes),
                        ..RenewerConfig::default()
                    };
                    let renewer = Renewer::start(
                        Arc::new(sso),
                        files.clone(),
                        Vec::new(),
                        config,
                        Arc::new(SystemClock),
                        events.clone(),
                    );
                    renewers.insert(key, renewer);
                }
                for renewer in renewers.values() {
                    renewer.set_favourites(settings.favourites.clone());
                }
            }
            event = rx.recv() => {
                let now = rfc3339(SystemClock.now());
                match event {
                    Ok(Event::ProfileWritten { profile, expires_at }) => {
                        eprintln!("{now} profile {profile} renewed, valid until {}", rfc3339(expires_at));
                    }
                    Ok(Event::RenewalFailed { profile, message, retry_at }) => {
                        let what = profile.map_or("the session".to_owned(), |p| format!("profile {p}"));
                        eprintln!("{now} renewing {what} failed: {message} (next try {})", rfc3339(retry_at));
                    }
                    Ok(Event::Session(SessionState::NeedsSignIn)) => {
                        eprintln!("{now} the session is over; sign in with: aws-sso-auth login (renewal resumes by itself)");
                    }
                    Ok(Event::Session(SessionState::SignedIn(info))) => {
                        eprintln!("{now} signed in; token valid until {}", rfc3339(info.expires_at));
                    }
                    Ok(Event::SignInCode { .. }) | Err(_) => {}
                }
            }
        }
    }
    eprintln!("Stopped.");
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
