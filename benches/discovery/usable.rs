//! How soon the account list is of use: the workspace as the app drives it.

use aws_sso_device_auth_provider::clock::ManualClock;
use aws_sso_device_auth_provider::env::Env;
use aws_sso_device_auth_provider::workspace::{Event, Options, Workspace};
use aws_sso_device_auth_provider::{Instance, MemoryStore};
use aws_sso_emulator::{Emulator, EmulatorConfig, OrgAccount};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROLES: usize = 3;

struct World {
    emu: Emulator,
    clock: ManualClock,
    world: Workspace,
    instance: Instance,
    _home: tempfile::TempDir,
}

/// A signed-in workspace against an emulator of `accounts`, throttled at `rate` from now
/// (after reading every account's roles unthrottled first, when `read`).
async fn world(accounts: usize, rate: f64, read: bool) -> World {
    let clock = ManualClock::starting_now();
    let emu = Emulator::start_with(
        ("127.0.0.1", 0),
        EmulatorConfig {
            accounts,
            roles_per_account: ROLES,
            auto_approve: true,
            ..EmulatorConfig::default()
        },
        Arc::new(clock.clone()),
    )
    .await
    .expect("emulator");
    let home = tempfile::tempdir().expect("home");
    let mut options = Options::new(
        Env::process()
            .in_home(home.path())
            .with_endpoints(&emu.endpoint())
            .without("DISPLAY")
            .without("WAYLAND_DISPLAY")
            .without("BROWSER"),
    );
    options.store = Arc::new(MemoryStore::new());
    options.timing.clock = Arc::new(clock.clone());
    options.open_browser = false;
    let world = Workspace::open(options).await.expect("workspace");
    let instance = Instance::new("https://bench.awsapps.com/start", "us-east-1").expect("instance");
    world.sign_in(&instance, None).await.expect("sign-in");
    if read {
        world.all_accounts(&instance, true).await.expect("accounts");
        // The pacer measures the limit from the last second's successes: let those of
        // the unthrottled read age out, as a real service's limit does not change at once.
        tokio::time::sleep(Duration::from_millis(1_100)).await;
    }
    emu.configure(|c| c.throttle_rps = Some(rate));
    World {
        emu,
        clock,
        world,
        instance,
        _home: home,
    }
}

