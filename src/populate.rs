//! A profile for every role: which roles (account and role globs), under which names (a
//! template), with which region and output. Pure: it turns an account list into the
//! profiles to generate; [`crate::awsfiles::AwsFiles::generate`] writes them.
//!
//! Names come from the service, so every placeholder's value is made into characters the
//! AWS CLI and SDKs accept: accents dropped (`Zürich` → `Zurich`), every other run of
//! characters outside `A-Z a-z 0-9 - _ . @ +` one `-`. An account name with nothing left
//! gives its id. The name the window suggests for one role follows the same rule
//! ([`suggested_profile_name`]).

use crate::awsfiles::generate::{Generation, RoleProfile, SsoSession};
use crate::awsfiles::{is_profile_name_char, ProfileName};
use crate::error::{Error, Result};
use crate::instance::{validate_region, Instance};
use crate::portal::{AccountRoles, NameGlob};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// The template when none is set: `Acme-Prod.AdministratorAccess`.
pub const DEFAULT_TEMPLATE: &str = "{account_name}.{role_name}";

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &["account_name", "account_id", "role_name", "portal"];

/// The scopes the generated `[sso-session]` registers with: what the portal needs.
pub const SCOPES: &str = "sso:account:access";

/// The output formats the AWS CLI knows.
const OUTPUTS: &[&str] = &["json", "yaml", "yaml-stream", "text", "table"];

/// Which profiles to generate, as `settings.json` keeps it (`awsCliProfiles` in the
/// preferences) and the command line's flags give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProfileRules {
    /// The name of each profile, from [`PLACEHOLDERS`] in braces and literal text.
    pub template: String,
    /// Only accounts whose name or id matches this glob.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts: Option<String>,
    /// Only roles whose name matches this glob.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<String>,
    /// `region` in every profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `output` in every profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Generate again after each complete read of the account list.
    pub auto_apply: bool,
}

impl Default for ProfileRules {
    fn default() -> Self {
        Self {
            template: DEFAULT_TEMPLATE.to_owned(),
            accounts: None,
            roles: None,
            region: None,
            output: None,
            auto_apply: false,
        }
    }
}

impl ProfileRules {
    /// Checks every part; the first that is wrong is the error.
    pub fn validate(&self) -> Result<Checked> {
        let template = Template::new(&self.template)?;
        let glob = |g: &Option<String>| {
            g.as_deref()
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(NameGlob::new)
                .transpose()
        };
        let region = self
            .region
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(validate_region)
            .transpose()?;
        let output = match self
            .output
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty())
        {
            Some(o) if OUTPUTS.contains(&o) => Some(o.to_owned()),
            Some(o) => {
                return Err(Error::InvalidPreference {
                    name: "output".into(),
                    detail: format!(
                        "'{}' is not an AWS CLI output format; it is one of {}",
                        o.escape_debug(),
                        OUTPUTS.join(", ")
                    ),
                })
            }
            None => None,
        };
        Ok(Checked {
            template,
            accounts: glob(&self.accounts)?,
            roles: glob(&self.roles)?,
            region,
            output,
        })
    }
}

/// [`ProfileRules`], checked.
#[derive(Debug)]
pub struct Checked {
    template: Template,
    accounts: Option<NameGlob>,
    roles: Option<NameGlob>,
    region: Option<String>,
    output: Option<String>,
}

