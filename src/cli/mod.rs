//! The `aws-sso-auth` command line: each command parses its input, makes one call into
//! the workspace, and prints the result. Errors are printed once, with the command line's
//! own next step ([`hint`]).

mod args;
mod console;
mod daemon;
pub(crate) mod ecr;
mod eks;
mod eks_token;
mod exec;
mod favourite;
mod kubeconfig;
mod login;
mod output;
mod populate;
mod portal;
mod profile;
mod prompt;
mod settings;
mod status;

use args::{Cli, Command, InstanceArgs};
use aws_sso_device_auth_provider::ask::{AskApp, Wants};
use aws_sso_device_auth_provider::display;
use aws_sso_device_auth_provider::env::Env;
use aws_sso_device_auth_provider::workspace::{Options, RoleTarget, Workspace};
use aws_sso_device_auth_provider::{Error, Instance};
use clap::Parser;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// How this run asks the running app for a sign-in (`None`: it signs in by itself).
static ASK_APP: OnceLock<Option<AskApp>> = OnceLock::new();

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
    let _ = ASK_APP.set((!cli.no_app).then(|| {
        ask_app(
            Duration::from_secs(cli.sign_in_timeout),
            wants(&cli.command),
        )
    }));
    // One thread answers a command in the time it takes; `exec` serves its command's
    // requests as they come, on as many threads as there are cores.
    let runtime = match &cli.command {
        Command::Exec(_) => tokio::runtime::Builder::new_multi_thread(),
        _ => tokio::runtime::Builder::new_current_thread(),
    }
    .enable_all()
    .build();
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("aws-sso-auth: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Command::Exec(args) = cli.command {
        let timeout = Duration::from_secs(cli.sign_in_timeout);
        return runtime.block_on(exec::exec(args, cli.no_app, timeout));
    }
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            if e.needs_sign_in() || matches!(e, Error::NoInstance) {
                ExitCode::from(EXIT_SIGN_IN_REQUIRED)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The error as one line (with its next step), then its causes not already said. What
/// a service or a file put in them is shown, never acted on by the terminal.
fn report(e: &Error) {
    let message = e.to_string();
    let line = match hint(e) {
        Some(hint) => format!("{message}; {hint}"),
        None => message.clone(),
    };
    eprintln!("aws-sso-auth: {}", display::text(&line));
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let cause = s.to_string();
        if !message.contains(&cause) {
            eprintln!("  caused by: {}", display::text(&cause));
        }
        source = s.source();
    }
}

/// A warning that did not stop the command (with its next step, where there is one).
fn warn(what: &str, e: &Error) {
    let message = match hint(e) {
        Some(hint) => format!("{e}; {hint}"),
        None => e.to_string(),
    };
    eprintln!("aws-sso-auth: warning: {what}: {}", display::text(&message));
}

