use aws_sso_device_auth_provider::source::AssumeRoleEntry;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Sign in to AWS IAM Identity Center (AWS SSO) and get role credentials.
#[derive(Debug, Parser)]
#[command(name = "aws-sso-auth", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// When a sign-in is needed and AWS SSO Tray runs, how long to wait for the person
    /// to sign in there, in seconds.
    #[arg(
        long,
        global = true,
        env = "AWS_SSO_AUTH_SIGN_IN_TIMEOUT",
        default_value_t = 300,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub sign_in_timeout: u64,
    /// Sign in here even when AWS SSO Tray runs, instead of asking it. In the
    /// environment: `1`, `true`, `yes` or `on` (and `0`, `false`, `no`, `off`).
    #[arg(
        long,
        global = true,
        env = "AWS_SSO_AUTH_NO_APP",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub no_app: bool,
}

/// Which instance to use, when not the remembered default.
#[derive(Debug, Clone, Args)]
pub struct InstanceArgs {
    /// AWS access portal start URL (default: the one of the last `login`).
    #[arg(long, env = "AWS_SSO_START_URL", requires = "sso_region")]
    pub start_url: Option<String>,
    /// Region of the IAM Identity Center instance.
    #[arg(long, env = "AWS_SSO_REGION")]
    pub sso_region: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in, and remember the instance as the default.
    Login {
        /// AWS access portal start URL, such as https://my-org.awsapps.com/start.
        #[arg(long)]
        start_url: String,
        /// Region of the IAM Identity Center instance, such as eu-west-1.
        #[arg(long, visible_alias = "region")]
        sso_region: String,
        /// Print the URL instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
        /// Use the device code flow (for SSH sessions and machines without a browser).
        #[arg(long, conflicts_with = "pkce")]
        device_code: bool,
        /// Use the authorization code flow with PKCE on a loopback port.
        #[arg(long)]
        pkce: bool,
    },
    /// List the accounts you can reach.
    Accounts {
        /// Only accounts whose name matches this glob (case-insensitive), such as '*prod*'.
        #[arg(long)]
        name: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        instance: InstanceArgs,
    },
    /// List every account with your roles in it (from the cached list while it is under
    /// 10 minutes old).
    List {
        /// Only accounts whose name or id matches this glob, such as '*prod*'.
        #[arg(long)]
        account: Option<String>,
        /// Only roles matching this glob, such as 'Admin*'.
        #[arg(long)]
        role: Option<String>,
        /// Read the list from AWS again, whatever its age.
        #[arg(long)]
        refresh: bool,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        instance: InstanceArgs,
    },
    /// List your roles in one account.
    Roles {
        /// Account id (12 digits).
        #[arg(long, required_unless_present = "account_name")]
        account: Option<String>,
        /// Instead of an id: a glob matching exactly one account name.
        #[arg(long, conflicts_with = "account")]
        account_name: Option<String>,
        /// Only roles matching this glob.
        #[arg(long)]
        role: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        instance: InstanceArgs,
    },
    /// Print credentials for one role, or for a favourite (`--profile`).
    Credentials {
        /// Account id (12 digits).
        #[arg(long, required_unless_present = "profile", conflicts_with = "profile")]
        account: Option<String>,
        /// Role name, such as ReadOnlyAccess.
        #[arg(long, required_unless_present = "profile", conflicts_with = "profile")]
        role: Option<String>,
        /// A favourite's profile name. Answered from that profile while its credentials
        /// are valid (no network call), else renewed, signing in if the session is over:
        /// made for credential_process.
        #[arg(long)]
        profile: Option<String>,
        /// `process`: credential_process JSON; `env`: POSIX shell exports; `env-no-export`:
        /// POSIX assignments; `powershell`, `windows-cmd`, `fish`: that shell's lines;
        /// `json`: an object.
        #[arg(long, value_enum, default_value_t = Format::Process)]
        format: Format,
        #[command(flatten)]
        instance: InstanceArgs,
    },
    /// Named profiles in ~/.aws/credentials (and ~/.aws/config) for the AWS CLI and SDKs.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Favourite account/role pairs, each kept as a named profile.
    #[command(subcommand)]
    Favourite(FavouriteCommand),
    /// The session and each favourite's profile: valid until when.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Time left on a profile's credentials, for shell prompts (starship, PS1): `42m`,
    /// `1h05m` or `expired`, from the credentials file (no keychain or network). Prints
    /// nothing for a profile this tool did not write.
    Prompt {
        /// The profile (default: $AWS_PROFILE).
        #[arg(long)]
        profile: Option<String>,
    },
    /// Keep every favourite's profile fresh, without a GUI (for servers and for tests).
    Daemon,
    /// Open the AWS console in your browser as a role: a favourite's, or --account/--role.
    Console(ConsoleArgs),
    /// Run a command with credentials served from memory (nothing on disk), renewed while
    /// it runs: by AWS SSO Tray when it runs, else by this process.
    Exec(ExecArgs),
    /// Amazon EKS: tokens for kubectl, and clusters in your kubeconfig.
    #[command(subcommand)]
    Eks(EksCommand),
    /// Amazon ECR: docker logins from your favourites, through a credential helper.
    #[command(subcommand)]
    Ecr(EcrCommand),
    /// Export or import the settings (instances, favourites, preferences; no secrets).
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// End the session: sign out on the server and remove it from the keychain.
    Logout {
        #[command(flatten)]
        instance: InstanceArgs,
    },
}

