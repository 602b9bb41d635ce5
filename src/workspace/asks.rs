//! Sign-in requests of the user's other processes ([`crate::ask`]), answered by the
//! running app: one notice to the person, however many processes ask, and every one of
//! them answered when the person signs in or declines.

use super::{Event, Workspace};
use crate::ask::Answer;
#[cfg(unix)]
use crate::ask::{Connection, Listener, Request};
use crate::Instance;
use tokio::sync::oneshot;

/// The callers waiting on one instance's sign-in, and whether the person was told.
#[derive(Debug, Default)]
pub(super) struct Asks {
    waiting: Vec<Waiter>,
    /// The person was told (a notification) since the session last needed a sign-in:
    /// no second notice until they have signed in.
    pub(super) told: bool,
}

#[derive(Debug)]
struct Waiter {
    /// The program, and what it wants, as shown to the person.
    shown: String,
    answer: oneshot::Sender<Answer>,
}

impl Asks {
    /// The programs still waiting, each with what it wants where it said, each once, in
    /// the order they asked.
    pub(super) fn programs(&self) -> Vec<String> {
        let mut programs: Vec<String> = Vec::new();
        for w in self.waiting.iter().filter(|w| !w.answer.is_closed()) {
            if !programs.contains(&w.shown) {
                programs.push(w.shown.clone());
            }
        }
        programs
    }
}

/// The longest program name kept.
#[cfg_attr(not(unix), allow(dead_code))]
const PROGRAM_CHARS: usize = 40;

/// The longest profile, account or role name kept.
#[cfg_attr(not(unix), allow(dead_code))]
const NAME_CHARS: usize = 64;

impl Workspace {
    /// Answers the sign-in requests of the user's other processes at the socket in the
    /// runtime directory, for as long as the app runs (nothing where there is no runtime
    /// directory, or another app answers there already).
    pub async fn serve_sign_in_requests(&self) {
        #[cfg(unix)]
        {
            let Some(dir) = self.shared.paths.runtime_dir().map(ToOwned::to_owned) else {
                tracing::info!("no runtime directory: other programs sign in by themselves");
                return;
            };
            match Listener::bind(&dir).await {
                Ok(listener) => self.answer_sign_in_requests(listener).await,
                Err(e) => tracing::warn!(error = %e, "cannot answer sign-in requests"),
            }
        }
    }

    /// Answers the sign-in requests that reach `listener`, for the app: through errors
    /// that pass, and no more than [`crate::ask::MAX_CALLERS`] at once
    /// ([`crate::ask::serve`]); until the listener itself fails.
    #[cfg(unix)]
    pub async fn answer_sign_in_requests(&self, listener: Listener) {
        tracing::info!(socket = %listener.path().display(), "answering sign-in requests");
        let world = self.clone();
        crate::ask::serve(listener, move |conn| {
            let world = world.clone();
            async move { world.answer(conn).await }
        })
        .await;
    }

