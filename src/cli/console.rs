//! Handing a secret URL to the browser without putting it on a command line: the
//! browser gets a one-time loopback address that redirects to it.

use aws_sso_device_auth_provider::{Error, Secret};
use rand::distributions::{Alphanumeric, DistString};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How long the loopback address waits for the browser.
const WAIT: Duration = Duration::from_secs(120);

/// Opens `url` in the browser through `http://127.0.0.1:PORT/console/<random>`, served
/// once with a redirect: other users of the machine can read a process's arguments, and
/// the browser's would hold the sign-in token.
pub async fn open_once(url: &Secret) -> Result<(), Error> {
    let io = |action, source| Error::Io {
        action,
        path: "a loopback port".into(),
        source,
    };
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| io("listen on", e))?;
    let port = listener.local_addr().map_err(|e| io("read", e))?.port();
    let path = format!(
        "/console/{}",
        Alphanumeric.sample_string(&mut rand::thread_rng(), 32)
    );
    let local = format!("http://127.0.0.1:{port}{path}");
    if let Err(e) = aws_sso_device_auth_provider::browser::open(&local) {
        return Err(io("open a browser for", e));
    }
    let serve = async {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let mut buf = vec![0u8; 8192];
            let mut len = 0;
            while len < buf.len() {
                match stream.read(&mut buf[len..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => len += n,
                }
                if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let request = String::from_utf8_lossy(&buf[..len]);
            let wanted = request.starts_with(&format!("GET {path} "));
            let reply = if wanted {
                format!(
                    "HTTP/1.1 302 Found\r\nLocation: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    url.expose()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_owned()
            };
            let _ = stream.write_all(reply.as_bytes()).await;
            let _ = stream.shutdown().await;
            if wanted {
                return;
            }
        }
    };
    tokio::time::timeout(WAIT, serve).await.map_err(|_| {
        io(
            "wait for the browser on",
            std::io::Error::other(format!(
                "no browser opened the console within {} s; try --print",
                WAIT.as_secs()
            )),
        )
    })
}