impl Checked {
    /// The profiles for `accounts` of `instance` (named `portal` in names and as the
    /// `[sso-session]`), sorted by account name, account id, then role.
    pub fn generation(
        &self,
        instance: &Instance,
        portal: &str,
        accounts: &[AccountRoles],
    ) -> Generation {
        let portal = part(portal).unwrap_or_else(|| "sso".to_owned());
        let mut profiles: Vec<(String, RoleProfile)> = Vec::new();
        for a in accounts {
            let account = &a.account;
            let wanted = self.accounts.as_ref().is_none_or(|g| {
                g.is_match(&account.account_name) || g.is_match(&account.account_id)
            });
            if !wanted {
                continue;
            }
            for role in &a.roles {
                if self
                    .roles
                    .as_ref()
                    .is_some_and(|g| !g.is_match(&role.role_name))
                {
                    continue;
                }
                let name = self.template.render(
                    &account.account_name,
                    &account.account_id,
                    &role.role_name,
                    &portal,
                );
                profiles.push((
                    account.account_name.to_lowercase(),
                    RoleProfile {
                        name,
                        account_id: account.account_id.clone(),
                        role_name: role.role_name.clone(),
                    },
                ));
            }
        }
        profiles.sort_by(|(a, x), (b, y)| {
            (a, &x.account_id, &x.role_name).cmp(&(b, &y.account_id, &y.role_name))
        });
        Generation {
            session: SsoSession {
                name: portal_session_name(&portal),
                start_url: instance.start_url().to_owned(),
                region: instance.region().to_owned(),
                scopes: SCOPES.to_owned(),
            },
            profiles: profiles.into_iter().map(|(_, p)| p).collect(),
            region: self.region.clone(),
            output: self.output.clone(),
        }
    }
}

/// A short name for an access portal: its label if it has one, else its host (the first
/// part of `*.awsapps.com`).
pub fn portal_name(instance: &Instance, label: Option<&str>) -> String {
    if let Some(label) = label.and_then(part) {
        return label;
    }
    let host = instance.host();
    let host = host.strip_suffix(".awsapps.com").unwrap_or(&host);
    part(host).unwrap_or_else(|| "sso".to_owned())
}

fn portal_session_name(portal: &str) -> ProfileName {
    ProfileName::lossy(portal, "sso")
}

/// A checked template: literal text in the AWS CLI's characters, and placeholders.
#[derive(Debug, Clone)]
pub struct Template {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Slot(Slot),
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    AccountName,
    AccountId,
    RoleName,
    Portal,
}

impl Template {
    /// Checks `template`: its placeholders must be known and its own text in characters
    /// the AWS CLI and SDKs accept in a profile name.
    pub fn new(template: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidTemplate {
            template: template
                .chars()
                .take(80)
                .collect::<String>()
                .escape_debug()
                .to_string(),
            reason,
        };
        let mut pieces = Vec::new();
        let mut rest = template.trim();
        if rest.is_empty() {
            return Err(invalid("it is empty".into()));
        }
        while !rest.is_empty() {
            match rest.find(['{', '}']) {
                Some(0) if rest.starts_with('{') => {
                    let end = rest
                        .find('}')
                        .ok_or_else(|| invalid("a '{' is not closed by '}'".into()))?;
                    let slot = match &rest[1..end] {
                        "account_name" => Slot::AccountName,
                        "account_id" => Slot::AccountId,
                        "role_name" => Slot::RoleName,
                        "portal" => Slot::Portal,
                        other => {
                            return Err(invalid(format!(
                                "{{{}}} is not a placeholder; they are {}",
                                other.escape_debug(),
                                PLACEHOLDERS
                                    .iter()
                                    .map(|p| format!("{{{p}}}"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )))
                        }
                    };
                    pieces.push(Piece::Slot(slot));
                    rest = &rest[end + 1..];
                }
                Some(0) => return Err(invalid("a '}' has no '{' before it".into())),
                found => {
                    let end = found.unwrap_or(rest.len());
                    let text = &rest[..end];
                    if let Some(c) = text.chars().find(|c| !is_profile_name_char(*c)) {
                        return Err(invalid(format!(
                            "'{}' is not allowed in a profile name (letters, digits and - _ . / % @ : + are)",
                            c.escape_debug()
                        )));
                    }
                    pieces.push(Piece::Text(text.to_owned()));
                    rest = &rest[end..];
                }
            }
        }
        if !pieces
            .iter()
            .any(|p| matches!(p, Piece::Slot(Slot::RoleName)))
            || !pieces
                .iter()
                .any(|p| matches!(p, Piece::Slot(Slot::AccountName | Slot::AccountId)))
        {
            return Err(invalid(
                "it needs {role_name} and {account_name} or {account_id}, or every role would get the same name".into(),
            ));
        }
        Ok(Self { pieces })
    }

    /// The profile name for one role: at most 128 characters, never empty.
    pub fn render(
        &self,
        account_name: &str,
        account_id: &str,
        role_name: &str,
        portal: &str,
    ) -> ProfileName {
        let mut name = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => name.push_str(t),
                Piece::Slot(Slot::AccountName) => name.push_str(
                    &part(account_name)
                        .or_else(|| part(account_id))
                        .unwrap_or_else(|| "account".into()),
                ),
                Piece::Slot(Slot::AccountId) => {
                    name.push_str(&part(account_id).unwrap_or_else(|| "account".into()))
                }
                Piece::Slot(Slot::RoleName) => {
                    name.push_str(&part(role_name).unwrap_or_else(|| "role".into()))
                }
                Piece::Slot(Slot::Portal) => name.push_str(portal),
            }
        }
        ProfileName::lossy(&name, "role")
    }
}

