//! `aws-sso-emulator`: a local AWS IAM Identity Center for trying the CLI and the app by
//! hand, and for benchmarks.

use aws_sso_device_auth_provider::clock::SystemClock;
use aws_sso_emulator::{EksCluster, Emulator, EmulatorConfig};
use clap::Parser;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Run a local AWS IAM Identity Center (SSO OIDC + portal, and STS) for demos and tests.
#[derive(Debug, Parser)]
#[command(name = "aws-sso-emulator", version, about)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 4566)]
    port: u16,
    /// Accounts in the organisation.
    #[arg(long, default_value_t = 24)]
    accounts: usize,
    /// Roles per account (1–10).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=10))]
    roles: u8,
    /// Approve every sign-in at once, without the approval page.
    #[arg(long)]
    auto_approve: bool,
    /// Allow this many requests per second, answering 429 past it.
    #[arg(long)]
    throttle: Option<f64>,
    /// Milliseconds added to every request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share of requests (0–1) that fail with InternalServerException.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Access token lifetime in seconds (1 to 31,536,000).
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    token_lifetime: u64,
    /// Role credentials lifetime in seconds (1 to 31,536,000).
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    credentials_lifetime: u64,
    /// Issue no refresh tokens (like a registration without scopes).
    #[arg(long)]
    no_refresh_tokens: bool,
    /// An EKS cluster, as REGION/NAME, in every account (repeat for more).
    #[arg(long = "cluster", value_name = "REGION/NAME", value_parser = parse_cluster)]
    clusters: Vec<(String, String)>,
    /// Turn the console's multi-session support off: signing in to a second account in
    /// one browser asks to log out of the first.
    #[arg(long)]
    console_single_session: bool,
    /// An account's console colour, as ACCOUNT=COLOUR (none, pink, purple, darkBlue,
    /// lightBlue, teal, green, yellow, orange, red; repeat for more).
    #[arg(long = "account-colour", value_name = "ACCOUNT=COLOUR", value_parser = parse_account_colour)]
    account_colours: Vec<(String, String)>,
}

/// The colours the console gives an account, as UXC names them.
const COLOURS: [&str; 10] = [
    "none",
    "pink",
    "purple",
    "darkBlue",
    "lightBlue",
    "teal",
    "green",
    "yellow",
    "orange",
    "red",
];

/// `ACCOUNT=COLOUR` → (account, colour).
fn parse_account_colour(s: &str) -> Result<(String, String), String> {
    let Some((account, colour)) = s.split_once('=') else {
        return Err("expected ACCOUNT=COLOUR, e.g. 123456789012=red".to_owned());
    };
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the account must be 12 digits".to_owned());
    }
    if !COLOURS.contains(&colour) {
        return Err(format!("the colour must be one of: {}", COLOURS.join(", ")));
    }
    Ok((account.to_owned(), colour.to_owned()))
}

/// `REGION/NAME` → (region, name).
fn parse_cluster(s: &str) -> Result<(String, String), String> {
    match s.split_once('/') {
        Some((region, name)) if !region.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok((region.to_owned(), name.to_owned()))
        }
        _ => Err("expected REGION/NAME, e.g. us-east-1/prod".to_owned()),
    }
}

fn main() -> ExitCode {
    let a = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("aws-sso-emulator: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("aws-sso-emulator: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(a: Args) -> Result<(), String> {
    let config = EmulatorConfig {
        accounts: a.accounts,
        roles_per_account: usize::from(a.roles),
        auto_approve: a.auto_approve,
        throttle_rps: a.throttle,
        latency: Duration::from_millis(a.latency_ms),
        fault_rate: a.fault_rate.clamp(0.0, 1.0),
        access_token_lifetime: Duration::from_secs(a.token_lifetime),
        role_credentials_lifetime: Duration::from_secs(a.credentials_lifetime),
        refresh_tokens: !a.no_refresh_tokens,
        console_multi_session: !a.console_single_session,
        account_colours: a.account_colours.iter().cloned().collect(),
        ..EmulatorConfig::default()
    };
    let emu = Emulator::start_with(("127.0.0.1", a.port), config, Arc::new(SystemClock))
        .await
        .map_err(|e| format!("could not listen on 127.0.0.1:{}: {e}", a.port))?;
    let accounts: Vec<String> = emu
        .organisation()
        .iter()
        .map(|acc| acc.account_id.clone())
        .collect();
    emu.configure(|c| {
        for account in &accounts {
            for (region, name) in &a.clusters {
                c.clusters.push(EksCluster::new(account, region, name));
            }
        }
    });
    let url = emu.endpoint();
    println!("AWS SSO emulator listening on {url}");
    println!(
        "  {} accounts × {} roles; approve sign-ins at {url}/device",
        a.accounts, a.roles
    );
    println!();
    println!("In another terminal:");
    println!(
        "  export AWS_ENDPOINT_URL_SSO={url} AWS_ENDPOINT_URL_SSO_OIDC={url} AWS_ENDPOINT_URL_STS={url} \\\n    AWS_ENDPOINT_URL_EKS={url} AWS_ENDPOINT_URL_ECR={url} AWS_ENDPOINT_URL_UXC={url}"
    );
    println!(
        "  aws-sso-auth login --start-url https://example.awsapps.com/start --sso-region us-east-1"
    );
    println!("Stop with Ctrl-C.");
    emu.run_until_ctrl_c()
        .await
        .map_err(|e| format!("could not wait for Ctrl-C: {e}"))
}
