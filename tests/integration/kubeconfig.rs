//! `aws-sso-auth eks clusters` and `eks kubeconfig` against the emulator's EKS, with a
//! person's kubeconfig read back by kubectl itself; and what `favourite remove` does with
//! a favourite's kubectl entries.

use crate::cli::{clear_failure, text, Cli};
use crate::util::emulator;
use aws_sso_emulator::{EksCluster, Emulator, EmulatorConfig};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// A person's kubeconfig as kubectl writes it, with hand-written comments.
const PERSONS: &str = "\
# Lab and staging clusters. Keep this comment.
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: QUJD
    server: https://10.0.0.1:6443   # the lab
  name: lab

# ---- contexts ----
contexts:
- context:
    cluster: lab
    namespace: default
    user: lab-admin
  name: lab
current-context: lab
kind: Config
preferences: {}
users:
- name: lab-admin
  user:
    token: not-a-real-token
";

/// Signed in, with favourite `dev` (a role EKS answers) and `ro` (one it refuses), and
/// clusters `prod` and `staging` in the instance's region and `far` in another.
async fn world() -> (Emulator, Cli, String) {
    let emu = emulator(EmulatorConfig::default()).await;
    let cli = Cli::new(&emu);
    let account = cli.signed_in_with_account(0).await;
    cli.add_favourite("dev", &account, "AdministratorAccess")
        .await;
    cli.add_favourite("ro", &account, "ReadOnlyAccess").await;
    emu.configure(|c| {
        c.clusters
            .push(EksCluster::new(&account, "eu-west-1", "prod"));
        c.clusters
            .push(EksCluster::new(&account, "eu-west-1", "staging"));
        c.clusters
            .push(EksCluster::new(&account, "us-east-1", "far"));
        c.denied_roles.push("ReadOnlyAccess".into());
    });
    // The configuration is the emulator's to take in: wait until it answers with it.
    for _ in 0..50 {
        let out = cli.run(&["eks", "clusters", "--profile", "dev"]).await;
        if text(&out.stdout).contains("prod") {
            return (emu, cli, account);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the emulator never listed the clusters");
}

/// Runs the CLI with `KUBECONFIG` set to `file`.
async fn run_with(cli: &Cli, file: &Path, args: &[&str]) -> Output {
    tokio::time::timeout(
        Duration::from_secs(60),
        cli.command(args).env("KUBECONFIG", file).output(),
    )
    .await
    .expect("finishes")
    .expect("runs")
}

/// The person's kubeconfig, in their home (0640, as some people keep it).
fn persons_kubeconfig(cli: &Cli) -> PathBuf {
    let dir = cli.home.path().join(".kube");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("config");
    std::fs::write(&file, PERSONS).expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    file
}

/// What kubectl reads from `file`, in full.
fn kubectl_view(file: &Path) -> serde_json::Value {
    let out = std::process::Command::new("kubectl")
        .args(["config", "view", "--raw", "-o", "json", "--kubeconfig"])
        .arg(file)
        .output()
        .expect("kubectl runs (it is on PATH)");
    assert!(out.status.success(), "kubectl: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

/// The entry named `name` of `list` in kubectl's view.
fn named<'v>(view: &'v serde_json::Value, list: &str, name: &str) -> &'v serde_json::Value {
    view[list]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["name"] == name))
        .unwrap_or_else(|| panic!("kubectl sees no {list} entry {name}: {view:#}"))
}

/// `new` is `old` with whole lines added and nothing else changed.
fn only_lines_added(old: &str, new: &str) {
    let old: Vec<&str> = old.split_inclusive('\n').collect();
    let mut kept = 0;
    for line in new.split_inclusive('\n') {
        if kept < old.len() && old[kept] == line {
            kept += 1;
        }
    }
    assert_eq!(
        kept,
        old.len(),
        "every line of the person's is kept, in order:\n{new}"
    );
}

fn mtime(file: &Path) -> std::time::SystemTime {
    std::fs::metadata(file)
        .and_then(|m| m.modified())
        .expect("mtime")
}

