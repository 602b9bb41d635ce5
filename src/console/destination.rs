//! Where the console opens: its home, a service's page (`--service s3`), or any console
//! address of the role's partition (`--destination URL`); and how long its session lasts.

use super::Partition;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The console's domain in `region`'s partition: its hosts are this one and those under
/// it (regional, `eu-west-1.console.aws.amazon.com`, and multi-session,
/// `<account>-<id>.eu-west-1.console.aws.amazon.com`).
pub fn console_domain(region: &str) -> &'static str {
    Partition::of(region).console_domain()
}

/// The console's host for a page in `region`.
fn console_host(region: &str) -> String {
    match Partition::of(region) {
        Partition::Aws => format!("{region}.console.aws.amazon.com"),
        other => other.console_domain().to_owned(),
    }
}

/// The console's home page in `region`.
pub fn console_home(region: &str) -> String {
    format!(
        "https://{}/console/home?region={region}",
        console_host(region)
    )
}

/// The services the window offers as a short list: (name, label). Any other service
/// name the console uses in its paths works on the command line too.
pub const COMMON_SERVICES: [(&str, &str); 12] = [
    ("ec2", "EC2"),
    ("s3", "S3"),
    ("cloudwatch", "CloudWatch"),
    ("logs", "CloudWatch Logs"),
    ("lambda", "Lambda"),
    ("iam", "IAM"),
    ("cloudformation", "CloudFormation"),
    ("rds", "RDS"),
    ("dynamodb", "DynamoDB"),
    ("ecs", "ECS"),
    ("eks", "EKS"),
    ("billing", "Billing"),
];

/// A service's page in `region`: most services are at `/<name>/home`; a few names
/// people use are not the console's own path.
fn service_page(name: &str, region: &str) -> String {
    let host = console_host(region);
    let (path, fragment) = match name {
        "logs" => ("cloudwatch", "#logsV2:log-groups"),
        "dynamodb" => ("dynamodbv2", ""),
        "vpc" => ("vpcconsole", ""),
        "ssm" => ("systems-manager", ""),
        "route53" => ("route53/v2", ""),
        "cost" | "costexplorer" => ("costmanagement", ""),
        other => (other, ""),
    };
    format!("https://{host}/{path}/home?region={region}{fragment}")
}

/// Where the console opens after the sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Destination {
    /// A service's page, by the name in the console's paths (`s3`, `ec2`, `cloudwatch`).
    Service(String),
    /// A console address (`https://…console.aws.amazon.com/…`), checked against the
    /// role's partition when the console opens.
    Url(String),
}

impl Destination {
    /// A service by name: lower-case letters, digits and `-`, as the console's paths
    /// have them.
    pub fn service(raw: &str) -> Result<Self> {
        let name = raw.trim().to_ascii_lowercase();
        let shaped = !name.is_empty()
            && name.len() <= 40
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if shaped {
            Ok(Self::Service(name))
        } else {
            Err(Error::ConsoleService {
                shown: crate::display::capped(&raw.escape_debug().to_string(), 60),
            })
        }
    }

    /// A console address, checked against every partition's console hosts (its own
    /// partition is checked when the console opens: [`Self::url`]); kept as the URL
    /// parser writes it, which is what is sent.
    pub fn address(raw: &str) -> Result<Self> {
        check_address(raw.trim(), None).map(Self::Url)
    }

    /// Reads what a person typed: an `https://` address, else a service name.
    pub fn parse(raw: &str) -> Result<Self> {
        if raw.trim().contains(':') {
            Self::address(raw)
        } else {
            Self::service(raw)
        }
    }

    /// The page's address for a role of `partition_region`'s partition, in `region`.
    pub fn url(&self, region: &str, partition_region: &str) -> Result<String> {
        match self {
            Self::Service(name) => Ok(service_page(name, region)),
            Self::Url(url) => check_address(url, Some(partition_region)),
        }
    }

    /// As a person would type it again: the service name, or the address.
    pub fn text(&self) -> &str {
        match self {
            Self::Service(s) | Self::Url(s) => s,
        }
    }
}

