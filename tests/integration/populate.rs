//! A profile for every role: generated into the config file without losing a byte of the
//! user's, stable across runs, cleaned up when access goes; and read by botocore's own SSO
//! provider against the emulator, with the token the app shares.

use crate::awsfiles::{botocore_reads, fixtures};
use crate::cli::{text, Cli};
use crate::util::{emulator, unique_start_url};
use aws_sso_device_auth_provider::awsfiles::generate::{Generated, Holder};
use aws_sso_device_auth_provider::awsfiles::{AwsFiles, MARKER};
use aws_sso_device_auth_provider::populate::ProfileRules;
use aws_sso_device_auth_provider::{Account, AccountRoles, Instance, Role};
use aws_sso_emulator::EmulatorConfig;
use std::path::Path;

fn instance() -> Instance {
    Instance::new("https://acme.awsapps.com/start", "eu-west-1").expect("instance")
}

fn account(id: u64, name: &str, roles: &[&str]) -> AccountRoles {
    let account_id = format!("{id:012}");
    AccountRoles {
        roles: roles
            .iter()
            .map(|r| Role {
                account_id: account_id.clone(),
                role_name: (*r).to_owned(),
            })
            .collect(),
        account: Account {
            account_id,
            account_name: name.to_owned(),
            email_address: None,
        },
    }
}

fn generate(files: &AwsFiles, rules: &ProfileRules, accounts: &[AccountRoles]) -> Generated {
    let generation = rules
        .validate()
        .expect("rules")
        .generation(&instance(), "acme", accounts);
    files.generate(&generation, true).expect("generate")
}

fn files_in(dir: &Path) -> AwsFiles {
    AwsFiles::new(dir.join("credentials"), dir.join("config"))
}

/// The generated profile sections of a config text, by name.
fn generated_names(config: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut header = None;
    for line in config.lines() {
        if let Some(name) = line
            .strip_prefix("[profile ")
            .and_then(|l| l.strip_suffix(']'))
        {
            header = Some(name.to_owned());
        } else if line.starts_with("# managed by aws-sso-tray, generated") {
            names.extend(header.take());
        } else if line.starts_with('[') {
            header = None;
        }
    }
    names
}

fn some_accounts() -> Vec<AccountRoles> {
    vec![
        account(111, "Acme Prod", &["AdministratorAccess", "ReadOnly"]),
        account(222, "team/dev (eu)", &["ReadOnly"]),
        account(333, "Zürich Café", &["Billing"]),
        account(444, "\u{202e}evil\nname", &["ReadOnly"]),
    ]
}

