//! The tray: a model of the menu built from the app's view (pure, tested without a
//! display), its typed ids, the icon per state, and turning the model into a Tauri menu.

use crate::view::{serving_words, AppView, FavouriteView, Phase};
use aws_sso_device_auth_provider::display;
use tauri::image::Image;
use tauri::menu::{IconMenuItem, IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
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
    /// A clickable item with a swatch beside it: a favourite's colour as red, green and
    /// blue, or a clear space where a favourite has none, so that its label lines up
    /// with those of its coloured neighbours.
    Swatched(MenuId, String, Option<[u8; 3]>),
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

/// Whether the favourites' items carry swatches: only when one of them has a colour, so
/// that a menu without colours looks as it always has.
struct Swatches(bool);

impl Swatches {
    fn of(favourites: &[FavouriteView]) -> Self {
        Self(
            favourites
                .iter()
                .any(|f| f.console.settings.colour.is_some()),
        )
    }

    /// `f`'s item: with its colour, or a clear space beside coloured neighbours.
    fn entry(&self, f: &FavouriteView, id: MenuId, text: String) -> Entry {
        if self.0 {
            Entry::Swatched(id, text, f.console.settings.colour.map(|c| c.rgb()))
        } else {
            Entry::Item(id, text)
        }
    }
}

/// Side of a swatch, in pixels: what a menu draws an item's icon at (a larger image is
/// scaled down, blurring its edge).
pub const SWATCH_SIZE: u32 = 16;

/// A swatch of `rgb`: a filled circle, its edge smoothed, with a thin darker rim so that
/// a light colour (yellow) still stands out on a light menu; clear around it. `None`:
/// all clear. RGBA, [`SWATCH_SIZE`] square.
pub fn swatch(rgb: Option<[u8; 3]>) -> Vec<u8> {
    let size = SWATCH_SIZE as usize;
    let mut out = vec![0u8; size * size * 4];
    let Some(fill) = rgb else {
        return out;
    };
    let rim = fill.map(|c| (f32::from(c) * 0.6).round() as u8);
    let centre = SWATCH_SIZE as f32 / 2.0;
    let (outer, inner) = (centre - 1.5, centre - 2.5);
    // Each pixel's coverage, sampled on a 4×4 grid: of the disc, and of the fill inside
    // the rim.
    const GRID: usize = 4;
    for y in 0..size {
        for x in 0..size {
            let (mut disc, mut inside) = (0u32, 0u32);
            for sy in 0..GRID {
                for sx in 0..GRID {
                    let px = x as f32 + (sx as f32 + 0.5) / GRID as f32 - centre;
                    let py = y as f32 + (sy as f32 + 0.5) / GRID as f32 - centre;
                    let d = (px * px + py * py).sqrt();
                    disc += u32::from(d <= outer);
                    inside += u32::from(d <= inner);
                }
            }
            if disc == 0 {
                continue;
            }
            let px = &mut out[(y * size + x) * 4..][..4];
            for c in 0..3 {
                let mixed = u32::from(fill[c]) * inside + u32::from(rim[c]) * (disc - inside);
                px[c] = (mixed / disc) as u8;
            }
            px[3] = (disc * 255 / (GRID * GRID) as u32) as u8;
        }
    }
    out
}

/// Lets a Linux tray show the menu's icons (the favourites' colours). The menu reaches
/// the tray through dbusmenu, which passes on the icon of a plain GTK menu item (what
/// Tauri's icon items are) only while GTK's `gtk-menu-images` setting is on; it is off
/// unless the desktop turns it on, and GTK 3 itself no longer reads it. Call on the main
/// thread, before the menu is built.
#[cfg(target_os = "linux")]
pub fn show_menu_icons() {
    use gtk::prelude::ObjectExt;
    const SETTING: &str = "gtk-menu-images";
    // A GTK without the setting (it is deprecated) leaves the menu without icons, which
    // is all the setting changes: setting a property GTK lacks would panic.
    let Some(settings) = gtk::Settings::default() else {
        return;
    };
    if settings.find_property(SETTING).is_some() {
        settings.set_property(SETTING, true);
    }
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
            let swatches = Swatches::of(&view.favourites);
            for f in &view.favourites {
                entries.push(swatches.entry(
                    f,
                    MenuId::Renew(f.profile.clone()),
                    favourite_line(f),
                ));
            }
            entries.push(Entry::Submenu(
                "Open console".into(),
                view.favourites
                    .iter()
                    .map(|f| swatches.entry(f, MenuId::Console(f.profile.clone()), target(f)))
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
            Entry::Swatched(id, text, rgb) => Box::new(IconMenuItem::with_id(
                app,
                id.to_id(),
                display::menu_label(text, LINE_CHARS),
                true,
                Some(Image::new_owned(swatch(*rgb), SWATCH_SIZE, SWATCH_SIZE)),
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

    pub(super) fn favourite(profile: &str, account: &str, role: &str) -> FavouriteView {
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
            console: crate::view::ConsoleView::from(
                &aws_sso_device_auth_provider::settings::ConsoleSettings::default(),
            ),
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
            browser: None,
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

    pub(super) fn signed_in(exec: Vec<ExecView>) -> AppView {
        let instance = InstanceView {
            start_url: "https://x.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            label: Some("Work".into()),
            browser: None,
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

#[cfg(test)]
mod colour_tests {
    use super::label_tests::favourite;
    use super::*;
    use aws_sso_device_auth_provider::console::Colour;

    fn signed_in(favourites: Vec<FavouriteView>) -> AppView {
        AppView {
            favourites,
            ..super::serving_tests::signed_in(vec![])
        }
    }

    /// The favourites' items and the console's, as (id, label, swatch); `None` for the
    /// swatch of a plain item.
    type Shown = Vec<(MenuId, String, Option<Option<[u8; 3]>>)>;

    fn favourites_and_consoles(model: &TrayModel) -> (Shown, Shown) {
        let shown = |e: &Entry| match e {
            Entry::Item(id @ (MenuId::Renew(_) | MenuId::Console(_)), text) => {
                Some((id.clone(), text.clone(), None))
            }
            Entry::Swatched(id, text, rgb) => Some((id.clone(), text.clone(), Some(*rgb))),
            _ => None,
        };
        let renew = model.entries.iter().filter_map(shown).collect();
        let console = model
            .entries
            .iter()
            .find_map(|e| match e {
                Entry::Submenu(title, children) if title == "Open console" => {
                    Some(children.iter().filter_map(shown).collect())
                }
                _ => None,
            })
            .expect("an Open console submenu");
        (renew, console)
    }

    /// A favourite's colour shows beside it, in its line and under "Open console"; one
    /// without keeps a clear space so the labels line up; the labels are those of a menu
    /// without colours.
    #[test]
    fn a_coloured_favourite_shows_its_colour_and_its_neighbours_line_up() {
        let plain = vec![
            favourite("prod & co", "Payments & Billing", "Admin"),
            favourite("dev", "Sandbox", "ReadOnly"),
        ];
        let mut coloured = plain.clone();
        coloured[0].console = crate::view::ConsoleView::from(
            &aws_sso_device_auth_provider::settings::ConsoleSettings {
                colour: Some(Colour::Red),
                ..Default::default()
            },
        );

        let (renew, console) = favourites_and_consoles(&TrayModel::from_view(&signed_in(plain)));
        let (c_renew, c_console) =
            favourites_and_consoles(&TrayModel::from_view(&signed_in(coloured)));
        // Without a colour anywhere: plain items, as always.
        assert!(renew.iter().chain(&console).all(|(_, _, s)| s.is_none()));
        // With one: the coloured favourite's swatch is its colour, the other's is clear.
        let red = Some(Some(Colour::Red.rgb()));
        assert_eq!(
            c_renew.iter().map(|(_, _, s)| *s).collect::<Vec<_>>(),
            [red, Some(None)]
        );
        assert_eq!(
            c_console.iter().map(|(_, _, s)| *s).collect::<Vec<_>>(),
            [red, Some(None)]
        );
        // The same ids and labels either way.
        let labels = |s: &Shown| {
            s.iter()
                .map(|(id, text, _)| (id.clone(), text.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(labels(&c_renew), labels(&renew));
        assert_eq!(labels(&c_console), labels(&console));
        assert_eq!(
            labels(&c_renew)[0],
            (
                MenuId::Renew("prod & co".into()),
                "prod & co → Payments & Billing / Admin · 59 min left".into()
            )
        );
        assert_eq!(
            labels(&c_console)[0],
            (
                MenuId::Console("prod & co".into()),
                "Payments & Billing / Admin".into()
            )
        );
    }

    /// The menu built from a swatched entry is an icon item whose label is escaped as a
    /// plain item's (`&` is a mnemonic marker) and whose icon is the swatch.
    #[test]
    fn a_swatched_entry_becomes_an_icon_item_with_an_escaped_label() {
        let app = tauri::test::mock_app();
        let entries = [
            Entry::Swatched(
                MenuId::Renew("a&b".into()),
                "a&b → X · 1 min left".into(),
                Some(Colour::Yellow.rgb()),
            ),
            Entry::Item(MenuId::Renew("c&d".into()), "c&d → Y · 1 min left".into()),
        ];
        let menu = build_menu(app.handle(), &entries).expect("menu");
        let items = menu.items().expect("items");
        let tauri::menu::MenuItemKind::Icon(icon) = &items[0] else {
            panic!("an icon item: {:?}", items[0].id());
        };
        assert_eq!(icon.text().expect("text"), "a&&b → X · 1 min left");
        assert_eq!(icon.id().as_ref(), "renew:a&b");
        let tauri::menu::MenuItemKind::MenuItem(plain) = &items[1] else {
            panic!("a plain item: {:?}", items[1].id());
        };
        assert_eq!(plain.text().expect("text"), "c&&d → Y · 1 min left");
    }

    /// A filled circle of the colour, its rim darker, clear at the corners; a clear
    /// swatch is clear all over.
    #[test]
    fn a_swatch_is_a_circle_of_the_colour_with_a_darker_rim() {
        let size = SWATCH_SIZE as usize;
        let at = |px: &[u8], x: usize, y: usize| -> [u8; 4] {
            px[(y * size + x) * 4..][..4].try_into().expect("4 bytes")
        };
        for colour in Colour::ALL {
            let rgb = colour.rgb();
            let px = swatch(Some(rgb));
            assert_eq!(px.len(), size * size * 4);
            let c = size / 2;
            assert_eq!(at(&px, c, c), [rgb[0], rgb[1], rgb[2], 255], "{colour}");
            assert_eq!(at(&px, c - 3, c + 2), [rgb[0], rgb[1], rgb[2], 255]);
            assert_eq!(at(&px, 0, 0)[3], 0, "a clear corner");
            assert_eq!(at(&px, size - 1, size - 1)[3], 0);
            // The rim, on the circle's edge left of the centre: darker, and its outer
            // edge smoothed (partly clear).
            let rim = at(&px, 1, c);
            assert!(rim[3] > 64 && rim[3] < 255, "{colour} {rim:?}");
            for i in 0..3 {
                let darker = (f32::from(rgb[i]) * 0.6).round() as u8;
                assert!(rim[i].abs_diff(darker) <= 1, "{colour} {rim:?}");
            }
            // Round: the same at each quarter turn.
            for y in 0..size {
                for x in 0..size {
                    assert_eq!(at(&px, x, y), at(&px, size - 1 - y, x), "{x},{y}");
                }
            }
        }
        assert!(swatch(None).iter().all(|&b| b == 0));
    }
}
