//! A time-bounded soak of the renewer (what `aws-sso-auth daemon` and the app run): 50
//! favourites kept fresh over many compressed cycles while the emulator injects faults and
//! throttles, the wall clock jumps forward as after a sleep, the session is revoked once,
//! and a second process keeps writing its own profiles into the same files.
//!
//! Runs for 20 s by default (CI); longer with
//! `cargo test --release --test soak -- --seconds 600`; with shorter credentials and a
//! tighter margin with `--credentials 12 --margin 5` (seconds).
//! Exits 1, with a sentence, when an invariant breaks:
//! - no favourite's profile is ever found expired (or gone) by a reader polling the file;
//! - exactly one sign-in per revocation, and none started by the renewer itself;
//! - not one byte of the user's own content in either file is lost or changed;
//! - the other process's writes, under the same lock, all succeed.

use aws_sso_device_auth_provider::awsfiles::{AwsFiles, Changes, ProfileName, ProfileWrite};
use aws_sso_device_auth_provider::clock::{epoch_seconds, Clock, SystemClock};
use aws_sso_device_auth_provider::oidc::poll::PollPolicy;
use aws_sso_device_auth_provider::renewer::{
    Event, Events, Renewer, RenewerConfig, SessionState, Timing,
};
use aws_sso_device_auth_provider::settings::Favourite;
use aws_sso_device_auth_provider::{
    AwsSsoDeviceAuthProvider, Endpoints, MemoryStore, RoleCredentials, Secret, SignInPrompt,
};
use aws_sso_emulator::{Emulator, EmulatorConfig};
use rand::Rng;
use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

const FAVOURITES: usize = 50;
/// Compressed lifetimes: an hour of credentials becomes 30 s, renewed 12 s before expiry
/// (`--credentials` and `--margin` change both). The renewer fetches what is due as fast
/// as its pacer allows and writes as it goes; under 30% faults each renewal costs about
/// 90 ms of the portal client's back-off (more once a 429 has slowed its pacer), so the
/// margin must cover the largest batch a jump or a sign-in makes due.
const CREDENTIALS_LIFE: u64 = 30;
const CREDENTIALS_MARGIN: u64 = 12;
const TOKEN_LIFE: Duration = Duration::from_secs(30);
const TOKEN_MARGIN: Duration = Duration::from_secs(10);
const RENEWER: RenewerConfig = RenewerConfig {
    credentials_margin: Duration::from_secs(CREDENTIALS_MARGIN),
    jitter: Duration::from_secs(1),
    check_every: Duration::from_millis(200),
    backoff_min: Duration::from_millis(100),
    backoff_max: Duration::from_secs(1),
};

/// What a run is asked for.
#[derive(Debug, Clone, Copy)]
struct Params {
    duration: Duration,
    credentials_life: Duration,
    credentials_margin: Duration,
}

impl Params {
    /// A forward jump of the clock, a quarter of the margin (3 s of the default 12): well
    /// inside it, so that what came due can be renewed before the credentials written
    /// before the "sleep" run out.
    fn jump(&self) -> Duration {
        self.credentials_margin / 4
    }

    /// The throttle, [`THROTTLE_RPS`] at the default lifetimes and scaled with how often
    /// each profile is renewed: compressing the credentials' life compresses the portal's
    /// time too, or the soak would test an overloaded portal (where every renewer is
    /// late) instead of a tight margin. Bursts are still throttled.
    fn throttle_rps(&self) -> f64 {
        let cycle = |life: Duration, margin: Duration| {
            life.saturating_sub(margin + RENEWER.jitter / 2)
                .as_secs_f64()
                .max(1.0)
        };
        let default = cycle(
            Duration::from_secs(CREDENTIALS_LIFE),
            Duration::from_secs(CREDENTIALS_MARGIN),
        );
        (THROTTLE_RPS * default / cycle(self.credentials_life, self.credentials_margin)).round()
    }
}
const FAULT_RATE: f64 = 0.3;
/// Above the renewer's steady need, so that only its bursts (after a jump or a sign-in)
/// are throttled: each 429 sets the portal client's pace to what it has just achieved.
const THROTTLE_RPS: f64 = 15.0;
/// How often the clock jumps forward (by [`Params::jump`]), as after a sleep.
const JUMP_EVERY: Duration = Duration::from_secs(10);
const HAMMER_NAMES: usize = 8;
/// How the writer marks its sections; matched here as text, independently of the writer.
const MARKER_PREFIX: &str = "# managed by aws-sso-tray";

