//! `aws-sso-auth ecr …`: docker logins to ECR through `docker-credential-aws-sso` (this
//! program under that name: `helper`).

pub mod helper;

use super::args::{EcrCommand, EcrLoginArgs, InstallHelperArgs};
use aws_sso_device_auth_provider::clock::rfc3339;
use aws_sso_device_auth_provider::display;
use aws_sso_device_auth_provider::ecr::{HelperEntry, HELPER_PROGRAM};
use aws_sso_device_auth_provider::Error;

pub async fn ecr(command: EcrCommand) -> Result<(), Error> {
    match command {
        EcrCommand::Login(args) => login(args).await,
        EcrCommand::InstallHelper(args) => install_helper(args).await,
    }
}

/// `ecr login --profile NAME [--region R]`.
async fn login(args: EcrLoginArgs) -> Result<(), Error> {
    let world = super::open().await?;
    super::note_overrides(&world);
    let printer = super::login::print_sign_in_codes(&world, super::login::Seen::Terminal);
    let answer = world.ecr_login(&args.profile, args.region.as_deref()).await;
    printer.abort();
    let done = answer?;
    if let Some(e) = &done.warning {
        super::warn("ecr login", e);
    }
    eprintln!(
        "Docker logs in to {} as favourite '{}' ({}); its password is good until {}.",
        done.registry,
        display::text(&done.favourite),
        display::text(&done.source),
        rfc3339(done.expires_at)
    );
    if !done.taken_from.is_empty() {
        let names: Vec<String> = done
            .taken_from
            .iter()
            .map(|n| format!("'{}'", display::text(n)))
            .collect();
        eprintln!("Until now it was favourite {}.", names.join(", "));
    }
    let file = done.config_file.display();
    match done.entry {
        HelperEntry::Added => eprintln!(
            "Added \"{}\": \"aws-sso\" to credHelpers in {file}.",
            done.registry
        ),
        HelperEntry::AlreadyThere => eprintln!(
            "credHelpers in {file} already names aws-sso for {}.",
            done.registry
        ),
    }
    match &done.helper_on_path {
        Some(path) => eprintln!("Docker runs {} for it.", path.display()),
        None => eprintln!(
            "{HELPER_PROGRAM} is not on PATH, so docker cannot run it yet: install it with `aws-sso-auth ecr install-helper` (a link to this program, beside it or in ~/.local/bin)."
        ),
    }
    Ok(())
}

/// `ecr install-helper [--dir DIR]`.
async fn install_helper(args: InstallHelperArgs) -> Result<(), Error> {
    let world = super::open().await?;
    let installed = world.install_docker_helper(args.dir).await?;
    let path = installed.path.display();
    match (installed.created, world.cli()) {
        (true, Some(program)) => eprintln!("Made {path}, a link to {}.", program.display()),
        (true, None) => eprintln!("Made {path}."),
        (false, _) => eprintln!("{path} is a link to this program already."),
    }
    let dir = installed
        .path
        .parent()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    if installed.dir_on_path {
        eprintln!("{dir} is on PATH: docker finds {HELPER_PROGRAM} there.");
    } else {
        eprintln!(
            "{dir} is not on PATH, so docker cannot find {HELPER_PROGRAM}: add it to PATH (export PATH=\"{dir}:$PATH\" in your shell's profile)."
        );
    }
    Ok(())
}
