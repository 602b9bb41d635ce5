//! Benchmark: a profile for every role of 1,000 accounts × 3 roles (3,000 profiles) from
//! the cached list, into a config file that already holds the user's own sections: the
//! first generation, a second that finds nothing to do, one after access to 10 accounts
//! went; each one read under the lock and at most one write. Then how long botocore (the
//! AWS CLI's reader) takes to load the resulting file.
//!
//! `cargo bench --bench generate [-- ACCOUNTS]` (default: 1000)

use aws_sso_device_auth_provider::awsfiles::AwsFiles;
use aws_sso_device_auth_provider::populate::ProfileRules;
use aws_sso_device_auth_provider::{Account, AccountRoles, Instance, Role};
use std::time::Instant;

const ROLES: [&str; 3] = ["AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess"];
const RUNS: usize = 5;

const USERS_CONFIG: &str = "[default]\nregion = eu-west-1\noutput = json\n\n\
# set up by hand\n[profile work]\nsso_session = corp\nsso_account_id = 111122223333\n\
sso_role_name = ReadOnly\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n\
sso_region = eu-west-1\n";

fn accounts(n: usize) -> Vec<AccountRoles> {
    (0..n)
        .map(|i| {
            let account_id = format!("{:012}", 100_000_000 + i);
            AccountRoles {
                roles: ROLES
                    .iter()
                    .map(|r| Role {
                        account_id: account_id.clone(),
                        role_name: (*r).to_owned(),
                    })
                    .collect(),
                account: Account {
                    account_id,
                    account_name: format!("Workload {i} (prod)"),
                    email_address: None,
                },
            }
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000);
    let instance = Instance::new("https://acme.awsapps.com/start", "eu-west-1").expect("instance");
    let rules = ProfileRules::default().validate().expect("rules");
    let all = accounts(n);
    let fewer: Vec<AccountRoles> = all.iter().skip(10).cloned().collect();
    let (mut first, mut again, mut gone) = (Vec::new(), Vec::new(), Vec::new());
    let mut config = std::path::PathBuf::new();
    for _ in 0..RUNS {
        let dir = tempfile::tempdir().expect("dir");
        let files = AwsFiles::new(dir.path().join("credentials"), dir.path().join("config"));
        std::fs::write(files.config_file(), USERS_CONFIG).expect("config");
        let timed = |accounts: &[AccountRoles]| {
            let started = Instant::now();
            let generation = rules.generation(&instance, "acme", accounts);
            let g = files.generate(&generation, true).expect("generate");
            (started.elapsed().as_secs_f64(), g)
        };
        let (s, g) = timed(&all);
        assert_eq!((g.created.len(), g.written), (n * ROLES.len(), true));
        first.push(s);
        let (s, g) = timed(&all);
        assert!(!g.written && g.unchanged == n * ROLES.len());
        again.push(s);
        let (s, g) = timed(&fewer);
        assert_eq!(g.removed.len(), 10 * ROLES.len());
        gone.push(s);
        // The full file, for botocore.
        timed(&all);
        config =
            std::env::temp_dir().join(format!("aws-sso-generate-bench-{}", std::process::id()));
        std::fs::copy(files.config_file(), &config).expect("copy");
    }
    let bytes = std::fs::metadata(&config).map(|m| m.len()).unwrap_or(0);
    println!(
        "{} profiles ({} accounts × {} roles), config file {} KiB, median of {RUNS}:",
        n * ROLES.len(),
        n,
        ROLES.len(),
        bytes / 1024
    );
    println!(
        "  first generation (one write):          {:>8.1} ms",
        median(first) * 1e3
    );
    println!(
        "  again, nothing to change (no write):   {:>8.1} ms",
        median(again) * 1e3
    );
    println!(
        "  10 accounts gone (30 removed, 1 write): {:>7.1} ms",
        median(gone) * 1e3
    );
    let script = "import sys, time\nfrom botocore.session import Session\n\
                  times = []\nfor _ in range(5):\n    s = Session()\n    t = time.perf_counter()\n    \
                  n = len(s.full_config['profiles'])\n    times.append(time.perf_counter() - t)\n\
                  times.sort()\nprint(n, times[2])\n";
    match std::process::Command::new("python3")
        .args(["-c", script])
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
    {
        Ok(out) if out.status.success() => {
            let said = String::from_utf8_lossy(&out.stdout);
            let mut parts = said.split_whitespace();
            let profiles = parts.next().unwrap_or("?");
            let secs: f64 = parts
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(f64::NAN);
            println!(
                "  botocore loads it ({profiles} profiles):    {:>8.1} ms",
                secs * 1e3
            );
        }
        _ => println!("  botocore: not installed (bash scripts/install-deps installs it)"),
    }
    let _ = std::fs::remove_file(&config);
}