    #[cfg(unix)]
    async fn answer(&self, mut conn: Connection) {
        let request = match conn.request().await {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(error = %e, "a sign-in request was not understood");
                return;
            }
        };
        let answer = match self.instance_asked(&request).await {
            Err(reason) => Answer::Refused { reason },
            Ok(None) => Answer::Ready,
            Ok(Some(instance)) => {
                let program = program_name(&request.program, conn.pid());
                let shown = with_what_it_wants(&program, &request);
                tracing::info!(%instance, program = %shown, "a sign-in is asked for");
                let answer = self.wait_for_sign_in(&instance, program, shown);
                if conn.answer(Answer::Waiting).await.is_err() {
                    return;
                }
                tokio::select! {
                    a = answer => a.unwrap_or(Answer::Refused { reason: "the app is closing".into() }),
                    // Gave up, or was killed: its place in the list goes with it.
                    () = conn.closed() => {
                        self.emit(Event::Changed);
                        return;
                    }
                }
            }
        };
        if let Err(e) = conn.answer(answer).await {
            tracing::debug!(error = %e, "a caller left before its answer");
        }
    }

    /// The instance the request is for, if the person must sign in to it (`None`: the
    /// session is good now); why not, if this app cannot answer for it.
    #[cfg(unix)]
    async fn instance_asked(&self, request: &Request) -> Result<Option<Instance>, String> {
        let instance =
            Instance::new(&request.start_url, &request.region).map_err(|e| e.to_string())?;
        if self.settings().default_instance().map(|i| &i.instance) != Some(&instance) {
            return Err(format!("{instance} is not the app's access portal"));
        }
        let provider = self.provider(&instance).await.map_err(|e| e.to_string())?;
        match provider.access_token_silent().await {
            Ok(_) => Ok(None),
            Err(e) if e.needs_sign_in() => Ok(Some(instance)),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Adds a caller, `program`, shown as `shown`, to those waiting for a sign-in to
    /// `instance`; the first since the session needed one tells the person
    /// ([`Event::SignInAsked`]).
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(super) fn wait_for_sign_in(
        &self,
        instance: &Instance,
        program: String,
        shown: String,
    ) -> oneshot::Receiver<Answer> {
        let (tx, rx) = oneshot::channel();
        let event = {
            let mut state = self.lock();
            let asks = state.asks.entry(instance.clone()).or_default();
            asks.waiting.retain(|w| !w.answer.is_closed());
            let first = asks.waiting.is_empty();
            let notify = !asks.told;
            asks.told = true;
            asks.waiting.push(Waiter { shown, answer: tx });
            Event::SignInAsked {
                instance: instance.clone(),
                program,
                first,
                notify,
            }
        };
        self.emit(event);
        self.emit(Event::Changed);
        rx
    }

    /// The person declines the sign-in that `instance`'s callers wait for: each fails.
    pub fn decline_sign_in(&self, instance: &Instance) {
        self.answer_waiting(instance, &Answer::Declined);
        self.emit(Event::Changed);
    }

    /// Signed in to `instance`: every caller goes on, and the next need tells the person
    /// again.
    pub(super) fn signed_in_for_asks(&self, instance: &Instance) {
        if let Some(asks) = self.lock().asks.get_mut(instance) {
            asks.told = false;
        }
        self.answer_waiting(instance, &Answer::Ready);
    }

    fn answer_waiting(&self, instance: &Instance, answer: &Answer) {
        let waiting = match self.lock().asks.get_mut(instance) {
            Some(asks) => std::mem::take(&mut asks.waiting),
            None => return,
        };
        for w in waiting {
            let _ = w.answer.send(answer.clone());
        }
    }

    /// The session of `instance` needs a sign-in; whether the person should be told
    /// (once until they sign in, whatever else needs it).
    pub fn tell_of_session_end(&self, instance: &Instance) -> bool {
        let mut state = self.lock();
        let asks = state.asks.entry(instance.clone()).or_default();
        !std::mem::replace(&mut asks.told, true)
    }
}

/// The programs waiting for a sign-in to `instance`, while it is not signed in.
pub(super) fn asked_by(state: &super::State, instance: &Instance) -> Vec<String> {
    let signed_in = state
        .sessions
        .get(instance)
        .is_some_and(|s| s.phase == super::status::SessionPhase::SignedIn);
    match state.asks.get(instance) {
        Some(asks) if !signed_in => asks.programs(),
        _ => Vec::new(),
    }
}

/// The program as shown to the person: the caller's word, else its process id; never
/// longer than a line, never blank.
#[cfg(unix)]
pub(super) fn program_name(said: &str, pid: Option<i32>) -> String {
    let said: String = said
        .chars()
        .filter(|c| !c.is_control())
        .take(PROGRAM_CHARS)
        .collect();
    match (said.trim(), pid) {
        ("", Some(pid)) => format!("process {pid}"),
        ("", None) => "a program".to_owned(),
        (s, _) => s.to_owned(),
    }
}

/// `program` and what the request wants, where it says: `aws (profile ops)`,
/// `terraform (role ReadOnly in account 123456789012)`. The names are kept as sent
/// (shown escaped, as every name), no longer than [`NAME_CHARS`] each.
#[cfg(unix)]
fn with_what_it_wants(program: &str, request: &Request) -> String {
    let name = |s: &str| -> String { s.trim().chars().take(NAME_CHARS).collect() };
    let said = |s: &Option<String>| s.as_deref().map(name).filter(|s| !s.is_empty());
    match (
        said(&request.profile),
        said(&request.account),
        said(&request.role),
    ) {
        (Some(profile), _, _) => format!("{program} (profile {profile})"),
        (None, Some(account), Some(role)) => {
            format!("{program} (role {role} in account {account})")
        }
        (None, None, Some(role)) => format!("{program} (role {role})"),
        (None, Some(account), None) => format!("{program} (account {account})"),
        (None, None, None) => program.to_owned(),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::{program_name, with_what_it_wants};
    use crate::ask::{Request, VERSION};

    #[test]
    fn a_caller_is_shown_with_what_it_wants() {
        let request = |profile: Option<&str>, account: Option<&str>, role: Option<&str>| Request {
            v: VERSION,
            start_url: "https://a.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            program: "aws".into(),
            profile: profile.map(Into::into),
            account: account.map(Into::into),
            role: role.map(Into::into),
        };
        let shown = |r: Request| with_what_it_wants("aws", &r);
        assert_eq!(shown(request(None, None, None)), "aws");
        assert_eq!(shown(request(Some(" "), None, None)), "aws");
        assert_eq!(shown(request(Some("ops"), None, None)), "aws (profile ops)");
        assert_eq!(
            shown(request(None, Some("123456789012"), Some("ReadOnly"))),
            "aws (role ReadOnly in account 123456789012)"
        );
        let long = shown(request(Some(&"p".repeat(500)), None, None));
        assert_eq!(long.len(), "aws (profile )".len() + 64);
    }

    #[test]
    fn program_names_are_one_short_line() {
        assert_eq!(program_name("terraform", Some(4)), "terraform");
        assert_eq!(program_name(" \n", Some(4)), "process 4");
        assert_eq!(program_name("", None), "a program");
        assert_eq!(program_name("a\u{1b}[31mb", None), "a[31mb");
        assert_eq!(program_name(&"x".repeat(99), None).len(), 40);
    }
}