/// The longest suggested profile name: whole in the window's form at its default width (a
/// longer one may be typed, up to the [`crate::awsfiles::PROFILE_NAME_MAX`] the AWS files
/// allow).
pub const SUGGESTED_MAX: usize = 48;

/// The profile name suggested for one role (the window's add-favourite form asks for it):
/// `account-role` from the names, made valid by the rule every generated name follows
/// (accents dropped, each other run of characters one `-`), here only lower-case letters
/// and digits, so that it reads as one word. At most [`SUGGESTED_MAX`] long: the role's
/// part is cut to half of that, then the account's to what is left. Never empty: an
/// account name with no Latin letter or digit gives its id (`総務部` → `210987654321-admin`),
/// a role name none gives `role`.
pub fn suggested_profile_name(
    account_name: &str,
    account_id: &str,
    role_name: &str,
) -> ProfileName {
    let role = slug(role_name).unwrap_or_default();
    let role = match cut(&role, SUGGESTED_MAX / 2) {
        "" => "role",
        role => role,
    };
    let account = slug(account_name)
        .or_else(|| slug(account_id))
        .unwrap_or_else(|| "account".to_owned());
    let account = cut(&account, SUGGESTED_MAX - role.len() - 1);
    ProfileName::lossy(&format!("{account}-{role}"), "account-role")
}

/// `text` (ASCII) cut to `max` characters, without a `-` at its end.
fn cut(text: &str, max: usize) -> &str {
    text.get(..max).unwrap_or(text).trim_end_matches('-')
}

/// `text` in the characters of a profile name: accents dropped, each other run of
/// characters one `-`, none at either end; `None` when nothing is left.
fn part(text: &str) -> Option<String> {
    name_part(text, |c| c.is_ascii_alphanumeric() || "-_.@+".contains(c))
}

/// `text` as lower-case ASCII letters and digits, every other run of characters one `-`:
/// [`part`] for a name that reads as one word (`Zürich Café` → `zurich-cafe`).
fn slug(text: &str) -> Option<String> {
    name_part(text, |c| c.is_ascii_alphanumeric()).map(|s| s.to_ascii_lowercase())
}

