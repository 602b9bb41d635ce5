//! The words every face uses for a session and a favourite's profile at a moment: the
//! window shows these lines as they are, the tray puts them in its menu and `aws-sso-auth
//! status` prints them, all made from the same [`super::Status`] by
//! [`super::Status::session_line`] and [`super::Status::favourite_line`], so none of them
//! words a state its own way.

use serde::Serialize;
use std::time::Duration;

/// How a line should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Tone {
    /// All is well.
    Good,
    /// Something is under way.
    Busy,
    /// Still working, but it needs the person soon.
    Warn,
    /// Not working.
    Bad,
    /// Nothing to say yet.
    Quiet,
}

/// What the person can do about a line, offered beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum NextStep {
    /// Sign in (again).
    SignIn,
}

/// A state in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    /// The sentence for the window: "renewed 16:39 · valid until 17:39".
    pub text: String,
    /// The few words for the tray menu: "42 min left".
    pub short: String,
    /// How it looks.
    pub tone: Tone,
    /// The service's own words about a failure, for a "Details" disclosure.
    pub details: Option<String>,
    /// What the person can do.
    pub next: Option<NextStep>,
}

impl Line {
    fn new(text: impl Into<String>, short: impl Into<String>, tone: Tone) -> Self {
        Self {
            text: text.into(),
            short: short.into(),
            tone,
            details: None,
            next: None,
        }
    }

    fn details(mut self, details: Option<&str>) -> Self {
        self.details = details.map(str::to_owned);
        self
    }

    fn next(mut self, next: NextStep) -> Self {
        self.next = Some(next);
        self
    }
}

/// Who waits for a sign-in, as one sentence ("terraform and aws are waiting for this
/// sign-in."); `None` when nobody does. Program names, each with what it wants where it
/// said ("aws (profile ops)"), are shown as text.
pub fn asked_line(programs: &[String]) -> Option<String> {
    let name = |p: &String| crate::display::capped(p, 200);
    let who = match programs {
        [] => return None,
        [one] => return Some(format!("{} is waiting for this sign-in.", name(one))),
        [a, b] => format!("{} and {}", name(a), name(b)),
        [a, b, rest @ ..] => format!("{}, {} and {} more", name(a), name(b), rest.len()),
    };
    Some(format!("{who} are waiting for this sign-in."))
}

/// "1 h 05 min", "42 min", "under a minute".
pub fn duration_words(d: Duration) -> String {
    let mins = d.as_secs() / 60;
    match mins {
        0 => "under a minute".to_owned(),
        1..=59 => format!("{mins} min"),
        _ => format!("{} h {:02} min", mins / 60, mins % 60),
    }
}

/// "42 min left", or "expired".
pub fn left(expires_at: i64, now_ms: i64) -> String {
    if expires_at <= now_ms {
        return "expired".to_owned();
    }
    let d = Duration::from_millis(u64::try_from(expires_at - now_ms).unwrap_or(0));
    format!("{} left", duration_words(d))
}

/// A wall-clock time of the day ("16:39") from milliseconds since the epoch.
pub type Clock = fn(i64) -> String;

/// The time of day in this machine's time zone.
pub fn local_clock(at_ms: i64) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_millis_opt(at_ms).earliest() {
        Some(t) => t.format("%H:%M").to_string(),
        None => "--:--".to_owned(),
    }
}

/// What is known of a favourite's profile, for its line.
#[derive(Debug, Clone, Copy)]
pub struct ProfileFacts<'a> {
    /// Fetched by `credential_process` on demand, not kept in the file.
    pub credential_process: bool,
    /// A renewal asked for by the person is under way.
    pub renewing: bool,
    /// When the credentials in the file expire.
    pub expires_at: Option<i64>,
    /// When this app last wrote them.
    pub written_at: Option<i64>,
    /// The last renewal failure, and when it is tried again.
    pub failure: Option<(&'a str, i64)>,
    /// Whether the favourite's session is signed in (so it can be renewed).
    pub signed_in: bool,
}

/// A profile whose renewal is under way, in words.
pub fn renewing_line() -> Line {
    Line::new("renewing…", "renewing…", Tone::Busy)
}