/// The user's own credentials file: comments of both kinds, keys, odd spacing. The keys
/// are the AWS documentation's examples.
const USER_CREDENTIALS: &str = "# My own keys: no tool may touch these.\n\
;   an old-style comment, indented text after it\n\
\n\
[default]\n\
aws_access_key_id=AKIAIOSFODNN7EXAMPLE\n\
aws_secret_access_key   =    wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\t\n\
region = eu-central-1\n\
\n\
\n\
[personal]   \n\
aws_access_key_id\t=\tAKIAI44QH8DHBEXAMPLE\n\
aws_secret_access_key = je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY\n\
# the end of my part of the file\n";

const USER_CONFIG: &str = "[default]\n\
region = eu-west-1\n\
output=json\n\
\n\
# work, through SSO, set up by hand\n\
[profile work]\n\
sso_session = corp\n\
sso_account_id = 111122223333\n\
sso_role_name = ReadOnly\n\
region = us-east-1\n\
\n\
[sso-session corp]\n\
sso_start_url = https://example.awsapps.com/start\n\
sso_region    = eu-west-1\n";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(dir) = value_of(&args, "--hammer") {
        return hammer(Path::new(&dir));
    }
    // Behave as a libtest binary would when cargo passes its own arguments along.
    if args.iter().any(|a| a == "--list") {
        println!("soak: test");
        return ExitCode::SUCCESS;
    }
    let filter = args.iter().enumerate().find(|(i, a)| {
        !a.starts_with('-')
            && (*i == 0
                || !["--seconds", "--credentials", "--margin"].contains(&args[i - 1].as_str()))
    });
    if let Some((_, f)) = filter {
        if !"soak".contains(f.as_str()) {
            return ExitCode::SUCCESS;
        }
    }
    let seconds = |flag: &str, default: u64, least: u64| match value_of(&args, flag)
        .map(|s| s.parse::<u64>())
    {
        None => Ok(default),
        Some(Ok(s)) if s >= least => Ok(s),
        Some(_) => Err(format!(
            "soak: {flag} takes a whole number of at least {least}"
        )),
    };
    let params = match (
        seconds("--seconds", 20, 10),
        seconds("--credentials", CREDENTIALS_LIFE, 6),
        seconds("--margin", CREDENTIALS_MARGIN, 2),
    ) {
        (Ok(duration), Ok(life), Ok(margin)) if margin < life => Params {
            duration: Duration::from_secs(duration),
            credentials_life: Duration::from_secs(life),
            credentials_margin: Duration::from_secs(margin),
        },
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
        _ => {
            eprintln!("soak: --margin must be shorter than --credentials");
            return ExitCode::FAILURE;
        }
    };
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .try_init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("soak: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(soak(params));
    runtime.shutdown_timeout(Duration::from_secs(5));
    match outcome {
        Ok(report) => {
            report.print();
            let broken = report.broken();
            if broken.is_empty() {
                println!("soak: every invariant held");
                ExitCode::SUCCESS
            } else {
                for sentence in broken {
                    eprintln!("soak: FAILED: {sentence}");
                }
                ExitCode::FAILURE
            }
        }
        Err(sentence) => {
            eprintln!("soak: FAILED: {sentence}");
            ExitCode::FAILURE
        }
    }
}

