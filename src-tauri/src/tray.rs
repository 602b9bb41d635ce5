//! The tray: a model of the menu built from the app's view (pure, tested without a
//! display), its typed ids, the icon per state, and turning the model into a Tauri menu.

use crate::view::{AppView, FavouriteView, Phase};
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

/// Longest name part of a menu line: the time left, at its end, always shows.
const NAME_CHARS: usize = 32;
/// Longest menu line.
const LINE_CHARS: usize = 100;

/// "account / role", each part capped (names are already made safe by the view).
fn target(f: &FavouriteView) -> String {
    let account = f.account_name.as_deref().unwrap_or(&f.account_id);
    format!(
        "{} / {}",
        display::capped(account, NAME_CHARS),
        display::capped(&f.role_name, NAME_CHARS)
    )
}

fn favourite_line(f: &FavouriteView) -> String {
    format!(
        "{} → {} · {}",
        display::capped(&f.profile, NAME_CHARS),
        target(f),
        f.status.short
    )
}

impl TrayModel {
    /// The tray for `view` (whose lines were made at one moment).
    pub fn from_view(view: &AppView) -> Self {
        let who = view
            .instance
            .as_ref()
            .map(|i| display::capped(&i.name(), NAME_CHARS))
            .unwrap_or_else(|| "AWS SSO".to_owned());
        let session = &view.session;
        let session_line = match &view.instance {
            Some(_) => format!("{who} · {}", session.line.short),
            None => "No AWS access portal set up yet".to_owned(),
        };
        let mut entries = vec![Entry::Label(session_line.clone())];
        entries.push(match session.state {
            Phase::SignedIn => Entry::Item(MenuId::SignOut, "Sign out".into()),
            Phase::SigningIn => Entry::Item(MenuId::SignIn, "Show sign-in code…".into()),
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
        let mut tooltip = display::capped(&format!("AWS SSO: {session_line}"), LINE_CHARS);
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