#[test]
fn every_accepted_file_keeps_its_bytes_and_botocore_reads_the_users_sections_as_before() {
    let rules = ProfileRules {
        region: Some("eu-west-1".into()),
        ..ProfileRules::default()
    };
    let mut paths = fixtures("accepted");
    paths.extend(fixtures("aws-cli-only"));
    assert!(paths.len() >= 45, "{} fixtures", paths.len());
    let (mut originals, mut generated) = (Vec::new(), Vec::new());
    for path in &paths {
        let original = std::fs::read_to_string(path).expect("fixture");
        let dir = tempfile::tempdir().expect("dir");
        let files = files_in(dir.path());
        std::fs::write(files.config_file(), &original).expect("seed");
        let label = path.file_name().expect("name").to_string_lossy();

        let first = generate(&files, &rules, &some_accounts());
        let after = std::fs::read_to_string(files.config_file()).expect("read");
        assert_eq!(first.created.len(), 5, "{label}: {first:?}");
        assert!(first.written && first.session_created, "{label}");
        // Sections go at the end: the user's text is the start of the file.
        let kept = original.trim_end_matches(['\r', '\n']);
        assert!(after.starts_with(kept), "{label}: {after:?}");

        // Twice is once: no write, the same bytes.
        let again = generate(&files, &rules, &some_accounts());
        assert!(!again.written && !again.changes(), "{label}: {again:?}");
        assert_eq!(again.unchanged, 5, "{label}");
        assert_eq!(
            std::fs::read_to_string(files.config_file()).expect("read"),
            after
        );

        // No role left: every generated section goes, and the file is as it was (a last
        // line that had no line end keeps the one it was given).
        let gone = generate(&files, &rules, &[]);
        assert_eq!(gone.removed.len(), 5, "{label}");
        assert!(gone.session_removed, "{label}");
        let back = std::fs::read_to_string(files.config_file()).expect("read");
        let ended = |eol: &str| {
            !original.is_empty()
                && !original.ends_with(['\n', '\r'])
                && back == format!("{original}{eol}")
        };
        assert!(
            back == original || ended("\n") || ended("\r\n"),
            "{label}: not given back byte for byte: {back:?}"
        );
        originals.push(original);
        generated.push(after);
    }
    // botocore, the AWS CLI's own reader: the user's sections read as before, ours too.
    let before = botocore_reads(&originals);
    let after = botocore_reads(&generated);
    let mut compared = 0;
    for ((path, before), after) in paths.iter().zip(before).zip(after) {
        let label = path.display();
        // A file only the Rust SDK reads (duplicate sections) stays one botocore refuses.
        let Some(before) = before else {
            assert!(after.is_none(), "{label}");
            continue;
        };
        let mut after = after.unwrap_or_else(|| panic!("{label}: botocore refuses our write"));
        compared += 1;
        let ours = after
            .as_object_mut()
            .expect("sections")
            .remove("profile Acme-Prod.AdministratorAccess")
            .unwrap_or_else(|| panic!("{label}: botocore does not see our profile"));
        assert_eq!(ours["sso_session"], "acme", "{label}");
        assert_eq!(ours["sso_account_id"], "000000000111", "{label}");
        assert_eq!(ours["region"], "eu-west-1", "{label}");
        let after = after.as_object_mut().expect("sections");
        after.retain(|name, section| {
            section.get("sso_session").and_then(|s| s.as_str()) != Some("acme")
                && name != "sso-session acme"
        });
        assert_eq!(
            &serde_json::Value::Object(after.clone()),
            &before,
            "{label}"
        );
    }
    assert!(compared >= 40, "botocore read {compared} fixtures");
}

#[test]
fn names_are_stable_and_the_users_sections_win() {
    let dir = tempfile::tempdir().expect("dir");
    let files = files_in(dir.path());
    let users_config = "# my own\n[profile dev.Admin]\nregion = us-east-1\n\n[sso-session acme]\nsso_start_url = https://elsewhere.awsapps.com/start\nsso_region = us-east-1\n";
    std::fs::write(files.config_file(), users_config).expect("config");
    let favourite = format!("[prod.Admin]\n{MARKER}\naws_access_key_id = AKIA\n");
    std::fs::write(files.credentials_file(), &favourite).expect("credentials");
    let accounts = vec![
        account(500, "dev", &["Admin"]),
        account(300, "prod", &["Admin"]),
        // Two accounts the template names alike, and a third.
        account(900, "Shared", &["Admin"]),
        account(200, "Shared!", &["Admin"]),
        account(100, "Shared?", &["Admin"]),
    ];
    let rules = ProfileRules::default();
    let g = generate(&files, &rules, &accounts);
    // The user's [sso-session acme] is another portal's: ours is acme-2.
    assert_eq!(g.session, "acme-2");
    let taken: Vec<(&str, Holder, usize)> = g
        .taken
        .iter()
        .map(|t| (t.name.as_str(), t.holder, t.line))
        .collect();
    assert_eq!(
        taken,
        [
            ("prod.Admin", Holder::Favourite, 1),
            ("dev.Admin", Holder::User, 2)
        ]
    );
    let renamed: Vec<(&str, &str)> = g
        .renamed
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    // Alike names: the lowest account id keeps the name.
    assert_eq!(
        renamed,
        [
            ("Shared.Admin", "Shared.Admin-000000000200"),
            ("Shared.Admin", "Shared.Admin-000000000900")
        ]
    );
    let config = std::fs::read_to_string(files.config_file()).expect("read");
    assert!(config.starts_with(users_config), "{config}");
    assert!(
        config.contains(
            "[profile Shared.Admin]\n# managed by aws-sso-tray, generated with sso-session acme-2"
        ),
        "{config}"
    );
    assert_eq!(
        std::fs::read_to_string(files.credentials_file()).expect("read"),
        favourite
    );

    // A new account the template also names `Shared.Admin`, with a lower id, takes no name
    // from the roles that have them.
    let mut more = accounts.clone();
    more.push(account(50, "Shared", &["Admin"]));
    let g = generate(&files, &rules, &more);
    assert_eq!(
        g.created.iter().map(|n| n.as_str()).collect::<Vec<_>>(),
        ["Shared.Admin-000000000050"]
    );
    assert!(g.updated.is_empty() && g.removed.is_empty(), "{g:?}");

    // The user deletes the marker of one: it is theirs from then on, never touched.
    let config = std::fs::read_to_string(files.config_file()).expect("read");
    let marker_line = "[profile Shared.Admin]\n# managed by aws-sso-tray, generated with sso-session acme-2 (delete this line to keep the section as your own)\n";
    assert!(config.contains(marker_line));
    let adopted = config.replace(marker_line, "[profile Shared.Admin]\n");
    std::fs::write(files.config_file(), &adopted).expect("adopt");
    let g = generate(&files, &rules, &more[..4]);
    assert_eq!(
        g.removed.iter().map(|n| n.as_str()).collect::<Vec<_>>(),
        ["Shared.Admin-000000000050"]
    );
    assert!(std::fs::read_to_string(files.config_file())
        .expect("read")
        .contains("[profile Shared.Admin]\nsso_session = acme-2\n"));
}

