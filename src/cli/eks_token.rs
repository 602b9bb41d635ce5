//! `aws-sso-auth eks token`: the `ExecCredential` kubectl asks its exec plugin for.

use super::args::EksTokenArgs;
use aws_sso_device_auth_provider::Error;

/// Prints the `ExecCredential` (the token kept from a call before while kubectl would
/// still use it, else one signed now), as `aws eks get-token` prints it.
pub async fn token(args: EksTokenArgs) -> Result<(), Error> {
    let world = super::open().await?;
    let target = super::role_target(&world, &args.whose, &args.instance)?;
    let printer = super::login::print_sign_in_codes(&world, super::login::Seen::Notify);
    let answer = world
        .eks_exec_credential(target, &args.cluster, args.region.as_deref())
        .await;
    printer.abort();
    println!("{}", answer?.expose());
    Ok(())
}
