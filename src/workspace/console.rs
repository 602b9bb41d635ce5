//! The AWS console as a role: where it opens, for how long, in which browser and with
//! which colour; and the console choices of each favourite and access portal.

use super::favourites::Resolved;
use super::{RoleTarget, Workspace};
use crate::console::{
    account_colour, check_session_length, console_home, open_once, signin_url, BrowserChoice,
    Colour, Destination, Partition, Visit,
};
use crate::error::{Error, Result};
use crate::instance::{validate_region, Instance};
use crate::portal::RoleCredentials;
use crate::secret::Secret;
use crate::settings::{ConsoleSettings, Favourite};
use crate::source::Fetch;

/// How long opening a console in a container waits for the account's colour.
const COLOUR_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What to open in the console besides whose role it is. Each choice left `None` is the
/// favourite's, else its access portal's (the browser), else the default.
#[derive(Debug, Clone, Default)]
pub struct ConsoleOptions {
    /// The console's region (default: the favourite's, else the instance's).
    pub region: Option<String>,
    /// The page to open (default: the console's home).
    pub destination: Option<Destination>,
    /// The console session's length in seconds.
    pub session_seconds: Option<u32>,
    /// The browser.
    pub browser: Option<BrowserChoice>,
}

/// A console visit worked out: whose credentials, the page, the browser.
struct Plan {
    resolved: Resolved,
    favourite: Option<Favourite>,
    visit: Visit,
    region: String,
    browser: BrowserChoice,
    /// The container's name, unless the browser choice names one.
    container: String,
}

impl Workspace {
    /// Works out `target`'s visit from `options`, the favourite's choices and its access
    /// portal's; everything a person gave is checked before any network call.
    async fn plan(&self, target: RoleTarget, options: &ConsoleOptions) -> Result<Plan> {
        let favourite = match &target {
            RoleTarget::Favourite(profile) => Some(self.favourite(profile)?),
            RoleTarget::Role { .. } => None,
        };
        let resolved = self.resolve(target)?;
        let chained = resolved.source.assume.is_some();
        let own = favourite.as_ref().map(|f| &f.console);
        let region = match &options.region {
            Some(r) => validate_region(r)?,
            None => resolved
                .region
                .clone()
                .unwrap_or_else(|| resolved.instance.region().to_owned()),
        };
        if Partition::of(&region) != Partition::of(resolved.instance.region()) {
            return Err(Error::ConsoleRegion {
                region,
                portal_region: resolved.instance.region().to_owned(),
            });
        }
        let destination = match options
            .destination
            .as_ref()
            .or(own.and_then(|c| c.destination.as_ref()))
        {
            Some(d) => d.url(&region, resolved.instance.region())?,
            None => console_home(&region),
        };
        let session_seconds = options
            .session_seconds
            .or(own.and_then(|c| c.session_seconds))
            .map(|s| check_session_length(s, chained))
            .transpose()?;
        let portal_browser = self
            .settings()
            .instances
            .iter()
            .find(|i| i.instance == resolved.instance)
            .and_then(|i| i.browser.clone());
        let browser = options
            .browser
            .clone()
            .or(own.and_then(|c| c.browser.clone()))
            .or(portal_browser)
            .unwrap_or_default()
            .checked()?;
        let container = match &favourite {
            Some(f) => f.profile.to_string(),
            None => {
                let account = &resolved.source.account_id;
                let name = self
                    .cached_account_name(&resolved.instance, account)
                    .await
                    .unwrap_or_else(|| account.clone());
                format!("{name} {}", resolved.source.role_name)
            }
        };
        Ok(Plan {
            resolved,
            favourite,
            visit: Visit {
                destination,
                session_seconds,
            },
            region,
            browser,
            container,
        })
    }

    /// The role credentials of a plan.
    async fn plan_credentials(&self, plan: &Plan) -> Result<RoleCredentials> {
        let Resolved {
            instance, source, ..
        } = &plan.resolved;
        self.credentials(instance, source, Fetch::Cached).await
    }

    /// The sign-in URL `creds` buy for a plan.
    async fn signin(&self, plan: &Plan, creds: &RoleCredentials) -> Result<Secret> {
        let signin = crate::Endpoints::from_env(self.shared.options.env.lookup())?.signin;
        signin_url(creds, &plan.region, signin.as_deref(), &plan.visit).await
    }

    /// A URL that signs the browser into the AWS console as `target` (see
    /// [`ConsoleOptions`]). A secret: whoever opens it within 15 minutes is signed in.
    pub async fn console_url(
        &self,
        target: RoleTarget,
        options: &ConsoleOptions,
    ) -> Result<Secret> {
        let plan = self.plan(target, options).await?;
        let creds = self.plan_credentials(&plan).await?;
        self.signin(&plan, &creds).await
    }

