//! `docker-credential-aws-sso` as docker runs it: the CLI under test behind a link of
//! that name, the action as its one argument, the input on stdin, the answer (or the
//! error docker shows) on stdout and the exit status; against the emulator's ECR. Then
//! `ecr login` (the favourite chosen, docker's config file changed as text) and
//! `ecr install-helper`; last, the real docker client pulling a manifest through the
//! helper from a registry stand-in (`docker_registry.py`).

use crate::cli::{text, Cli};
use crate::util::emulator;
use aws_sso_emulator::{Emulator, EmulatorConfig};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

const NOT_FOUND: &str = "credentials not found in native keychain\n";

/// A signed-in user with a directory holding the helper (a link to the CLI under test)
/// and one for docker's config.
struct Docker {
    cli: Cli,
    bin: tempfile::TempDir,
    config: tempfile::TempDir,
}

impl Docker {
    fn new(emu: &Emulator) -> Self {
        let bin = tempfile::tempdir().expect("bin");
        std::os::unix::fs::symlink(
            env!("CARGO_BIN_EXE_aws-sso-auth"),
            bin.path().join("docker-credential-aws-sso"),
        )
        .expect("link");
        Self {
            cli: Cli::new(emu),
            bin,
            config: tempfile::tempdir().expect("config"),
        }
    }

    fn helper_path(&self) -> PathBuf {
        self.bin.path().join("docker-credential-aws-sso")
    }

    fn config_file(&self) -> PathBuf {
        self.config.path().join("config.json")
    }

    /// `program args`, in the user's environment (the CLI's, with DOCKER_CONFIG and
    /// `more`), `input` on stdin.
    async fn run_program(
        &self,
        program: &Path,
        args: &[&str],
        input: &str,
        more: &[(&str, String)],
    ) -> Output {
        let base = self.cli.command(&[]);
        let mut c = Command::new(program);
        for (k, v) in base.as_std().get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c.args(args)
            .env("DOCKER_CONFIG", self.config.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in more {
            c.env(k, v);
        }
        let mut child = c.spawn().expect("spawn");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input.as_bytes()).await.expect("input");
        drop(stdin);
        tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .expect("finishes")
            .expect("runs")
    }

    /// `docker-credential-aws-sso ACTION` with `input` on stdin.
    async fn helper(&self, action: &[&str], input: &str) -> Output {
        self.run_program(&self.helper_path(), action, input, &[])
            .await
    }

    /// `aws-sso-auth ARGS` with docker's config where this user keeps it.
    async fn cli(&self, args: &[&str]) -> Output {
        self.run_program(Path::new(env!("CARGO_BIN_EXE_aws-sso-auth")), args, "", &[])
            .await
    }

    /// `get` of `server`, which must succeed: the JSON answer.
    async fn get(&self, server: &str) -> serde_json::Value {
        let out = self.helper(&["get"], server).await;
        assert!(
            out.status.success(),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON")
    }

    fn settings(&self) -> serde_json::Value {
        let path = self
            .cli
            .home
            .path()
            .join(".config/aws-sso-tray/settings.json");
        serde_json::from_slice(&std::fs::read(path).expect("settings")).expect("JSON")
    }

    /// The `ecrRegions` of favourite `profile` in the settings file.
    fn ecr_regions(&self, profile: &str) -> serde_json::Value {
        let settings = self.settings();
        let f = settings["favourites"]
            .as_array()
            .expect("favourites")
            .iter()
            .find(|f| f["profile"] == profile)
            .cloned()
            .expect("the favourite");
        f.get("ecrRegions")
            .cloned()
            .unwrap_or(serde_json::json!([]))
    }
}

fn host(account: &str, region: &str) -> String {
    format!("{account}.dkr.ecr.{region}.amazonaws.com")
}

/// A failure as docker sees it: exit status 1, the sentence on stdout (one line),
/// holding `expected`.
fn assert_refused(out: &Output, expected: &str) -> String {
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}{}", text(&out.stderr));
    assert!(said.contains(expected), "expected {expected:?} in {said:?}");
    assert_eq!(said.lines().count(), 1, "{said:?}");
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
    said
}

