//! Handing an address to the user's browser so that nobody else can take it first.
//!
//! Another local user can read every process's arguments (`/proc/PID/cmdline`, `ps`), so
//! the browser is never given the address itself, nor a link that leads to it: a console
//! sign-in URL is a credential, and a sign-in page's address carries its `state` and our
//! loopback port. The browser is given a page (0600) in a directory of this user's that
//! nobody else may enter (0700; made if missing, refused if it is a symbolic link,
//! another user's, or has any other mode): the system's runtime directory where there is
//! one (`$XDG_RUNTIME_DIR`), else one in our cache directory. The page sends the browser
//! on to a one-time loopback address, whose first request is redirected to the address;
//! only the page's name is in the browser's arguments, and the page is removed once the
//! browser came. Each connection is served on its own, with a time limit for its request,
//! so an idle connection holds up nothing.

use crate::error::{Error, Result};
use crate::secret::Secret;
use rand::distributions::{Alphanumeric, DistString};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How long a hand-off waits for the browser.
pub(crate) const WAIT: Duration = Duration::from_secs(120);
/// How long a connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// After the browser came, how long a second use of the link is watched for.
const SECOND_USE_WATCH: Duration = Duration::from_secs(1);

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
    // The URL parser drops tabs and line breaks; the address itself is what is served in
    // a redirect, so it must hold none.
    if url.chars().any(char::is_control) {
        return Err("it holds control characters");
    }
    let parsed = url::Url::parse(url).map_err(|_| "it is not a web address")?;
    match (parsed.scheme(), parsed.host_str()) {
        ("https", Some(_)) => Ok(()),
        ("http", Some(host)) if crate::instance::is_loopback(host) => Ok(()),
        ("http", Some(_)) => Err("it is plain http to another machine"),
        _ => Err("it is not an https address"),
    }
}

/// Opens the sign-in page at `url` (an address [`web_address`] accepts) in the browser,
/// through a private page in `dir` (see the module's documentation): returns once the
/// browser was started; the one-time address is served meanwhile, for two minutes at most.
pub async fn open_sign_in(url: &str, dir: &Path) -> Result<()> {
    let handoff = Handoff::open(dir, Purpose::SignIn, &Launch::default()).await?;
    let url = Secret::new(url);
    tokio::spawn(async move {
        match handoff.serve(&url).await {
            Served::Browser => {}
            Served::Twice => {
                tracing::warn!("the one-time address of the sign-in page was asked for twice");
            }
            Served::Nobody => tracing::info!(
                waited = WAIT.as_secs(),
                "no browser came for the sign-in page"
            ),
        }
    });
    Ok(())
}

/// How the browser is started on a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Launch {
    /// The program and its arguments before the page's address; `None`: `$BROWSER` if
    /// set, else the desktop's opener.
    pub(crate) command: Option<(PathBuf, Vec<OsString>)>,
    /// A link the page goes through on its way to the one-time address: this, then
    /// `url=` and the address form-encoded (a Firefox container extension's link, which
    /// opens the address in a container).
    pub(crate) link_prefix: Option<String>,
}

/// What a link handed to the browser leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A console sign-in URL.
    Console,
    /// The sign-in page of IAM Identity Center.
    SignIn,
}

impl Purpose {
    /// The start of its page's file name.
    fn name(self) -> &'static str {
        match self {
            Self::Console => "console",
            Self::SignIn => "sign-in",
        }
    }

    /// What its page says it leads to.
    fn title(self) -> &'static str {
        match self {
            Self::Console => "AWS console",
            Self::SignIn => "AWS sign-in",
        }
    }

    /// What the one-time address answers once it is spent.
    fn spent(self) -> &'static str {
        match self {
            Self::Console => "This one-time link to the AWS console was already used by something else. Open the console again from aws-sso-tray.\n",
            Self::SignIn => "This one-time link to the AWS sign-in page was already used by something else. Start the sign-in again.\n",
        }
    }
}

/// How a one-time address was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Served {
    /// Asked for once: by the browser, given the page nobody else can read.
    Browser,
    /// Asked for again right after: something other than the browser may have it.
    Twice,
    /// Not asked for within [`WAIT`].
    Nobody,
}

/// A browser started on a private page that leads to a one-time loopback address.
pub(crate) struct Handoff {
    listener: TcpListener,
    path: String,
    page: Page,
    purpose: Purpose,
}

