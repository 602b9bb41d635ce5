//! Which Amazon ECR registry a server URL names, read strictly: a host docker asks about
//! that is not exactly a private ECR registry's is none of ours.

use crate::instance::validate_region;

/// A private Amazon ECR registry: an account's, in one region, at its standard or FIPS
/// host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Registry {
    account_id: String,
    region: String,
    fips: bool,
}

/// The longest server URL read: hosts are short, and anything longer is not one.
const MAX_URL: usize = 1024;

impl Registry {
    /// The registry of `account_id` in `region`, at its standard host; `None` unless the
    /// account is 12 digits and the region a region name.
    pub fn new(account_id: &str, region: &str) -> Option<Self> {
        let region = validate_region(region).ok()?;
        is_account_id(account_id).then(|| Self {
            account_id: account_id.to_owned(),
            region,
            fips: false,
        })
    }

    /// The registry a docker server URL names: `ACCOUNT.dkr.ecr.REGION.amazonaws.com`,
    /// `ACCOUNT.dkr.ecr-fips.REGION.amazonaws.com`, or in China
    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com.cn`; with or without `https://` (or
    /// `http://`), a port, and a path (`/v2/`). Any other host, or anything more (a user,
    /// a query), is `None`.
    pub fn parse(server_url: &str) -> Option<Self> {
        let url = server_url.trim();
        if url.is_empty() || url.len() > MAX_URL {
            return None;
        }
        let rest = strip_prefix_ignore_case(url, "https://")
            .or_else(|| strip_prefix_ignore_case(url, "http://"))
            .unwrap_or(url);
        let authority = rest.split('/').next().unwrap_or_default();
        if rest.contains(['?', '#']) || authority.contains('@') {
            return None;
        }
        let host = match authority.split_once(':') {
            Some((host, port)) => {
                let port_ok = !port.is_empty()
                    && port.len() <= 5
                    && port.bytes().all(|b| b.is_ascii_digit())
                    && port.parse::<u16>().is_ok_and(|p| p > 0);
                if !port_ok {
                    return None;
                }
                host
            }
            None => authority,
        };
        Self::from_host(&host.to_ascii_lowercase())
    }

    fn from_host(host: &str) -> Option<Self> {
        let (name, china) = match host.strip_suffix(".amazonaws.com.cn") {
            Some(name) => (name, true),
            None => (host.strip_suffix(".amazonaws.com")?, false),
        };
        let labels: Vec<&str> = name.split('.').collect();
        let [account, "dkr", service, region] = labels.as_slice() else {
            return None;
        };
        let fips = match *service {
            "ecr" => false,
            "ecr-fips" => true,
            _ => return None,
        };
        // A region of the China partition lives under `.amazonaws.com.cn`, and only
        // there.
        if region.starts_with("cn-") != china {
            return None;
        }
        let mut registry = Self::new(account, region)?;
        registry.fips = fips;
        Some(registry)
    }

    /// The account id.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// At the FIPS host (`dkr.ecr-fips`).
    pub fn fips(&self) -> bool {
        self.fips
    }

    /// Its host name, as docker names the registry.
    pub fn host(&self) -> String {
        let service = if self.fips { "ecr-fips" } else { "ecr" };
        let domain = if self.region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        format!("{}.dkr.{service}.{}.{domain}", self.account_id, self.region)
    }
}

impl std::fmt::Display for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.host())
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(url: &str) -> Option<(String, String, bool)> {
        Registry::parse(url).map(|r| (r.account_id().to_owned(), r.region().to_owned(), r.fips()))
    }

    #[test]
    fn the_three_host_forms_with_or_without_scheme_port_and_path() {
        let standard = Some(("123456789012".to_owned(), "eu-west-1".to_owned(), false));
        for url in [
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "HTTPS://123456789012.DKR.ECR.EU-WEST-1.AMAZONAWS.COM",
            "http://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com:443",
            "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/",
            "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com:5000/v2/repo/manifests/tag",
            "  123456789012.dkr.ecr.eu-west-1.amazonaws.com\n",
        ] {
            assert_eq!(parsed(url), standard, "{url}");
        }
        assert_eq!(
            parsed("111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com"),
            Some(("111122223333".into(), "us-gov-west-1".into(), true))
        );
        assert_eq!(
            parsed("https://111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/v2/"),
            Some(("111122223333".into(), "cn-north-1".into(), false))
        );
    }

    #[test]
    fn anything_else_is_not_a_registry_of_ours() {
        for url in [
            "",
            "docker.io",
            "https://index.docker.io/v1/",
            "ghcr.io",
            "public.ecr.aws",
            "12345678901.dkr.ecr.eu-west-1.amazonaws.com",
            "1234567890123.dkr.ecr.eu-west-1.amazonaws.com",
            "12345678901a.dkr.ecr.eu-west-1.amazonaws.com",
            "123456789012.dkr.ecr.eu-west.amazonaws.com",
            "123456789012.dkr.ecr.eu_west_1.amazonaws.com",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example",
            "evil.example/123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "x.123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com.",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com:",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com:99999",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com:0",
            "user@123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com?x=1",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/#x",
            "123456789012.api.ecr.eu-west-1.amazonaws.com",
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com.cn",
            "ftp://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        ] {
            assert_eq!(parsed(url), None, "{url}");
        }
    }

    #[test]
    fn hosts_round_trip() {
        for host in [
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com",
            "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn",
        ] {
            assert_eq!(Registry::parse(host).unwrap().host(), host);
        }
        assert_eq!(
            Registry::new("123456789012", "cn-north-1").unwrap().host(),
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(Registry::new("1234", "eu-west-1"), None);
        assert_eq!(Registry::new("123456789012", "nowhere"), None);
    }
}
