//! An IAM Identity Center instance: a start URL and its region, validated.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One IAM Identity Center instance. Every cache key and keychain item includes both
/// fields, so two organisations (or one organisation in two regions) never collide.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Instance {
    start_url: String,
    region: String,
}

impl Instance {
    /// Validates and builds an instance.
    ///
    /// The start URL must be an `https` URL with a host (plain `http` is accepted only for
    /// loopback hosts, for local emulators); the region must look like `eu-west-1`. The
    /// whole address a browser shows for the portal names the same instance as its start
    /// URL ([`start_url_of`]), whichever way it comes in (a flag, the environment, the
    /// settings, the AWS CLI's config, the window).
    pub fn new(start_url: &str, region: &str) -> Result<Self> {
        Ok(Self {
            start_url: validate_start_url(&start_url_of(start_url))?,
            region: validate_region(region)?,
        })
    }

    /// The start URL, as given (trimmed).
    pub fn start_url(&self) -> &str {
        &self.start_url
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The start URL's host: a short name for menus and messages.
    pub fn host(&self) -> String {
        url::Url::parse(&self.start_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| self.start_url.clone())
    }

    /// A stable key naming this instance in the keychain and caches.
    pub fn key(&self) -> String {
        format!("{}|{}", self.region, self.start_url)
    }
}

impl fmt::Display for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.start_url, self.region)
    }
}

/// The start URL in an address of the access portal as a browser shows it: the portal's
/// own views (`#/…`) and parameters (`?…`) dropped, and `/start/` as `/start`, so that an
/// address pasted from the address bar names the portal as the administrator's URL does.
/// Anything that does not parse is returned as given (trimmed), for validation to refuse.
pub fn start_url_of(address: &str) -> String {
    let address = address.trim();
    let Ok(mut url) = url::Url::parse(address) else {
        return address.to_owned();
    };
    if url.fragment().is_none() && url.query().is_none() && url.path() != "/start/" {
        return address.to_owned();
    }
    url.set_fragment(None);
    url.set_query(None);
    if url.path() == "/start/" {
        url.set_path("/start");
    }
    url.to_string()
}

/// The region an address of the access portal names, read from the address in the normal
/// form of [`start_url_of`]: `https://ssoins-….portal.eu-west-1.app.aws` (with any path,
/// view or parameters) names `eu-west-1`; an `…awsapps.com` address names none, nor does
/// one that does not parse. The region must be shaped as [`validate_region`] wants, in
/// lower-case letters, digits and `-`. The window fills in the region with it as the
/// address is typed (`regionOfPortal` in `ui/util.js`, held to this by
/// `tests/fixtures/rules.json`).
pub fn region_of_portal(address: &str) -> Option<String> {
    let url = url::Url::parse(&start_url_of(address)).ok()?;
    let host = url.host_str()?;
    let (before, region) = host.strip_suffix(".app.aws")?.rsplit_once(".portal.")?;
    let plain = region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    (!before.is_empty() && plain)
        .then(|| validate_region(region).ok())
        .flatten()
}