impl Handoff {
    /// Listens on a loopback port, writes the page that leads to it in `dir` (see
    /// `atomic_file::private_dir`), and starts the browser on the page as `launch` says.
    pub(crate) async fn open(dir: &Path, purpose: Purpose, launch: &Launch) -> Result<Self> {
        let loopback = |source| Error::Loopback {
            action: "listen on a loopback port for the browser",
            source,
        };
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(loopback)?;
        let port = listener.local_addr().map_err(loopback)?.port();
        let path = format!(
            "/{}/{}",
            purpose.name(),
            Alphanumeric.sample_string(&mut rand::thread_rng(), 32)
        );
        let local = format!("http://127.0.0.1:{port}{path}");
        let local = match &launch.link_prefix {
            Some(prefix) => format!(
                "{prefix}{}",
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("url", &local)
                    .finish()
            ),
            None => local,
        };
        let dir = dir.to_owned();
        let page = tokio::task::spawn_blocking(move || Page::write(&dir, purpose, &local))
            .await
            .map_err(|_| Error::Interrupted {
                what: "write of the page for the browser",
            })??;
        let target = page.url()?;
        let command = launch.command.clone();
        let opened = tokio::task::spawn_blocking(move || open(&target, command)).await;
        match opened {
            Ok(Ok(())) => {}
            Ok(Err(source)) => {
                page.remove().await;
                return Err(Error::NoBrowser { source });
            }
            Err(_) => {
                page.remove().await;
                return Err(Error::Interrupted {
                    what: "start of the browser",
                });
            }
        }
        Ok(Self {
            listener,
            path,
            page,
            purpose,
        })
    }

    /// Serves the one-time address: its first request is redirected to `url`, any later
    /// one told that the link is spent. Ends when the browser came (and nobody came
    /// again within a second), or when [`WAIT`] passed; the page is removed as soon as
    /// the browser came, or at the end.
    pub(crate) async fn serve(self, url: &Secret) -> Served {
        let Self {
            listener,
            path,
            page,
            purpose,
        } = self;
        let (tx, mut asked) = mpsc::unbounded_channel::<()>();
        let uses = Arc::new(AtomicUsize::new(0));
        let url = url.clone();
        let acceptor = tokio::spawn(async move {
            loop {
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    // Out of file descriptors, say: wait, rather than spin.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let (path, url, uses, tx) = (path.clone(), url.clone(), uses.clone(), tx.clone());
                tokio::spawn(async move {
                    if answer(stream, &path, &url, &uses, purpose).await {
                        let _ = tx.send(());
                    }
                });
            }
        });
        let served = match tokio::time::timeout(WAIT, asked.recv()).await {
            Ok(Some(())) => {
                // The page leads to a link that is spent now.
                page.remove().await;
                match tokio::time::timeout(SECOND_USE_WATCH, asked.recv()).await {
                    Ok(Some(())) => Served::Twice,
                    _ => Served::Browser,
                }
            }
            _ => {
                page.remove().await;
                Served::Nobody
            }
        };
        acceptor.abort();
        served
    }
}

/// A page in a private directory that sends the browser on to a loopback address;
/// removed when dropped, if not before.
struct Page(Option<PathBuf>);