#[tokio::test]
async fn get_answers_for_the_three_host_forms_and_reuses_the_password() {
    let emu = emulator(EmulatorConfig::default()).await;
    let d = Docker::new(&emu);
    let account = d.cli.signed_in_with_account(0).await;
    d.cli.add_favourite("dev", &account, "ReadOnlyAccess").await;

    let before = emu.counters().ecr_calls;
    let server = host(&account, "eu-west-1");
    let first = d.get(&server).await;
    assert_eq!(first["ServerURL"], server.as_str());
    assert_eq!(first["Username"], "AWS");
    let password = first["Secret"].as_str().expect("secret").to_owned();
    assert_eq!(
        emu.ecr_password_owner(&password),
        Some((account.clone(), "eu-west-1".to_owned()))
    );
    assert_eq!(emu.counters().ecr_calls, before + 1);

    // The same registry as docker may name it again: one file read, no AWS call.
    let role_calls = emu.counters().get_role_credentials;
    for again in [
        format!("https://{server}"),
        format!("https://{server}:443/v2/"),
        format!("{server}\n"),
    ] {
        let answer = d.get(&again).await;
        assert_eq!(answer["Secret"], password.as_str(), "{again}");
        assert_eq!(answer["ServerURL"], again.trim(), "as given");
    }
    assert_eq!(emu.counters().ecr_calls, before + 1, "reused");
    assert_eq!(emu.counters().get_role_credentials, role_calls);

    // The FIPS host and the China partition: their own registries, their own passwords.
    let fips = format!("{account}.dkr.ecr-fips.us-east-1.amazonaws.com");
    let p = d.get(&format!("https://{fips}/v2/")).await;
    assert_eq!(
        emu.ecr_password_owner(p["Secret"].as_str().expect("secret")),
        Some((account.clone(), "us-east-1".to_owned()))
    );
    let china = format!("{account}.dkr.ecr.cn-north-1.amazonaws.com.cn");
    let p = d.get(&china).await;
    assert_eq!(
        emu.ecr_password_owner(p["Secret"].as_str().expect("secret")),
        Some((account.clone(), "cn-north-1".to_owned()))
    );
    assert_eq!(emu.counters().ecr_calls, before + 3);

    // Kept private: 0600 files in a 0700 directory; no password in the settings.
    use std::os::unix::fs::PermissionsExt;
    let dir = d.cli.home.path().join(".cache/aws-sso-tray/ecr-tokens");
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    let settings = d.settings().to_string();
    assert!(!settings.contains(&password));

    // A favourite that assumes a role in another account is that account's login.
    let other = emu.organisation()[2].account_id.clone();
    let out = d
        .cli
        .add_assuming(
            "deploy",
            &account,
            "ReadOnlyAccess",
            &format!("arn:aws:iam::{other}:role/ci/Deploy"),
            &[],
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let p = d.get(&host(&other, "eu-west-1")).await;
    assert_eq!(
        emu.ecr_password_owner(p["Secret"].as_str().expect("secret")),
        Some((other, "eu-west-1".to_owned()))
    );
}

#[tokio::test]
async fn a_host_that_is_not_ecr_is_not_found_and_nothing_else_is_said() {
    let emu = emulator(EmulatorConfig::default()).await;
    let d = Docker::new(&emu);
    let account = d.cli.signed_in_with_account(0).await;
    d.cli.add_favourite("dev", &account, "ReadOnlyAccess").await;
    let before = emu.counters();
    for server in [
        "docker.io".to_owned(),
        "https://index.docker.io/v1/".to_owned(),
        "ghcr.io".to_owned(),
        "public.ecr.aws".to_owned(),
        format!("{account}.dkr.ecr.eu-west-1.amazonaws.com.evil.example"),
        format!("{account}1.dkr.ecr.eu-west-1.amazonaws.com"),
        format!("{account}.dkr.ecr.cn-north-1.amazonaws.com"),
    ] {
        let out = d.helper(&["get"], &server).await;
        assert_eq!(out.status.code(), Some(1), "{server}");
        assert_eq!(text(&out.stdout), NOT_FOUND, "{server}");
        assert_eq!(text(&out.stderr), "", "{server}");
    }
    let after = emu.counters();
    assert_eq!(after.ecr_calls, before.ecr_calls);
    assert_eq!(after.get_role_credentials, before.get_role_credentials);
    // An ECR registry of an account no favourite is of: a sentence saying so.
    let nobody = emu.organisation()[3].account_id.clone();
    let said = assert_refused(
        &d.helper(&["get"], &host(&nobody, "eu-west-1")).await,
        &format!("no favourite holds credentials of account {nobody}"),
    );
    assert!(said.contains("aws-sso-auth favourite add"), "{said}");
}

#[tokio::test]
async fn two_favourites_of_one_account_need_a_choice_which_ecr_login_makes() {
    let emu = emulator(EmulatorConfig::default()).await;
    let d = Docker::new(&emu);
    let account = d.cli.signed_in_with_account(0).await;
    d.cli
        .add_favourite("reader", &account, "ReadOnlyAccess")
        .await;
    d.cli
        .add_favourite("power", &account, "PowerUserAccess")
        .await;
    let server = host(&account, "eu-west-1");
    let said = assert_refused(
        &d.helper(&["get"], &server).await,
        &format!("2 favourites hold credentials of account {account} and none is chosen"),
    );
    assert!(said.contains("reader") && said.contains("power"), "{said}");
    assert!(
        said.contains("aws-sso-auth ecr login --profile NAME --region eu-west-1"),
        "{said}"
    );

    let calls = emu.counters().ecr_calls;
    let out = d.cli(&["ecr", "login", "--profile", "power"]).await;
    let told = text(&out.stderr);
    assert!(out.status.success(), "{told}");
    assert!(
        told.contains(&format!("Docker logs in to {server} as favourite 'power'")),
        "{told}"
    );
    assert!(told.contains("install-helper"), "not on PATH: {told}");
    assert_eq!(d.ecr_regions("power"), serde_json::json!(["eu-west-1"]));
    assert_eq!(
        emu.counters().ecr_calls,
        calls + 1,
        "the password got at once"
    );
    let p = d.get(&server).await;
    assert_eq!(
        emu.counters().ecr_calls,
        calls + 1,
        "and handed out from the cache"
    );
    assert!(emu
        .ecr_password_owner(p["Secret"].as_str().expect("secret"))
        .is_some());
    let listed = d.helper(&["list"], "unused").await;
    assert!(listed.status.success());
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&listed.stdout).expect("JSON"),
        serde_json::json!({ server.clone(): "AWS" })
    );

    // Chosen again, elsewhere: taken from the first; another region is another login.
    let out = d
        .cli(&[
            "ecr",
            "login",
            "--profile",
            "reader",
            "--region",
            "eu-west-1",
        ])
        .await;
    let told = text(&out.stderr);
    assert!(out.status.success(), "{told}");
    assert!(
        told.contains("Until now it was favourite 'power'."),
        "{told}"
    );
    assert_eq!(d.ecr_regions("reader"), serde_json::json!(["eu-west-1"]));
    assert_eq!(d.ecr_regions("power"), serde_json::json!([]));
    let out = d
        .cli(&[
            "ecr",
            "login",
            "--profile",
            "power",
            "--region",
            "us-east-2",
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(d.ecr_regions("power"), serde_json::json!(["us-east-2"]));
    assert_eq!(d.ecr_regions("reader"), serde_json::json!(["eu-west-1"]));
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.config_file()).expect("config")).expect("JSON");
    assert_eq!(
        config["credHelpers"],
        serde_json::json!({ server.clone(): "aws-sso", host(&account, "us-east-2"): "aws-sso" })
    );
    let calls = emu.counters().ecr_calls;
    let p = d.get(&server).await;
    assert_eq!(
        emu.counters().ecr_calls,
        calls,
        "reader's, got by its ecr login"
    );
    assert!(emu
        .ecr_password_owner(p["Secret"].as_str().expect("secret"))
        .is_some());

    // Pointed at another role of its account it stays docker's login there; pointed at
    // another account, it is not that account's.
    let out = d
        .cli(&[
            "favourite",
            "edit",
            "reader",
            "--role",
            "AdministratorAccess",
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(d.ecr_regions("reader"), serde_json::json!(["eu-west-1"]));
    let elsewhere = emu.organisation()[1].account_id.clone();
    let out = d
        .cli(&["favourite", "edit", "reader", "--account", &elsewhere])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(d.ecr_regions("reader"), serde_json::json!([]));

    // A favourite that is not there, a region that is not one.
    let out = d.cli(&["ecr", "login", "--profile", "nobody"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("nobody"),
        "{}",
        text(&out.stderr)
    );
    let out = d
        .cli(&["ecr", "login", "--profile", "reader", "--region", "mars"])
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("'mars' is not an AWS region"));
}

#[tokio::test]
async fn a_role_without_access_gets_a_sentence_and_changes_nothing() {
    let emu = emulator(EmulatorConfig {
        denied_roles: vec!["ReadOnlyAccess".into()],
        ..EmulatorConfig::default()
    })
    .await;
    let d = Docker::new(&emu);
    let account = d.cli.signed_in_with_account(0).await;
    d.cli.add_favourite("dev", &account, "ReadOnlyAccess").await;
    let server = host(&account, "eu-west-1");
    let said = assert_refused(
        &d.helper(&["get"], &server).await,
        &format!(
            "favourite 'dev' (ReadOnlyAccess in account {account}) cannot get a password for the ECR registry {server}"
        ),
    );
    assert!(said.contains("ecr:GetAuthorizationToken"), "{said}");
    let out = d.cli(&["ecr", "login", "--profile", "dev"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot get a password"),
        "{}",
        text(&out.stderr)
    );
    assert!(!d.config_file().exists(), "docker's config untouched");
    assert_eq!(d.ecr_regions("dev"), serde_json::json!([]));
}

#[tokio::test]
async fn store_erase_list_and_version_as_the_protocol_says() {
    let emu = emulator(EmulatorConfig::default()).await;
    let d = Docker::new(&emu);

    let out = d.helper(&["version"], "").await;
    assert!(out.status.success());
    assert!(
        text(&out.stdout).starts_with("docker-credential-aws-sso (aws-sso-auth) "),
        "{}",
        text(&out.stdout)
    );
    let usage = "Usage: docker-credential-aws-sso <store|get|erase|list|version>";
    assert_refused(&d.helper(&[], "").await, usage);
    assert_refused(&d.helper(&["get", "extra"], "").await, usage);
    assert_refused(
        &d.helper(&["fetch"], "").await,
        "Unknown credential action `fetch`",
    );
    assert_refused(
        &d.helper(&["get"], "  \n").await,
        "no credentials server URL",
    );
    assert_refused(&d.helper(&["erase"], "").await, "no credentials server URL");

    let account = d.cli.signed_in_with_account(0).await;
    let out = d.helper(&["list"], "unused").await;
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "{}\n", "nothing chosen yet");
    d.cli.add_favourite("dev", &account, "ReadOnlyAccess").await;
    let server = host(&account, "eu-west-1");
    let password = d.get(&server).await["Secret"]
        .as_str()
        .expect("secret")
        .to_owned();

    // What docker stores back after a `docker login` with the password it was given.
    let store = |server: &str, user: &str, secret: &str| {
        serde_json::json!({"ServerURL": server, "Username": user, "Secret": secret}).to_string()
    };
    let out = d
        .helper(&["store"], &store(&server, "AWS", &password))
        .await;
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert_eq!(text(&out.stdout), "");
    let said = assert_refused(
        &d.helper(&["store"], &store(&server, "AWS", "another"))
            .await,
        "docker-credential-aws-sso keeps no passwords",
    );
    assert!(!said.contains(&password), "no secret said");
    assert_refused(
        &d.helper(&["store"], &store("ghcr.io", "me", "pat")).await,
        "answers only for Amazon ECR registries, which ghcr.io is not",
    );
    assert_refused(
        &d.helper(&["store"], &store(&server, "", "x")).await,
        "no credentials username",
    );
    assert_refused(
        &d.helper(&["store"], &store("", "AWS", "x")).await,
        "no credentials server URL",
    );
    assert_refused(&d.helper(&["store"], "not json").await, "not JSON");

    // Erase forgets the kept password: the next get asks ECR again.
    let calls = emu.counters().ecr_calls;
    let out = d.helper(&["erase"], &format!("https://{server}")).await;
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert_eq!(text(&out.stdout), "");
    d.get(&server).await;
    assert_eq!(emu.counters().ecr_calls, calls + 1);
    let out = d.helper(&["erase"], "ghcr.io").await;
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "");
}

