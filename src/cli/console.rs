//! `console`: the AWS console as a role, in the browser; and `favourite console`: how a
//! favourite's console opens.

use super::args::{ConsoleArgs, FavouriteConsoleArgs};
use aws_sso_device_auth_provider::console::{BrowserChoice, BrowserKind, Colour, Destination};
use aws_sso_device_auth_provider::display;
use aws_sso_device_auth_provider::settings::ConsoleSettings;
use aws_sso_device_auth_provider::workspace::{ConsoleOptions, RoleTarget, Workspace};
use aws_sso_device_auth_provider::Error;

pub async fn console(args: ConsoleArgs) -> Result<(), Error> {
    // What was typed is checked before anything else happens.
    let options = ConsoleOptions {
        region: args.region.clone(),
        destination: args.page.destination()?,
        session_seconds: args.session_length,
        browser: args.browser.choice()?,
    };
    let world = super::open().await?;
    super::note_overrides(&world);
    let target = super::role_target(&world, &args.whose, &args.instance)?;
    if args.print {
        let url = world.console_url(target, &options).await?;
        println!("{}", url.expose());
        return Ok(());
    }
    let what = match &target {
        RoleTarget::Favourite(p) => format!("favourite {}", display::text(p)),
        RoleTarget::Role {
            account_id,
            role_name,
            ..
        } => format!("{} in {account_id}", display::text(role_name)),
    };
    world.open_console(target, &options).await?;
    eprintln!("Opened the AWS console as {what}.");
    Ok(())
}

/// The browser a choice names, for a sentence.
pub fn describe_browser(choice: Option<&BrowserChoice>) -> String {
    let Some(b) = choice.filter(|b| b.kind != BrowserKind::Default) else {
        return "the default browser".to_owned();
    };
    let mut out = b.kind.label().to_owned();
    if let Some(p) = &b.profile {
        out.push_str(&format!(", profile '{}'", display::text(p)));
    }
    if let Some(c) = b.container {
        match &b.container_name {
            Some(n) => out.push_str(&format!(", container '{}'", display::text(n))),
            None => {
                out.push_str(", a container named after the favourite (or the account and role)")
            }
        }
        out.push_str(&format!(" (through {})", c.label()));
    }
    out
}

/// `favourite console NAME …`: prints, and with options first changes, how the
/// favourite's console opens.
pub async fn favourite(world: &Workspace, change: FavouriteConsoleArgs) -> Result<(), Error> {
    let name = change.name.as_str();
    let destination = change.page.destination()?;
    let browser = change.browser.choice()?;
    let colour = change
        .colour
        .as_deref()
        .map(|c| match c.trim().to_ascii_lowercase().as_str() {
            "account" => Ok(ColourChange::Account),
            other => Colour::parse(other)
                .map(|c| c.map_or(ColourChange::None, ColourChange::Chosen))
                .map_err(|why| Error::InvalidColour { why }),
        })
        .transpose()?;
    let settings = world.settings();
    let current = settings
        .favourite(name)
        .map(|f| f.console.clone())
        .ok_or_else(|| Error::NoSuchFavourite {
            profile: name.to_owned(),
        })?;
    let mut next = current.clone();
    if change.home {
        next.destination = None;
    }
    if destination.is_some() {
        next.destination = destination;
    }
    if change.default_session_length {
        next.session_seconds = None;
    }
    if change.session_length.is_some() {
        next.session_seconds = change.session_length;
    }
    if change.portal_browser {
        next.browser = None;
    }
    if browser.is_some() {
        next.browser = browser;
    }
    match colour {
        Some(ColourChange::Chosen(c)) => {
            next.colour = Some(c);
            next.colour_from_account = false;
        }
        Some(ColourChange::None) => {
            next.colour = None;
            next.colour_from_account = false;
        }
        Some(ColourChange::Account) => next.colour_from_account = true,
        None => {}
    }
    let shown = if next == current {
        current
    } else {
        let saved = world.set_favourite_console(name, next).await?;
        eprintln!(
            "Saved how favourite '{}' opens the console.",
            display::text(name)
        );
        saved
    };
    print_settings(&shown, change.json);
    Ok(())
}

/// A colour asked for on the command line.
enum ColourChange {
    Chosen(Colour),
    None,
    Account,
}

/// Prints a favourite's console settings.
fn print_settings(c: &ConsoleSettings, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(c).unwrap_or_else(|_| "{}".into())
        );
        return;
    }
    let page = match &c.destination {
        None => "the console's home".to_owned(),
        Some(Destination::Service(s)) => format!("service {s}"),
        Some(Destination::Url(u)) => display::text(u).into_owned(),
    };
    let length = match c.session_seconds {
        None => "the console's own".to_owned(),
        Some(s) => format!("{s} s"),
    };
    let browser = match &c.browser {
        None => "its access portal's".to_owned(),
        Some(b) => describe_browser(Some(b)),
    };
    let colour = match (c.colour, c.colour_from_account) {
        (Some(c), true) => format!("{} (its account's)", c.label()),
        (None, true) => "none (its account's)".to_owned(),
        (Some(c), false) => c.label().to_owned(),
        (None, false) => "none".to_owned(),
    };
    println!("page            {page}");
    println!("session length  {length}");
    println!("browser         {browser}");
    println!("colour          {colour}");
}