fn validate_start_url(raw: &str) -> Result<String> {
    let raw = raw.trim();
    let invalid = |reason| Error::InvalidStartUrl {
        url: raw.chars().take(200).collect(),
        reason,
    };
    if raw.is_empty() {
        return Err(invalid("it is empty"));
    }
    if crate::display::text(raw) != raw {
        return Err(invalid("it contains control or text-direction characters"));
    }
    let url = url::Url::parse(raw).map_err(|_| invalid("it does not parse as a URL"))?;
    let host = url.host_str().ok_or_else(|| invalid("it has no host"))?;
    // The URL standard reads `https:///start` and `https:start` as the host `start`; a
    // person who typed them left the host out.
    let authority = raw.get(url.scheme().len() + 1..).unwrap_or_default();
    if !authority.starts_with("//") || authority[2..].starts_with(['/', '\\']) {
        return Err(invalid("it has no host"));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => return Err(invalid("it must use https")),
        _ => return Err(invalid("it must be an https URL")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it must not contain a user name or password"));
    }
    Ok(raw.to_owned())
}

/// Whether `host` is this machine (`localhost`, 127.0.0.0/8, `::1`).
pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `raw` (trimmed) if it is shaped like an AWS region name, such as `eu-west-1`.
pub fn validate_region(raw: &str) -> Result<String> {
    let region = raw.trim();
    // Partition prefix, optional qualifiers, a number: us-east-1, us-gov-west-1, eu-isoe-west-1.
    let parts: Vec<&str> = region.split('-').collect();
    let shaped = parts.len() >= 3
        && parts.len() <= 5
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1]
            .parse::<u8>()
            .is_ok_and(|n| (1..=20).contains(&n));
    if shaped {
        Ok(region.to_owned())
    } else {
        Err(Error::InvalidRegion {
            region: region.chars().take(64).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_region_is_said_to_be_missing() {
        for empty in ["", "  "] {
            let said = validate_region(empty).unwrap_err().to_string();
            assert!(said.starts_with("no region was given"), "{said}");
            assert!(!said.contains("''"), "{said}");
        }
        let said = validate_region("eu-west").unwrap_err().to_string();
        assert!(
            said.starts_with("'eu-west' is not an AWS region name"),
            "{said}"
        );
    }

    #[test]
    fn an_address_from_the_browser_names_the_portal() {
        for (pasted, start) in [
            (
                "https://my-org.awsapps.com/start/#/?tab=accounts",
                "https://my-org.awsapps.com/start",
            ),
            (
                "  https://my-org.awsapps.com/start/  ",
                "https://my-org.awsapps.com/start",
            ),
            (
                "https://my-org.awsapps.com/start#/console?account_id=1",
                "https://my-org.awsapps.com/start",
            ),
            (
                "https://my-org.awsapps.com/start",
                "https://my-org.awsapps.com/start",
            ),
            (
                "https://ssoins-1234.portal.eu-west-1.app.aws/#/",
                "https://ssoins-1234.portal.eu-west-1.app.aws/",
            ),
            ("not a url", "not a url"),
        ] {
            assert_eq!(start_url_of(pasted), start, "{pasted}");
        }
    }

    #[test]
    fn a_portal_address_names_its_region() {
        for (address, region) in [
            (
                "https://ssoins-1.portal.eu-west-1.app.aws",
                Some("eu-west-1"),
            ),
            (
                " https://ssoins-1.portal.us-gov-west-1.app.aws/start/#/?tab=accounts ",
                Some("us-gov-west-1"),
            ),
            ("https://my-org.awsapps.com/start/#/", None),
            ("https://ssoins-1.portal.eu-west-0.app.aws", None),
            (
                "https://ssoins-1.portal.eu-west-1.app.aws.example.com",
                None,
            ),
            ("https://portal.eu-west-1.app.aws", None),
            ("not a url", None),
        ] {
            assert_eq!(region_of_portal(address).as_deref(), region, "{address}");
        }
    }

    #[test]
    fn an_address_from_the_browser_names_the_same_instance_as_its_start_url() {
        let plain = Instance::new("https://acme.awsapps.com/start", "eu-west-1").unwrap();
        for pasted in [
            "https://acme.awsapps.com/start/#/?tab=accounts",
            "  https://acme.awsapps.com/start/  ",
            "https://acme.awsapps.com/start?x=1",
        ] {
            let i = Instance::new(pasted, "eu-west-1").unwrap();
            assert_eq!(i, plain, "{pasted}");
            assert_eq!(i.key(), plain.key(), "{pasted}");
        }
    }

    #[test]
    fn accepts_real_shapes() {
        for (url, region) in [
            ("https://d-1234567890.awsapps.com/start", "us-east-1"),
            ("https://my-org.awsapps.com/start", "eu-west-1"),
            (
                "https://start.us-gov-home.awsapps.com/directory/x",
                "us-gov-west-1",
            ),
            ("http://127.0.0.1:4566/start", "eu-central-1"),
            ("http://localhost/start", "ap-southeast-2"),
        ] {
            let i = Instance::new(url, region).expect(url);
            assert_eq!(i.start_url(), url);
            assert_eq!(i.key(), format!("{region}|{url}"));
        }
    }

    #[test]
    fn refuses_bad_start_urls_with_a_reason() {
        for (url, why) in [
            ("", "empty"),
            ("my-org.awsapps.com/start", "does not parse"),
            ("ftp://my-org.awsapps.com/start", "https"),
            ("http://my-org.awsapps.com/start", "must use https"),
            ("https://user:pw@my-org.awsapps.com/start", "user name"),
            ("https://my-org.awsapps.com/\nstart", "control"),
            ("https:///start", "no host"),
            ("https:my-org.awsapps.com/start", "no host"),
        ] {
            let err = Instance::new(url, "us-east-1").unwrap_err().to_string();
            assert!(err.contains(why), "{url:?}: {err}");
            assert!(err.contains("https://my-org.awsapps.com/start"), "{err}");
        }
    }

    #[test]
    fn refuses_bad_regions() {
        for r in [
            "",
            "us-east",
            "US-EAST-1",
            "useast1",
            "us-east-0",
            "us-east-1; rm",
            "eu west 1",
        ] {
            let err = Instance::new("https://x.awsapps.com/start", r).unwrap_err();
            assert!(matches!(err, Error::InvalidRegion { .. }), "{r}");
            assert!(err.to_string().contains("us-east-1"));
        }
    }
}