fn value_of(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Wall-clock time that can be moved forward, shared by the emulator, the provider, the
/// renewer and the reader, as the OS clock is after a resume from sleep.
#[derive(Debug, Default)]
struct JumpingClock {
    offset_ms: AtomicU64,
}

impl JumpingClock {
    fn jump(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl Clock for JumpingClock {
    fn now(&self) -> SystemTime {
        SystemClock.now() + Duration::from_millis(self.offset_ms.load(Ordering::SeqCst))
    }
}

// ---- the other process ----

/// Writes and removes its own profiles through the library, under the same lock, until
/// its stdin closes; then removes them all and prints how many changes it made.
fn hammer(dir: &Path) -> ExitCode {
    let files = AwsFiles::new(dir.join("credentials"), dir.join("config"));
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
            stop.store(true, Ordering::SeqCst);
        });
    }
    let name = |i: usize| ProfileName::new(&format!("hammer-{i}")).expect("a valid name");
    let creds = RoleCredentials {
        access_key_id: "ASIAHAMMERHAMMER0000".to_owned(),
        secret_access_key: Secret::new("not-a-secret-only-a-placeholder"),
        session_token: Secret::new("placeholder-session-token"),
        expiration: SystemClock.now() + Duration::from_secs(24 * 3600),
    };
    let mut rng = rand::thread_rng();
    let mut applies = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let i = rng.gen_range(0..HAMMER_NAMES);
        let changes = if rng.gen_bool(0.65) {
            let write = ProfileWrite::new(name(i), &creds);
            // Half of them in the config file too, so both files' locks are contended.
            let write = if i % 2 == 1 {
                write.region("us-west-2").expect("a valid region")
            } else {
                write
            };
            Changes::new().write(write)
        } else {
            Changes::new().remove(name(i))
        };
        if let Err(e) = files.apply(&changes) {
            eprintln!("soak hammer: a write failed: {e}");
            return ExitCode::FAILURE;
        }
        applies += 1;
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..8)));
    }
    let all = (0..HAMMER_NAMES).fold(Changes::new(), |c, i| c.remove(name(i)));
    if let Err(e) = files.apply(&all) {
        eprintln!("soak hammer: removing its profiles failed: {e}");
        return ExitCode::FAILURE;
    }
    println!("applies {applies}");
    ExitCode::SUCCESS
}

// ---- what the reader sees ----

/// `text` without our sections (a header followed by the marker, up to the next header)
/// and the blank line written before each: what is left is the user's.
fn without_ours(text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let header = |l: &str| l.trim_start().starts_with('[');
    let mut kept: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let ours = header(lines[i])
            && lines
                .get(i + 1)
                .is_some_and(|l| l.starts_with(MARKER_PREFIX));
        if !ours {
            kept.push(lines[i]);
            i += 1;
            continue;
        }
        if kept.last().is_some_and(|l| l.trim().is_empty()) {
            kept.pop();
        }
        i += 1;
        while i < lines.len() && !header(lines[i]) {
            i += 1;
        }
    }
    kept.concat()
}

/// How many bytes of `original` are missing or changed in `now`: the size of the
/// differing middle once the common start and end are set aside.
fn bytes_lost(original: &str, now: &str) -> usize {
    let (a, b) = (original.as_bytes(), now.as_bytes());
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    a.len().max(b.len()) - prefix - suffix
}

#[derive(Debug, Default)]
struct Seen {
    reads: u64,
    /// (profile, expiry) pairs found at or past their expiry by the shared clock.
    expired: BTreeSet<(String, i64)>,
    /// When the first was found, from the start of reading.
    first_expired: Option<Duration>,
    /// Reads in which a favourite written before was gone.
    missing: u64,
    /// Reads the library could not parse (a torn or half-written file).
    unreadable: u64,
    /// The most user bytes ever found missing or changed.
    lost: usize,
}

/// Reads both files every 50 ms, as a tool or a shell prompt would, until `stop`.
fn watch(
    files: AwsFiles,
    favourites: Vec<String>,
    clock: Arc<JumpingClock>,
    stop: Arc<AtomicBool>,
) -> Seen {
    let mut seen = Seen::default();
    let mut written: BTreeSet<String> = BTreeSet::new();
    let start = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
        seen.reads += 1;
        for (path, user) in [
            (files.credentials_file(), USER_CREDENTIALS),
            (files.config_file(), USER_CONFIG),
        ] {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            seen.lost = seen.lost.max(bytes_lost(user, &without_ours(&text)));
        }
        let profiles = match files.managed_profiles() {
            Ok(p) => p,
            Err(_) => {
                seen.unreadable += 1;
                continue;
            }
        };
        let now = clock.now();
        for name in &favourites {
            match profiles.iter().find(|p| &p.name == name) {
                Some(p) => {
                    written.insert(name.clone());
                    match p.expires_at {
                        Some(t) if t > now => {}
                        t => {
                            seen.first_expired.get_or_insert(start.elapsed());
                            seen.expired
                                .insert((name.clone(), t.map_or(0, epoch_seconds)));
                        }
                    }
                }
                None if written.contains(name) => seen.missing += 1,
                None => {}
            }
        }
    }
    seen
}

