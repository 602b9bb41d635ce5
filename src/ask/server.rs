//! The app's end: a listener that only the user's own processes reach.

use super::{own_uid, Answer, Reply, Request, MAX_LINE, SOCKET, VERSION};
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};

/// How long a caller has to send its request once connected.
const REQUEST_WITHIN: Duration = Duration::from_secs(5);

/// The socket, bound in a private directory; removed when dropped.
#[derive(Debug)]
pub struct Listener {
    inner: UnixListener,
    path: PathBuf,
    uid: u32,
}

impl Listener {
    /// Binds `dir/sign-in.sock`, making `dir` (mode 0700) if needed. A directory of
    /// another user, or one others can enter, is refused; a socket left by an app that
    /// was killed is replaced; one that still answers means another app serves it.
    pub async fn bind(dir: &Path) -> io::Result<Self> {
        let uid = own_uid()?;
        Self::bind_for(dir, uid).await
    }

    /// [`Self::bind`], answering only processes of `uid` (tests use another user's id to
    /// see a caller refused).
    pub async fn bind_for(dir: &Path, uid: u32) -> io::Result<Self> {
        crate::atomic_file::create_private_dir(dir)?;
        let meta = std::fs::symlink_metadata(dir)?;
        if !meta.is_dir() || meta.uid() != own_uid()? {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{} is not a directory of this user", dir.display()),
            ));
        }
        if meta.mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let path = dir.join(SOCKET);
        match UnixStream::connect(&path).await {
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("another app answers at {}", path.display()),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            // Nobody listens: what is there is left from a killed app.
            Err(_) => std::fs::remove_file(&path)?,
        }
        let inner = UnixListener::bind(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        Ok(Self { inner, path, uid })
    }

    /// Where it listens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next caller of this user; callers of other users are turned away (and
    /// logged) without a word.
    pub async fn accept(&self) -> io::Result<Connection> {
        loop {
            let (stream, _) = self.inner.accept().await?;
            match stream.peer_cred() {
                Ok(cred) if cred.uid() == self.uid => {
                    let (read, write) = stream.into_split();
                    return Ok(Connection {
                        read: BufReader::new(read),
                        write,
                        pid: cred.pid(),
                    });
                }
                Ok(cred) => {
                    tracing::warn!(
                        uid = cred.uid(),
                        "a process of another user asked for a sign-in; refused"
                    )
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not tell who asked for a sign-in; refused")
                }
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// One caller.
#[derive(Debug)]
pub struct Connection {
    read: BufReader<OwnedReadHalf>,
    write: OwnedWriteHalf,
    pid: Option<i32>,
}

impl Connection {
    /// The caller's process id, where the system says.
    pub fn pid(&self) -> Option<i32> {
        self.pid
    }

    /// The caller's request, read within a few seconds. A request of another version
    /// is answered (refused) here and is an error.
    pub async fn request(&mut self) -> io::Result<Request> {
        let mut line = String::new();
        let mut limited = (&mut self.read).take(MAX_LINE);
        match tokio::time::timeout(REQUEST_WITHIN, limited.read_line(&mut line)).await {
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "no request")),
            Ok(r) => r?,
        };
        let v = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .and_then(|j| j.get("v").and_then(serde_json::Value::as_u64));
        if v != Some(u64::from(VERSION)) {
            let reason = format!("this app speaks version {VERSION} of the sign-in requests");
            self.answer(Answer::Refused {
                reason: reason.clone(),
            })
            .await?;
            return Err(io::Error::new(io::ErrorKind::InvalidData, reason));
        }
        serde_json::from_str(&line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Sends `answer`.
    pub async fn answer(&mut self, answer: Answer) -> io::Result<()> {
        let mut line = serde_json::to_vec(&Reply { v: VERSION, answer })
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        line.push(b'\n');
        self.write.write_all(&line).await?;
        self.write.flush().await
    }

    /// Resolves when the caller hangs up (gave up, or was killed).
    pub async fn closed(&mut self) {
        let mut buf = [0u8; 64];
        loop {
            match self.read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }
}
