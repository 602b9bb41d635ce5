//! Benchmark: the renewer bringing 100 favourites' profiles up to date at once (as after
//! a resume from a long sleep), against the emulator throttled at RATE requests/s: wall
//! time against the ideal (requests ÷ rate), GetRoleCredentials calls (must be 100) and
//! writes of the credentials file (must be 1).
//!
//! `cargo bench --bench renewal [-- RATE…]` (default: 5 20 50)

use aws_sso_device_auth_provider::awsfiles::{AwsFiles, ProfileName};
use aws_sso_device_auth_provider::renewer::{Event, Events, Renewer, RenewerConfig, Timing};
use aws_sso_device_auth_provider::settings::Favourite;
use aws_sso_device_auth_provider::{
    AccountFilter, AwsSsoDeviceAuthProvider, Endpoints, MemoryStore,
};
use aws_sso_emulator::{Emulator, EmulatorConfig};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FAVOURITES: usize = 100;

struct Row {
    rate: f64,
    seconds: f64,
    calls: u64,
    throttled: u64,
    writes: u64,
}

/// Counts replacements of `path` (each atomic write makes a new inode) until `stop`.
fn count_writes(path: std::path::PathBuf, stop: Arc<AtomicBool>, writes: Arc<AtomicU64>) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mut last = None;
        while !stop.load(Ordering::Relaxed) {
            let ino = std::fs::metadata(&path)
                .ok()
                .map(|m| (m.ino(), m.mtime_nsec()));
            if ino.is_some() && ino != last {
                writes.fetch_add(1, Ordering::Relaxed);
                last = ino;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, stop, writes);
}

async fn measure(rate: f64) -> Row {
    let emu = Emulator::start(EmulatorConfig {
        accounts: FAVOURITES,
        auto_approve: true,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator");
    let events = Events::new();
    let sso = Arc::new(
        AwsSsoDeviceAuthProvider::builder()
            .start_url("https://bench.awsapps.com/start")
            .region("us-east-1")
            .endpoints(Endpoints::both(emu.endpoint()))
            .store(Arc::new(MemoryStore::new()))
            .build()
            .expect("provider"),
    );
    sso.access_token().await.expect("sign-in");
    let accounts = sso
        .accounts(&AccountFilter::default())
        .await
        .expect("accounts");
    let favourites: Vec<Favourite> = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| Favourite {
            profile: ProfileName::new(&format!("fav-{i:03}")).expect("name"),
            instance: sso.instance().clone(),
            account_id: a.account_id.clone(),
            account_name: Some(a.account_name.clone()),
            role_name: "ReadOnlyAccess".into(),
            region: None,
            credential_process: false,
            assume_role: None,
            ecr_regions: Vec::new(),
            console: Default::default(),
        })
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let files = AwsFiles::new(dir.path().join("credentials"), dir.path().join("config"));
    std::fs::write(
        files.credentials_file(),
        "[mine]\naws_access_key_id = AKIAUSER\n",
    )
    .expect("seed");
    emu.configure(|c| c.throttle_rps = Some(rate));
    let (stop, writes) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let watcher = {
        let (path, stop, writes) = (
            files.credentials_file().to_owned(),
            stop.clone(),
            writes.clone(),
        );
        std::thread::spawn(move || count_writes(path, stop, writes))
    };
    // The seeded file counts as the first inode seen.
    while writes.load(Ordering::Relaxed) == 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut rx = events.subscribe();
    let before = emu.counters();
    let started = Instant::now();
    let renewer = Renewer::start(
        sso,
        files,
        favourites,
        RenewerConfig::default(),
        Timing::default(),
        events,
    );
    let mut written = HashSet::new();
    while written.len() < FAVOURITES {
        match rx.recv().await {
            Ok(Event::ProfileWritten { profile, .. }) => {
                written.insert(profile);
            }
            Ok(Event::RenewalFailed { message, .. }) => eprintln!("renewal failed: {message}"),
            _ => {}
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    drop(renewer);
    std::thread::sleep(Duration::from_millis(20));
    stop.store(true, Ordering::Relaxed);
    let _ = watcher.join();
    let after = emu.counters();
    let throttled = after.throttled - before.throttled;
    Row {
        rate,
        seconds,
        calls: after.get_role_credentials - before.get_role_credentials - throttled,
        throttled,
        writes: writes.load(Ordering::Relaxed) - 1,
    }
}

fn main() {
    let rates: Vec<f64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rates = if rates.is_empty() {
        vec![5.0, 20.0, 50.0]
    } else {
        rates
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!("| throttle (req/s) | favourites | GetRoleCredentials | 429s | file writes | seconds | ideal (requests ÷ rate) | ratio |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for rate in rates {
        let r = rt.block_on(measure(rate));
        let ideal = FAVOURITES as f64 / r.rate;
        println!(
            "| {} | {FAVOURITES} | {} | {} | {} | {:.1} | {:.1} | {:.3} |",
            r.rate,
            r.calls,
            r.throttled,
            r.writes,
            r.seconds,
            ideal,
            r.seconds / ideal
        );
    }
}
