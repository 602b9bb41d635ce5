//! A generated organisation with realistic names, the same for the same size.

use serde::Serialize;

/// One account of the organisation, with the roles the signed-in user has in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgAccount {
    /// 12 digits.
    pub account_id: String,
    /// A landing-zone style name.
    pub account_name: String,
    /// The root e-mail.
    pub email_address: String,
    /// Role names assigned to the user.
    pub roles: Vec<String>,
}

const CORE: [&str; 5] = [
    "management",
    "log-archive",
    "audit",
    "shared-services",
    "network-hub",
];
const TEAMS: [&str; 16] = [
    "payments",
    "identity",
    "search",
    "checkout",
    "billing",
    "mobile-api",
    "analytics",
    "data-platform",
    "ml-research",
    "logistics",
    "customer-portal",
    "notifications",
    "inventory",
    "security-tooling",
    "web-frontend",
    "partner-integrations",
];
const STAGES: [&str; 5] = ["prod", "staging", "dev", "qa", "sandbox"];
const ROLES: [&str; 10] = [
    "AdministratorAccess",
    "ReadOnlyAccess",
    "PowerUserAccess",
    "ViewOnlyAccess",
    "DeveloperAccess",
    "Billing",
    "SecurityAudit",
    "DatabaseAdministrator",
    "NetworkAdministrator",
    "SupportUser",
];

/// SplitMix64: scatters account ids over the 12-digit space, the same every run.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The organisation `config` asks for: generated, with its `account_names` first.
pub fn of(config: &crate::EmulatorConfig) -> Vec<OrgAccount> {
    let mut org = generate(config.accounts, config.roles_per_account);
    for (account, name) in org.iter_mut().zip(&config.account_names) {
        account.account_name = name.clone();
    }
    org
}

/// Builds `accounts` accounts with `roles_per_account` roles each (at most 10).
pub fn generate(accounts: usize, roles_per_account: usize) -> Vec<OrgAccount> {
    let per = roles_per_account.min(ROLES.len());
    (0..accounts)
        .map(|i| {
            let name = if i < CORE.len() {
                CORE[i].to_owned()
            } else {
                let j = i - CORE.len();
                let base = format!(
                    "{}-{}",
                    TEAMS[j % TEAMS.len()],
                    STAGES[(j / TEAMS.len()) % STAGES.len()]
                );
                match j / (TEAMS.len() * STAGES.len()) {
                    0 => base,
                    n => format!("{base}-{}", n + 1),
                }
            };
            let id = 100_000_000_000 + mix(i as u64) % 900_000_000_000;
            // The first three roles are the common ones; the rest vary by account.
            let roles = (0..per)
                .map(|k| {
                    if k < 3 {
                        ROLES[k]
                    } else {
                        ROLES[3 + (k - 3 + i) % (ROLES.len() - 3)]
                    }
                    .to_owned()
                })
                .collect();
            OrgAccount {
                account_id: format!("{id:012}"),
                email_address: format!("aws+{name}@example.com"),
                account_name: name,
                roles,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_thousand_accounts_have_unique_ids_and_names() {
        let org = generate(1_000, 3);
        let ids: HashSet<_> = org.iter().map(|a| &a.account_id).collect();
        let names: HashSet<_> = org.iter().map(|a| &a.account_name).collect();
        assert_eq!(ids.len(), 1_000);
        assert_eq!(names.len(), 1_000);
        assert!(org
            .iter()
            .all(|a| a.account_id.len() == 12 && a.roles.len() == 3));
        assert_eq!(org[0].account_name, "management");
        assert_eq!(org[5].account_name, "payments-prod");
        assert_eq!(generate(7, 5), generate(7, 5), "deterministic");
        let roles: HashSet<_> = generate(20, 5)
            .iter()
            .flat_map(|a| a.roles[3..].to_vec())
            .collect();
        assert!(roles.len() > 2, "extra roles vary between accounts");
    }
}
