//! Opening a URL in the user's browser.

use std::process::{Command, Stdio};

/// Whether a browser on this machine can reach a loopback port: not in an SSH session,
/// and on Linux only with a graphical session.
pub fn local_browser_likely(env: impl Fn(&str) -> Option<String>) -> bool {
    if env("SSH_CONNECTION").is_some() || env("SSH_TTY").is_some() {
        return false;
    }
    if cfg!(any(target_os = "macos", target_os = "windows")) || env("BROWSER").is_some() {
        return true;
    }
    env("DISPLAY").is_some() || env("WAYLAND_DISPLAY").is_some()
}

/// Whether `url`, an address a service sent, may be opened in the browser: `https`, or
/// plain `http` to this machine (a local emulator). Anything else is refused with why.
pub fn web_address(url: &str) -> Result<(), &'static str> {
    let parsed = url::Url::parse(url).map_err(|_| "it is not a web address")?;
    match (parsed.scheme(), parsed.host_str()) {
        ("https", Some(_)) => Ok(()),
        ("http", Some(host)) if crate::instance::is_loopback(host) => Ok(()),
        ("http", Some(_)) => Err("it is plain http to another machine"),
        _ => Err("it is not an https address"),
    }
}

/// Opens `url` with `$BROWSER` if set, else the desktop's opener. The URL is passed as
/// one argument, never through a shell, and never one that an opener would take for an
/// option (a leading `-`).
pub fn open(url: &str) -> std::io::Result<()> {
    if url.starts_with('-') || url.chars().any(char::is_control) {
        return Err(std::io::Error::other(
            "the address begins with '-' or holds control characters",
        ));
    }
    let mut cmd = match std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
    {
        Some(browser) => Command::new(browser),
        None if cfg!(target_os = "macos") => Command::new("open"),
        None if cfg!(target_os = "windows") => {
            let mut c = Command::new("rundll32");
            c.arg("url.dll,FileProtocolHandler");
            c
        }
        None => Command::new("xdg-open"),
    };
    cmd.arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|mut child| {
            // Openers return at once; reap it so a long-running app leaves no zombie.
            std::thread::spawn(move || child.wait());
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_this_machine_reaches_the_browser() {
        assert!(web_address("https://device.sso.eu-west-1.amazonaws.com/?user_code=AB").is_ok());
        assert!(web_address("http://127.0.0.1:4566/device").is_ok());
        assert!(web_address("http://localhost/device").is_ok());
        for bad in [
            "http://evil.example/device",
            "-oProxyCommand=x",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "ftp://x.example/",
            "",
        ] {
            assert!(web_address(bad).is_err(), "{bad}");
        }
        assert!(open("--help").is_err());
    }

    #[test]
    fn ssh_means_no_local_browser() {
        let env = |k: &str| matches!(k, "SSH_CONNECTION" | "DISPLAY").then(|| "x".to_owned());
        assert!(!local_browser_likely(env));
        let env = |k: &str| (k == "DISPLAY").then(|| ":0".to_owned());
        assert!(local_browser_likely(env));
    }
}
