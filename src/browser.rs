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

/// Opens `url` with `$BROWSER` if set, else the desktop's opener. The URL is passed as
/// one argument, never through a shell.
pub fn open(url: &str) -> std::io::Result<()> {
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
    fn ssh_means_no_local_browser() {
        let env = |k: &str| matches!(k, "SSH_CONNECTION" | "DISPLAY").then(|| "x".to_owned());
        assert!(!local_browser_likely(env));
        let env = |k: &str| (k == "DISPLAY").then(|| ":0".to_owned());
        assert!(local_browser_likely(env));
    }
}
