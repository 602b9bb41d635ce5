//! The tray: a model of the menu built from the app's view (pure, tested without a
//! display), its typed ids, the icon per state, and turning the model into a Tauri menu.

use crate::view::{serving_words, AppView, FavouriteView, Phase};
use aws_sso_device_auth_provider::display;
use tauri::image::Image;
use tauri::menu::{IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::{AppHandle, Runtime};

/// Every clickable item of the tray menu.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MenuId {
    /// Start a sign-in (or show the one waiting).
    SignIn,
    /// Sign out of the current instance.
    SignOut,
    /// Write or renew a favourite's profile now.
    Renew(String),
    /// Open the AWS console as a favourite's role.
    Console(String),
    /// The account browser.
    Browse,
    /// The favourites view.
    Favourites,
    /// The settings view.
    Settings,
    /// Quit the app.
    Quit,
}

impl MenuId {
    /// The id string Tauri carries.
    pub fn to_id(&self) -> String {
        match self {
            Self::SignIn => "sign-in".into(),
            Self::SignOut => "sign-out".into(),
            Self::Renew(p) => format!("renew:{p}"),
            Self::Console(p) => format!("console:{p}"),
            Self::Browse => "browse".into(),
            Self::Favourites => "favourites".into(),
            Self::Settings => "settings".into(),
            Self::Quit => "quit".into(),
        }
    }

    /// The id back from a click; `None` for ids this app did not make.
    pub fn parse(id: &str) -> Option<Self> {
        if let Some(p) = id.strip_prefix("renew:") {
            return Some(Self::Renew(p.to_owned()));
        }
        if let Some(p) = id.strip_prefix("console:") {
            return Some(Self::Console(p.to_owned()));
        }
        Some(match id {
            "sign-in" => Self::SignIn,
            "sign-out" => Self::SignOut,
            "browse" => Self::Browse,
            "favourites" => Self::Favourites,
            "settings" => Self::Settings,
            "quit" => Self::Quit,
            _ => return None,
        })
    }
}

/// Which icon the tray shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayIcon {
    /// Not signed in.
    SignedOut,
    /// Signed in; every profile fresh.
    SignedIn,
    /// A sign-in or a renewal is under way.
    Renewing,
    /// The session ended or a renewal failed.
    Attention,
}

impl TrayIcon {
    /// Whether the icons are template images: macOS's menu bar draws them in its own
    /// colour (black or white with the menu bar's look), so the state shows by shape;
    /// elsewhere by colour.
    pub const TEMPLATE: bool = cfg!(target_os = "macos");

    /// The icon's pixels.
    pub fn image(self) -> tauri::Result<Image<'static>> {
        Image::from_bytes(if Self::TEMPLATE {
            self.template_png()
        } else {
            self.png()
        })
    }

    /// In colour: grey, green, blue, amber with a red badge.
    fn png(self) -> &'static [u8] {
        match self {
            Self::SignedOut => include_bytes!("../../icons/tray-signed-out.png"),
            Self::SignedIn => include_bytes!("../../icons/tray-signed-in.png"),
            Self::Renewing => include_bytes!("../../icons/tray-renewing.png"),
            Self::Attention => include_bytes!("../../icons/tray-attention.png"),
        }
    }

    /// One colour, by shape: a dimmed key, a key, a key with three dots, a key with a
    /// badge.
    fn template_png(self) -> &'static [u8] {
        match self {
            Self::SignedOut => include_bytes!("../../icons/tray-template-signed-out.png"),
            Self::SignedIn => include_bytes!("../../icons/tray-template-signed-in.png"),
            Self::Renewing => include_bytes!("../../icons/tray-template-renewing.png"),
            Self::Attention => include_bytes!("../../icons/tray-template-attention.png"),
        }
    }
}

/// One entry of the menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Text that cannot be clicked.
    Label(String),
    /// A clickable item.
    Item(MenuId, String),
    /// A line.
    Separator,
    /// A submenu.
    Submenu(String, Vec<Entry>),
}

/// The tray as it should look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayModel {
    /// The icon.
    pub icon: TrayIcon,
    /// The hover text.
    pub tooltip: String,
    /// The menu.
    pub entries: Vec<Entry>,
}

/// The product's name, as a person reads it (the window's title, the desktop's menu).
pub const PRODUCT: &str = "AWS SSO Tray";