/// The next step on the command line, where there is one.
fn hint(e: &Error) -> Option<String> {
    // A file refused for its directory carries the reason inside the OS error.
    if let Error::WriteFailed { source, .. } = e {
        let inner = source.get_ref().and_then(|s| s.downcast_ref::<Error>());
        if let Some(inner @ Error::UnsafeDirectory { .. }) = inner {
            return hint(inner);
        }
    }
    Some(match e {
        Error::UnsafeDirectory { path, .. } => format!(
            "remove it so that it is made again, private; or, if it is yours, let only you write to it (chmod 700 '{}')",
            path.display()
        ),
        Error::SignInRequired { instance } => format!(
            "sign in with: aws-sso-auth login --start-url {} --sso-region {}",
            instance.start_url(),
            instance.region()
        ),
        Error::Unauthorized { .. } => "sign in again with: aws-sso-auth login".into(),
        Error::SessionElsewhere { instance, .. } => format!(
            "sign in again at these endpoints with: aws-sso-auth login --start-url {} --sso-region {}; or unset the AWS_ENDPOINT_URL variables to go back to that session",
            instance.start_url(),
            instance.region()
        ),
        Error::NoInstance => "sign in once with: aws-sso-auth login --start-url URL --sso-region REGION (or pass --start-url and --sso-region)".into(),
        Error::SignInExpired => {
            "sign in again and approve the new code within its time limit".into()
        }
        Error::SignInDenied => "sign in again and choose Allow if you meant to".into(),
        Error::SignInDeclined { .. } => {
            "sign in from the tray when you are ready, then run the command again".into()
        }
        Error::SignInNotAnswered { .. } => {
            "sign in from the tray, then run the command again (--sign-in-timeout waits longer)"
                .into()
        }
        Error::SignInTimedOut { .. } => "sign in again".into(),
        Error::AuthorizationCallback { .. } => {
            "sign in again, or use the device code flow (--device-code)".into()
        }
        Error::SignInInProgress { .. } => "approve it in the browser, or wait for it to end".into(),
        Error::AccountNotFound { .. } => "list them with: aws-sso-auth accounts".into(),
        Error::AmbiguousAccount { .. } => {
            "use a narrower pattern, or --account with the account id".into()
        }
        Error::RoleNotFound { account_id, .. } => {
            format!("list them with: aws-sso-auth roles --account {account_id}")
        }
        Error::ProfileNotOurs { .. } => "choose another name, or use --force to replace it".into(),
        Error::ProfileShadowed { .. } => {
            "choose another name, or use --force to replace that profile".into()
        }
        Error::NothingToRemove { .. } => "list them with: aws-sso-auth profile list".into(),
        Error::InvalidTemplate { .. } => {
            "use placeholders in braces and profile-name characters, such as --template '{account_name}.{role_name}'".into()
        }
        Error::NoSuchFavourite { .. } => "list them with: aws-sso-auth favourite list".into(),
        Error::ExecNested { .. } => {
            "leave it first (exit), or pass --nested to run another inside it".into()
        }
        Error::ExecNotServed { .. } => {
            "or serve them from this process instead, with --no-app".into()
        }
        Error::ConsoleNotOpened { .. } | Error::NoBrowser { .. } => {
            "or print the address with --print".into()
        }
        Error::EksClusterNotFound {
            profile, region, ..
        } => format!(
            "list them with: aws-sso-auth eks clusters --profile {profile} --region {region}"
        ),
        Error::KubeContextTaken { .. } => "choose another name with --alias".into(),
        _ => return e.advice(),
    })
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    aws_sso_device_auth_provider::logging::init_stderr("AWS_SSO_AUTH_LOG", default);
}

/// The user's workspace, with this very program for `credential_process` profiles.
async fn open() -> Result<Workspace, Error> {
    open_with(true).await
}

async fn open_with(open_browser: bool) -> Result<Workspace, Error> {
    let mut options = Options::new(Env::process());
    options.open_browser = open_browser;
    options.cli = std::env::current_exe().ok();
    options.ask_app = ASK_APP.get().cloned().flatten();
    Workspace::open(options).await
}

/// What `command` wants a sign-in for, as the app shows it to the person.
fn wants(command: &Command) -> Wants {
    match command {
        Command::Credentials {
            profile: Some(profile),
            ..
        } => Wants::Profile(profile.clone()),
        Command::Credentials {
            account: Some(account),
            role: Some(role),
            ..
        } => Wants::Role {
            account: account.clone(),
            role: role.clone(),
        },
        Command::Eks(args::EksCommand::Token(args)) => {
            match (&args.whose.profile, &args.whose.account, &args.whose.role) {
                (Some(profile), _, _) => Wants::Profile(profile.clone()),
                (None, Some(account), Some(role)) => Wants::Role {
                    account: account.clone(),
                    role: role.clone(),
                },
                _ => Wants::Unsaid,
            }
        }
        Command::Exec(args) => match (&args.whose.profile, &args.whose.account, &args.whose.role) {
            (Some(profile), _, _) => Wants::Profile(profile.clone()),
            (None, Some(account), Some(role)) => Wants::Role {
                account: account.clone(),
                role: role.clone(),
            },
            _ => Wants::Unsaid,
        },
        _ => Wants::Unsaid,
    }
}

