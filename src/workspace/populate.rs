//! A profile for every role in the config file, for the AWS CLI and SDKs: generated from
//! the whole account list, previewed, saved as the rules to follow, and generated again
//! after each complete read of the list when the person asks for that.

use super::{blocking, Event, Workspace};
use crate::awsfiles::generate::Generated;
use crate::error::Result;
use crate::instance::Instance;
use crate::populate::{portal_name, ProfileRules};

/// How a generation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GenerateMode {
    /// Say what would change; write nothing.
    pub preview: bool,
    /// Read the account list from AWS first, whatever its age.
    pub refresh: bool,
}

/// What [`Workspace::apply_profile_rules`] did.
#[derive(Debug, Clone)]
pub struct AppliedRules {
    /// The profiles generated.
    pub generated: Generated,
    /// Sharing the session with the AWS CLI was off, and is now on.
    pub sharing_turned_on: bool,
}

impl Workspace {
    /// Generates `rules`' profiles for `instance` from its whole account list (the cache
    /// while fresh, else read first, every role). When the session is shared with the AWS
    /// CLI and the file gains the portal's `[sso-session]`, the token is shared under its
    /// name at once.
    pub async fn generate_profiles(
        &self,
        instance: &Instance,
        rules: &ProfileRules,
        mode: GenerateMode,
    ) -> Result<Generated> {
        let checked = rules.validate()?;
        let accounts = self.all_accounts(instance, mode.refresh).await?;
        let settings = self.settings();
        let label = settings
            .instances
            .iter()
            .find(|i| &i.instance == instance)
            .and_then(|i| i.label.as_deref());
        let generation =
            checked.generation(instance, &portal_name(instance, label), &accounts.accounts);
        let files = self.shared.files.clone();
        let write = !mode.preview;
        let generated = blocking("generation of the AWS CLI profiles", move || {
            files.generate(&generation, write)
        })
        .await?;
        if generated.written {
            tracing::info!(
                instance = %instance,
                created = generated.created.len(),
                updated = generated.updated.len(),
                removed = generated.removed.len(),
                "AWS CLI profiles generated"
            );
            if generated.session_created && settings.preferences.share_session_with_aws_cli {
                self.provider(instance).await?.share_session_again().await?;
            }
        }
        Ok(generated)
    }

    /// Applies `rules` for `instance`: generates their profiles (reading the account
    /// list from AWS first with `refresh`), keeps them as the rules to generate with, and
    /// turns on sharing the session with the AWS CLI, which the profiles sign in with:
    /// the token is in the AWS CLI's cache when this answers.
    pub async fn apply_profile_rules(
        &self,
        instance: &Instance,
        rules: ProfileRules,
        refresh: bool,
    ) -> Result<AppliedRules> {
        let mode = GenerateMode {
            preview: false,
            refresh,
        };
        let generated = self.generate_profiles(instance, &rules, mode).await?;
        let sharing_turned_on = self
            .update_settings(move |s| {
                s.preferences.aws_cli_profiles = rules;
                let was = std::mem::replace(&mut s.preferences.share_session_with_aws_cli, true);
                Ok(!was)
            })
            .await?;
        if sharing_turned_on {
            // Shared when the settings changed; a failure there is this answer's.
            match self.provider(instance).await?.share_session_again().await {
                Err(e) if !e.needs_sign_in() => return Err(e),
                _ => {}
            }
            tracing::info!(instance = %instance, "sharing the session with the AWS CLI, for its profiles");
        }
        Ok(AppliedRules {
            generated,
            sharing_turned_on,
        })
    }

    /// Saves `rules` as the ones to generate with (checked first).
    pub async fn set_profile_rules(&self, rules: ProfileRules) -> Result<()> {
        rules.validate()?;
        self.update_settings(move |s| {
            s.preferences.aws_cli_profiles = rules;
            Ok(())
        })
        .await
    }

    /// After a read of `instance`'s account list: generates the saved rules' profiles
    /// again, if the person asked for that and every account's roles are known. A
    /// failure is logged and announced, never fatal to the refresh.
    pub(super) async fn regenerate_after_refresh(&self, instance: &Instance) {
        let rules = self.settings().preferences.aws_cli_profiles.clone();
        if !rules.auto_apply {
            return;
        }
        let complete = self
            .cached_accounts(instance)
            .await
            .is_ok_and(|a| a.roles_pending.is_empty());
        if !complete {
            return;
        }
        match self
            .generate_profiles(instance, &rules, GenerateMode::default())
            .await
        {
            Ok(g) if g.written => self.emit(Event::ProfilesGenerated {
                instance: instance.clone(),
                created: g.created.len(),
                updated: g.updated.len(),
                removed: g.removed.len(),
            }),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(instance = %instance, error = %e, "could not generate the AWS CLI profiles again");
                self.emit(Event::ProfilesNotGenerated {
                    instance: instance.clone(),
                    message: e.to_string(),
                });
            }
        }
    }
}