/// The one rule that makes a name from the service into part of a profile name: its
/// compatibility decomposition (NFKD) with the combining marks dropped (`Zürich` →
/// `Zurich`, `Ｏｒｇ` → `Org`); of that, the characters `keep` allows, each run of others
/// one `-`; no `-` or `.` at either end; `None` when nothing is left.
fn name_part(text: &str, keep: impl Fn(char) -> bool) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    for c in text.nfkd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        if keep(c) {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches(['-', '.']);
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::{Account, Role};

    fn account(id: &str, name: &str, roles: &[&str]) -> AccountRoles {
        AccountRoles {
            account: Account {
                account_id: id.into(),
                account_name: name.into(),
                email_address: None,
            },
            roles: roles
                .iter()
                .map(|r| Role {
                    account_id: id.into(),
                    role_name: (*r).into(),
                })
                .collect(),
        }
    }

    fn instance() -> Instance {
        Instance::new("https://acme.awsapps.com/start", "eu-west-1").unwrap()
    }

    #[test]
    fn names_are_valid_whatever_the_service_calls_things() {
        let t = Template::new(DEFAULT_TEMPLATE).unwrap();
        let name = |a: &str, r: &str| t.render(a, "111122223333", r, "acme").to_string();
        assert_eq!(
            name("Acme Prod", "AdministratorAccess"),
            "Acme-Prod.AdministratorAccess"
        );
        assert_eq!(name("team/dev (eu)", "Read Only"), "team-dev-eu.Read-Only");
        assert_eq!(name("Zürich Café", "Admin"), "Zurich-Cafe.Admin");
        assert_eq!(name("\u{202e}evil\nname", "a&b<i>"), "evil-name.a-b-i");
        assert_eq!(name("東京", "Admin"), "111122223333.Admin");
        let long = "x".repeat(300);
        assert_eq!(name(&long, "Admin").as_str().len(), 128);
        let t = Template::new("{portal}/{account_id}/{role_name}").unwrap();
        assert_eq!(t.render("a", "1", "R", "acme").as_str(), "acme/1/R");
    }

    #[test]
    fn suggested_names_read_as_one_word_and_fit_the_form() {
        let name = |a: &str, r: &str| suggested_profile_name(a, "210987654321", r).to_string();
        assert_eq!(name("Zürich Café", "Admin"), "zurich-cafe-admin");
        assert_eq!(
            name("<b>R&D</b> \u{202e}lab", "Read_Only"),
            "b-r-d-b-lab-read-only"
        );
        assert_eq!(name("総務部", "管理者"), "210987654321-role");
        assert_eq!(suggested_profile_name("", "", "").as_str(), "account-role");
        // The account's part is cut first; the role keeps at least half.
        let long = name(&"Payments Platform ".repeat(8), &"Power User ".repeat(8));
        assert_eq!(long, "payments-platform-payme-power-user-power-user-po");
        assert!(long.len() <= SUGGESTED_MAX, "{long}");
        assert_eq!(
            name("acme", &"x".repeat(100)).len(),
            4 + 1 + SUGGESTED_MAX / 2
        );
    }

    #[test]
    fn bad_templates_say_what_is_wrong() {
        for (bad, says) in [
            ("", "empty"),
            ("{account}.{role_name}", "not a placeholder"),
            ("{account_name}.{role_name", "not closed"),
            ("{account_name} {role_name}", "' ' is not allowed"),
            ("{account_name}]{role_name}", "']' is not allowed"),
            ("{role_name}", "needs"),
            ("{account_name}}", "no '{'"),
        ] {
            let err = Template::new(bad).unwrap_err().to_string();
            assert!(err.contains(says), "{bad:?}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn filters_pick_accounts_by_name_or_id_and_roles_by_name() {
        let accounts = [
            account("111111111111", "dev", &["Admin", "ReadOnly"]),
            account("222222222222", "prod", &["Admin", "ReadOnly"]),
        ];
        let rules = ProfileRules {
            accounts: Some("22*".into()),
            roles: Some("read*".into()),
            region: Some("eu-west-1".into()),
            output: Some("json".into()),
            ..ProfileRules::default()
        };
        let g = rules
            .validate()
            .unwrap()
            .generation(&instance(), "acme", &accounts);
        let names: Vec<&str> = g.profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["prod.ReadOnly"]);
        assert_eq!(g.session.name.as_str(), "acme");
        assert_eq!(g.region.as_deref(), Some("eu-west-1"));
        let bad = ProfileRules {
            output: Some("xml".into()),
            ..ProfileRules::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("json"));
    }

    #[test]
    fn portals_are_named_by_label_or_host() {
        assert_eq!(portal_name(&instance(), None), "acme");
        assert_eq!(portal_name(&instance(), Some("My Org")), "My-Org");
        let ip = Instance::new("http://127.0.0.1:4000/start", "eu-west-1").unwrap();
        assert_eq!(portal_name(&ip, None), "127.0.0.1");
    }
}
