//! Which browser opens the console, per favourite or per access portal: the desktop's
//! default, or a named browser with one of its profiles, or a Firefox container through
//! a container extension's link. Always started as an argument vector, never through a
//! shell, and only ever on the private page that leads to the one-time address
//! ([`crate::browser`]): no browser's arguments hold a secret, nor the address.

use crate::browser::Launch;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// A browser by family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BrowserKind {
    /// The desktop's default browser (`$BROWSER`, else `xdg-open`; `open` on macOS,
    /// `rundll32 url.dll,FileProtocolHandler` on Windows).
    #[default]
    Default,
    /// Chromium.
    Chromium,
    /// Google Chrome.
    Chrome,
    /// Microsoft Edge.
    Edge,
    /// Brave.
    Brave,
    /// Firefox.
    Firefox,
}

impl BrowserKind {
    /// Every kind, for lists.
    pub const ALL: [BrowserKind; 6] = [
        Self::Default,
        Self::Chromium,
        Self::Chrome,
        Self::Edge,
        Self::Brave,
        Self::Firefox,
    ];

    /// Its name in settings and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Chromium => "chromium",
            Self::Chrome => "chrome",
            Self::Edge => "edge",
            Self::Brave => "brave",
            Self::Firefox => "firefox",
        }
    }

    /// Its name for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Default => "The default browser",
            Self::Chromium => "Chromium",
            Self::Chrome => "Google Chrome",
            Self::Edge => "Microsoft Edge",
            Self::Brave => "Brave",
            Self::Firefox => "Firefox",
        }
    }

    /// Reads a kind by its name.
    pub fn parse(raw: &str) -> Result<Self> {
        by_name(&Self::ALL, Self::name, raw, "a browser")
    }

    /// The programs it goes by, in the order they are looked for on `PATH`, then
    /// absolute paths where it is installed at a fixed place.
    fn programs(self) -> &'static [&'static str] {
        match self {
            Self::Default => &[],
            Self::Chromium => &[
                "chromium",
                "chromium-browser",
                "/Applications/Chromium.app/Contents/MacOS/Chromium",
                "chromium.exe",
            ],
            Self::Chrome => &[
                "google-chrome",
                "google-chrome-stable",
                "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
                "chrome.exe",
            ],
            Self::Edge => &[
                "microsoft-edge",
                "microsoft-edge-stable",
                "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
                "msedge.exe",
            ],
            Self::Brave => &[
                "brave-browser",
                "brave",
                "/Applications/Brave Browser.app/Contents/MacOS/Brave Browser",
                "brave.exe",
            ],
            Self::Firefox => &[
                "firefox",
                "firefox-esr",
                "/Applications/Firefox.app/Contents/MacOS/firefox",
                "firefox.exe",
            ],
        }
    }
}

/// The Firefox container extensions whose links open a page in a named container.
///
/// Two, because they are the ones people have: "Open external links in a container"
/// (`ext+container:`), the extension other tools' console commands and people's own
/// scripts have used for years; and Granted's own extension (`ext+granted-containers:`),
/// which Granted's users already have. Both take the container's name, colour and icon
/// and the page's address as form-encoded parameters, and make the container if it is
/// not there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContainerScheme {
    /// "Open external links in a container": `ext+container:name=…&color=…&icon=…&url=…`.
    OpenExternal,
    /// Granted's extension: `ext+granted-containers:name=…&color=…&icon=…&url=…`.
    Granted,
}

impl ContainerScheme {
    /// Every scheme, for lists.
    pub const ALL: [ContainerScheme; 2] = [Self::OpenExternal, Self::Granted];

    /// Its name in settings and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::OpenExternal => "open-external",
            Self::Granted => "granted",
        }
    }

    /// The extension, for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::OpenExternal => "Open external links in a container",
            Self::Granted => "Granted Containers",
        }
    }

    /// Reads a scheme by its name.
    pub fn parse(raw: &str) -> Result<Self> {
        by_name(&Self::ALL, Self::name, raw, "a container extension")
    }

    /// The link's scheme.
    fn scheme(self) -> &'static str {
        match self {
            Self::OpenExternal => "ext+container",
            Self::Granted => "ext+granted-containers",
        }
    }
}