/// Whose credentials: a favourite's, or a role of an account (`console`, `exec`).
#[derive(Debug, Clone, Args)]
pub struct RoleArgs {
    /// A favourite's profile name.
    #[arg(long, conflicts_with_all = ["account", "role"])]
    pub profile: Option<String>,
    /// Account id (12 digits).
    #[arg(long, requires = "role", required_unless_present = "profile")]
    pub account: Option<String>,
    /// Role name.
    #[arg(long, requires = "account")]
    pub role: Option<String>,
}

/// `aws-sso-auth console …`
#[derive(Debug, Args)]
pub struct ConsoleArgs {
    #[command(flatten)]
    pub whose: RoleArgs,
    /// The console's region (default: the favourite's, else the instance's).
    #[arg(long)]
    pub region: Option<String>,
    #[command(flatten)]
    pub page: PageArgs,
    /// How long the console session lasts: seconds, or with a unit (90m, 12h); 15
    /// minutes to 12 hours. Not for a role assumed from another: AWS refuses it.
    #[arg(long, value_name = "LENGTH", value_parser = parse_length)]
    pub session_length: Option<u32>,
    #[command(flatten)]
    pub browser: BrowserArgs,
    /// Print the sign-in URL instead of opening it (it signs anyone in for 15 minutes).
    #[arg(long)]
    pub print: bool,
    #[command(flatten)]
    pub instance: InstanceArgs,
}

/// Which console page opens.
#[derive(Debug, Clone, Args)]
pub struct PageArgs {
    /// A service's page, named as in the console's addresses: s3, ec2, cloudwatch, logs,
    /// lambda, iam, …
    #[arg(long, value_name = "NAME", conflicts_with = "destination")]
    pub service: Option<String>,
    /// A console address (https, a console host of the role's partition).
    #[arg(long, value_name = "URL")]
    pub destination: Option<String>,
}

impl PageArgs {
    /// The page asked for, checked.
    pub fn destination(
        &self,
    ) -> Result<
        Option<aws_sso_device_auth_provider::console::Destination>,
        aws_sso_device_auth_provider::Error,
    > {
        use aws_sso_device_auth_provider::console::Destination;
        match (&self.service, &self.destination) {
            (Some(s), _) => Destination::service(s).map(Some),
            (None, Some(d)) => Destination::address(d).map(Some),
            (None, None) => Ok(None),
        }
    }
}

/// Which browser opens the console.
#[derive(Debug, Clone, Args)]
pub struct BrowserArgs {
    /// The browser: default, chromium, chrome, edge, brave or firefox.
    #[arg(long, value_name = "BROWSER")]
    pub browser: Option<String>,
    /// The browser's profile: a Chromium, Chrome, Edge or Brave profile directory (such
    /// as "Profile 1"), or a Firefox profile name.
    #[arg(long, requires = "browser", value_name = "NAME")]
    pub browser_profile: Option<String>,
    /// Firefox: open the console in a container, through the links of this extension:
    /// open-external ("Open external links in a container") or granted ("Granted
    /// Containers").
    #[arg(long, requires = "browser", value_name = "EXTENSION")]
    pub container: Option<String>,
    /// The container's name (default: the favourite's profile name).
    #[arg(long, requires = "container", value_name = "NAME")]
    pub container_name: Option<String>,
    /// The browser's program, where it is not on PATH under its usual names.
    #[arg(long, requires = "browser", value_name = "PATH")]
    pub browser_program: Option<std::path::PathBuf>,
}