#[tokio::test]
async fn clusters_are_listed_and_written_to_the_persons_kubeconfig() {
    let (_emu, cli, account) = world().await;
    let out = cli.run(&["eks", "clusters", "--profile", "dev"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut listed: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    listed.sort();
    assert_eq!(listed, ["prod", "staging"]);
    let out = cli
        .run(&[
            "eks",
            "clusters",
            "--profile",
            "dev",
            "--region",
            "us-east-1",
            "--json",
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        json,
        serde_json::json!({"profile": "dev", "region": "us-east-1", "clusters": ["far"]})
    );

    let file = persons_kubeconfig(&cli);
    let out = cli
        .run(&["eks", "kubeconfig", "--cluster", "prod", "--profile", "dev"])
        .await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!("{}: context 'dev@prod'", file.display())),
        "{err}"
    );
    // The person's current context stays; the command that switches is said.
    assert!(
        err.contains("Use it with: kubectl config use-context dev@prod"),
        "{err}"
    );

    let written = std::fs::read_to_string(&file).expect("read");
    only_lines_added(PERSONS, &written);
    assert_eq!(
        std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777,
        0o640
    );
    let view = kubectl_view(&file);
    let prod = EksCluster::new(&account, "eu-west-1", "prod");
    let arn = format!("arn:aws:eks:eu-west-1:{account}:cluster/prod");
    let cluster = named(&view, "clusters", &arn);
    assert_eq!(cluster["cluster"]["server"], prod.endpoint.as_str());
    assert_eq!(
        cluster["cluster"]["certificate-authority-data"],
        prod.certificate_authority_data.as_str()
    );
    let user_name = format!("aws-sso-auth:dev:{arn}");
    let exec = &named(&view, "users", &user_name)["user"]["exec"];
    assert_eq!(exec["apiVersion"], "client.authentication.k8s.io/v1beta1");
    assert_eq!(exec["command"], env!("CARGO_BIN_EXE_aws-sso-auth"));
    assert_eq!(
        exec["args"],
        serde_json::json!([
            "eks",
            "token",
            "--cluster",
            "prod",
            "--profile",
            "dev",
            "--region",
            "eu-west-1"
        ])
    );
    let context = &named(&view, "contexts", "dev@prod")["context"];
    assert_eq!(context["cluster"], arn.as_str());
    assert_eq!(context["user"], user_name.as_str());
    // The person's entries are all there.
    assert_eq!(
        named(&view, "clusters", "lab")["cluster"]["server"],
        "https://10.0.0.1:6443"
    );
    assert_eq!(
        named(&view, "contexts", "lab")["context"]["namespace"],
        "default"
    );
    assert_eq!(
        named(&view, "users", "lab-admin")["user"]["token"],
        "not-a-real-token"
    );
    assert_eq!(view["current-context"], "lab");

    // A second run changes nothing, and does not even write.
    let before = mtime(&file);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let out = cli
        .run(&["eks", "kubeconfig", "--cluster", "prod", "--profile", "dev"])
        .await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("(unchanged)"), "{err}");
    assert_eq!(mtime(&file), before);
    assert_eq!(std::fs::read_to_string(&file).expect("read"), written);

    // A new kubeconfig (KUBECONFIG's first file): 0600 in a new private directory, and
    // its current context is ours.
    let fresh = cli.home.path().join("new/dir/kubeconfig");
    let other = cli.home.path().join("other");
    let list = format!("{}:{}", fresh.display(), other.display());
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        cli.command(&[
            "eks",
            "kubeconfig",
            "--cluster",
            "staging",
            "--profile",
            "dev",
            "--alias",
            "stg",
        ])
        .env("KUBECONFIG", &list)
        .output(),
    )
    .await
    .expect("finishes")
    .expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!other.exists());
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&fresh), 0o600);
    assert_eq!(mode(fresh.parent().expect("dir")), 0o700);
    let view = kubectl_view(&fresh);
    assert_eq!(
        named(&view, "contexts", "stg")["context"]["cluster"],
        format!("arn:aws:eks:eu-west-1:{account}:cluster/staging")
    );
    // With other files in KUBECONFIG, whose current context kubectl may take, none is set.
    assert_eq!(view["current-context"], "");
    let out = run_with(
        &cli,
        &fresh,
        &["eks", "kubeconfig", "--cluster", "prod", "--profile", "dev"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("It is kubectl's current context now."),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(kubectl_view(&fresh)["current-context"], "dev@prod");
}

#[tokio::test]
async fn what_cannot_be_done_is_one_sentence_and_the_file_is_untouched() {
    let (emu, cli, _) = world().await;
    let file = persons_kubeconfig(&cli);
    let calls = emu.counters().eks_calls;
    let out = cli
        .run(&["eks", "kubeconfig", "--cluster", "nope", "--profile", "dev"])
        .await;
    clear_failure(
        &out,
        1,
        "favourite 'dev' sees no EKS cluster 'nope' in eu-west-1; list them with: aws-sso-auth eks clusters --profile dev --region eu-west-1",
    )
    .unwrap_or_else(|p| panic!("{p}"));
    assert!(emu.counters().eks_calls > calls, "EKS was asked");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), PERSONS);

    let out = cli
        .run(&["eks", "kubeconfig", "--cluster", "prod", "--profile", "ro"])
        .await;
    clear_failure(
        &out,
        1,
        "favourite 'ro' may not call EKS DescribeCluster in eu-west-1 (access denied)",
    )
    .unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), PERSONS);
    let out = cli.run(&["eks", "clusters", "--profile", "ro"]).await;
    clear_failure(
        &out,
        1,
        "favourite 'ro' may not call EKS ListClusters in eu-west-1",
    )
    .unwrap_or_else(|p| panic!("{p}"));

    let out = cli
        .run(&[
            "eks",
            "kubeconfig",
            "--cluster",
            "prod",
            "--profile",
            "dev",
            "--alias",
            "lab",
        ])
        .await;
    clear_failure(&out, 1, "already has a context \"lab\" that aws-sso-tray did not write (nothing was changed); choose another name with --alias")
        .unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), PERSONS);

    // A kubeconfig that is not YAML is named with its line, and nothing is asked of AWS.
    let broken = cli.home.path().join("broken");
    let not_yaml = "apiVersion: v1\nclusters:\n\t- name: tab-indented\n";
    std::fs::write(&broken, not_yaml).expect("write");
    let calls = emu.counters().eks_calls;
    let out = run_with(
        &cli,
        &broken,
        &["eks", "kubeconfig", "--cluster", "prod", "--profile", "dev"],
    )
    .await;
    clear_failure(
        &out,
        1,
        &format!("{} is not valid YAML (line 3", broken.display()),
    )
    .unwrap_or_else(|p| panic!("{p}"));
    assert!(
        text(&out.stderr).contains("so it was not changed"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(emu.counters().eks_calls, calls);
    assert_eq!(std::fs::read_to_string(&broken).expect("read"), not_yaml);
    let out = run_with(
        &cli,
        &broken,
        &["eks", "kubeconfig", "--remove", "--profile", "dev"],
    )
    .await;
    clear_failure(&out, 1, "is not valid YAML").unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(std::fs::read_to_string(&broken).expect("read"), not_yaml);
}

#[tokio::test]
async fn removing_a_favourite_keeps_its_entries_without_a_terminal_and_says_how_to_remove_them() {
    let (_emu, cli, account) = world().await;
    cli.add_favourite("ops", &account, "AdministratorAccess")
        .await;
    let file = persons_kubeconfig(&cli);
    for (cluster, profile) in [("prod", "dev"), ("staging", "dev"), ("prod", "ops")] {
        let out = cli
            .run(&[
                "eks",
                "kubeconfig",
                "--cluster",
                cluster,
                "--profile",
                profile,
            ])
            .await;
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let with_ours = std::fs::read_to_string(&file).expect("read");

    // No terminal (stdin is not one): the entries stay, and the command is printed.
    let out = cli.run(&["favourite", "remove", "dev"]).await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("Removed favourite 'dev'"), "{err}");
    assert!(
        err.contains(&format!(
            "{} still holds contexts 'dev@prod', 'dev@staging', 2 users and 1 cluster of 'dev' for kubectl, which no longer work;",
            file.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("remove them with: aws-sso-auth eks kubeconfig --remove --profile dev\n"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), with_ours);

    // The command works on the file alone, for a favourite that is gone.
    let out = cli
        .run(&["eks", "kubeconfig", "--remove", "--profile", "dev"])
        .await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "{}: removed contexts 'dev@prod', 'dev@staging', 2 users and 1 cluster of 'dev'.",
            file.display()
        )),
        "{err}"
    );
    // What is left is the person's, and the other favourite's (with the cluster it
    // shares).
    let view = kubectl_view(&file);
    // (kubectl lists them by name.)
    let names = |list: &str| -> Vec<String> {
        let mut names: Vec<String> = view[list]
            .as_array()
            .expect("list")
            .iter()
            .map(|e| e["name"].as_str().expect("name").to_owned())
            .collect();
        names.sort();
        names
    };
    let prod = format!("arn:aws:eks:eu-west-1:{account}:cluster/prod");
    assert_eq!(names("contexts"), ["lab", "ops@prod"]);
    assert_eq!(names("clusters"), [prod.clone(), "lab".to_owned()]);
    assert_eq!(
        names("users"),
        [format!("aws-sso-auth:ops:{prod}"), "lab-admin".to_owned()]
    );
    only_lines_added(PERSONS, &std::fs::read_to_string(&file).expect("read"));
    let out = cli
        .run(&["eks", "kubeconfig", "--remove", "--profile", "dev"])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("holds no kubectl entries of 'dev' (unchanged)"));
    let out = cli.run(&["favourite", "remove", "ro"]).await;
    assert!(out.status.success());
    assert!(
        !text(&out.stderr).contains("kubectl"),
        "{}",
        text(&out.stderr)
    );
    // One cluster's entries of a favourite, by name.
    let out = cli
        .run(&[
            "eks",
            "kubeconfig",
            "--remove",
            "--profile",
            "ops",
            "--cluster",
            "prod",
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), PERSONS);
}