/// A favourite's profile in words.
pub fn profile_line(p: &ProfileFacts<'_>, now_ms: i64, clock: Clock) -> Line {
    let valid = p.expires_at.filter(|&t| t > now_ms);
    if p.renewing {
        return renewing_line();
    }
    if p.credential_process {
        return Line::new("credentials fetched on demand", "on demand", Tone::Quiet);
    }
    let gone = || match p.expires_at {
        Some(t) => format!("expired at {}", clock(t)),
        None => "not written".to_owned(),
    };
    if let (true, Some((message, retry_at))) = (p.signed_in, p.failure) {
        let retry = if retry_at <= now_ms {
            "retrying now".to_owned()
        } else {
            format!("retrying at {}", clock(retry_at))
        };
        let line = match valid {
            Some(t) => Line::new(
                format!("still valid until {} · {retry}", clock(t)),
                format!("renewal failed, {}", left(t, now_ms)),
                Tone::Warn,
            ),
            None => Line::new(format!("{} · {retry}", gone()), "renewal failed", Tone::Bad),
        };
        return line.details(Some(message));
    }
    if !p.signed_in {
        let line = match valid {
            Some(t) => Line::new(
                format!("valid until {} · sign in to keep it fresh", clock(t)),
                format!("{}, not renewed", left(t, now_ms)),
                Tone::Warn,
            ),
            None if p.expires_at.is_some() => Line::new(
                format!("{} · sign in to renew it", gone()),
                "expired",
                Tone::Bad,
            ),
            None => Line::new(
                "not written · sign in to write it",
                "not written",
                Tone::Quiet,
            ),
        };
        return line.next(NextStep::SignIn);
    }
    match (valid, p.written_at) {
        (Some(t), Some(w)) => Line::new(
            format!("renewed {} · valid until {}", clock(w), clock(t)),
            left(t, now_ms),
            Tone::Good,
        ),
        (Some(t), None) => Line::new(
            format!("valid until {}", clock(t)),
            left(t, now_ms),
            Tone::Good,
        ),
        (None, _) if p.expires_at.is_some() => Line::new(gone(), "expired", Tone::Bad),
        (None, _) => Line::new("not written yet", "not written yet", Tone::Quiet),
    }
}

/// A one-off profile (written once, not kept fresh) in words.
pub fn one_off_line(expires_at: i64, written_at: Option<i64>, now_ms: i64, clock: Clock) -> Line {
    if expires_at <= now_ms {
        return Line::new(
            format!("expired at {}", clock(expires_at)),
            "expired",
            Tone::Bad,
        );
    }
    let text = match written_at {
        Some(w) => format!(
            "written {} · valid until {} · not renewed",
            clock(w),
            clock(expires_at)
        ),
        None => format!("valid until {} · not renewed", clock(expires_at)),
    };
    Line::new(text, left(expires_at, now_ms), Tone::Quiet)
}

/// Where a session stands, for its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFacts<'a> {
    /// No access portal is set up.
    NoPortal,
    /// Not signed in.
    SignedOut,
    /// A sign-in waits for the person.
    SigningIn {
        /// The code to compare, for the device flow.
        code: Option<&'a str>,
    },
    /// Signed in.
    SignedIn {
        /// When the session ends, if it cannot renew itself.
        ends_at: Option<i64>,
        /// The last failure renewing the session, and when it is tried again.
        failure: Option<(&'a str, i64)>,
        /// How many favourites' renewals are failing.
        failing_profiles: usize,
    },
    /// The session ended while the app ran.
    Ended,
}

