//! The app's end: a listener that only the user's own processes reach.

use super::{own_uid, Answer, Reply, Request, MAX_LINE, SOCKET, VERSION};
use std::future::Future;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinSet;

/// How long a caller has to send its request once connected.
const REQUEST_WITHIN: Duration = Duration::from_secs(5);

/// The most callers [`serve`] answers at once; the next are answered [`Answer::Busy`]
/// at once, and sign in as without the app.
///
/// Each caller holds one file descriptor in the app for as long as the person takes to
/// sign in, and the app shares its limit with its window, the keychain and its HTTP
/// connections: a limit that may be as low as 256 (macOS, for an app started from the
/// Finder; 1024 on Linux). 64 keeps callers to a quarter of the lowest, and is still far
/// more programs than wait on one person at a time (`terraform` runs 10 at once). The
/// callers over it sign in by themselves, one at a time under the session's lock across
/// processes.
pub const MAX_CALLERS: usize = 64;

/// The first wait after an error to accept a caller; it doubles with each error in a
/// row, up to [`ACCEPT_RETRY_MAX`].
const ACCEPT_RETRY_FIRST: Duration = Duration::from_millis(10);

/// The longest wait between tries to accept a caller.
const ACCEPT_RETRY_MAX: Duration = Duration::from_secs(1);

/// `EBADF`, the same number on every Unix.
const EBADF: i32 = 9;

/// Where [`serve`] takes its callers from: a [`Listener`] (or, in tests, one that fails
/// when told to).
pub trait Accept: Send + Sync {
    /// The next caller.
    fn accept(&self) -> impl Future<Output = io::Result<Connection>> + Send;
}

impl Accept for Listener {
    fn accept(&self) -> impl Future<Output = io::Result<Connection>> + Send {
        Listener::accept(self)
    }
}

/// Answers each caller that `listener` accepts with `answer`, each on a task of its own,
/// no more than [`MAX_CALLERS`] at once (the next are answered [`Answer::Busy`] at once).
///
/// An error to accept one caller (out of file descriptors or memory, a caller gone
/// before it was accepted, a signal) is waited out: tried again after 10 ms, twice as
/// long after each error in a row up to 1 s, and logged once per run of errors. Only an
/// error that says the listener itself is broken (`EBADF`, `EINVAL`) ends it: then
/// `listener` is dropped (a [`Listener`] removes its socket), and every caller signs in
/// as without the app. Ended or dropped, it hangs up on the callers it was answering.
pub async fn serve<A, F, Fut>(listener: A, answer: F)
where
    A: Accept,
    F: Fn(Connection) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut callers = JoinSet::new();
    let mut errors: u32 = 0;
    loop {
        match listener.accept().await {
            Ok(conn) => {
                if errors > 0 {
                    tracing::info!(errors, "accepting sign-in requests again");
                    errors = 0;
                }
                while let Some(ended) = callers.try_join_next() {
                    if let Err(e) = ended {
                        tracing::error!(error = %e, "answering a sign-in request failed");
                    }
                }
                if callers.len() >= MAX_CALLERS {
                    tracing::debug!(
                        callers = callers.len(),
                        "a sign-in request over the limit; answered busy"
                    );
                    conn.busy();
                } else {
                    callers.spawn(answer(conn));
                }
            }
            Err(e) if listener_broken(&e) => {
                tracing::warn!(error = %e, "stopped answering sign-in requests");
                return;
            }
            Err(e) => {
                if errors == 0 {
                    tracing::warn!(
                        error = %e,
                        "cannot accept sign-in requests for now; trying again"
                    );
                }
                errors = errors.saturating_add(1);
                tokio::time::sleep(accept_retry(errors)).await;
            }
        }
    }
}

/// Whether an error to accept a caller says the listener itself is broken, not that
/// something is short for now or a caller went away.
fn listener_broken(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::InvalidInput || e.raw_os_error() == Some(EBADF)
}