// ---- what the renewer reports ----

#[derive(Debug, Default)]
struct Tally {
    writes: u64,
    failures: u64,
    needs_sign_in: u64,
    /// The least time left on a profile's previous credentials when it was renewed.
    closest: Option<Duration>,
    expiry: HashMap<String, SystemTime>,
}

#[derive(Debug, Default)]
struct Person {
    /// Codes shown (one per device authorization the service issued).
    codes: u64,
    /// Device-authorization requests made while the person was signing in, retries of
    /// injected faults included.
    requests_while_signing_in: u64,
    failed_attempts: u64,
    gave_up: bool,
}

// ---- the soak ----

struct Report {
    params: Params,
    seconds: u64,
    writes: u64,
    failures: u64,
    needs_sign_in: u64,
    closest: Option<Duration>,
    seen: Seen,
    revocations: u64,
    jumps: u64,
    person: Person,
    sign_ins_completed: u64,
    authorization_requests: u64,
    faults: u64,
    throttled: u64,
    hammer: Result<u64, String>,
    never_written: Vec<String>,
    final_lost: usize,
}

impl Report {
    fn cycles(&self) -> f64 {
        self.writes as f64 / FAVOURITES as f64
    }

    fn print(&self) {
        let ms =
            |d: Option<Duration>| d.map_or("-".to_owned(), |d| format!("{} ms", d.as_millis()));
        let rows: Vec<(String, String)> = vec![
            (
                "cycles (profile writes / 50)".into(),
                format!("{:.1} ({} writes)", self.cycles(), self.writes),
            ),
            (
                "profiles ever found expired".into(),
                self.seen.expired.len().to_string(),
            ),
            (
                "reads finding a profile gone".into(),
                self.seen.missing.to_string(),
            ),
            (
                "unparsable reads".into(),
                format!("{} of {}", self.seen.unreadable, self.seen.reads),
            ),
            (
                "sign-ins started / revocations".into(),
                format!("{} / {}", self.person.codes, self.revocations),
            ),
            (
                "sign-ins completed (emulator)".into(),
                format!(
                    "{} ({} attempts failed on faults)",
                    self.sign_ins_completed, self.person.failed_attempts
                ),
            ),
            (
                "device authorizations requested".into(),
                format!(
                    "{} ({} while the person signed in)",
                    self.authorization_requests, self.person.requests_while_signing_in
                ),
            ),
            (
                "\"needs sign-in\" reported".into(),
                self.needs_sign_in.to_string(),
            ),
            (
                "foreign bytes lost".into(),
                format!("{} (end: {})", self.seen.lost, self.final_lost),
            ),
            ("faults injected".into(), self.faults.to_string()),
            ("429s seen".into(), self.throttled.to_string()),
            (
                "renewal failures reported".into(),
                self.failures.to_string(),
            ),
            (
                "clock jumps".into(),
                format!("{} x {:.2} s", self.jumps, self.params.jump().as_secs_f64()),
            ),
            ("closest renewal before expiry".into(), ms(self.closest)),
            (
                "other process's writes".into(),
                match &self.hammer {
                    Ok(n) => n.to_string(),
                    Err(e) => format!("failed: {e}"),
                },
            ),
        ];
        println!();
        println!(
            "soak: {} s, {FAVOURITES} favourites, credentials {} s renewed {} s ahead, {:.0}% faults, {} req/s throttle",
            self.seconds,
            self.params.credentials_life.as_secs(),
            self.params.credentials_margin.as_secs(),
            FAULT_RATE * 100.0,
            self.params.throttle_rps()
        );
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in rows {
            println!("  {k:<width$}  {v}");
        }
        println!();
    }