impl BrowserArgs {
    /// The browser asked for, checked; `None` when none is.
    pub fn choice(
        &self,
    ) -> Result<
        Option<aws_sso_device_auth_provider::console::BrowserChoice>,
        aws_sso_device_auth_provider::Error,
    > {
        use aws_sso_device_auth_provider::console::{BrowserChoice, BrowserKind, ContainerScheme};
        let Some(kind) = &self.browser else {
            return Ok(None);
        };
        BrowserChoice {
            kind: BrowserKind::parse(kind)?,
            profile: self.browser_profile.clone(),
            container: self
                .container
                .as_deref()
                .map(ContainerScheme::parse)
                .transpose()?,
            container_name: self.container_name.clone(),
            program: self.browser_program.clone(),
        }
        .checked()
        .map(Some)
    }
}

/// A length of time in seconds: a number of seconds, or hours, minutes and seconds with
/// their units (`1h30m`, `90m`, `3600s`).
pub fn parse_length(raw: &str) -> Result<u32, String> {
    let text = raw.trim().to_ascii_lowercase();
    let bad = || {
        format!("{raw:?} is not a length: give seconds, or a number with h, m or s (such as 90m or 12h)")
    };
    if let Ok(seconds) = text.parse::<u32>() {
        return Ok(seconds);
    }
    let (mut total, mut number) = (0u64, String::new());
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        total = total.saturating_add(n.saturating_mul(unit));
        number.clear();
    }
    if !number.is_empty() || text.is_empty() {
        return Err(bad());
    }
    u32::try_from(total).map_err(|_| bad())
}