#[tokio::test]
async fn ecr_login_changes_docker_config_as_text_and_keeps_the_rest() {
    use std::os::unix::fs::PermissionsExt;
    let emu = emulator(EmulatorConfig::default()).await;
    let d = Docker::new(&emu);
    let account = d.cli.signed_in_with_account(0).await;
    d.cli.add_favourite("dev", &account, "ReadOnlyAccess").await;
    let server = host(&account, "eu-west-1");

    // A file docker and another helper wrote: tabs, auths, credsStore, other helpers.
    let mine = "{\n\t\"auths\": {\n\t\t\"ghcr.io\": {\n\t\t\t\"auth\": \"bWU6cGF0\"\n\t\t}\n\t},\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\"\n\t},\n\t\"credsStore\": \"pass\",\n\t\"psFormat\": \"table {{.ID}}\\t{{.Names}}\"\n}";
    std::fs::write(d.config_file(), mine).expect("write");
    std::fs::set_permissions(d.config_file(), std::fs::Permissions::from_mode(0o640))
        .expect("chmod");
    let out = d.cli(&["ecr", "login", "--profile", "dev"]).await;
    let told = text(&out.stderr);
    assert!(out.status.success(), "{told}");
    assert!(told.contains("Added"), "{told}");
    let after = std::fs::read_to_string(d.config_file()).expect("read");
    assert_eq!(
        after,
        mine.replace(
            "\"gcloud\"\n",
            &format!("\"gcloud\",\n\t\t\"{server}\": \"aws-sso\"\n")
        )
    );
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&d.config_file()), 0o640, "its mode kept");

    // Once more: nothing to change.
    let out = d.cli(&["ecr", "login", "--profile", "dev"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("already names aws-sso"));
    assert_eq!(
        std::fs::read_to_string(d.config_file()).expect("read"),
        after
    );

    // Not JSON: named, untouched, and the favourite not chosen.
    let broken = "{\"auths\": {},\n";
    std::fs::write(d.config_file(), broken).expect("write");
    let out = d
        .cli(&["ecr", "login", "--profile", "dev", "--region", "us-west-2"])
        .await;
    let told = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{told}");
    assert!(
        told.contains(&d.config_file().display().to_string()),
        "{told}"
    );
    assert!(told.contains("is not a docker config file"), "{told}");
    assert_eq!(
        std::fs::read_to_string(d.config_file()).expect("read"),
        broken
    );
    assert_eq!(d.ecr_regions("dev"), serde_json::json!(["eu-west-1"]));

    // Another helper named for the registry is the user's: left alone.
    std::fs::write(
        d.config_file(),
        format!("{{\"credHelpers\": {{\"{server}\": \"ecr-login\"}}}}"),
    )
    .expect("write");
    let out = d.cli(&["ecr", "login", "--profile", "dev"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("credential helper 'ecr-login'"),
        "{}",
        text(&out.stderr)
    );

    // No DOCKER_CONFIG: ~/.docker/config.json, made private.
    let mut plain = d.cli.command(&["ecr", "login", "--profile", "dev"]);
    let out = tokio::time::timeout(Duration::from_secs(60), plain.output())
        .await
        .expect("finishes")
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let home_config = d.cli.home.path().join(".docker/config.json");
    assert_eq!(
        std::fs::read_to_string(&home_config).expect("made"),
        format!("{{\n\t\"credHelpers\": {{\n\t\t\"{server}\": \"aws-sso\"\n\t}}\n}}\n")
    );
    assert_eq!(mode(&home_config), 0o600);
    assert_eq!(mode(home_config.parent().expect("dir")), 0o700);
}

#[tokio::test]
async fn install_helper_is_idempotent_and_leaves_another_file_alone() {
    let emu = emulator(EmulatorConfig::default()).await;
    let d = Docker::new(&emu);
    let dir = d.cli.home.path().join("bin");
    let dir_s = dir.display().to_string();
    let out = d.cli(&["ecr", "install-helper", "--dir", &dir_s]).await;
    let told = text(&out.stderr);
    assert!(out.status.success(), "{told}");
    let link = dir.join("docker-credential-aws-sso");
    assert!(told.contains(&format!("Made {}", link.display())), "{told}");
    assert!(told.contains("is not on PATH"), "{told}");
    assert_eq!(
        std::fs::canonicalize(&link).expect("link"),
        std::fs::canonicalize(env!("CARGO_BIN_EXE_aws-sso-auth")).expect("program")
    );
    let on_path = format!("{dir_s}:/usr/bin:/bin");
    let out = d
        .run_program(
            Path::new(env!("CARGO_BIN_EXE_aws-sso-auth")),
            &["ecr", "install-helper", "--dir", &dir_s],
            "",
            &[("PATH", on_path.clone())],
        )
        .await;
    let told = text(&out.stderr);
    assert!(out.status.success(), "{told}");
    assert!(told.contains("is a link to this program already"), "{told}");
    assert!(told.contains("is on PATH"), "{told}");
    // It answers as the helper.
    let out = d.run_program(&link, &["version"], "", &[]).await;
    assert!(text(&out.stdout).starts_with("docker-credential-aws-sso "));

    let other = d.cli.home.path().join("other");
    std::fs::create_dir(&other).expect("mkdir");
    std::fs::write(other.join("docker-credential-aws-sso"), "#!/bin/sh\n").expect("write");
    let out = d
        .cli(&[
            "ecr",
            "install-helper",
            "--dir",
            &other.display().to_string(),
        ])
        .await;
    let told = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{told}");
    assert!(
        told.contains("is not a link to this program (another file)"),
        "{told}"
    );
    assert_eq!(
        std::fs::read_to_string(other.join("docker-credential-aws-sso")).expect("read"),
        "#!/bin/sh\n"
    );

    // ecr login finds it on PATH.
    let account = d.cli.signed_in_with_account(0).await;
    d.cli.add_favourite("dev", &account, "ReadOnlyAccess").await;
    let out = d
        .run_program(
            Path::new(env!("CARGO_BIN_EXE_aws-sso-auth")),
            &["ecr", "login", "--profile", "dev"],
            "",
            &[("PATH", on_path)],
        )
        .await;
    let told = text(&out.stderr);
    assert!(out.status.success(), "{told}");
    assert!(
        told.contains(&format!("Docker runs {} for it.", link.display())),
        "{told}"
    );
}

/// The docker client (no daemon needed) inspects a manifest in an ECR registry: it runs
/// the helper for the registry's password and sends it to the registry stand-in, which
/// checks it with the emulator.
#[tokio::test]
async fn docker_itself_gets_the_password_through_the_helper() {
    let Some(docker) = find_program("docker") else {
        // scripts/install-deps installs it: in CI its absence is a failure.
        assert!(
            std::env::var_os("CI").is_none(),
            "no docker client on PATH (scripts/install-deps installs one)"
        );
        eprintln!("no docker client on PATH: skipped");
        return;
    };
    let emu = emulator(EmulatorConfig::default()).await;
    let d = Docker::new(&emu);
    let account = d.cli.signed_in_with_account(0).await;
    d.cli.add_favourite("dev", &account, "ReadOnlyAccess").await;
    let path = format!(
        "{}:{}",
        d.bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = d
        .run_program(
            Path::new(env!("CARGO_BIN_EXE_aws-sso-auth")),
            &["ecr", "login", "--profile", "dev"],
            "",
            &[("PATH", path.clone())],
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/docker_registry.py");
    let mut stub = Command::new("python3")
        .arg(&script)
        .arg(emu.endpoint())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3");
    let mut port = String::new();
    BufReader::new(stub.stdout.take().expect("stdout"))
        .read_line(&mut port)
        .await
        .expect("port");
    let proxy = format!("http://127.0.0.1:{}", port.trim());
    let log = tokio::spawn({
        let stderr = stub.stderr.take().expect("stderr");
        async move {
            let mut lines = BufReader::new(stderr).lines();
            let mut log = Vec::new();
            while let Ok(Some(line)) = lines.next_line().await {
                log.push(line);
            }
            log
        }
    });

    let calls = emu.counters().ecr_calls;
    let image = format!("{}/team/app:1.0", host(&account, "eu-west-1"));
    let env = [
        ("PATH", path),
        ("HTTP_PROXY", proxy.clone()),
        ("HTTPS_PROXY", proxy.clone()),
        ("http_proxy", proxy.clone()),
        ("https_proxy", proxy),
        ("NO_PROXY", String::new()),
        ("no_proxy", String::new()),
        ("DOCKER_CLI_HINTS", "false".into()),
    ];
    let out = d
        .run_program(
            &docker,
            &["manifest", "inspect", "--insecure", &image],
            "",
            &env,
        )
        .await;
    stub.kill().await.expect("stopped");
    let log = log.await.expect("log").join("\n");
    assert!(
        out.status.success(),
        "docker: {}{}\nregistry: {log}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).expect("manifest");
    assert_eq!(manifest["schemaVersion"], 2);
    assert!(
        log.contains(&format!("authorized {account} eu-west-1")),
        "{log}"
    );
    assert!(!log.contains("refused"), "{log}");
    assert_eq!(
        emu.counters().ecr_calls,
        calls,
        "the password ecr login got, handed out by the helper"
    );
}

/// `name` on PATH.
fn find_program(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