/// How long to wait before trying to accept again, after `errors` errors in a row.
fn accept_retry(errors: u32) -> Duration {
    let doublings = errors.saturating_sub(1).min(16);
    ACCEPT_RETRY_FIRST
        .saturating_mul(1 << doublings)
        .min(ACCEPT_RETRY_MAX)
}

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
        Self::bind_named(dir, SOCKET).await
    }

    /// [`Self::bind`], for the socket `name` in `dir` (another channel to the app with the
    /// same guards).
    pub async fn bind_named(dir: &Path, name: &str) -> io::Result<Self> {
        Self::bind_as(dir, name, own_uid()?).await
    }

    /// [`Self::bind`], answering only processes of `uid` (tests use another user's id to
    /// see a caller refused).
    pub async fn bind_for(dir: &Path, uid: u32) -> io::Result<Self> {
        Self::bind_as(dir, SOCKET, uid).await
    }

    async fn bind_as(dir: &Path, name: &str, uid: u32) -> io::Result<Self> {
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
        let path = dir.join(name);
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

    /// One line of JSON, read within a few seconds (for a channel other than sign-in
    /// requests).
    pub async fn message<T: serde::de::DeserializeOwned>(&mut self) -> io::Result<T> {
        let mut line = String::new();
        let mut limited = (&mut self.read).take(MAX_LINE);
        match tokio::time::timeout(REQUEST_WITHIN, limited.read_line(&mut line)).await {
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "no request")),
            Ok(r) => r?,
        };
        serde_json::from_str(&line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Sends `message` as one line of JSON.
    pub async fn send<T: serde::Serialize>(&mut self, message: &T) -> io::Result<()> {
        let mut line = serde_json::to_vec(message)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        line.push(b'\n');
        self.write.write_all(&line).await?;
        self.write.flush().await
    }

    /// Sends `answer`.
    pub async fn answer(&mut self, answer: Answer) -> io::Result<()> {
        let line = reply_line(answer)?;
        self.write.write_all(&line).await?;
        self.write.flush().await
    }

    /// Answers [`Answer::Busy`] without waiting (a line fits in the empty buffer of a
    /// new connection; a caller that does not get it hears the app hang up, and signs in
    /// by itself all the same), and hangs up.
    fn busy(self) {
        if let Ok(line) = reply_line(Answer::Busy) {
            let _ = self.write.try_write(&line);
        }
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

/// `answer` as one line on the wire.
fn reply_line(answer: Answer) -> io::Result<Vec<u8>> {
    let mut line = serde_json::to_vec(&Reply { v: VERSION, answer })
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    line.push(b'\n');
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ask::{ask, AskApp, Outcome};
    use crate::Instance;
    use std::sync::{Arc, Mutex};
    use tokio::sync::{mpsc, watch};

    /// `EMFILE`, `ENFILE`: the same numbers on every Unix.
    const EMFILE: i32 = 24;
    const ENFILE: i32 = 23;

    fn instance() -> Instance {
        Instance::new("https://acme.awsapps.com/start", "eu-west-1").expect("instance")
    }

    /// A caller that waits up to `timeout`, and says on `waiting` when it is told to wait.
    fn caller(timeout: Duration, waiting: mpsc::UnboundedSender<()>) -> AskApp {
        AskApp {
            program: Some("test".into()),
            wants: super::super::Wants::Unsaid,
            timeout,
            on_waiting: Arc::new(move |_: &Instance| {
                let _ = waiting.send(());
            }),
        }
    }

    /// An app's answer: `waiting`, then `ready` once `go` turns true.
    async fn wait_for(mut conn: Connection, mut go: watch::Receiver<bool>) {
        if conn.request().await.is_err() || conn.answer(Answer::Waiting).await.is_err() {
            return;
        }
        if go.wait_for(|go| *go).await.is_ok() {
            let _ = conn.answer(Answer::Ready).await;
        }
    }

    /// Answers `ready` at once.
    async fn ready(mut conn: Connection) {
        if conn.request().await.is_ok() {
            let _ = conn.answer(Answer::Ready).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn over_the_limit_a_caller_is_answered_busy_at_once_and_the_others_wait_on() {
        let dir = tempfile::tempdir().expect("dir");
        let dir = dir.path().join("app");
        let listener = Listener::bind(&dir).await.expect("bind");
        let (go, gate) = watch::channel(false);
        let serving = tokio::spawn(serve(listener, move |conn| wait_for(conn, gate.clone())));

        let (told, mut waiting) = mpsc::unbounded_channel();
        let asking: Vec<_> = (0..MAX_CALLERS)
            .map(|_| {
                let (dir, app) = (dir.clone(), caller(Duration::from_secs(60), told.clone()));
                tokio::spawn(async move { ask(&dir, &app, &instance()).await })
            })
            .collect();
        for _ in 0..MAX_CALLERS {
            waiting.recv().await.expect("a caller waits");
        }

        // One more: turned away at once, not told to wait (nor left to time out).
        let one_more = ask(&dir, &caller(Duration::from_secs(5), told), &instance()).await;
        match one_more {
            Outcome::NoApp(why) => assert!(why.contains("busy"), "{why}"),
            o => panic!("the caller over the limit: {o:?}"),
        }
        assert!(
            waiting.try_recv().is_err(),
            "the caller over the limit waited"
        );
        assert!(
            asking.iter().all(|a| !a.is_finished()),
            "the callers within the limit still wait"
        );

        // The person signs in: every caller within the limit goes on.
        go.send_replace(true);
        for a in asking {
            assert_eq!(a.await.expect("joins"), Outcome::Ready);
        }
        serving.abort();
    }

    /// A listener that fails with the errors it is given before it accepts.
    struct Failing {
        listener: Listener,
        errors: Mutex<Vec<io::Error>>,
    }

    impl Accept for Failing {
        async fn accept(&self) -> io::Result<Connection> {
            let error = self.errors.lock().expect("errors").pop();
            match error {
                Some(e) => Err(e),
                None => self.listener.accept().await,
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn errors_that_pass_are_waited_out_and_the_next_caller_answered() {
        let dir = tempfile::tempdir().expect("dir");
        let dir = dir.path().join("app");
        let listener = Listener::bind(&dir).await.expect("bind");
        let socket = listener.path().to_owned();
        let errors = vec![
            io::Error::from(io::ErrorKind::ConnectionAborted),
            io::Error::from_raw_os_error(ENFILE),
            io::Error::from_raw_os_error(EMFILE),
        ];
        let listener = Failing {
            listener,
            errors: Mutex::new(errors),
        };
        let serving = tokio::spawn(serve(listener, ready));
        let (told, _) = mpsc::unbounded_channel();
        let app = caller(Duration::from_secs(10), told);

        assert_eq!(ask(&dir, &app, &instance()).await, Outcome::Ready);
        assert!(socket.exists(), "the socket is still there");
        assert_eq!(ask(&dir, &app, &instance()).await, Outcome::Ready);
        assert!(!serving.is_finished());
        serving.abort();
    }

    #[tokio::test]
    async fn a_broken_listener_ends_serving_and_removes_its_socket() {
        let dir = tempfile::tempdir().expect("dir");
        let dir = dir.path().join("app");
        let listener = Listener::bind(&dir).await.expect("bind");
        let socket = listener.path().to_owned();
        let listener = Failing {
            listener,
            errors: Mutex::new(vec![io::Error::from_raw_os_error(EBADF)]),
        };
        serve(listener, ready).await;
        assert!(!socket.exists());
        let (told, _) = mpsc::unbounded_channel();
        match ask(&dir, &caller(Duration::from_secs(10), told), &instance()).await {
            Outcome::NoApp(why) => assert!(why.contains("no app at"), "{why}"),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn the_wait_after_an_error_doubles_up_to_a_second() {
        let waits: Vec<_> = [1, 2, 3, 7, 8, 40, u32::MAX]
            .map(|n| accept_retry(n).as_millis())
            .into();
        assert_eq!(waits, [10, 20, 40, 640, 1000, 1000, 1000]);
    }
}