impl Page {
    /// Writes the page that sends the browser to `local`, readable by the user alone, in
    /// `dir` (see `atomic_file::private_dir`).
    fn write(dir: &Path, purpose: Purpose, local: &str) -> Result<Self> {
        crate::atomic_file::private_dir(dir)?;
        let name = format!(
            "{}-{}.html",
            purpose.name(),
            Alphanumeric.sample_string(&mut rand::thread_rng(), 16)
        );
        let path = dir.join(name);
        let io = |source| Error::Io {
            action: "write",
            path: path.clone(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        // A new file: never one that was there, nor through a symbolic link.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(io)?;
        let page = Self(Some(path.clone()));
        let title = purpose.title();
        // The link is escaped for where it goes, whatever it holds: an attribute, and a
        // script (where `<` could end the element).
        let attribute = html_attribute(local);
        let script = serde_json::to_string(local)
            .unwrap_or_default()
            .replace('<', "\\u003c");
        // One automatic step: the script, else (no script) the refresh; the link for a
        // person. Two could ask for the one-time address twice.
        std::io::Write::write_all(
            &mut file,
            format!(
                "<!doctype html><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">\
                 <noscript><meta http-equiv=\"refresh\" content=\"0;url={attribute}\"></noscript><title>{title}</title>\
                 <p><a id=\"next\" href=\"{attribute}\">Open the {title}</a></p>\
                 <script>location.replace({script});</script>\n"
            )
            .as_bytes(),
        )
        .map_err(io)?;
        Ok(page)
    }

    /// The page's `file:` URL, for the browser.
    fn url(&self) -> Result<String> {
        let path = self.0.as_deref().unwrap_or(Path::new(""));
        url::Url::from_file_path(path)
            .map(String::from)
            .map_err(|()| Error::Io {
                action: "name in a file URL",
                path: path.to_owned(),
                source: std::io::Error::other("the path is not absolute"),
            })
    }

    /// Removes the page, off the runtime's threads.
    async fn remove(mut self) {
        if let Some(path) = self.0.take() {
            let _ = tokio::task::spawn_blocking(move || std::fs::remove_file(path)).await;
        }
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        // Only when the hand-off was cut short (the program ends while it waits).
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// `text` escaped for a double-quoted HTML attribute.
fn html_attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Answers one connection; whether it asked for the one-time address.
async fn answer(
    mut stream: TcpStream,
    path: &str,
    url: &Secret,
    uses: &AtomicUsize,
    purpose: Purpose,
) -> bool {
    let mut buf = vec![0u8; 8192];
    let mut len = 0;
    let read = tokio::time::timeout(READ_TIMEOUT, async {
        while len < buf.len() {
            match stream.read(&mut buf[len..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => len += n,
            }
            if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    })
    .await;
    if read.is_err() {
        return false;
    }
    let wanted = buf[..len].starts_with(format!("GET {path} ").as_bytes());
    let reply = if !wanted {
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
    } else if uses.fetch_add(1, Ordering::SeqCst) == 0 {
        format!(
            "HTTP/1.1 302 Found\r\nLocation: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            url.expose()
        )
    } else {
        let body = purpose.spent();
        format!(
            "HTTP/1.1 410 Gone\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
    wanted
}

/// Starts `command` (a program and its first arguments) if given, else `$BROWSER` if
/// set, else the desktop's opener, on `url`: only ever the `file:` URL of a private page
/// (see [`Handoff`]). The URL is passed as one argument, never through a shell, and never
/// one that an opener would take for an option (a leading `-`).
fn open(url: &str, command: Option<(PathBuf, Vec<OsString>)>) -> std::io::Result<()> {
    if url.starts_with('-') || url.chars().any(char::is_control) {
        return Err(std::io::Error::other(
            "the address begins with '-' or holds control characters",
        ));
    }
    if let Some((program, args)) = command {
        let mut cmd = Command::new(&program);
        cmd.args(args);
        // A browser started here outlives this program: not in its process group, so a
        // Ctrl-C meant for this command does not reach it.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        return start(cmd, url)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", program.display())));
    }
    let cmd = match std::env::var("BROWSER")
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
    start(cmd, url)
}

/// Starts `cmd` on `url`, with nothing on its standard streams, and reaps it.
fn start(mut cmd: Command, url: &str) -> std::io::Result<()> {
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
            "https://device.sso.example/?user_code=AB\r\nSet-Cookie: x=1",
            "https://device.sso.example/\tdevice",
        ] {
            assert!(web_address(bad).is_err(), "{bad}");
        }
        assert!(open("--help", None).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_page_is_ours_alone_and_leads_to_the_loopback_address() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().expect("dir");
        let dir = root.path().join("pages");
        let local = "http://127.0.0.1:1/sign-in/abc";
        let page = Page::write(&dir, Purpose::SignIn, local).expect("page");
        let path = page.0.clone().expect("path");
        assert_eq!(path.parent(), Some(dir.as_path()));
        let meta = std::fs::metadata(&path).expect("meta");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let html = std::fs::read_to_string(&path).expect("read");
        assert!(
            html.contains(&format!("content=\"0;url={local}\"")),
            "{html}"
        );
        let url = page.url().expect("url");
        assert!(
            url.starts_with("file:///") && url.ends_with(".html"),
            "{url}"
        );
        drop(page);
        assert!(!path.exists(), "removed when dropped");
        // Whatever a link holds, it stays inside its attribute and its script.
        let odd = "ext+x:name=a\"b'<c>&url=http://127.0.0.1:1/x</script><b>";
        let page = Page::write(&dir, Purpose::Console, odd).expect("page");
        let html = std::fs::read_to_string(page.0.clone().expect("path")).expect("read");
        assert_eq!(html.matches("</script>").count(), 1, "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(
            html.contains("href=\"ext+x:name=a&quot;b&#39;&lt;c&gt;&amp;url="),
            "{html}"
        );
    }

    #[test]
    fn ssh_means_no_local_browser() {
        let env = |k: &str| matches!(k, "SSH_CONNECTION" | "DISPLAY").then(|| "x".to_owned());
        assert!(!local_browser_likely(env));
        let env = |k: &str| (k == "DISPLAY").then(|| ":0".to_owned());
        assert!(local_browser_likely(env));
    }
}