    /// Opens the AWS console as `target` in the chosen browser, through a one-time
    /// loopback address (the sign-in URL never goes on a command line). Nothing signs
    /// the browser out first: with the console's multi-session on, the browser's other
    /// sessions stay. A favourite whose colour is its account's has it read again on the
    /// way: waited for (a few seconds at most) only when it colours a container, and a
    /// failure keeps the colour it had.
    pub async fn open_console(&self, target: RoleTarget, options: &ConsoleOptions) -> Result<()> {
        let plan = self.plan(target, options).await?;
        let path = self.shared.options.env.get("PATH");
        let path = path.as_deref().map(std::ffi::OsStr::new);
        // A browser that is not there is said before any call to AWS.
        plan.browser.launch(path, &plan.container, None)?;
        let creds = self.plan_credentials(&plan).await?;
        let kept = plan.favourite.as_ref().and_then(|f| f.console.colour);
        let refresh = async {
            let f = plan
                .favourite
                .as_ref()
                .filter(|f| f.console.colour_from_account)?;
            let read = tokio::time::timeout(COLOUR_WAIT, self.read_account_colour(f, &creds));
            match read.await {
                Ok(Ok(colour)) => Some((f, colour)),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "could not read the account's colour");
                    None
                }
                Err(_) => {
                    tracing::warn!(
                        waited = COLOUR_WAIT.as_secs(),
                        "the account's colour was not read in time"
                    );
                    None
                }
            }
        };
        let dir = self.shared.paths.handoff_dir();
        let (opened, read) = if plan.browser.container.is_some() {
            let (url, read) = tokio::join!(self.signin(&plan, &creds), refresh);
            let colour = read.map_or(kept, |(_, c)| c);
            let launch = plan.browser.launch(path, &plan.container, colour)?;
            (open_once(&url?, &dir, &launch).await, read)
        } else {
            let url = self.signin(&plan, &creds).await?;
            let launch = plan.browser.launch(path, &plan.container, kept)?;
            tokio::join!(open_once(&url, &dir, &launch), refresh)
        };
        if let Some((f, colour)) = read.filter(|(_, c)| *c != kept) {
            if let Err(e) = self.save_colour(f, colour).await {
                tracing::warn!(error = %e, "could not save the account's colour");
            }
        }
        opened
    }

    /// The colour `f`'s account has in the console, read with `creds` (its role's).
    async fn read_account_colour(
        &self,
        f: &Favourite,
        creds: &RoleCredentials,
    ) -> Result<Option<Colour>> {
        let endpoint = crate::Endpoints::from_env(self.shared.options.env.lookup())?.uxc;
        let role = f
            .assume_role
            .as_ref()
            .map_or(f.role_name.as_str(), |a| a.role_name());
        account_colour(
            creds,
            f.credentials_account(),
            role,
            f.instance.region(),
            endpoint.as_deref(),
            self.now(),
        )
        .await
    }

    /// Saves `colour` as `f`'s, if it is still there with its colour from its account.
    async fn save_colour(&self, f: &Favourite, colour: Option<Colour>) -> Result<()> {
        let profile = f.profile.to_string();
        self.update_settings(move |s| {
            if let Some(mut f) = s
                .favourite(&profile)
                .filter(|f| f.console.colour_from_account)
                .cloned()
            {
                f.console.colour = colour;
                s.replace_favourite(f)?;
            }
            Ok(())
        })
        .await
    }

    /// Sets how `profile`'s console opens; with the colour from its account, the colour
    /// is read now (so a role that may not read it says so at once). Returns the settings
    /// as saved.
    pub async fn set_favourite_console(
        &self,
        profile: &str,
        console: ConsoleSettings,
    ) -> Result<ConsoleSettings> {
        let f = self.favourite(profile)?;
        let mut console = console.checked(f.assume_role.is_some())?;
        if console.colour_from_account {
            let creds = self
                .credentials(&f.instance, &f.source(), Fetch::Cached)
                .await?;
            console.colour = self.read_account_colour(&f, &creds).await?;
        }
        let (name, saved) = (f.profile.to_string(), console.clone());
        self.update_settings(move |s| {
            let mut f = s
                .favourite(&name)
                .cloned()
                .ok_or(Error::NoSuchFavourite { profile: name })?;
            f.console = saved;
            s.replace_favourite(f)
        })
        .await?;
        Ok(console)
    }

    /// Sets the browser the console of `instance`'s roles opens in, unless a favourite
    /// chooses its own (`None`: the desktop's default).
    pub async fn set_portal_browser(
        &self,
        instance: &Instance,
        browser: Option<BrowserChoice>,
    ) -> Result<()> {
        let browser = browser
            .map(BrowserChoice::checked)
            .transpose()?
            .filter(|b| !b.is_default());
        let instance = instance.clone();
        self.update_settings(move |s| {
            s.set_portal_browser(&instance, browser);
            Ok(())
        })
        .await
    }
}
