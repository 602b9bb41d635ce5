//! The credential endpoint of `aws-sso-auth exec` under load, and what it saves a tool
//! against `credential_process`.
//!
//! A user signs in against the emulator and adds favourite `ops` as a `credential_process`
//! favourite. Then:
//!
//! 1. Load: `aws-sso-auth exec --profile ops -- sh …` (no app: the exec process itself
//!    serves from memory). After one warm-up request, and a row of 1 client × 1,000
//!    requests ("alone": what one request costs), 100 clients, each on its own
//!    keep-alive connection, send 50 requests one after another (5,000 a round), for four
//!    rounds: latency percentiles, errors (any answer but 200), requests/s, the exec
//!    process's CPU time per request and its resident memory (`VmRSS`) and threads after
//!    each round. The first request of each connection is shown apart (it connects, and
//!    the endpoint checks who owns the connection), as is the p99 of the others ("p99
//!    kept"). Targets: p99 ≤ 5 ms, no error, no growth over the last round.
//! 2. botocore (`benches/botocore_fetch.py`): on a fresh `Session`,
//!    `get_credentials().get_frozen_credentials()` timed, RUNS times each, in turns of 10:
//!    (a) inside `aws-sso-auth exec --profile ops` (the container endpoint), (b) with
//!    `AWS_PROFILE=ops` (its `credential_process`, warm: answered from the private
//!    cache), (c) keys in the environment (botocore's own cost, for reference).
//!
//! `scripts/with-keyring cargo bench --bench endpoint [-- [--rounds N] [--clients N]
//! [--requests N] [RUNS]]`: rounds of the load (default 4), clients (100), requests per
//! client (50), botocore's runs of each kind (50). The keychain is a real Secret Service
//! (`scripts/with-keyring`); python3 with botocore must be installed. The binary is the
//! one `cargo bench` builds with this bench (the bench profile, which is the release
//! one), named by `CARGO_BIN_EXE_aws-sso-auth`: no separate `cargo build --release` is
//! needed. Linux: the figures of the exec process come from `/proc`.

use aws_sso_emulator::{Emulator, EmulatorConfig};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// What to run: `[--rounds N] [--clients N] [--requests N] [RUNS]`.
struct Arguments {
    /// Rounds of the load (default 4).
    rounds: usize,
    /// Concurrent clients, each on its own connection (default 100).
    clients: usize,
    /// Requests each client sends, one after another (default 50).
    per_client: usize,
    /// botocore's runs of each kind (default 50).
    runs: usize,
}

/// A user's home against the emulator.
struct User {
    home: tempfile::TempDir,
    endpoint: String,
}

