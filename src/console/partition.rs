//! The AWS partition a region is in, as far as the console is concerned: each has its own
//! federation endpoint, console hosts and UXC region.

/// A partition with a console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    /// The commercial regions (and any this program does not know otherwise).
    Aws,
    /// The China regions (`cn-*`).
    China,
    /// AWS GovCloud (US) (`us-gov-*`).
    GovCloud,
}

impl Partition {
    /// The partition of `region`.
    pub fn of(region: &str) -> Self {
        if region.starts_with("us-gov-") {
            Self::GovCloud
        } else if region.starts_with("cn-") {
            Self::China
        } else {
            Self::Aws
        }
    }

    /// The federation endpoint's base URL.
    pub fn signin_base(self) -> &'static str {
        match self {
            Self::Aws => "https://signin.aws.amazon.com",
            Self::China => "https://signin.amazonaws.cn",
            Self::GovCloud => "https://signin.amazonaws-us-gov.com",
        }
    }

    /// The console's domain: its hosts are this one and those under it.
    pub fn console_domain(self) -> &'static str {
        match self {
            Self::Aws => "console.aws.amazon.com",
            Self::China => "console.amazonaws.cn",
            Self::GovCloud => "console.amazonaws-us-gov.com",
        }
    }

    /// The one region UXC (the account's colour) answers in.
    pub fn uxc_region(self) -> &'static str {
        match self {
            Self::Aws => "us-east-1",
            Self::China => "cn-north-1",
            Self::GovCloud => "us-gov-west-1",
        }
    }

    /// UXC's public endpoint.
    pub fn uxc_endpoint(self) -> &'static str {
        match self {
            Self::Aws => "https://uxc.us-east-1.api.aws",
            Self::China => "https://uxc.cn-north-1.api.amazonwebservices.com.cn",
            Self::GovCloud => "https://uxc.us-gov-west-1.api.aws",
        }
    }

    /// Every partition.
    pub const ALL: [Partition; 3] = [Self::Aws, Self::China, Self::GovCloud];
}