/// `url` as the URL parser writes it, if it is an `https` address of a console host of
/// `partition_region`'s partition (of any partition when `None`): nothing but scheme,
/// host, path, query and fragment, no control characters, and a host written as the
/// parser reads it (no user, port, backslash, escapes, upper case or other scripts that
/// another parser could read otherwise).
fn check_address(url: &str, partition_region: Option<&str>) -> Result<String> {
    let domains: Vec<&str> = match partition_region {
        Some(r) => vec![console_domain(r)],
        None => Partition::ALL.iter().map(|p| p.console_domain()).collect(),
    };
    let refuse = |reason: &'static str| Error::ConsoleDestination {
        shown: crate::display::capped(&url.escape_debug().to_string(), 120),
        hosts: domains.join(", "),
        reason,
    };
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(refuse("it holds spaces or control characters"));
    }
    if url.contains('\\') {
        return Err(refuse("it holds a backslash"));
    }
    if url.len() > 2048 {
        return Err(refuse("it is longer than 2,048 bytes"));
    }
    let parsed = url::Url::parse(url).map_err(|_| refuse("it is not a web address"))?;
    if parsed.scheme() != "https" {
        return Err(refuse("it is not an https address"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(refuse("it names a user"));
    }
    let host = parsed.host_str().unwrap_or_default();
    // The authority as typed must be the host as parsed: nothing for two parsers to read
    // two ways.
    let authority = url
        .get("https://".len()..)
        .unwrap_or_default()
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    if authority.contains('@') {
        return Err(refuse("it names a user"));
    }
    if authority != host {
        return Err(refuse(
            "its host is not written plainly (a port, an escape, upper case or another script)",
        ));
    }
    let ours = domains
        .iter()
        .any(|d| host == *d || host.strip_suffix(d).is_some_and(|h| h.ends_with('.')));
    if !ours {
        return Err(refuse("its host is not the console's"));
    }
    Ok(parsed.into())
}

/// The longest console session AWS grants credentials of an SSO role (12 hours); the
/// shortest is 15 minutes.
pub const SESSION_RANGE: std::ops::RangeInclusive<u32> = 900..=43_200;

/// Checks a console session length for a role: an SSO role's may be 15 minutes to 12
/// hours; a role assumed from another role may not ask for one at all (AWS refuses it,
/// and such a session lasts at most as long as the assumed role's credentials: one
/// hour).
pub fn check_session_length(seconds: u32, chained: bool) -> Result<u32> {
    if chained {
        return Err(Error::ConsoleSessionLength {
            seconds,
            why: "AWS lets no role assumed from another role choose its console session length (it lasts as long as the assumed role's credentials, one hour at most)",
            chained: true,
        });
    }
    if !SESSION_RANGE.contains(&seconds) {
        return Err(Error::ConsoleSessionLength {
            seconds,
            why: "AWS allows 900 to 43,200 seconds (15 minutes to 12 hours)",
            chained: false,
        });
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_lead_to_their_pages_in_each_partition() {
        let d = Destination::service("S3").expect("s3");
        assert_eq!(
            d.url("eu-west-1", "eu-west-1").expect("url"),
            "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1"
        );
        assert_eq!(
            Destination::service("logs")
                .and_then(|d| d.url("us-east-1", "us-east-1"))
                .expect("logs"),
            "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups"
        );
        assert_eq!(
            Destination::service("ec2")
                .and_then(|d| d.url("cn-north-1", "cn-north-1"))
                .expect("cn"),
            "https://console.amazonaws.cn/ec2/home?region=cn-north-1"
        );
        for bad in ["", "s3/../x", "s3?x=1", "-s3", "a\u{202e}b", "é"] {
            assert!(Destination::service(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            console_home("us-gov-west-1"),
            "https://console.amazonaws-us-gov.com/console/home?region=us-gov-west-1"
        );
    }

    #[test]
    fn only_the_partitions_console_hosts_are_destinations() {
        for good in [
            "https://console.aws.amazon.com/s3/",
            "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#Instances:",
            "https://123456789012-abcdefgh.eu-west-1.console.aws.amazon.com/console/home",
        ] {
            let d = Destination::parse(good).expect(good);
            assert_eq!(d.url("eu-west-1", "eu-west-1").expect(good), good);
        }
        for bad in [
            "http://eu-west-1.console.aws.amazon.com/",
            "https://evilconsole.aws.amazon.com/",
            "https://console.aws.amazon.com.evil.example/",
            "https://user@console.aws.amazon.com/",
            "https://console.aws.amazon.com:8443/",
            "javascript:alert(1)",
            "https://console.aws.amazon.com/\nSet-Cookie: x",
            "https://console.aws.amazon.com/ x",
            "file:///etc/passwd",
            "https://signin.aws.amazon.com/federation",
            "https://console.aws.amazon.com\\@evil.example/",
            "https://console.aws.amazon.com:443/",
            "HTTPS://CONSOLE.AWS.AMAZON.COM/",
            "https://ｃｏｎｓｏｌｅ.aws.amazon.com/",
            "https://console%2Eaws.amazon.com/",
            "https://console.aws.amazon.com./",
        ] {
            let err = Destination::parse(bad).expect_err(bad);
            assert!(
                matches!(err, Error::ConsoleDestination { .. }),
                "{bad}: {err}"
            );
            assert!(!err.to_string().contains('\n'), "{err}");
        }
        // A China console address is a console address, but not of a commercial role.
        let cn = Destination::parse("https://console.amazonaws.cn/ec2/").expect("cn");
        assert!(cn.url("eu-west-1", "eu-west-1").is_err());
        assert!(cn.url("cn-north-1", "cn-north-1").is_ok());
    }

    #[test]
    fn session_lengths_are_those_aws_grants() {
        assert_eq!(check_session_length(900, false).expect("min"), 900);
        assert_eq!(check_session_length(43_200, false).expect("max"), 43_200);
        assert!(check_session_length(899, false).is_err());
        assert!(check_session_length(43_201, false).is_err());
        let chained = check_session_length(3600, true).expect_err("chained");
        assert!(chained.to_string().contains("one hour"), "{chained}");
    }
}