#[test]
fn three_thousand_profiles_in_one_write_and_access_removed_removes_exactly_its_own() {
    let dir = tempfile::tempdir().expect("dir");
    let files = files_in(dir.path());
    let users = "[default]\nregion = eu-west-1\n";
    std::fs::write(files.config_file(), users).expect("config");
    let roles = ["AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess"];
    let mut accounts: Vec<AccountRoles> = (0..1_000)
        .map(|i| account(100_000 + i, &format!("workload {i} prod"), &roles))
        .collect();
    let rules = ProfileRules::default();
    let g = generate(&files, &rules, &accounts);
    assert_eq!(g.created.len(), 3_000);
    let config = std::fs::read_to_string(files.config_file()).expect("read");
    assert_eq!(generated_names(&config).len(), 3_000);
    let g = generate(&files, &rules, &accounts);
    assert_eq!((g.unchanged, g.written), (3_000, false));

    // Access to two accounts goes, one role goes elsewhere.
    accounts.remove(500);
    accounts.remove(10);
    accounts[0].roles.pop();
    let g = generate(&files, &rules, &accounts);
    let removed: Vec<&str> = g.removed.iter().map(|n| n.as_str()).collect();
    assert_eq!(
        removed,
        [
            "workload-0-prod.ReadOnlyAccess",
            "workload-10-prod.AdministratorAccess",
            "workload-10-prod.PowerUserAccess",
            "workload-10-prod.ReadOnlyAccess",
            "workload-500-prod.AdministratorAccess",
            "workload-500-prod.PowerUserAccess",
            "workload-500-prod.ReadOnlyAccess",
        ]
    );
    assert!(g.created.is_empty() && g.updated.is_empty());
    let after = std::fs::read_to_string(files.config_file()).expect("read");
    assert!(after.starts_with(users));
    assert_eq!(generated_names(&after).len(), 2_993);
    // The preview of the same change is the diff of exactly those sections.
    let diff = g.diff();
    assert_eq!(
        diff.lines().filter(|l| l.starts_with("-[profile ")).count(),
        7,
        "{diff}"
    );
    assert!(
        !diff
            .lines()
            .any(|l| l.starts_with('+') && !l.starts_with("+++")),
        "{diff}"
    );
}

#[test]
fn a_file_nobody_can_read_is_not_touched() {
    let dir = tempfile::tempdir().expect("dir");
    let files = files_in(dir.path());
    std::fs::write(files.config_file(), "[profile a\nregion = x\n").expect("config");
    let generation = ProfileRules::default()
        .validate()
        .expect("rules")
        .generation(&instance(), "acme", &some_accounts());
    let err = files
        .generate(&generation, true)
        .expect_err("refused")
        .to_string();
    assert!(err.contains("line 1"), "{err}");
    assert_eq!(
        std::fs::read_to_string(files.config_file()).expect("read"),
        "[profile a\nregion = x\n"
    );
}