/// Runs the CLI on a terminal (`script` gives it one), typing `typed`: its output
/// (stdout and stderr together, as the terminal shows them).
async fn on_a_terminal(cli: &Cli, args: &[&str], typed: &str) -> String {
    use tokio::io::AsyncWriteExt;
    let template = cli.command(args);
    let template = template.as_std();
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = quote(&template.get_program().to_string_lossy());
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    let mut c = tokio::process::Command::new("script");
    c.args(["-q", "-e", "-c", &line, "/dev/null"]);
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    let mut child = c
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("script runs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(typed.as_bytes()).await.expect("typed");
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("finishes")
        .expect("runs");
    drop(stdin);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[tokio::test]
async fn on_a_terminal_removing_a_favourite_offers_to_remove_its_entries() {
    let (_emu, cli, account) = world().await;
    let file = persons_kubeconfig(&cli);
    let out = cli
        .run(&["eks", "kubeconfig", "--cluster", "prod", "--profile", "dev"])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = on_a_terminal(&cli, &["favourite", "remove", "dev"], "y\n").await;
    assert!(
        shown.contains(&format!(
            "{} holds context 'dev@prod', 1 user and 1 cluster of 'dev' for kubectl. Remove them too? [y/N]",
            file.display()
        )),
        "{shown}"
    );
    assert!(
        shown.contains("removed context 'dev@prod', 1 user and 1 cluster of 'dev'."),
        "{shown}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), PERSONS);
    // Anything but yes keeps them.
    cli.add_favourite("ops", &account, "AdministratorAccess")
        .await;
    let out = cli
        .run(&["eks", "kubeconfig", "--cluster", "prod", "--profile", "ops"])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let with_ops = std::fs::read_to_string(&file).expect("read");
    let shown = on_a_terminal(&cli, &["favourite", "remove", "ops"], "n\n").await;
    assert!(shown.contains("Remove them too? [y/N]"), "{shown}");
    assert!(
        shown.contains("remove them with: aws-sso-auth eks kubeconfig --remove --profile ops"),
        "{shown}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), with_ops);
}
