//! `profile generate`: an AWS CLI profile for every role, previewed with `--dry-run`.

use super::args::GenerateArgs;
use aws_sso_device_auth_provider::awsfiles::generate::Generated;
use aws_sso_device_auth_provider::display;
use aws_sso_device_auth_provider::workspace::{GenerateMode, Workspace};
use aws_sso_device_auth_provider::Error;

/// How many names a summary lists before it says how many more there are.
const LISTED: usize = 20;

pub async fn generate(world: &Workspace, args: GenerateArgs) -> Result<(), Error> {
    super::note_overrides(world);
    let instance = super::instance(world, &args.instance)?;
    let mut rules = world.settings().preferences.aws_cli_profiles.clone();
    let given = |flag: Option<String>, saved: &mut Option<String>| {
        if let Some(v) = flag {
            *saved = Some(v).filter(|v| !v.trim().is_empty());
        }
    };
    if let Some(t) = args.template {
        rules.template = t;
    }
    given(args.account, &mut rules.accounts);
    given(args.role, &mut rules.roles);
    given(args.region, &mut rules.region);
    given(args.output, &mut rules.output);
    let mode = GenerateMode {
        preview: args.dry_run,
        refresh: args.refresh,
    };
    let generated = world.generate_profiles(&instance, &rules, mode).await?;
    if args.dry_run {
        print!("{}", generated.diff());
    }
    summary(&generated, args.dry_run);
    if args.save {
        world.set_profile_rules(rules).await?;
        eprintln!("Saved these rules; the app's Settings show them.");
    }
    Ok(())
}

fn summary(g: &Generated, preview: bool) {
    let path = g.path.display();
    let session = if g.session_created {
        format!("a new [sso-session {}]", g.session)
    } else {
        format!("[sso-session {}]", g.session)
    };
    let (add, change, remove) = if preview {
        ("would add", "would change", "would remove")
    } else {
        ("added", "changed", "removed")
    };
    let head = if !g.changes() {
        format!("{path} already holds these profiles")
    } else if preview {
        format!("Preview of {path} (nothing written)")
    } else {
        format!("Wrote {path}")
    };
    eprintln!(
        "{head}, with {session}: {add} {}, {change} {}, {remove} {}, {} as they were.",
        profiles(g.created.len()),
        g.updated.len(),
        g.removed.len(),
        g.unchanged
    );
    if !g.removed.is_empty() {
        let names: Vec<&str> = g.removed.iter().map(|n| n.as_str()).collect();
        eprintln!(
            "{} (their roles are no longer there, or no longer match): {}",
            if preview { "Would remove" } else { "Removed" },
            display::some_of(&names, LISTED)
        );
    }
    for (wanted, given) in g.renamed.iter().take(LISTED) {
        eprintln!("Named {given}: another role is {wanted}.");
    }
    if g.renamed.len() > LISTED {
        eprintln!("… and {} more renamed.", g.renamed.len() - LISTED);
    }
    for t in g.taken.iter().take(LISTED) {
        eprintln!(
            "Not generated: {} ({}/{}), since {} has that name ({} line {}).",
            t.name,
            t.account_id,
            display::text(&t.role_name),
            t.holder.phrase(),
            t.path.display(),
            t.line
        );
    }
    if g.taken.len() > LISTED {
        eprintln!("… and {} more not generated.", g.taken.len() - LISTED);
    }
    for (account, role) in g.unusable.iter().take(LISTED) {
        eprintln!(
            "Not generated: {}/{}, which the config file cannot hold as a value.",
            display::text(account),
            display::text(role)
        );
    }
}

fn profiles(n: usize) -> String {
    if n == 1 {
        "1 profile".into()
    } else {
        format!("{n} profiles")
    }
}