/// Asking the app (naming the program that runs this one, when it comes to that, and
/// what it wants), saying on stderr that the person is being asked.
fn ask_app(timeout: Duration, wants: Wants) -> AskApp {
    AskApp {
        program: None,
        wants,
        timeout,
        on_waiting: Arc::new(move |instance: &Instance| {
            eprintln!(
                "AWS SSO Tray asks you to sign in to {}; waiting up to {} s for it.",
                display::text(&instance.to_string()),
                timeout.as_secs()
            );
        }),
    }
}

/// Says, once per run, which AWS endpoints the environment overrides: for the commands
/// that talk to AWS (a stray override would send the session elsewhere).
fn note_overrides(world: &Workspace) {
    let overrides = world.endpoint_overrides();
    if overrides.is_empty() {
        return;
    }
    let list: Vec<String> = overrides
        .iter()
        .map(|o| format!("{}={}", o.variable, o.url))
        .collect();
    eprintln!(
        "note: AWS endpoints from the environment: {}",
        list.join(", ")
    );
}

/// Whose credentials the flags name: a favourite, or a role of the instance they name
/// (else the default).
fn role_target(
    world: &Workspace,
    whose: &args::RoleArgs,
    instance: &InstanceArgs,
) -> Result<RoleTarget, Error> {
    Ok(match &whose.profile {
        Some(profile) => RoleTarget::Favourite(profile.clone()),
        // clap requires both without --profile.
        None => RoleTarget::Role {
            instance: self::instance(world, instance)?,
            account_id: whose.account.clone().unwrap_or_default(),
            role_name: whose.role.clone().unwrap_or_default(),
        },
    })
}

/// The instance the flags name, else the default.
fn instance(world: &Workspace, args: &InstanceArgs) -> Result<Instance, Error> {
    world.instance(args.start_url.as_deref(), args.sso_region.as_deref())
}

async fn run(command: Command) -> Result<(), Error> {
    match command {
        Command::Login {
            start_url,
            sso_region,
            no_browser,
            device_code,
            pkce,
        } => login::login(&start_url, &sso_region, no_browser, device_code, pkce).await,
        Command::Logout { instance } => login::logout(&instance).await,
        Command::Accounts {
            name,
            json,
            instance,
        } => portal::accounts(name.as_deref(), json, &instance).await,
        Command::List {
            account,
            role,
            refresh,
            json,
            instance,
        } => {
            portal::list(
                account.as_deref(),
                role.as_deref(),
                refresh,
                json,
                &instance,
            )
            .await
        }
        Command::Roles {
            account,
            account_name,
            role,
            json,
            instance,
        } => portal::roles(account, account_name, role, json, &instance).await,
        Command::Credentials {
            profile: Some(profile),
            format,
            ..
        } => favourite::credentials(&profile, format).await,
        Command::Credentials {
            account,
            role,
            format,
            instance,
            ..
        } => {
            // clap requires both when there is no --profile.
            portal::credentials(
                &account.unwrap_or_default(),
                &role.unwrap_or_default(),
                format,
                &instance,
            )
            .await
        }
        Command::Profile(command) => profile::run(command).await,
        Command::Favourite(command) => favourite::run(command).await,
        Command::Status { json } => status::status(json).await,
        Command::Prompt { profile } => prompt::prompt(profile).await,
        Command::Settings(command) => settings::run(command).await,
        Command::Daemon => daemon::daemon().await,
        Command::Console(args) => console::console(args).await,
        // Run by `main`, which gives the command's own exit status.
        Command::Exec(_) => Ok(()),
        Command::Eks(command) => eks::eks(command).await,
        Command::Ecr(command) => ecr::ecr(command).await,
    }
}