#[tokio::test]
async fn botocore_signs_in_with_a_generated_profile_and_profiles_follow_access() {
    let emu = emulator(EmulatorConfig {
        accounts: 4,
        roles_per_account: 2,
        account_names: vec![
            "Acme Prod".into(),
            "team/dev".into(),
            "Zürich".into(),
            "\u{202e}evil\nname".into(),
        ],
        ..EmulatorConfig::default()
    })
    .await;
    let cli = Cli::new(&emu);
    let home = cli.home.path();
    std::fs::create_dir_all(home.join(".config/aws-sso-tray")).expect("mkdir");
    std::fs::write(
        home.join(".config/aws-sso-tray/settings.json"),
        r#"{"preferences": {"shareSessionWithAwsCli": true}}"#,
    )
    .expect("settings");
    let org = emu.organisation();
    let first_role = org[0].roles[0].clone();
    std::fs::create_dir_all(home.join(".aws")).expect("mkdir");
    let users = format!("# mine\n[default]\nregion = eu-west-1\n\n[profile Acme-Prod.{first_role}]\nregion = us-east-1\n");
    let config = home.join(".aws/config");
    std::fs::write(&config, &users).expect("config");
    let start_url = unique_start_url();
    cli.login(&start_url).await;

    // The preview: a diff on stdout, nothing written.
    let out = cli.run(&["profile", "generate", "--dry-run"]).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.starts_with(&format!(
            "--- {}\n+++ {}\n",
            config.display(),
            config.display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("+[profile team-dev."), "{stdout}");
    assert!(stdout.contains("+sso_start_url = "), "{stdout}");
    assert!(
        stderr.contains("Preview of") && stderr.contains("would add 7 profiles"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("Not generated: Acme-Prod.{first_role}"))
            && stderr.contains("a profile of yours"),
        "{stderr}"
    );
    assert!(!stdout.contains('\u{202e}') && !stderr.contains('\u{202e}'));
    assert_eq!(std::fs::read_to_string(&config).expect("read"), users);

    let out = cli
        .run(&["profile", "generate", "--region", "eu-central-1", "--save"])
        .await;
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("added 7 profiles"), "{stderr}");
    let written = std::fs::read_to_string(&config).expect("read");
    assert!(written.starts_with(&users), "{written}");
    assert_eq!(generated_names(&written).len(), 7, "{written}");
    assert!(written.contains("[profile evil-name."), "{written}");
    let out = cli.run(&["profile", "generate"]).await;
    assert!(
        text(&out.stderr).contains("already holds these profiles"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&config).expect("read"),
        written,
        "saved rules, same file"
    );

    // botocore, as the AWS CLI runs it: its SSO provider, the shared token, the emulator.
    let profile = format!("team-dev.{}", org[1].roles[0]);
    let before = emu.counters();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/botocore_sso.py");
    // Awaited: the emulator answers on this test's runtime.
    let out = tokio::process::Command::new("python3")
        .arg(&script)
        .arg(&profile)
        .env("HOME", home)
        .env("AWS_ENDPOINT_URL_SSO", &cli.endpoint)
        .env_remove("AWS_CONFIG_FILE")
        .env_remove("AWS_SHARED_CREDENTIALS_FILE")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .output()
        .await
        .expect("python3");
    assert!(out.status.success(), "botocore: {}", text(&out.stderr));
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(read["method"], "sso", "{read}");
    assert!(
        read["accessKeyId"].as_str().is_some_and(|k| !k.is_empty()),
        "{read}"
    );
    assert!(emu.counters().get_role_credentials > before.get_role_credentials);

    // Access to one account goes: exactly its generated profiles go with it.
    let mut fewer = (*org).clone();
    let gone = fewer.remove(1);
    emu.set_organisation(fewer);
    let out = cli.run(&["profile", "generate", "--refresh"]).await;
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("removed 2"), "{stderr}");
    let after = std::fs::read_to_string(&config).expect("read");
    let mut expected = generated_names(&written);
    expected.retain(|n| !gone.roles.iter().any(|r| *n == format!("team-dev.{r}")));
    assert_eq!(generated_names(&after), expected);
    assert!(after.starts_with(&users) && after.contains("region = eu-central-1"));

    // A bad template is refused with what to do, and nothing changes.
    let out = cli
        .run(&["profile", "generate", "--template", "{account}"])
        .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("not a placeholder") && stderr.contains("--template"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&config).expect("read"), after);
}
