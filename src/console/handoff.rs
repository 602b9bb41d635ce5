//! Handing a console sign-in URL (a secret: whoever opens it first is signed in) to the
//! browser so that nobody else can take it first.
//!
//! Another local user can read every process's arguments (`/proc/PID/cmdline`), so the
//! browser is never given the URL itself, nor a link that leads to it. Where the system
//! has a private runtime directory (`$XDG_RUNTIME_DIR`, 0700, the user's own), the
//! browser is given a page there (0600) that sends it on to a one-time loopback address;
//! only the page's name is in the browser's arguments, and nobody else can read the page.
//! Without one, the loopback address itself goes to the browser, and whoever asks for it
//! first is served: if that was not the browser, the browser comes second, is told so,
//! and so is the user. Each connection is served on its own, with a time limit for its
//! request, so an idle connection holds up nothing.

use crate::error::{Error, Result};
use crate::secret::Secret;
use rand::distributions::{Alphanumeric, DistString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How long the hand-off waits for the browser.
const WAIT: Duration = Duration::from_secs(120);
/// How long a connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// After the browser came, how long a second use of the link is watched for.
const SECOND_USE_WATCH: Duration = Duration::from_secs(1);

/// Opens the console sign-in `url` in the browser, once. `runtime_dir` is a private
/// directory for the page that sends the browser on ([`crate::paths::Paths::runtime_dir`]);
/// without one, the browser is given the one-time loopback address.
///
/// Succeeds only when the browser (and nobody else) asked for the address; fails with
/// [`Error::ConsoleLinkTaken`] when it was asked for twice.
pub async fn open_once(url: &Secret, runtime_dir: Option<&Path>) -> Result<()> {
    let loopback = |source| Error::Loopback {
        action: "listen on a loopback port for the browser",
        source,
    };
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(loopback)?;
    let port = listener.local_addr().map_err(loopback)?.port();
    let path = format!(
        "/console/{}",
        Alphanumeric.sample_string(&mut rand::thread_rng(), 32)
    );
    let local = format!("http://127.0.0.1:{port}{path}");
    let page = match runtime_dir {
        Some(dir) => {
            let (dir, local) = (dir.to_owned(), local.clone());
            let written = tokio::task::spawn_blocking(move || private_page(&dir, &local))
                .await
                .unwrap_or_else(|_| Err(std::io::Error::other("interrupted")));
            match written {
                Ok(page) => Some(page),
                Err(e) => {
                    tracing::warn!(error = %e, "no private page for the console; the browser gets the one-time address");
                    None
                }
            }
        }
        None => None,
    };
    let target = match &page {
        Some(p) => url::Url::from_file_path(p)
            .map(String::from)
            .unwrap_or_else(|()| local.clone()),
        None => local,
    };
    let served = async {
        let opened = tokio::task::spawn_blocking(move || crate::browser::open(&target)).await;
        match opened {
            Ok(Ok(())) => {}
            Ok(Err(source)) => return Err(Error::NoBrowser { source }),
            Err(_) => {
                return Err(Error::Interrupted {
                    what: "start of the browser",
                })
            }
        }
        serve(listener, path, url.clone()).await
    }
    .await;
    if let Some(p) = page {
        // The page leads to a link that is spent by now (or never will be).
        let _ = tokio::task::spawn_blocking(move || std::fs::remove_file(p)).await;
    }
    served
}

/// Writes the page that sends the browser to `local`, readable by the user alone, in
/// `dir` (made, or kept, private). `dir` is inside the user's own runtime directory, so
/// nobody else can have made it.
fn private_page(dir: &Path, local: &str) -> std::io::Result<PathBuf> {
    crate::atomic_file::create_private_dir(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        if std::fs::metadata(dir)?.mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    let name = format!(
        "console-{}.html",
        Alphanumeric.sample_string(&mut rand::thread_rng(), 16)
    );
    let path = dir.join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path)?;
    std::io::Write::write_all(
        &mut file,
        format!(
            "<!doctype html><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">\
             <meta http-equiv=\"refresh\" content=\"0;url={local}\"><title>AWS console</title>\
             <p><a href=\"{local}\">Open the AWS console</a></p>\n"
        )
        .as_bytes(),
    )?;
    Ok(path)
}

/// Serves the one-time address: its first request is redirected to `url`, any later
/// one told that the link is spent. Ends when the browser came (and nobody came again
/// within [`SECOND_USE_WATCH`]), or when [`WAIT`] passed.
async fn serve(listener: TcpListener, path: String, url: Secret) -> Result<()> {
    let (tx, mut asked) = mpsc::unbounded_channel::<()>();
    let uses = Arc::new(AtomicUsize::new(0));
    let acceptor = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (path, url, uses, tx) = (path.clone(), url.clone(), uses.clone(), tx.clone());
            tokio::spawn(async move {
                if answer(stream, &path, &url, &uses).await {
                    let _ = tx.send(());
                }
            });
        }
    });
    let outcome = async {
        tokio::time::timeout(WAIT, asked.recv())
            .await
            .map_err(|_| Error::ConsoleNotOpened { waited: WAIT })?;
        match tokio::time::timeout(SECOND_USE_WATCH, asked.recv()).await {
            Ok(Some(())) => Err(Error::ConsoleLinkTaken),
            _ => Ok(()),
        }
    }
    .await;
    acceptor.abort();
    outcome
}

/// Answers one connection; whether it asked for the one-time address.
async fn answer(mut stream: TcpStream, path: &str, url: &Secret, uses: &AtomicUsize) -> bool {
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
        let body = "This one-time link to the AWS console was already used by something else. Open the console again from aws-sso-tray.\n";
        format!(
            "HTTP/1.1 410 Gone\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
    wanted
}
