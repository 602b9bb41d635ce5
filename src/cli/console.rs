//! `console`: the AWS console as a role, in the browser.

use super::args::ConsoleArgs;
use aws_sso_device_auth_provider::workspace::RoleTarget;
use aws_sso_device_auth_provider::Error;

pub async fn console(args: ConsoleArgs) -> Result<(), Error> {
    let world = super::open().await?;
    super::note_overrides(&world);
    let target = super::role_target(&world, &args.whose, &args.instance)?;
    if args.print {
        let url = world.console_url(target, args.region.as_deref()).await?;
        println!("{}", url.expose());
        return Ok(());
    }
    let what = match &target {
        RoleTarget::Favourite(p) => format!("favourite {p}"),
        RoleTarget::Role {
            account_id,
            role_name,
            ..
        } => format!("{role_name} in {account_id}"),
    };
    world.open_console(target, args.region.as_deref()).await?;
    eprintln!("Opened the AWS console as {what}.");
    Ok(())
}