    /// Each invariant that broke, as a sentence.
    fn broken(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.seen.expired.is_empty() {
            let some: Vec<&String> = self.seen.expired.iter().map(|(p, _)| p).take(5).collect();
            out.push(format!(
                "{} profiles were found expired in the file, the first {:.1} s into the soak (among them {some:?})",
                self.seen.expired.len(),
                self.seen.first_expired.unwrap_or_default().as_secs_f64()
            ));
        }
        if self.seen.missing > 0 {
            out.push(format!(
                "a favourite's profile was gone from the file in {} reads",
                self.seen.missing
            ));
        }
        if self.seen.unreadable > 0 {
            out.push(format!(
                "{} reads found a file the library could not parse",
                self.seen.unreadable
            ));
        }
        if !self.never_written.is_empty() {
            out.push(format!(
                "{} favourites were never written (among them {:?})",
                self.never_written.len(),
                &self.never_written[..self.never_written.len().min(5)]
            ));
        }
        if self.person.gave_up {
            out.push("the person could not sign in again after the revocation".into());
        }
        if self.person.codes != self.revocations || self.sign_ins_completed != self.revocations {
            out.push(format!(
                "{} sign-ins were started and {} completed for {} revocations (one each expected)",
                self.person.codes, self.sign_ins_completed, self.revocations
            ));
        }
        if self.authorization_requests != self.person.requests_while_signing_in {
            out.push(format!(
                "{} device authorizations were requested while nobody was signing in",
                self.authorization_requests - self.person.requests_while_signing_in
            ));
        }
        if self.needs_sign_in != self.revocations {
            out.push(format!(
                "\"needs sign-in\" was reported {} times for {} revocations",
                self.needs_sign_in, self.revocations
            ));
        }
        if self.seen.lost > 0 || self.final_lost > 0 {
            out.push(format!(
                "the user's own content lost or changed {} bytes (at the end: {})",
                self.seen.lost, self.final_lost
            ));
        }
        match &self.hammer {
            Ok(0) => out.push("the other process wrote nothing".into()),
            Ok(_) => {}
            Err(e) => out.push(format!("the other process failed: {e}")),
        }
        // The soak must have exercised what it claims to: the first write takes the first
        // 20 s or so (and the revocation's backlog); then a cycle per minute at the least.
        let expected = 1.0 + self.seconds.saturating_sub(20) as f64 / 60.0;
        if self.cycles() < expected {
            out.push(format!(
                "only {:.1} cycles in {} s (at least {expected:.1} expected)",
                self.cycles(),
                self.seconds
            ));
        }
        if self.faults == 0 {
            out.push("the emulator injected no fault: the soak tested nothing".into());
        }
        out
    }
}