/// `aws-sso-auth exec …`
#[derive(Debug, Args)]
pub struct ExecArgs {
    #[command(flatten)]
    pub whose: RoleArgs,
    /// AWS_REGION (and AWS_DEFAULT_REGION) for the command (default: the favourite's,
    /// else left as it is).
    #[arg(long)]
    pub region: Option<String>,
    /// Credentials served have more than this many seconds left (the AWS SDKs ask again
    /// 15 minutes before expiry).
    #[arg(long, value_name = "SECONDS", default_value_t = aws_sso_device_auth_provider::workspace::SERVE_MARGIN.as_secs())]
    pub margin: u64,
    /// Run even inside another `aws-sso-auth exec`.
    #[arg(long)]
    pub nested: bool,
    #[command(flatten)]
    pub instance: InstanceArgs,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

/// `aws-sso-auth profile …`
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Write a role's credentials as a named profile; run it again to renew them.
    Write {
        /// Profile name, such as dev-admin (letters, digits and - _ . / % @ : +).
        name: String,
        /// Account id (12 digits).
        #[arg(long)]
        account: String,
        /// Role name, such as ReadOnlyAccess.
        #[arg(long)]
        role: String,
        /// Also write [profile NAME] with this region into the config file.
        #[arg(long)]
        region: Option<String>,
        /// Replace a same-named profile that aws-sso-tray did not write.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        instance: InstanceArgs,
    },
    /// Remove profiles that aws-sso-tray wrote (any others are left alone).
    Remove {
        /// Profile names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Write an AWS CLI profile (sso_session, sso_account_id, sso_role_name) for every
    /// role, or those the globs match, into the config file, with the portal's
    /// [sso-session]; remove the ones generated before whose role is no longer there.
    /// Flags not given come from the saved rules (the app's Settings).
    Generate(GenerateArgs),
    /// List the profiles that aws-sso-tray wrote, with their expiry.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `aws-sso-auth profile generate …`
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Profile names, from {account_name}, {account_id}, {role_name} and {portal}
    /// (default: {account_name}.{role_name}).
    #[arg(long)]
    pub template: Option<String>,
    /// Only accounts whose name or id matches this glob, such as '*prod*'.
    #[arg(long)]
    pub account: Option<String>,
    /// Only roles matching this glob, such as 'Admin*'.
    #[arg(long)]
    pub role: Option<String>,
    /// `region` in every profile.
    #[arg(long)]
    pub region: Option<String>,
    /// `output` in every profile (json, yaml, yaml-stream, text, table).
    #[arg(long)]
    pub output: Option<String>,
    /// Print the change as a unified diff of the config file; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Read the account list from AWS first, whatever its age.
    #[arg(long)]
    pub refresh: bool,
    /// Keep these rules as the ones to generate with (here and in the app).
    #[arg(long, conflicts_with = "dry_run")]
    pub save: bool,
    #[command(flatten)]
    pub instance: InstanceArgs,
}

/// `aws-sso-auth favourite …`
#[derive(Debug, Subcommand)]
pub enum FavouriteCommand {
    /// Add a favourite: checks that the role is yours and writes its profile at once.
    Add {
        /// Its profile name, unique across instances.
        name: String,
        /// Account id (12 digits).
        #[arg(long)]
        account: String,
        /// Role name.
        #[arg(long)]
        role: String,
        /// The profile's region in the config file.
        #[arg(long)]
        region: Option<String>,
        /// Write it as a credential_process profile in the config file (credentials
        /// fetched when a tool asks) instead of keys in the credentials file.
        #[arg(long)]
        credential_process: bool,
        #[command(flatten)]
        assume: AssumeRoleArgs,
        #[command(flatten)]
        instance: InstanceArgs,
    },
    /// Point a favourite at another account, role, region or role to assume (its profile
    /// is rewritten).
    Edit {
        /// Its profile name.
        name: String,
        /// Another account id.
        #[arg(long)]
        account: Option<String>,
        /// Another role name.
        #[arg(long)]
        role: Option<String>,
        /// Another region for the profile.
        #[arg(long)]
        region: Option<String>,
        #[command(flatten)]
        assume: AssumeRoleArgs,
        /// Assume no role any more: the profile holds the SSO role's credentials.
        #[arg(long, conflicts_with = "assume_role")]
        no_assume_role: bool,
    },
    /// Show or set how a favourite's console opens: its page, session length, browser
    /// and colour. Without options, prints them.
    Console(FavouriteConsoleArgs),
    /// Remove a favourite, and its profile if aws-sso-tray wrote it.
    Remove {
        /// Its profile name.
        name: String,
    },
    /// List the favourites.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `aws-sso-auth favourite console NAME …`
#[derive(Debug, Args)]
pub struct FavouriteConsoleArgs {
    /// Its profile name.
    pub name: String,
    #[command(flatten)]
    pub page: PageArgs,
    /// Open the console's home page (forget the favourite's page).
    #[arg(long, conflicts_with_all = ["service", "destination"])]
    pub home: bool,
    /// How long its console session lasts: seconds, or with a unit (90m, 12h); 15
    /// minutes to 12 hours. Not for a role assumed from another: AWS refuses it.
    #[arg(long, value_name = "LENGTH", value_parser = parse_length)]
    pub session_length: Option<u32>,
    /// The console's own session length (forget the favourite's).
    #[arg(long, conflicts_with = "session_length")]
    pub default_session_length: bool,
    #[command(flatten)]
    pub browser: BrowserArgs,
    /// Its access portal's browser (forget the favourite's).
    #[arg(long, conflicts_with = "browser")]
    pub portal_browser: bool,
    /// Its colour: pink, purple, dark-blue, light-blue, teal, green, yellow, orange,
    /// red; none; or account (the colour its account has in the console, read now
    /// and whenever the console opens).
    #[arg(long, value_name = "COLOUR")]
    pub colour: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// A role to assume with the SSO role's credentials (role chaining).
#[derive(Debug, Clone, Args)]
pub struct AssumeRoleArgs {
    /// Then assume this role (its ARN) with the SSO role's credentials; the profile holds
    /// that role's credentials.
    #[arg(long, value_name = "ARN")]
    pub assume_role: Option<String>,
    /// The external ID the role's trust policy asks for.
    #[arg(long, requires = "assume_role")]
    pub external_id: Option<String>,
    /// The role session name, as CloudTrail shows it (default aws-sso-tray).
    #[arg(long, requires = "assume_role", value_name = "NAME")]
    pub role_session_name: Option<String>,
    /// How long the assumed role's credentials last, 900 to 3600 seconds (default 3600):
    /// AWS gives a role assumed from another role at most one hour.
    #[arg(long, requires = "assume_role", value_name = "SECONDS")]
    pub duration_seconds: Option<u32>,
}

impl AssumeRoleArgs {
    /// The role to assume, as given (the workspace checks it).
    pub fn entry(self) -> Option<AssumeRoleEntry> {
        self.assume_role.map(|role_arn| AssumeRoleEntry {
            role_arn,
            external_id: self.external_id,
            session_name: self.role_session_name,
            duration_seconds: self.duration_seconds,
        })
    }
}

/// `aws-sso-auth settings …`
#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Print the settings as JSON (for a backup or another machine).
    Export,
    /// Remember the IAM Identity Center instances the AWS CLI is set up for in the config
    /// file (sso-session sections and legacy sso_start_url profiles).
    ImportAwsConfig,
    /// Add the instances and favourites of an exported file; take its preferences.
    Import {
        /// The exported file (`-` for stdin).
        file: std::path::PathBuf,
    },
    /// Set the browser the console of an access portal's roles opens in (a favourite may
    /// choose its own: `favourite console NAME --browser …`).
    Browser {
        #[command(flatten)]
        browser: BrowserArgs,
        /// The desktop's default browser.
        #[arg(long, conflicts_with = "browser", required_unless_present = "browser")]
        default: bool,
        #[command(flatten)]
        instance: InstanceArgs,
    },
    /// Set one preference: tokenRefreshMinutes or credentialsRefreshMinutes (1–120),
    /// signInFlow (auto, device, pkce), removeProfilesOnSignOut, removeProfilesOnQuit or
    /// shareSessionWithAwsCli (true, false), discoveryPercent (10–100).
    Set {
        /// The preference, as named in settings.json.
        name: String,
        /// Its new value.
        value: String,
    },
}

/// What `credentials` prints: the `credential_process` JSON, an object, or lines that set
/// the credentials' variables in a shell (the formats of `aws configure export-credentials`).
// The variants are described in the `--format` doc comment, not here: clap would list them
// a second time in `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Process,
    Env,
    EnvNoExport,
    Powershell,
    WindowsCmd,
    Fish,
    Json,
}

/// `aws-sso-auth eks …`
#[derive(Debug, Subcommand)]
pub enum EksCommand {
    /// Print the token kubectl asks its exec plugin for (an `ExecCredential`), signed
    /// here with the role's credentials.
    Token(EksTokenArgs),
    /// Add a cluster, a user and a context to your kubeconfig whose user runs
    /// `aws-sso-auth eks token`.
    Kubeconfig(KubeconfigArgs),
    /// List the clusters a favourite's role sees in its region.
    Clusters(EksClustersArgs),
}

/// `aws-sso-auth eks token …`
#[derive(Debug, Args)]
pub struct EksTokenArgs {
    /// The cluster's name.
    #[arg(long)]
    pub cluster: String,
    #[command(flatten)]
    pub whose: RoleArgs,
    /// The cluster's region (default: the favourite's, else the instance's).
    #[arg(long)]
    pub region: Option<String>,
    #[command(flatten)]
    pub instance: InstanceArgs,
}

/// `aws-sso-auth eks kubeconfig …`
#[derive(Debug, Args)]
pub struct KubeconfigArgs {
    /// The cluster's name.
    #[arg(long, required_unless_present = "remove")]
    pub cluster: Option<String>,
    /// The favourite whose role reaches the cluster.
    #[arg(long)]
    pub profile: String,
    /// The cluster's region (default: the favourite's, else the instance's).
    #[arg(long)]
    pub region: Option<String>,
    /// The context's name (default: PROFILE@CLUSTER).
    #[arg(long, conflicts_with = "remove")]
    pub alias: Option<String>,
    /// Remove this favourite's entries (for the cluster, if one is named) instead of
    /// adding them: from the file alone, also for a favourite that no longer exists.
    #[arg(long)]
    pub remove: bool,
}

/// `aws-sso-auth eks clusters …`
#[derive(Debug, Args)]
pub struct EksClustersArgs {
    /// The favourite whose role lists them.
    #[arg(long)]
    pub profile: String,
    /// The region (default: the favourite's, else the instance's).
    #[arg(long)]
    pub region: Option<String>,
    /// Print JSON instead of a list.
    #[arg(long)]
    pub json: bool,
}

/// `aws-sso-auth ecr …`
#[derive(Debug, Subcommand)]
pub enum EcrCommand {
    /// Let docker log in to this favourite's account's registry through
    /// `docker-credential-aws-sso`: names the registry in `credHelpers` of
    /// `~/.docker/config.json`, and makes the favourite the one docker uses there.
    Login(EcrLoginArgs),
    /// Put `docker-credential-aws-sso` beside this program (for installs from source).
    InstallHelper(InstallHelperArgs),
}

/// `aws-sso-auth ecr login …`
#[derive(Debug, Args)]
pub struct EcrLoginArgs {
    /// The favourite docker logs in as.
    #[arg(long)]
    pub profile: String,
    /// The registry's region (default: the favourite's, else the instance's).
    #[arg(long)]
    pub region: Option<String>,
}

/// `aws-sso-auth ecr install-helper …`
#[derive(Debug, Args)]
pub struct InstallHelperArgs {
    /// The directory to put it in (default: this program's own, else ~/.local/bin).
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,
}