impl User {
    /// `program args`, in the user's home, against the emulator, with nothing of this
    /// machine's AWS or desktop set-up around it.
    fn command(&self, program: impl AsRef<OsStr>, args: &[&str]) -> Command {
        let mut c = Command::new(program);
        c.args(args);
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if k.starts_with("AWS_") || k.starts_with("XDG_") || k.starts_with("SSH_") {
                c.env_remove(k.as_ref());
            }
        }
        c.env("HOME", self.home.path())
            .env("AWS_ENDPOINT_URL_SSO", &self.endpoint)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &self.endpoint)
            .env("AWS_ENDPOINT_URL_STS", &self.endpoint)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("BROWSER")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        c
    }

    /// `aws-sso-auth args`.
    fn cli(&self, args: &[&str]) -> Command {
        self.command(env!("CARGO_BIN_EXE_aws-sso-auth"), args)
    }

    /// Runs `aws-sso-auth args`, which must succeed: its standard output.
    async fn run(&self, args: &[&str]) -> String {
        let out = self.cli(args).output().await.expect("runs");
        assert!(
            out.status.success(),
            "aws-sso-auth {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Signed in (the emulator approves at once), with `ops` a `credential_process`
/// favourite of ReadOnlyAccess in the organisation's second account.
async fn signed_in(emu: &Emulator) -> User {
    let user = User {
        home: tempfile::tempdir().expect("home"),
        endpoint: emu.endpoint(),
    };
    user.run(&[
        "login",
        "--start-url",
        "https://bench-endpoint.awsapps.com/start",
        "--sso-region",
        "eu-west-1",
        "--device-code",
        "--no-browser",
    ])
    .await;
    let accounts: serde_json::Value =
        serde_json::from_str(&user.run(&["accounts", "--json"]).await).expect("json");
    let account = accounts[1]["accountId"].as_str().expect("account id");
    user.run(&[
        "favourite",
        "add",
        "ops",
        "--account",
        account,
        "--role",
        "ReadOnlyAccess",
        "--credential-process",
    ])
    .await;
    user
}

/// The field `name` of process `pid`'s `/proc/PID/status`, as a number (`None` where
/// `/proc` does not say).
fn status_field(pid: u32, name: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    status_field(pid, "VmRSS")
}

/// The threads of process `pid`.
fn threads(pid: u32) -> String {
    status_field(pid, "Threads").map_or_else(|| "n/a".into(), |t| t.to_string())
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

/// Ends `exec` as a terminal's owner would: it passes SIGTERM on to its command, and
/// ends with it.
async fn stop(mut exec: Child) {
    #[cfg(unix)]
    if let Some(pid) = exec.id().and_then(|p| i32::try_from(p).ok()) {
        use nix::sys::signal::{kill, Signal};
        let _ = kill(nix::unistd::Pid::from_raw(pid), Signal::SIGTERM);
        if tokio::time::timeout(Duration::from_secs(10), exec.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    let _ = exec.kill().await;
}

/// An `exec` serving `ops` to a shell that wrote the endpoint's address and token to a
/// file, then sleeps: the process, the address and the token.
async fn serving(user: &User) -> (Child, String, String) {
    let file = user.home.path().join("endpoint");
    let log = user.home.path().join("exec.log");
    let file_arg = file.to_str().expect("path");
    let mut exec = user
        .cli(&[
            "exec",
            "--profile",
            "ops",
            "--",
            "sh",
            "-c",
            r#"printf "%s\n%s\n" "$AWS_CONTAINER_CREDENTIALS_FULL_URI" "$AWS_CONTAINER_AUTHORIZATION_TOKEN" > "$1.tmp" && mv "$1.tmp" "$1"; exec sleep 600"#,
            "sh",
            file_arg,
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("exec");
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(&file) {
            let mut lines = text.lines();
            if let (Some(url), Some(token)) = (lines.next(), lines.next()) {
                return (exec, url.to_owned(), token.to_owned());
            }
        }
        let ended = exec.try_wait().expect("wait");
        if ended.is_some() || started.elapsed() > Duration::from_secs(60) {
            panic!(
                "exec did not start its command ({ended:?}): {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A client of its own (its own connection, kept alive between requests).
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// One request: its time, and whether it was answered 200 with a body.
async fn ask(client: &reqwest::Client, url: &str, token: &str) -> (Duration, Result<(), String>) {
    let started = Instant::now();
    let answer = match client.get(url).header("Authorization", token).send().await {
        Ok(r) => {
            let status = r.status();
            match r.bytes().await {
                Ok(_) if status == reqwest::StatusCode::OK => Ok(()),
                Ok(_) => Err(format!("answered {status}")),
                Err(e) => Err(e.without_url().to_string()),
            }
        }
        Err(e) => Err(e.without_url().to_string()),
    };
    (started.elapsed(), answer)
}

/// One round of the load: each request's time (sorted), the first of each connection's
/// apart (it connects, and the endpoint checks who owns the connection).
struct Round {
    all: Vec<Duration>,
    first: Vec<Duration>,
    kept_alive: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
    wall: Duration,
    /// The exec process's CPU time over the round.
    cpu: Option<Duration>,
}

/// The CPU time (user and system) process `pid` has used so far.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command's name (in parentheses, which may hold spaces): the state is
    // field 3, utime and stime fields 14 and 15, in USER_HZ ticks (100 a second).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// `clients` clients at once, `per_client` requests each.
async fn round(url: &str, token: &str, pid: u32, clients: usize, per_client: usize) -> Round {
    let start = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (url, token, start) = (url.to_owned(), token.to_owned(), start.clone());
        tasks.push(tokio::spawn(async move {
            let client = client();
            let mut times = Vec::with_capacity(per_client);
            let mut errors = Vec::new();
            start.wait().await;
            for _ in 0..per_client {
                let (took, answer) = ask(&client, &url, &token).await;
                times.push(took);
                if let Err(e) = answer {
                    errors.push(e);
                }
            }
            (times, errors)
        }));
    }
    let cpu_before = cpu_time(pid);
    start.wait().await;
    let started = Instant::now();
    let mut r = Round {
        all: Vec::with_capacity(clients * per_client),
        first: Vec::with_capacity(clients),
        kept_alive: Vec::with_capacity(clients * per_client),
        errors: 0,
        first_error: None,
        wall: Duration::ZERO,
        cpu: None,
    };
    for t in tasks {
        let (times, errors) = t.await.expect("client");
        r.all.extend(&times);
        if let Some((first, rest)) = times.split_first() {
            r.first.push(*first);
            r.kept_alive.extend(rest);
        }
        r.errors += errors.len();
        if r.first_error.is_none() {
            r.first_error = errors.into_iter().next();
        }
    }
    r.wall = started.elapsed();
    r.cpu = cpu_time(pid)
        .zip(cpu_before)
        .map(|(a, b)| a.saturating_sub(b));
    r.all.sort();
    r.first.sort();
    r.kept_alive.sort();
    r
}

/// The `p`th percentile (nearest rank) of sorted `values`.
fn percentile<T: Copy>(sorted: &[T], p: f64) -> T {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "MISSED"
    }
}

/// The botocore script's answer: the provider it used and each run's milliseconds.
async fn botocore(mut command: Command, what: &str) -> (String, Vec<f64>) {
    let out = command.output().await.expect("python3");
    assert!(
        out.status.success(),
        "botocore {what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let method = answer["method"].as_str().unwrap_or_default().to_owned();
    let ms = answer["ms"]
        .as_array()
        .expect("times")
        .iter()
        .filter_map(|v| v.as_f64())
        .collect();
    (method, ms)
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/botocore_fetch.py")
}

/// The command line's [`Arguments`] (cargo adds `--bench`, which is ignored).
fn arguments() -> Arguments {
    let mut a = Arguments {
        rounds: 4,
        clients: 100,
        per_client: 50,
        runs: 50,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--rounds" => &mut a.rounds,
            "--clients" => &mut a.clients,
            "--requests" => &mut a.per_client,
            other => {
                if let Ok(n) = other.parse::<usize>() {
                    a.runs = n.max(1);
                }
                continue;
            }
        };
        let n: usize = args
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{arg} takes a number"));
        *slot = n.max(1);
    }
    a
}

#[tokio::main]
async fn main() {
    let Arguments {
        rounds,
        clients,
        per_client,
        runs,
    } = arguments();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let emu = Emulator::start(EmulatorConfig {
        auto_approve: true,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator");
    let user = signed_in(&emu).await;

    // 1. Load.
    let (exec, url, token) = serving(&user).await;
    let pid = exec.id().expect("pid");
    let (_, warm) = ask(&client(), &url, &token).await;
    if let Err(e) = warm {
        panic!("the warm-up request failed: {e}");
    }
    // Alone: what one request costs when nothing else is asked.
    let alone = round(&url, &token, pid, 1, 1000).await;
    let (rss_before, threads_before) = (rss_kib(pid), threads(pid));
    let mut loaded = Vec::new();
    for _ in 0..rounds {
        let r = round(&url, &token, pid, clients, per_client).await;
        loaded.push((r, rss_kib(pid), threads(pid)));
    }
    stop(exec).await;

    println!(
        "\nload average before: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "exec's endpoint: {clients} clients × {per_client} requests a round, each client on its own keep-alive connection"
    );
    println!(
        "{:<10} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>12} {:>10} {:>8} {:>10}",
        "round",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "errors",
        "req/s",
        "CPU µs/req",
        "RSS after",
        "threads",
        "p99 kept"
    );
    let row = |name: &str, r: &Round, rss: Option<u64>, threads: &str| {
        println!(
            "{:<10} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>7} {:>7.0} {:>12} {:>10} {:>8} {:>10.2}",
            name,
            ms(percentile(&r.all, 50.0)),
            ms(percentile(&r.all, 90.0)),
            ms(percentile(&r.all, 99.0)),
            ms(percentile(&r.all, 100.0)),
            r.errors,
            r.all.len() as f64 / r.wall.as_secs_f64(),
            r.cpu.map_or_else(
                || "n/a".into(),
                |c| format!("{:.0}", c.as_secs_f64() * 1e6 / r.all.len() as f64)
            ),
            mib(rss),
            threads,
            ms(percentile(&r.kept_alive, 99.0)),
        );
        if let Some(e) = &r.first_error {
            println!("           first error: {e}");
        }
    };
    row("alone", &alone, rss_before, &threads_before);
    for (i, (r, rss, threads)) in loaded.iter().enumerate() {
        row(&(i + 1).to_string(), r, *rss, threads);
    }
    println!("(p99 kept: requests on a connection already open; \"alone\": 1 client × 1,000)");
    for (i, (r, _, _)) in loaded.iter().enumerate() {
        println!(
            "round {}: first request of each connection (connect, owner check): p50 {:.2} ms, max {:.2} ms",
            i + 1,
            ms(percentile(&r.first, 50.0)),
            ms(percentile(&r.first, 100.0)),
        );
    }
    let worst_p99 = loaded
        .iter()
        .map(|(r, _, _)| ms(percentile(&r.all, 99.0)))
        .fold(0.0, f64::max);
    let errors: usize = alone.errors + loaded.iter().map(|(r, _, _)| r.errors).sum::<usize>();
    // The first round leaves what the allocator keeps; the last must not add to it.
    let growth = match loaded.as_slice() {
        [.., (_, Some(a), _), (_, Some(b), _)] => Some(b.saturating_sub(*a)),
        [(_, Some(b), _)] => rss_before.map(|a| b.saturating_sub(a)),
        _ => None,
    };
    println!(
        "RSS of the exec process after the warm-up: {}",
        mib(rss_before)
    );
    println!(
        "target p99 <= 5 ms: {:.2} ms, {}",
        worst_p99,
        verdict(worst_p99 <= 5.0)
    );
    println!("target 0 errors: {errors}, {}", verdict(errors == 0));
    println!(
        "target no growth over the last round: +{} KiB, {}",
        growth.map_or_else(|| "n/a".into(), |g| g.to_string()),
        // Within 256 KiB: a page or two of the allocator's, not a leak of a round's answers.
        verdict(growth.is_some_and(|g| g <= 256))
    );

    // 2. botocore through the endpoint and through credential_process, in turns of 10
    // runs, so that a machine busy for a while weighs on both alike.
    let script = script();
    let script = script.to_str().expect("path");
    // credential_process warm: its private cache holds credentials from here on.
    user.run(&["credentials", "--profile", "ops"]).await;
    let kinds = [
        "exec's endpoint (container env)",
        "credential_process (warm, private cache)",
        "keys in the environment (botocore alone)",
    ];
    let mut methods = [String::new(), String::new(), String::new()];
    let mut times: [Vec<f64>; 3] = Default::default();
    let mut left = runs;
    while left > 0 {
        let n = left.min(10);
        left -= n;
        let n = n.to_string();
        for (i, _) in kinds.iter().enumerate() {
            let command = match i {
                0 => user.cli(&["exec", "--profile", "ops", "--", "python3", script, &n]),
                1 => {
                    let mut c = user.command("python3", &[script, &n]);
                    c.env("AWS_PROFILE", "ops");
                    c
                }
                _ => {
                    let mut c = user.command("python3", &[script, &n]);
                    c.env("AWS_ACCESS_KEY_ID", "ASIABENCHMARK0000001")
                        .env("AWS_SECRET_ACCESS_KEY", "not-a-secret")
                        .env("AWS_SESSION_TOKEN", "not-a-token");
                    c
                }
            };
            let (method, ms) = botocore(command, kinds[i]).await;
            methods[i] = method;
            times[i].extend(ms);
        }
    }
    for t in &mut times {
        t.sort_by(f64::total_cmp);
    }
    println!(
        "\nbotocore: get_credentials().get_frozen_credentials() on a fresh Session, {runs} runs each"
    );
    println!(
        "{:<44} {:>16} {:>10} {:>10}",
        "source", "botocore method", "median ms", "p90 ms"
    );
    for i in 0..kinds.len() {
        println!(
            "{:<44} {:>16} {:>10.2} {:>10.2}",
            kinds[i],
            methods[i],
            percentile(&times[i], 50.0),
            percentile(&times[i], 90.0)
        );
    }
    println!(
        "credential_process / endpoint: {:.1}x the median",
        percentile(&times[1], 50.0) / percentile(&times[0], 50.0)
    );
    drop(emu);
}
