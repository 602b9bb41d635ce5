//! `aws-sso-auth eks kubeconfig` and `eks clusters`.

use super::args::{EksClustersArgs, KubeconfigArgs};
use aws_sso_device_auth_provider::display;
use aws_sso_device_auth_provider::eks::kubeconfig::{KubeconfigRequest, Removal, Removed};
use aws_sso_device_auth_provider::Error;

/// Adds (or with `--remove` removes) a favourite's entries, and says what it did.
pub async fn kubeconfig(args: KubeconfigArgs) -> Result<(), Error> {
    let world = super::open().await?;
    if args.remove {
        let removal = Removal {
            profile: args.profile.clone(),
            cluster: args.cluster,
            region: args.region,
        };
        let removed = world.remove_from_kubeconfig(removal).await?;
        say_removed(&args.profile, &removed);
        return Ok(());
    }
    super::note_overrides(&world);
    let request = KubeconfigRequest {
        profile: args.profile,
        // clap requires it without --remove.
        cluster: args.cluster.unwrap_or_default(),
        region: args.region,
        alias: args.alias,
    };
    let added = world.add_to_kubeconfig(request).await?;
    let file = added.path.display().to_string();
    let context = display::text(&added.context);
    if added.changed {
        eprintln!(
            "{file}: context '{context}' for cluster {} (user {}).",
            display::text(&added.cluster),
            display::text(&added.user)
        );
    } else {
        eprintln!("{file}: context '{context}' is there already (unchanged).");
    }
    if added.current_context_set {
        eprintln!("It is kubectl's current context now.");
    } else if added.current_context.as_deref() != Some(added.context.as_str()) {
        eprintln!(
            "Use it with: kubectl config use-context {}",
            display::text(&word(&added.context))
        );
    }
    Ok(())
}

/// What a removal did.
pub(super) fn say_removed(profile: &str, removed: &Removed) {
    let file = removed.path.display();
    let profile = display::text(profile);
    if !removed.changed {
        eprintln!("{file} holds no kubectl entries of '{profile}' (unchanged).");
        return;
    }
    eprintln!("{file}: removed {} of '{profile}'.", describe(removed));
    if removed.current_context_cleared {
        eprintln!("kubectl has no current context now (it was one of these).");
    }
}

/// What is listed, for a sentence: the contexts by name (the names a person types), the
/// users and clusters by number (`context 'a', 1 user and 1 cluster`).
pub(super) fn describe(removed: &Removed) -> String {
    let e = &removed.entries;
    let count = |n: usize, what: &str| match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    };
    let mut parts = Vec::new();
    if !e.contexts.is_empty() {
        let shown: Vec<String> = e
            .contexts
            .iter()
            .map(|n| format!("'{}'", display::text(n)))
            .collect();
        let what = if shown.len() == 1 {
            "context"
        } else {
            "contexts"
        };
        parts.push(format!("{what} {}", display::some_of(&shown, 5)));
    }
    if !e.users.is_empty() {
        parts.push(count(e.users.len(), "user"));
    }
    if !e.clusters.is_empty() {
        parts.push(count(e.clusters.len(), "cluster"));
    }
    match parts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// `name` as one word for a POSIX shell: bare when it is plainly one, else quoted.
fn word(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@._:/+=,-".contains(c));
    if plain {
        name.to_owned()
    } else {
        super::output::shell_quote(name)
    }
}

/// The command that removes `profile`'s entries.
pub(super) fn removal_command(profile: &str) -> String {
    format!(
        "aws-sso-auth eks kubeconfig --remove --profile {}",
        display::text(&word(profile))
    )
}

/// Lists the clusters a favourite's role sees.
pub async fn clusters(args: EksClustersArgs) -> Result<(), Error> {
    let world = super::open().await?;
    super::note_overrides(&world);
    let listed = world
        .eks_clusters(&args.profile, args.region.as_deref())
        .await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&listed).unwrap_or_default()
        );
        return Ok(());
    }
    if listed.clusters.is_empty() {
        eprintln!(
            "'{}' sees no EKS cluster in {}.",
            display::text(&listed.profile),
            listed.region
        );
    }
    for name in &listed.clusters {
        println!("{}", display::text(name));
    }
    Ok(())
}
