//! Benchmark: discovery at scale, against the emulator throttled at 5, 20 and 50
//! requests/s.
//!
//! `cargo bench --bench discovery [-- [--burst N] [--latency-ms MS] [--crawl | --usable |
//! --listing] [--quick] [--crawl-accounts N] RATE…]`
//!
//! Two tables. `--crawl`: one full listing of 1,000 accounts × 3 roles as fast as the
//! service allows, against the ideal (requests ÷ rate). `--usable`: how soon the app's
//! account list is of use while the roles are read in the background, at 1,000 and 5,000
//! accounts: until the accounts are searchable, until the roles of an account searched for
//! are shown, then (at 1,000) the whole background reading at half the throttle with
//! another client of the user calling at 5 requests/s beside it (of `--crawl-accounts`,
//! default 1,000), and a refresh after 1% of the accounts are new (`--quick` leaves out the whole reading). Both by default.
//! `--listing` (also part of `--usable` without `--quick`): the listing someone waits for
//! (`list --refresh` from an empty cache, of `--crawl-accounts`) with the other client
//! beside it: the other's share of throttled calls, and the listing against its floor.
//!
//! The throttle is a token bucket refilled at RATE; its burst allowance defaults to one
//! second's worth (RATE requests). `--burst 1` is the strictest service there can be.
//! `--latency-ms` adds that much to every reply, as a real network would.

mod usable;

use aws_sso_device_auth_provider::{
    AccountFilter, AwsSsoDeviceAuthProvider, Endpoints, MemoryStore,
};
use aws_sso_emulator::{Emulator, EmulatorConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ACCOUNTS: usize = 1_000;
const ROLES: usize = 3;

struct Row {
    rate: f64,
    requests: u64,
    throttled: u64,
    failed: u64,
    seconds: f64,
}

async fn measure(rate: f64, burst: Option<f64>, latency: Duration) -> Row {
    let emu = Emulator::start(EmulatorConfig {
        accounts: ACCOUNTS,
        roles_per_account: ROLES,
        auto_approve: true,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator");
    let sso = AwsSsoDeviceAuthProvider::builder()
        .start_url("https://bench.awsapps.com/start")
        .region("us-east-1")
        .endpoints(Endpoints::both(emu.endpoint()))
        .store(Arc::new(MemoryStore::new()))
        .build()
        .expect("provider");
    sso.access_token().await.expect("sign-in");
    emu.configure(|c| {
        c.throttle_rps = Some(rate);
        c.throttle_burst = burst;
        c.latency = latency;
    });
    let before = emu.counters();
    let started = Instant::now();
    let result = sso
        .accounts_with_roles(&AccountFilter::default(), None)
        .await;
    let seconds = started.elapsed().as_secs_f64();
    let after = emu.counters();
    let failed = match &result {
        Ok(found) => {
            assert_eq!(found.len(), ACCOUNTS);
            assert!(found.iter().all(|a| a.roles.len() == ROLES));
            0
        }
        Err(e) => {
            eprintln!("discovery at {rate} req/s failed: {e}");
            1
        }
    };
    let throttled = after.throttled - before.throttled;
    let sent = (after.list_accounts - before.list_accounts)
        + (after.list_account_roles - before.list_account_roles);
    Row {
        rate,
        requests: sent - throttled,
        throttled,
        failed,
        seconds,
    }
}

fn main() {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let option = |name: &str| -> Option<f64> {
        let i = args.iter().position(|a| a == name)?;
        args.get(i + 1)?.parse().ok()
    };
    let burst = option("--burst");
    let latency = Duration::from_millis(option("--latency-ms").unwrap_or(0.0) as u64);
    let rates: Vec<f64> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with("--") && (*i == 0 || !args[i - 1].starts_with("--")))
        .filter_map(|(_, a)| a.parse().ok())
        .collect();
    let rates = if rates.is_empty() {
        vec![5.0, 20.0, 50.0]
    } else {
        rates
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let only = |flag: &str| args.iter().any(|a| a == flag);
    let crawl = option("--crawl-accounts").map_or(1_000, |n| n as usize);
    if only("--listing") {
        usable::listing_table(&rates, crawl);
        return;
    }
    if !only("--crawl") {
        usable::table(&rates, only("--quick"), crawl);
        if !only("--quick") {
            usable::listing_table(&rates, crawl);
        }
        if only("--usable") {
            return;
        }
    }
    let burst_text = burst.map_or("1 s of the rate".to_owned(), |b| format!("{b} requests"));
    println!(
        "discovery of {ACCOUNTS} accounts x {ROLES} roles (throttle burst = {burst_text}, latency = {} ms)",
        latency.as_millis()
    );
    println!("| rate (req/s) | requests | 429s | failed | seconds | ideal (req/rate) | ratio |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for rate in rates {
        let r = runtime.block_on(measure(rate, burst, latency));
        let ideal = r.requests as f64 / r.rate;
        println!(
            "| {} | {} | {} | {} | {:.1} | {:.1} | {:.3} |",
            r.rate,
            r.requests,
            r.throttled,
            r.failed,
            r.seconds,
            ideal,
            r.seconds / ideal
        );
    }
}