async fn soak(params: Params) -> Result<Report, String> {
    let duration = params.duration;
    let dir = tempfile::tempdir().map_err(|e| format!("no temporary directory: {e}"))?;
    let files = AwsFiles::new(dir.path().join("credentials"), dir.path().join("config"));
    std::fs::write(files.credentials_file(), USER_CREDENTIALS)
        .and_then(|()| std::fs::write(files.config_file(), USER_CONFIG))
        .map_err(|e| format!("cannot seed the files: {e}"))?;
    files
        .managed_profiles()
        .map_err(|e| format!("the seeded files do not parse: {e}"))?;

    let clock = Arc::new(JumpingClock::default());
    let emu = Emulator::start_with(
        ("127.0.0.1", 0),
        EmulatorConfig {
            access_token_lifetime: TOKEN_LIFE,
            role_credentials_lifetime: params.credentials_life,
            // No interval from the service: the client's own short one applies.
            poll_interval_secs: 0,
            ..EmulatorConfig::default()
        },
        clock.clone(),
    )
    .await
    .map(Arc::new)
    .map_err(|e| format!("the emulator did not start: {e}"))?;

    let events = Events::new();
    let codes = Arc::new(AtomicU64::new(0));
    let sso = AwsSsoDeviceAuthProvider::builder()
        .start_url(format!(
            "https://soak{}.awsapps.com/start",
            std::process::id()
        ))
        .region("eu-west-1")
        .endpoints(Endpoints::both(emu.endpoint()))
        .store(Arc::new(MemoryStore::new()))
        .clock(clock.clone())
        .poll_policy(PollPolicy {
            default_interval: Duration::from_millis(250),
            slow_down_increment: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
        })
        .token_refresh_margin(TOKEN_MARGIN)
        .sign_in_on_demand(false)
        .on_prompt({
            let sink = events.prompt();
            let emu = Arc::downgrade(&emu);
            let codes = codes.clone();
            // The person, at the page at once: approves the code shown.
            move |p: &SignInPrompt| {
                sink(p);
                codes.fetch_add(1, Ordering::SeqCst);
                if let (SignInPrompt::DeviceCode { user_code, .. }, Some(emu)) = (p, emu.upgrade())
                {
                    emu.decide(user_code, true);
                }
            }
        })
        .build()
        .map_err(|e| format!("the provider did not build: {e}"))?;
    let sso = Arc::new(sso);
    sso.sign_in()
        .await
        .map_err(|e| format!("the first sign-in failed: {e}"))?;
    codes.store(0, Ordering::SeqCst);

    let favourites: Vec<Favourite> = emu
        .organisation()
        .iter()
        .flat_map(|a| a.roles.iter().map(move |r| (a, r)))
        .take(FAVOURITES)
        .enumerate()
        .map(|(i, (a, role))| Favourite {
            profile: ProfileName::new(&format!("fav-{i:02}")).expect("name"),
            instance: sso.instance().clone(),
            account_id: a.account_id.clone(),
            account_name: Some(a.account_name.clone()),
            role_name: role.clone(),
            region: (i % 5 == 0).then(|| "eu-west-1".to_owned()),
            credential_process: false,
            assume_role: None,
            ecr_regions: Vec::new(),
            console: Default::default(),
        })
        .collect();
    if favourites.len() != FAVOURITES {
        return Err(format!(
            "the emulated organisation has only {} roles",
            favourites.len()
        ));
    }
    let names: Vec<String> = favourites.iter().map(|f| f.profile.to_string()).collect();

    emu.configure(|c| {
        c.fault_rate = FAULT_RATE;
        c.throttle_rps = Some(params.throttle_rps());
    });
    let before = emu.counters();

    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut hammer = tokio::process::Command::new(exe)
        .arg("--hammer")
        .arg(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("the other process did not start: {e}"))?;

    let stop_watching = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (files, names, clock, stop) = (
            files.clone(),
            names.clone(),
            clock.clone(),
            stop_watching.clone(),
        );
        std::thread::spawn(move || watch(files, names, clock, stop))
    };

    let tally = Arc::new(Mutex::new(Tally::default()));
    let (needs_tx, mut needs_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut rx = events.subscribe();
    let collector = tokio::spawn({
        let tally = tally.clone();
        let clock = clock.clone();
        async move {
            loop {
                let event = match rx.recv().await {
                    Ok(e) => e,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        return Err(format!("the soak missed {n} of the renewer's events"));
                    }
                    Err(_) => return Ok(()),
                };
                let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
                match event {
                    Event::ProfileWritten {
                        profile,
                        expires_at,
                    } => {
                        t.writes += 1;
                        if let Some(old) = t.expiry.insert(profile.to_string(), expires_at) {
                            let left = old.duration_since(clock.now()).unwrap_or_default();
                            t.closest = Some(t.closest.map_or(left, |c| c.min(left)));
                        }
                    }
                    Event::RenewalFailed { .. } => t.failures += 1,
                    Event::Session(SessionState::NeedsSignIn) => {
                        t.needs_sign_in += 1;
                        let _ = needs_tx.send(());
                    }
                    Event::Session(SessionState::SignedIn(_)) | Event::SignInCode { .. } => {}
                }
            }
        }
    });

    let renewer = Arc::new(Renewer::start(
        sso.clone(),
        files.clone(),
        favourites,
        RenewerConfig {
            credentials_margin: params.credentials_margin,
            ..RENEWER
        },
        Timing {
            clock: clock.clone(),
            ..Timing::default()
        },
        events.clone(),
    ));

    // The person: when told a sign-in is needed, signs in (again, if the service fails).
    let person = Arc::new(Mutex::new(Person::default()));
    let person_task = tokio::spawn({
        let renewer = renewer.clone();
        let sso = sso.clone();
        let emu = emu.clone();
        let person = person.clone();
        async move {
            let lock = || person.lock().unwrap_or_else(|e| e.into_inner());
            while needs_rx.recv().await.is_some() {
                let deadline = Instant::now() + Duration::from_secs(60);
                loop {
                    let requests = emu.counters().start_device_authorization;
                    let result = sso.sign_in().await;
                    renewer.wake();
                    lock().requests_while_signing_in +=
                        emu.counters().start_device_authorization - requests;
                    match result {
                        Ok(_) => break,
                        Err(e) if Instant::now() < deadline => {
                            lock().failed_attempts += 1;
                            tracing::info!(error = %e, "sign-in failed; the person tries again");
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                        Err(_) => {
                            lock().gave_up = true;
                            break;
                        }
                    }
                }
            }
        }
    });

    let start = Instant::now();
    let revoke_at = start + duration / 2;
    let mut next_jump = start + Duration::from_secs(6);
    let (mut revocations, mut jumps) = (0u64, 0u64);
    while start.elapsed() < duration {
        let now = Instant::now();
        if revocations == 0 && now >= revoke_at {
            emu.revoke_sessions();
            revocations += 1;
        }
        if now >= next_jump {
            // Not around the revocation, whose sign-in already spends part of the margin.
            let near_revocation = now + Duration::from_secs(3) > revoke_at
                && now < revoke_at + Duration::from_secs(8);
            if !near_revocation {
                clock.jump(params.jump());
                jumps += 1;
            }
            next_jump += JUMP_EVERY;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Stop the other process and the renewer before the last reads.
    drop(hammer.stdin.take());
    let hammer =
        match tokio::time::timeout(Duration::from_secs(30), hammer.wait_with_output()).await {
            Ok(Ok(out)) if out.status.success() => String::from_utf8_lossy(&out.stdout)
                .trim()
                .strip_prefix("applies ")
                .and_then(|n| n.parse::<u64>().ok())
                .ok_or_else(|| "it printed no count".to_owned()),
            Ok(Ok(out)) => Err(format!("it exited with {}", out.status)),
            Ok(Err(e)) => Err(format!("waiting for it failed: {e}")),
            Err(_) => Err("it did not stop within 30 s".to_owned()),
        };
    stop_watching.store(true, Ordering::SeqCst);
    let seen = tokio::task::spawn_blocking(move || watcher.join())
        .await
        .map_err(|e| format!("the reader stopped: {e}"))?
        .map_err(|_| "the reader panicked".to_owned())?;
    drop(renewer);
    person_task.abort();
    let person = std::mem::take(&mut *person.lock().unwrap_or_else(|e| e.into_inner()));
    let counters = emu.counters();
    let tally = std::mem::take(&mut *tally.lock().unwrap_or_else(|e| e.into_inner()));
    collector.abort();
    if let Ok(Err(sentence)) = collector.await {
        return Err(sentence);
    }

    let profiles = files
        .managed_profiles()
        .map_err(|e| format!("the files do not parse at the end: {e}"))?;
    let never_written: Vec<String> = names
        .iter()
        .filter(|n| !profiles.iter().any(|p| &p.name == *n))
        .cloned()
        .collect();
    // Removing every profile we wrote must give the user's files back byte for byte.
    let all = names
        .iter()
        .filter_map(|n| ProfileName::new(n).ok())
        .fold(Changes::new(), Changes::remove);
    let final_files = files.clone();
    tokio::task::spawn_blocking(move || final_files.apply(&all))
        .await
        .map_err(|e| format!("the last write stopped: {e}"))?
        .map_err(|e| format!("removing the favourites' profiles failed: {e}"))?;
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let final_lost = bytes_lost(USER_CREDENTIALS, &read(files.credentials_file()))
        + bytes_lost(USER_CONFIG, &read(files.config_file()));

    Ok(Report {
        params,
        seconds: duration.as_secs(),
        writes: tally.writes,
        failures: tally.failures,
        needs_sign_in: tally.needs_sign_in,
        closest: tally.closest,
        seen,
        revocations,
        jumps,
        sign_ins_completed: counters.tokens_from_device_code - before.tokens_from_device_code,
        authorization_requests: counters.start_device_authorization
            - before.start_device_authorization,
        person: Person {
            codes: codes.load(Ordering::SeqCst),
            ..person
        },
        faults: counters.faults - before.faults,
        throttled: counters.throttled - before.throttled,
        hammer,
        never_written,
        final_lost,
    })
}