/// Waits for the next account list the faces are told of.
async fn updated(events: &mut tokio::sync::broadcast::Receiver<Event>) {
    loop {
        match events.recv().await {
            Ok(Event::AccountsUpdated { .. }) => return,
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
}

/// Seconds until the list is searchable, then until an account searched for (four fifths
/// down the list) has its roles shown.
async fn first_use(w: &World) -> (f64, f64) {
    let mut events = w.world.subscribe();
    let started = Instant::now();
    w.world.refresh_accounts(&w.instance).expect("refresh");
    updated(&mut events).await;
    let listed = started.elapsed().as_secs_f64();
    let accounts = w
        .world
        .cached_accounts(&w.instance)
        .await
        .expect("accounts");
    let wanted = accounts.accounts[accounts.accounts.len() * 4 / 5]
        .account
        .account_id
        .clone();
    let asked = Instant::now();
    w.world
        .prioritise_accounts(&w.instance, vec![wanted.clone()]);
    loop {
        let a = w
            .world
            .cached_accounts(&w.instance)
            .await
            .expect("accounts");
        if !a.roles_pending.contains(&wanted) {
            return (listed, asked.elapsed().as_secs_f64());
        }
        updated(&mut events).await;
    }
}

/// Another client of the user: a ListAccounts call every 200 ms until `stop`; its 429s.
fn other_client(endpoint: String, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<(u64, u64)> {
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        let (mut sent, mut throttled) = (0, 0);
        let mut replies = std::collections::BTreeMap::<String, u64>::new();
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        while !stop.load(Ordering::Relaxed) {
            tick.tick().await;
            let reply = http
                .get(format!("{endpoint}/assignment/accounts?max_result=1"))
                .header("x-amz-sso_bearer_token", "another-client")
                .send()
                .await;
            sent += 1;
            let status = match &reply {
                Ok(r) => r.status().as_u16().to_string(),
                Err(e) => format!("error: {e}"),
            };
            *replies.entry(status).or_default() += 1;
            if reply.is_ok_and(|r| r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS) {
                throttled += 1;
            }
        }
        eprintln!("the other client's replies: {replies:?}");
        (sent, throttled)
    })
}

struct Crawl {
    seconds: f64,
    ours_throttled: u64,
    other_sent: u64,
    other_throttled: u64,
    other_alone_throttled: u64,
}

/// The whole background reading with the other client beside it, and the other client
/// alone for as long (30 s at most: alone, its pace never changes).
async fn crawl_beside_another(w: &World) -> Crawl {
    let mut events = w.world.subscribe();
    let before = w.emu.counters();
    let stop = Arc::new(AtomicBool::new(false));
    let other = other_client(w.emu.endpoint(), stop.clone());
    let started = Instant::now();
    w.world.refresh_accounts(&w.instance).expect("refresh");
    loop {
        updated(&mut events).await;
        let a = w
            .world
            .cached_accounts(&w.instance)
            .await
            .expect("accounts");
        if !a.refreshing && a.roles_pending.is_empty() {
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let (other_sent, other_throttled) = other.await.expect("other client");
    let after = w.emu.counters();
    let alone = Arc::new(AtomicBool::new(false));
    let other = other_client(w.emu.endpoint(), alone.clone());
    tokio::time::sleep(Duration::from_secs_f64(seconds.min(30.0))).await;
    alone.store(true, Ordering::Relaxed);
    let (_, other_alone_throttled) = other.await.expect("other client");
    Crawl {
        seconds,
        ours_throttled: after.throttled - before.throttled - other_throttled,
        other_sent,
        other_throttled,
        other_alone_throttled,
    }
}

struct Listing {
    seconds: f64,
    ours: u64,
    ours_throttled: u64,
    other_sent: u64,
    other_throttled: u64,
}

/// A listing someone waits for (the command line's `list --refresh`, from an empty cache)
/// with the other client beside it.
async fn listing_beside_another(w: &World) -> Listing {
    let before = w.emu.counters();
    let stop = Arc::new(AtomicBool::new(false));
    let other = other_client(w.emu.endpoint(), stop.clone());
    let started = Instant::now();
    let listed = w
        .world
        .all_accounts(&w.instance, true)
        .await
        .expect("listing");
    let seconds = started.elapsed().as_secs_f64();
    assert!(listed.roles_pending.is_empty(), "every role read");
    stop.store(true, Ordering::Relaxed);
    let (other_sent, other_throttled) = other.await.expect("other client");
    let after = w.emu.counters();
    let sent = (after.list_accounts - before.list_accounts)
        + (after.list_account_roles - before.list_account_roles)
        - other_sent;
    let ours_throttled = after.throttled - before.throttled - other_throttled;
    Listing {
        seconds,
        ours: sent - ours_throttled,
        ours_throttled,
        other_sent,
        other_throttled,
    }
}

/// The listing someone waits for, of `accounts` accounts, beside another client of the
/// user calling at 5 requests/s: its share of throttled calls, and the listing's time
/// against the floor (our requests ÷ the throttle).
pub fn listing_table(rates: &[f64], accounts: usize) {
    println!("{accounts} accounts: a listing someone waits for (`list --refresh`), another client at 5 req/s beside it");
    println!("| throttle (req/s) | listing (s) | our requests | our 429s | floor (s) | ratio | the other's requests | its 429s | its share throttled |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &rate in rates {
        let l = fresh().block_on(async {
            let w = world(accounts, rate, false).await;
            listing_beside_another(&w).await
        });
        let floor = l.ours as f64 / rate;
        println!(
            "| {rate} | {:.1} | {} | {} | {floor:.1} | {:.3} | {} | {} | {:.1}% |",
            l.seconds,
            l.ours,
            l.ours_throttled,
            l.seconds / floor,
            l.other_sent,
            l.other_throttled,
            100.0 * l.other_throttled as f64 / l.other_sent.max(1) as f64
        );
    }
    println!();
}

/// A refresh 11 minutes later, after 1% of the accounts were added: requests (role lists
/// and account pages) and seconds.
async fn refresh_one_percent_new(w: &World) -> (u64, u64, f64) {
    let mut org: Vec<OrgAccount> = w.emu.organisation().as_ref().clone();
    let new = org.len() / 100;
    for i in 0..new {
        let mut a = org[i].clone();
        a.account_id = format!("9{:011}", i);
        a.account_name = format!("new-{i}");
        org.push(a);
    }
    w.emu.set_organisation(org);
    w.clock.advance(Duration::from_secs(11 * 60));
    let before = w.emu.counters();
    let started = Instant::now();
    w.world
        .all_accounts(&w.instance, false)
        .await
        .expect("refresh");
    let seconds = started.elapsed().as_secs_f64();
    let after = w.emu.counters();
    let throttled = after.throttled - before.throttled;
    let pages = after.list_accounts - before.list_accounts;
    let roles = after.list_account_roles - before.list_account_roles;
    assert!(
        new as u64 <= roles,
        "{roles} role lists for {new} new accounts"
    );
    (roles + pages - throttled, pages, seconds)
}

/// A runtime of its own for one measurement: dropping it ends every task of the last
/// one (a background reading still under way would otherwise go on beside the next).
fn fresh() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The tables; `quick` leaves out the whole background reading (minutes at 5 req/s), which
/// is of `crawl` accounts.
pub fn table(rates: &[f64], quick: bool, crawl: usize) {
    println!("the account list in use while roles are read in the background (half the throttle)");
    println!(
        "| accounts | throttle (req/s) | searchable (s) | roles of an account searched for (s) |"
    );
    println!("|---:|---:|---:|---:|");
    for accounts in [1_000, 5_000] {
        for &rate in rates {
            let (listed, searched) = fresh().block_on(async {
                let w = world(accounts, rate, false).await;
                first_use(&w).await
            });
            println!("| {accounts} | {rate} | {listed:.2} | {searched:.2} |");
        }
    }
    println!();
    println!("1,000 accounts known, then 1% new: a refresh");
    println!("| throttle (req/s) | requests | of which account pages | seconds |");
    println!("|---:|---:|---:|---:|");
    for &rate in rates {
        let (sent, pages, seconds) = fresh().block_on(async {
            let w = world(1_000, rate, true).await;
            refresh_one_percent_new(&w).await
        });
        println!("| {rate} | {sent} | {pages} | {seconds:.2} |");
    }
    println!();
    if quick {
        return;
    }
    println!("{crawl} accounts: the whole background reading, another client at 5 req/s beside it");
    println!("| throttle (req/s) | reading (s) | our 429s | the other's requests | its 429s beside us | its 429s alone |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for &rate in rates {
        let c = fresh().block_on(async {
            let w = world(crawl, rate, false).await;
            crawl_beside_another(&w).await
        });
        println!(
            "| {rate} | {:.1} | {} | {} | {} | {} |",
            c.seconds, c.ours_throttled, c.other_sent, c.other_throttled, c.other_alone_throttled
        );
    }
    println!();
}