/// Longest name part of a menu line: the time left, at its end, always shows.
const NAME_CHARS: usize = 32;
/// Longest menu line.
const LINE_CHARS: usize = 100;
/// Shortest an account's or a role's name is cut to before a profile name is cut.
const TARGET_MIN_CHARS: usize = 12;

/// "account / role", each part capped (names are already made safe by the view).
fn target(f: &FavouriteView) -> String {
    let account = f.account_name.as_deref().unwrap_or(&f.account_id);
    format!(
        "{} / {}",
        display::capped(account, NAME_CHARS),
        display::capped(&role(f), NAME_CHARS)
    )
}

/// The role, and the role assumed from it: "ReadOnly ⇒ Deploy".
fn role(f: &FavouriteView) -> String {
    match &f.assume_role {
        Some(a) => format!("{} ⇒ {}", f.role_name, a.role_name()),
        None => f.role_name.clone(),
    }
}

/// Characters `s` takes on screen.
fn width(s: &str) -> usize {
    display::text(s).chars().count()
}

/// "profile → account / role · 42 min left", within a menu line. The profile name is what
/// the person typed and looks for: it stays whole where it fits, and the account and the
/// role (the service's names) are cut first, each to no less than [`TARGET_MIN_CHARS`];
/// the state, at the end, always shows.
fn favourite_line(f: &FavouriteView) -> String {
    let account = f.account_name.as_deref().unwrap_or(&f.account_id);
    let role = role(f);
    let role = role.as_str();
    let status = &f.status.short;
    let fixed = [" → ", " / ", " · ", status]
        .iter()
        .map(|s| s.chars().count())
        .sum::<usize>();
    let room = LINE_CHARS.saturating_sub(fixed);
    let (a, r) = (width(account), width(role));
    let least = a.min(TARGET_MIN_CHARS) + r.min(TARGET_MIN_CHARS);
    let profile = display::capped(&f.profile, room.saturating_sub(least).max(TARGET_MIN_CHARS));
    // What is left goes to the account and the role, half each; what one does not need,
    // the other may use.
    let left = room.saturating_sub(width(&profile));
    let (a_room, r_room) = if a + r <= left {
        (a, r)
    } else if a <= left / 2 {
        (a, left - a)
    } else if r <= left - left / 2 {
        (left - r, r)
    } else {
        (left / 2, left - left / 2)
    };
    format!(
        "{profile} → {} / {} · {status}",
        display::capped(account, a_room),
        display::capped(role, r_room),
    )
}

impl TrayModel {
    /// The tray for `view` (whose lines were made at one moment).
    pub fn from_view(view: &AppView) -> Self {
        let who = view
            .instance
            .as_ref()
            .map(|i| display::capped(&i.name(), NAME_CHARS))
            .unwrap_or_else(|| PRODUCT.to_owned());
        let session = &view.session;
        let session_line = match &view.instance {
            Some(_) => format!("{who} · {}", session.line.short),
            None => "No AWS access portal set up yet".to_owned(),
        };
        let mut entries = vec![Entry::Label(session_line.clone())];
        // Under the session whose credentials they are: the commands served now
        // (`aws-sso-auth exec`); the window lists them, and stops them.
        let serving = view.exec.iter().filter(|e| e.ended.is_none()).count();
        if serving > 0 {
            entries.push(Entry::Label(serving_words(serving)));
        }
        entries.push(match session.state {
            Phase::SignedIn => Entry::Item(MenuId::SignOut, "Sign out".into()),
            // The code to compare, when the sign-in has one (the device flow); the
            // browser's flow has none, and the window says to go on in the browser.
            Phase::SigningIn => Entry::Item(
                MenuId::SignIn,
                match view.sign_in.as_ref().and_then(|s| s.user_code.as_deref()) {
                    Some(_) => "Show sign-in code…".into(),
                    None => "Show sign-in…".into(),
                },
            ),
            _ => Entry::Item(
                MenuId::SignIn,
                match &view.asked {
                    Some(asked) => format!("Sign in… ({})", asked.trim_end_matches('.')),
                    None => "Sign in…".into(),
                },
            ),
        });
        entries.push(Entry::Separator);
        if view.favourites.is_empty() {
            entries.push(Entry::Label(
                "No favourites yet: add one in Browse accounts".into(),
            ));
        } else {
            entries.push(Entry::Label("Favourites (click to renew now)".into()));
            for f in &view.favourites {
                entries.push(Entry::Item(
                    MenuId::Renew(f.profile.clone()),
                    favourite_line(f),
                ));
            }
            entries.push(Entry::Submenu(
                "Open console".into(),
                view.favourites
                    .iter()
                    .map(|f| Entry::Item(MenuId::Console(f.profile.clone()), target(f)))
                    .collect(),
            ));
        }
        entries.push(Entry::Separator);
        entries.push(Entry::Item(MenuId::Browse, "Browse accounts…".into()));
        entries.push(Entry::Item(MenuId::Favourites, "Favourites…".into()));
        entries.push(Entry::Item(MenuId::Settings, "Settings…".into()));
        entries.push(Entry::Separator);
        entries.push(Entry::Item(MenuId::Quit, "Quit".into()));

        let failing = view.favourites.iter().any(|f| f.error.is_some());
        let icon = match session.state {
            Phase::NeedsSignIn => TrayIcon::Attention,
            _ if view.asked.is_some() => TrayIcon::Attention,
            _ if failing => TrayIcon::Attention,
            Phase::SigningIn => TrayIcon::Renewing,
            _ if view.favourites.iter().any(|f| f.renewing) => TrayIcon::Renewing,
            Phase::SignedIn => TrayIcon::SignedIn,
            Phase::SignedOut => TrayIcon::SignedOut,
        };
        let mut tooltip = display::capped(&format!("{PRODUCT}: {session_line}"), LINE_CHARS);
        if view.demo {
            tooltip.push_str(" (demo)");
        }
        Self {
            icon,
            tooltip,
            entries,
        }
    }
}