/// A session in words: the window's header and the tray's first line.
pub fn session_line(s: SessionFacts<'_>, now_ms: i64, clock: Clock) -> Line {
    match s {
        SessionFacts::NoPortal => Line::new(
            "No AWS access portal yet",
            "no access portal set up yet",
            Tone::Quiet,
        ),
        SessionFacts::SignedOut => {
            Line::new("Signed out", "signed out", Tone::Quiet).next(NextStep::SignIn)
        }
        SessionFacts::SigningIn { code } => Line::new(
            "Signing in…",
            code.map_or("signing in".to_owned(), |c| format!("signing in, code {c}")),
            Tone::Busy,
        ),
        SessionFacts::Ended => Line::new(
            "Session ended · sign in again",
            "session ended, sign in again",
            Tone::Bad,
        )
        .next(NextStep::SignIn),
        SessionFacts::SignedIn {
            failure: Some((message, retry_at)),
            ..
        } => {
            let retry = if retry_at <= now_ms {
                "retrying now".to_owned()
            } else {
                format!("retrying at {}", clock(retry_at))
            };
            Line::new(
                format!("Signed in · renewal failing, {retry}"),
                format!("signed in, renewal failing ({retry})"),
                Tone::Warn,
            )
            .details(Some(message))
        }
        SessionFacts::SignedIn {
            failing_profiles: n @ 1..,
            ..
        } => {
            let what = if n == 1 {
                "1 profile not renewing".to_owned()
            } else {
                format!("{n} profiles not renewing")
            };
            Line::new(
                format!("Signed in · {what}"),
                format!("signed in, {what}"),
                Tone::Warn,
            )
        }
        SessionFacts::SignedIn {
            ends_at: Some(t), ..
        } => {
            let left = left(t, now_ms);
            Line::new(
                format!("Signed in · {left}"),
                format!("signed in · {left}"),
                if t > now_ms { Tone::Good } else { Tone::Bad },
            )
        }
        SessionFacts::SignedIn { .. } => Line::new("Signed in", "signed in", Tone::Good),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_waits_is_one_sentence_with_names_as_text() {
        let p = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        assert_eq!(asked_line(&[]), None);
        assert_eq!(
            asked_line(&p(&["terraform"])).as_deref(),
            Some("terraform is waiting for this sign-in.")
        );
        assert_eq!(
            asked_line(&p(&["terraform", "aws"])).as_deref(),
            Some("terraform and aws are waiting for this sign-in.")
        );
        assert_eq!(
            asked_line(&p(&["terraform", "aws", "node", "python3"])).as_deref(),
            Some("terraform, aws and 2 more are waiting for this sign-in.")
        );
        // A name cannot turn the sentence around or break it.
        let odd = asked_line(&p(&["evil\u{202e}mrof\nx"])).expect("line");
        assert!(!odd.contains('\u{202e}') && !odd.contains('\n'), "{odd}");
        assert!(odd.ends_with(" is waiting for this sign-in."), "{odd}");
    }

    const MIN: i64 = 60_000;
    /// 16:00 UTC on a day.
    const T: i64 = 1_800_000_000_000 - 1_800_000_000_000 % (24 * 60 * MIN) + 16 * 60 * MIN;

    fn utc(at: i64) -> String {
        use chrono::TimeZone;
        chrono::Utc
            .timestamp_millis_opt(at)
            .unwrap()
            .format("%H:%M")
            .to_string()
    }

    fn facts() -> ProfileFacts<'static> {
        ProfileFacts {
            credential_process: false,
            renewing: false,
            expires_at: Some(T + 60 * MIN),
            written_at: Some(T),
            failure: None,
            signed_in: true,
        }
    }

    fn line(p: ProfileFacts<'_>, now: i64) -> Line {
        profile_line(&p, now, utc)
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_words(Duration::from_secs(30)), "under a minute");
        assert_eq!(duration_words(Duration::from_secs(42 * 60)), "42 min");
        assert_eq!(duration_words(Duration::from_secs(65 * 60)), "1 h 05 min");
    }

    #[test]
    fn a_renewed_profile_says_when_and_until_when() {
        let l = line(facts(), T + 18 * MIN);
        assert_eq!(l.text, "renewed 16:00 · valid until 17:00");
        assert_eq!(l.short, "42 min left");
        assert_eq!(l.tone, Tone::Good);
        let read = line(
            ProfileFacts {
                written_at: None,
                ..facts()
            },
            T,
        );
        assert_eq!(read.text, "valid until 17:00");
    }

    #[test]
    fn expiry_is_the_same_moment_for_both_faces() {
        let just_before = line(facts(), T + 60 * MIN - 1);
        assert_eq!(just_before.short, "under a minute left");
        assert_eq!(just_before.tone, Tone::Good);
        let at = line(facts(), T + 60 * MIN);
        assert_eq!(at.text, "expired at 17:00");
        assert_eq!(at.short, "expired");
        assert_eq!(at.tone, Tone::Bad);
    }

    #[test]
    fn a_failed_renewal_keeps_the_valid_keys_in_view_and_says_when_it_retries() {
        let failing = ProfileFacts {
            failure: Some(("ListAccountRoles: InternalServerException", T + 21 * MIN)),
            ..facts()
        };
        let l = line(failing, T + 20 * MIN);
        assert_eq!(l.text, "still valid until 17:00 · retrying at 16:21");
        assert_eq!(l.short, "renewal failed, 40 min left");
        assert_eq!(l.tone, Tone::Warn);
        assert_eq!(
            l.details.as_deref(),
            Some("ListAccountRoles: InternalServerException")
        );
        let late = line(failing, T + 61 * MIN);
        assert_eq!(late.text, "expired at 17:00 · retrying now");
        assert_eq!(late.tone, Tone::Bad);
    }

    #[test]
    fn without_a_session_the_file_is_still_described_and_sign_in_offered() {
        let out = ProfileFacts {
            signed_in: false,
            written_at: None,
            ..facts()
        };
        let l = line(out, T + 10 * MIN);
        assert_eq!(l.text, "valid until 17:00 · sign in to keep it fresh");
        assert_eq!(l.next, Some(NextStep::SignIn));
        assert_eq!(l.tone, Tone::Warn);
        assert_eq!(
            line(out, T + 70 * MIN).text,
            "expired at 17:00 · sign in to renew it"
        );
        let none = line(
            ProfileFacts {
                expires_at: None,
                ..out
            },
            T,
        );
        assert_eq!(none.text, "not written · sign in to write it");
    }

    #[test]
    fn a_failure_left_from_before_the_session_ended_gives_way_to_the_sign_in() {
        let l = line(
            ProfileFacts {
                signed_in: false,
                failure: Some(("InternalServerException", T + MIN)),
                ..facts()
            },
            T,
        );
        assert_eq!(l.text, "valid until 17:00 · sign in to keep it fresh");
        assert_eq!(l.next, Some(NextStep::SignIn));
    }

    #[test]
    fn a_one_off_profile_says_it_is_not_renewed_until_it_expires() {
        let l = one_off_line(T + 60 * MIN, Some(T), T + MIN, utc);
        assert_eq!(l.text, "written 16:00 · valid until 17:00 · not renewed");
        assert_eq!(l.short, "59 min left");
        let gone = one_off_line(T + 60 * MIN, None, T + 60 * MIN, utc);
        assert_eq!(
            (gone.text.as_str(), gone.tone),
            ("expired at 17:00", Tone::Bad)
        );
    }

    #[test]
    fn a_renewal_under_way_and_on_demand_profiles_say_so() {
        let busy = line(
            ProfileFacts {
                renewing: true,
                ..facts()
            },
            T,
        );
        assert_eq!((busy.text.as_str(), busy.tone), ("renewing…", Tone::Busy));
        let on_demand = line(
            ProfileFacts {
                credential_process: true,
                expires_at: None,
                ..facts()
            },
            T,
        );
        assert_eq!(on_demand.short, "on demand");
    }

    #[test]
    fn a_session_that_cannot_renew_is_never_a_plain_signed_in() {
        let failing = session_line(
            SessionFacts::SignedIn {
                ends_at: None,
                failure: Some(("CreateToken: InternalServerException", T + MIN)),
                failing_profiles: 0,
            },
            T,
            utc,
        );
        assert_eq!(
            failing.text,
            "Signed in · renewal failing, retrying at 16:01"
        );
        assert_eq!(failing.tone, Tone::Warn);
        let profiles = session_line(
            SessionFacts::SignedIn {
                ends_at: None,
                failure: None,
                failing_profiles: 2,
            },
            T,
            utc,
        );
        assert_eq!(profiles.text, "Signed in · 2 profiles not renewing");
        assert_eq!(profiles.tone, Tone::Warn);
        let ended = session_line(SessionFacts::Ended, T, utc);
        assert_eq!(ended.next, Some(NextStep::SignIn));
        let fine = session_line(
            SessionFacts::SignedIn {
                ends_at: Some(T + 30 * MIN),
                failure: None,
                failing_profiles: 0,
            },
            T,
            utc,
        );
        assert_eq!(
            (fine.text.as_str(), fine.short.as_str()),
            ("Signed in · 30 min left", "signed in · 30 min left")
        );
    }
}