/// Which browser opens the console, and how.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowserChoice {
    /// The browser.
    pub kind: BrowserKind,
    /// Its profile: a directory name for the Chromium family (`--profile-directory`,
    /// such as `Profile 1`), a profile name for Firefox (`-P`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Firefox only: open the console in a container, through this extension's links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerScheme>,
    /// The container's name (default: the favourite's profile name, else the account and
    /// role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// The browser's program, where it is not on `PATH` under its usual names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<PathBuf>,
}

/// The one of `all` whose `name` is `raw` (any case); else a sentence that says `raw` is
/// not `what` this program knows, and lists the names.
fn by_name<T: Copy>(all: &[T], name: fn(T) -> &'static str, raw: &str, what: &str) -> Result<T> {
    let key = raw.trim().to_ascii_lowercase();
    all.iter()
        .copied()
        .find(|k| name(*k) == key)
        .ok_or_else(|| Error::BrowserChoice {
            why: format!(
                "{:?} is not {what} this program knows; use one of {}",
                crate::display::capped(raw, 40),
                all.iter().map(|k| name(*k)).collect::<Vec<_>>().join(", ")
            ),
        })
}

/// What a name given to a browser may be: a few words, no control characters, nothing
/// a browser would take for an option.
fn check_name(what: &str, raw: &str) -> Result<String> {
    let name = raw.trim();
    let why = if name.is_empty() {
        Some("it is empty")
    } else if name.chars().count() > 100 {
        Some("it is longer than 100 characters")
    } else if name.chars().any(char::is_control) {
        Some("it holds control characters")
    } else if name.starts_with('-') {
        Some("it begins with '-'")
    } else {
        None
    };
    match why {
        Some(why) => Err(Error::BrowserChoice {
            why: format!(
                "the {what} {:?} cannot be used: {why}",
                crate::display::capped(&raw.escape_debug().to_string(), 60)
            ),
        }),
        None => Ok(name.to_owned()),
    }
}

impl BrowserChoice {
    /// Checks a choice a person or a file gave: names trimmed, a profile or program only
    /// with a named browser, a container only with Firefox.
    pub fn checked(mut self) -> Result<Self> {
        let refuse = |why: &str| Error::BrowserChoice {
            why: why.to_owned(),
        };
        self.profile = self
            .profile
            .filter(|p| !p.trim().is_empty())
            .map(|p| check_name("browser profile", &p))
            .transpose()?;
        self.container_name = self
            .container_name
            .filter(|p| !p.trim().is_empty())
            .map(|p| check_name("container name", &p))
            .transpose()?;
        self.program = self.program.filter(|p| !p.as_os_str().is_empty());
        if self.kind == BrowserKind::Default && (self.profile.is_some() || self.program.is_some()) {
            return Err(refuse("a browser profile or program needs a named browser (chromium, chrome, edge, brave or firefox), not the default one"));
        }
        if self.container.is_some() && self.kind != BrowserKind::Firefox {
            return Err(refuse(
                "containers are Firefox's: choose firefox as the browser",
            ));
        }
        if self.container.is_none() && self.container_name.is_some() {
            return Err(refuse(
                "a container name needs a container extension (open-external or granted)",
            ));
        }
        if let Some(p) = &self.program {
            if !p.is_absolute() {
                return Err(refuse("the browser's program must be an absolute path"));
            }
        }
        Ok(self)
    }

    /// Whether it is the desktop's default browser, with nothing else asked.
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// How to start it: the program (looked up in `path`, the `PATH` value) and its
    /// arguments before the page's address; for a container, the link the page goes
    /// through, named `container` unless the choice names it, coloured `colour`.
    pub fn launch(
        &self,
        path: Option<&std::ffi::OsStr>,
        container: &str,
        colour: Option<super::Colour>,
    ) -> Result<Launch> {
        if self.kind == BrowserKind::Default {
            return Ok(Launch::default());
        }
        let program = match &self.program {
            Some(p) => p.clone(),
            None => {
                find_program(self.kind.programs(), path).ok_or_else(|| Error::BrowserNotFound {
                    browser: self.kind.label(),
                    tried: self.kind.programs().join(", "),
                })?
            }
        };
        let mut args: Vec<OsString> = Vec::new();
        match (self.kind, &self.profile) {
            (BrowserKind::Firefox, Some(p)) => {
                args.push("-P".into());
                args.push(p.into());
            }
            (_, Some(p)) => args.push(format!("--profile-directory={p}").into()),
            (_, None) => {}
        }
        let link_prefix = self.container.map(|scheme| {
            let name = self
                .container_name
                .clone()
                .unwrap_or_else(|| container_name(container));
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("name", &name);
            if let Some(c) = colour {
                query.append_pair("color", c.container());
            }
            query.append_pair("icon", "fingerprint");
            format!("{}:{}&", scheme.scheme(), query.finish())
        });
        Ok(Launch {
            command: Some((program, args)),
            link_prefix,
        })
    }
}

