//! `login` and `logout`.

use super::args::InstanceArgs;
use aws_sso_device_auth_provider::clock::rfc3339;
use aws_sso_device_auth_provider::{Error, Instance, SignInFlow};

pub async fn login(
    start_url: &str,
    region: &str,
    no_browser: bool,
    device_code: bool,
    pkce: bool,
) -> Result<(), Error> {
    let instance = Instance::new(start_url, region)?;
    let world = super::open_with(!no_browser).await?;
    let flow = match (device_code, pkce) {
        (true, _) => Some(SignInFlow::Device),
        (_, true) => Some(SignInFlow::Pkce),
        // No browser here: the preference's flow as if none could reach this machine.
        _ if no_browser => Some(world.settings().preferences.sign_in_flow.resolve(false)),
        _ => None,
    };
    eprintln!("Signing in to {instance}.");
    let printer = super::print_sign_in_codes(&world, !no_browser);
    let session = world.sign_in(&instance, flow).await;
    printer.abort();
    let session = session?;
    let renew = if session.renewable {
        "it renews itself with its refresh token"
    } else {
        "sign in again then"
    };
    eprintln!(
        "Signed in. The session token is valid until {} ({renew}).",
        rfc3339(session.expires_at)
    );
    Ok(())
}

pub async fn logout(args: &InstanceArgs) -> Result<(), Error> {
    let world = super::open().await?;
    let instance = super::instance(&world, args)?;
    let signed_out = world.sign_out(&instance).await?;
    eprintln!("Signed out of {instance}.");
    if !signed_out.removed_profiles.is_empty() {
        eprintln!(
            "Removed {} profiles of favourites.",
            signed_out.removed_profiles.len()
        );
    }
    Ok(())
}
