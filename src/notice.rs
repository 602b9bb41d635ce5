//! A desktop notification from a program without a window (the command line), through
//! the freedesktop notification service on the session bus. For a sign-in code that a
//! tool running in the background printed where nobody looks.

use std::time::Duration;

/// Whether a desktop session is there to show a notification: a display and a session
/// bus, as `lookup` (the process environment, or a test's) says.
pub fn desktop_session(lookup: impl Fn(&str) -> Option<String>) -> bool {
    let set = |k: &str| lookup(k).is_some_and(|v| !v.is_empty());
    (set("DISPLAY") || set("WAYLAND_DISPLAY")) && set("DBUS_SESSION_BUS_ADDRESS")
}

/// Shows `summary` and `body` as plain text (markup in them is escaped: notification
/// servers may render the body as markup). Gives up after two seconds.
#[cfg(target_os = "linux")]
pub fn show(summary: &str, body: &str) -> Result<(), String> {
    let connection = dbus::blocking::Connection::new_session().map_err(|e| e.to_string())?;
    let proxy = connection.with_proxy(
        "org.freedesktop.Notifications",
        "/org/freedesktop/Notifications",
        Duration::from_secs(2),
    );
    let hints = dbus::arg::PropMap::new();
    let summary = crate::display::text(summary).into_owned();
    let body = crate::display::markup_text(body);
    let actions: Vec<&str> = Vec::new();
    let (_id,): (u32,) = proxy
        .method_call(
            "org.freedesktop.Notifications",
            "Notify",
            (
                "AWS SSO",
                0u32,
                "dialog-password",
                summary,
                body,
                actions,
                hints,
                -1i32,
            ),
        )
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// No notification service is spoken to on this system.
#[cfg(not(target_os = "linux"))]
pub fn show(summary: &str, body: &str) -> Result<(), String> {
    let _ = (summary, body, Duration::ZERO);
    Err("desktop notifications from the command line need Linux".into())
}

#[cfg(test)]
mod tests {
    use super::desktop_session;

    #[test]
    fn a_desktop_needs_a_display_and_a_session_bus() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert!(desktop_session(env(&[
            ("DISPLAY", ":0"),
            ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/1000/bus")
        ])));
        assert!(!desktop_session(env(&[("DISPLAY", ":0")])));
        assert!(!desktop_session(env(&[(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/run/user/1000/bus"
        )])));
        assert!(!desktop_session(env(&[
            ("WAYLAND_DISPLAY", ""),
            ("DBUS_SESSION_BUS_ADDRESS", "x")
        ])));
    }
}