/// A container's name made from a favourite's profile name or a role's name: control
/// characters dropped, at most 100 characters.
fn container_name(raw: &str) -> String {
    let name: String = raw.chars().filter(|c| !c.is_control()).take(100).collect();
    let name = name.trim();
    if name.is_empty() {
        "AWS".to_owned()
    } else {
        name.to_owned()
    }
}

/// The first of `names` that is a file: an absolute name as it is, any other looked for
/// in each directory of `path`.
fn find_program(names: &[&str], path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    let dirs: Vec<PathBuf> = path
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    names.iter().find_map(|name| {
        let name = Path::new(name);
        if name.is_absolute() {
            return name.is_file().then(|| name.to_owned());
        }
        dirs.iter()
            .map(|d| d.join(name))
            .find(|candidate| is_executable(candidate))
    })
}

/// Whether `path` is a file this user may run.
fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::Colour;

    fn choice(kind: BrowserKind) -> BrowserChoice {
        BrowserChoice {
            kind,
            ..BrowserChoice::default()
        }
    }

    #[cfg(unix)]
    fn fake(dir: &Path, name: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        std::fs::write(&p, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    }

    #[cfg(unix)]
    #[test]
    fn each_family_gets_its_profile_argument() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().as_os_str();
        let chrome = fake(dir.path(), "google-chrome-stable");
        let firefox = fake(dir.path(), "firefox");
        let mut c = choice(BrowserKind::Chrome);
        c.profile = Some("Profile 2".into());
        let launch = c
            .checked()
            .expect("ok")
            .launch(Some(path), "x", None)
            .expect("launch");
        assert_eq!(
            launch.command,
            Some((
                chrome,
                vec![OsString::from("--profile-directory=Profile 2")]
            ))
        );
        assert_eq!(launch.link_prefix, None);
        let mut f = choice(BrowserKind::Firefox);
        f.profile = Some("work".into());
        f.container = Some(ContainerScheme::OpenExternal);
        let launch = f
            .checked()
            .expect("ok")
            .launch(Some(path), "prod & <ro>", Some(Colour::Red))
            .expect("launch");
        assert_eq!(
            launch.command,
            Some((firefox, vec![OsString::from("-P"), OsString::from("work")]))
        );
        assert_eq!(
            launch.link_prefix.as_deref(),
            Some("ext+container:name=prod+%26+%3Cro%3E&color=red&icon=fingerprint&")
        );
        let err = choice(BrowserKind::Brave)
            .launch(Some(path), "x", None)
            .expect_err("not installed");
        assert!(err.to_string().contains("Brave"), "{err}");
        assert_eq!(
            choice(BrowserKind::Default)
                .launch(Some(path), "x", None)
                .expect("default"),
            Launch::default()
        );
    }

    #[test]
    fn choices_that_make_no_sense_are_refused_with_why() {
        let mut c = choice(BrowserKind::Chrome);
        c.container = Some(ContainerScheme::Granted);
        assert!(c.checked().is_err());
        let mut c = choice(BrowserKind::Default);
        c.profile = Some("Default".into());
        assert!(c.checked().is_err());
        for bad in ["-no-remote", "a\nb", &"x".repeat(101)] {
            let mut c = choice(BrowserKind::Firefox);
            c.profile = Some(bad.to_owned());
            let err = c.checked().expect_err(bad);
            assert!(!err.to_string().contains('\n'), "{err}");
        }
        let mut c = choice(BrowserKind::Firefox);
        c.program = Some(PathBuf::from("firefox"));
        assert!(c.checked().is_err(), "relative program");
        assert_eq!(BrowserKind::parse("Edge").expect("edge"), BrowserKind::Edge);
        assert!(BrowserKind::parse("safari").is_err());
        assert_eq!(container_name("a\u{7}b"), "ab");
    }
}