/// The Tauri menu for `entries`.
pub fn build_menu<R: Runtime>(app: &AppHandle<R>, entries: &[Entry]) -> tauri::Result<Menu<R>> {
    let items = menu_items(app, entries)?;
    let refs: Vec<&dyn IsMenuItem<R>> = items.iter().map(AsRef::as_ref).collect();
    Menu::with_items(app, &refs)
}

fn menu_items<R: Runtime>(
    app: &AppHandle<R>,
    entries: &[Entry],
) -> tauri::Result<Vec<Box<dyn IsMenuItem<R>>>> {
    let mut out: Vec<Box<dyn IsMenuItem<R>>> = Vec::with_capacity(entries.len());
    for entry in entries {
        out.push(match entry {
            Entry::Label(text) => Box::new(MenuItem::new(
                app,
                display::menu_label(text, LINE_CHARS),
                false,
                None::<&str>,
            )?),
            Entry::Item(id, text) => Box::new(MenuItem::with_id(
                app,
                id.to_id(),
                display::menu_label(text, LINE_CHARS),
                true,
                None::<&str>,
            )?),
            Entry::Separator => Box::new(PredefinedMenuItem::separator(app)?),
            Entry::Submenu(text, children) => {
                let items = menu_items(app, children)?;
                let refs: Vec<&dyn IsMenuItem<R>> = items.iter().map(AsRef::as_ref).collect();
                Box::new(Submenu::with_items(
                    app,
                    display::menu_label(text, LINE_CHARS),
                    true,
                    &refs,
                )?)
            }
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATES: [TrayIcon; 4] = [
        TrayIcon::SignedOut,
        TrayIcon::SignedIn,
        TrayIcon::Renewing,
        TrayIcon::Attention,
    ];

    /// macOS draws a template image from its alpha alone: each is one colour (black), and
    /// each state has its own shape, so the state still shows in a menu bar of any look.
    #[test]
    fn template_icons_are_one_colour_and_one_shape_a_state() {
        let alphas: Vec<Vec<u8>> = STATES
            .iter()
            .map(|s| {
                let image = Image::from_bytes(s.template_png()).unwrap();
                assert_eq!((image.width(), image.height()), (64, 64), "{s:?}");
                let rgba = image.rgba();
                for px in rgba.chunks(4).filter(|px| px[3] > 0) {
                    assert_eq!(&px[..3], &[0, 0, 0], "{s:?} is not black");
                }
                rgba.chunks(4).map(|px| px[3]).collect()
            })
            .collect();
        for (i, a) in alphas.iter().enumerate() {
            for (j, b) in alphas.iter().enumerate().skip(i + 1) {
                let differ = a
                    .iter()
                    .zip(b)
                    .filter(|(x, y)| x.abs_diff(**y) > 64)
                    .count();
                assert!(
                    differ > 40,
                    "{:?} and {:?} look alike",
                    STATES[i],
                    STATES[j]
                );
            }
        }
        for s in STATES {
            Image::from_bytes(s.png()).unwrap();
            s.image().unwrap();
        }
    }

    #[test]
    fn ids_round_trip_even_with_colons_in_profile_names() {
        for id in [
            MenuId::SignIn,
            MenuId::SignOut,
            MenuId::Renew("team:dev".into()),
            MenuId::Console("a/b".into()),
            MenuId::Browse,
            MenuId::Favourites,
            MenuId::Settings,
            MenuId::Quit,
        ] {
            assert_eq!(MenuId::parse(&id.to_id()), Some(id));
        }
        assert_eq!(MenuId::parse("something-else"), None);
    }
}

#[cfg(test)]
mod label_tests {
    use super::*;
    use aws_sso_device_auth_provider::workspace::words::{Line, Tone};

    fn favourite(profile: &str, account: &str, role: &str) -> FavouriteView {
        FavouriteView {
            profile: profile.into(),
            start_url: "https://x.awsapps.com/start".into(),
            sso_region: "eu-west-1".into(),
            account_id: "123456789012".into(),
            account_name: Some(account.into()),
            role_name: role.into(),
            region: None,
            credential_process: false,
            assume_role: None,
            expires_at: None,
            error: None,
            renewing: false,
            written_at: None,
            status: Line {
                text: "renewed 16:00 · valid until 17:00".into(),
                short: "59 min left".into(),
                tone: Tone::Good,
                details: None,
                next: None,
            },
        }
    }

    /// The profile name is what the person typed and looks for: it stays whole, and the
    /// account and the role, named by the service, are cut first.
    #[test]
    fn a_favourite_s_line_keeps_the_profile_name_whole_and_cuts_account_and_role_first() {
        let profile = "payments-production-eu-west-1-readonly"; // 38 characters
        let account = "Payments Platform Production Workloads (EU)";
        let role = "AWSReservedSSO_ReadOnlyAccess_0123456789abcdef";
        let line = favourite_line(&favourite(profile, account, role));
        assert!(line.starts_with(&format!("{profile} → ")), "{line}");
        assert!(line.ends_with(" · 59 min left"), "{line}");
        assert!(line.chars().count() <= LINE_CHARS, "{line}");
        assert_eq!(
            display::menu_label(&line, LINE_CHARS),
            line,
            "not cut again"
        );
        let (_, target) = line.split_once(" → ").expect("arrow");
        let (account_shown, role_shown) = target
            .trim_end_matches(" · 59 min left")
            .split_once(" / ")
            .expect("slash");
        for (shown, full) in [(account_shown, account), (role_shown, role)] {
            assert!(shown.ends_with('…'), "{shown} is cut: {line}");
            assert!(full.starts_with(shown.trim_end_matches('…')), "{line}");
            assert!(shown.chars().count() >= 12, "{shown} still says something");
        }
        // Short names are all shown as they are.
        assert_eq!(
            favourite_line(&favourite("dev", "Sandbox", "Admin")),
            "dev → Sandbox / Admin · 59 min left"
        );
        // A role assumed from the SSO role is named after it.
        let mut chained = favourite("deploy", "Sandbox", "Admin");
        chained.assume_role = Some(
            aws_sso_device_auth_provider::source::AssumeRole::new(
                aws_sso_device_auth_provider::source::AssumeRoleEntry {
                    role_arn: "arn:aws:iam::210987654321:role/ci/Deploy".into(),
                    ..Default::default()
                },
            )
            .expect("role"),
        );
        assert_eq!(
            favourite_line(&chained),
            "deploy → Sandbox / Admin ⇒ Deploy · 59 min left"
        );
        // Room left by a short account goes to the role.
        let long_role = "AWSReservedSSO_PowerUserAccess_0123"; // 35 characters
        let line = favourite_line(&favourite(profile, "Sandbox", long_role));
        assert!(
            line.contains(&format!("Sandbox / {long_role} · ")),
            "{line}"
        );
        // A profile name longer than the line can hold is cut too, but keeps the most.
        let huge = "p".repeat(120);
        let line = favourite_line(&favourite(&huge, account, role));
        assert!(line.chars().count() <= LINE_CHARS, "{line}");
        assert!(line.ends_with(" · 59 min left"), "{line}");
        assert!(line.starts_with(&"p".repeat(50)), "{line}");
    }

    fn signing_in(user_code: Option<&str>) -> AppView {
        use crate::view::{InstanceView, SessionView, SignInView};
        let instance = InstanceView {
            start_url: "https://x.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            label: Some("Work".into()),
        };
        AppView {
            demo: false,
            emulator_url: None,
            credentials_file: "/home/me/.aws/credentials".into(),
            instance: Some(instance.clone()),
            instances: vec![instance],
            session: SessionView {
                state: Phase::SigningIn,
                line: aws_sso_device_auth_provider::workspace::words::session_line(
                    aws_sso_device_auth_provider::workspace::words::SessionFacts::SigningIn {
                        code: user_code,
                    },
                    0,
                    |_| "00:00".into(),
                ),
            },
            sign_in: Some(SignInView {
                user_code: user_code.map(str::to_owned),
                url: "https://device.sso.eu-west-1.amazonaws.com/".into(),
                expires_at: 600_000,
            }),
            asked: None,
            favourites: vec![],
            one_off: vec![],
            exec: vec![],
            serving: None,
            preferences: Default::default(),
            start_at_login: false,
            start_at_login_available: false,
            skipped_settings: vec![],
            endpoint_overrides: vec![],
            fixed_margins: None,
        }
    }

    fn items(model: &TrayModel) -> Vec<&str> {
        model
            .entries
            .iter()
            .filter_map(|e| match e {
                Entry::Item(MenuId::SignIn, text) => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The menu offers a code to compare only when the sign-in has one: the browser's
    /// (PKCE) flow has none.
    #[test]
    fn a_sign_in_under_way_offers_its_code_only_when_it_has_one() {
        let device = TrayModel::from_view(&signing_in(Some("ABCD-EFGH")));
        assert_eq!(items(&device), ["Show sign-in code…"]);
        let browser = TrayModel::from_view(&signing_in(None));
        assert_eq!(items(&browser), ["Show sign-in…"]);
    }
}

#[cfg(test)]
mod serving_tests {
    use super::*;
    use crate::view::{ExecView, InstanceView, SessionView};
    use aws_sso_device_auth_provider::workspace::words::{self, SessionFacts};

    fn command(id: u64, ended: bool) -> ExecView {
        ExecView {
            id,
            program: "terraform".into(),
            favourite: Some("dev".into()),
            role: "ReadOnly in account 111122223333".into(),
            since: 0,
            detail: "since 00:00 · not asked for credentials yet".into(),
            served: 0,
            ended: ended.then(|| "It was stopped in AWS SSO Tray.".into()),
        }
    }

    fn signed_in(exec: Vec<ExecView>) -> AppView {
        let instance = InstanceView {
            start_url: "https://x.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            label: Some("Work".into()),
        };
        AppView {
            demo: false,
            emulator_url: None,
            credentials_file: "/home/me/.aws/credentials".into(),
            instance: Some(instance.clone()),
            instances: vec![instance],
            session: SessionView {
                state: Phase::SignedIn,
                line: words::session_line(
                    SessionFacts::SignedIn {
                        ends_at: None,
                        failure: None,
                        failing_profiles: 0,
                    },
                    0,
                    |_| "00:00".into(),
                ),
            },
            sign_in: None,
            asked: None,
            favourites: vec![],
            one_off: vec![],
            serving: crate::view::serving_line(&exec),
            exec,
            preferences: Default::default(),
            start_at_login: false,
            start_at_login_available: false,
            skipped_settings: vec![],
            endpoint_overrides: vec![],
            fixed_margins: None,
        }
    }

    fn labels(model: &TrayModel) -> Vec<&str> {
        model
            .entries
            .iter()
            .filter_map(|e| match e {
                Entry::Label(text) => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Under the session line, how many commands it serves now; nothing when none is (an
    /// ended one, still listed in the window until it exits, is not served).
    #[test]
    fn the_menu_says_how_many_commands_are_served_under_the_session_line() {
        let none = TrayModel::from_view(&signed_in(vec![]));
        assert!(
            !labels(&none).iter().any(|l| l.starts_with("Serving")),
            "{:?}",
            labels(&none)
        );
        let two = TrayModel::from_view(&signed_in(vec![
            command(1, false),
            command(2, true),
            command(3, false),
        ]));
        assert!(labels(&two)[0].starts_with("Work · "), "{:?}", labels(&two));
        assert_eq!(labels(&two)[1], "Serving 2 commands");
        let ended = TrayModel::from_view(&signed_in(vec![command(1, true)]));
        assert!(!labels(&ended).iter().any(|l| l.starts_with("Serving")));
        let one = TrayModel::from_view(&signed_in(vec![command(1, false)]));
        assert_eq!(labels(&one)[1], "Serving 1 command");
    }
}
