//! The pages a person sees: the device verification page, the PKCE consent page, and
//! the console's after a federation sign-in.

fn escape(s: &str) -> String {
    aws_sso_device_auth_provider::display::text(s)
        .chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title} · AWS SSO emulator</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:32em;margin:4em auto;padding:0 1em;color:#16191f;background:#fff}}
@media (prefers-color-scheme:dark){{body{{color:#eaeded;background:#16191f}}}}
.code{{font:600 2.4em ui-monospace,monospace;letter-spacing:.12em;margin:.4em 0}}
button{{font-size:1em;padding:.6em 1.4em;margin-right:.6em;border-radius:4px;border:1px solid #879596;cursor:pointer}}
button.allow{{background:#ec7211;color:#fff;border-color:#ec7211}}
input{{font:1.4em ui-monospace,monospace;padding:.3em;width:10em;text-transform:uppercase}}
.note{{color:#687078}}
</style></head><body><h1>{title}</h1>{body}<p class="note">AWS IAM Identity Center emulator, for local testing.</p></body></html>"#
    )
}

/// The verification page: enter a code, or confirm the one in the link.
pub fn device(user_code: Option<&str>) -> String {
    match user_code {
        None => page(
            "Authorize request",
            r#"<form method="get" action="/device"><p><label for="user_code">Enter the code shown by your application:</label></p>
<p><input id="user_code" name="user_code" autocomplete="off" autofocus></p><p><button class="allow" type="submit">Next</button></p></form>"#,
        ),
        Some(code) => {
            let code = escape(code);
            page(
                "Authorize request",
                &format!(
                    r#"<p>An application is asking to use your AWS access portal session. Check that the code matches the one it shows:</p>
<p class="code" id="user-code">{code}</p>
<form method="post" action="/device/decision"><input type="hidden" name="user_code" value="{code}">
<button class="allow" id="allow" name="decision" value="allow" type="submit">Allow</button>
<button id="deny" name="decision" value="deny" type="submit">Deny</button></form>"#
                ),
            )
        }
    }
}

/// The PKCE consent page for one pending authorization request.
pub fn authorize(request_id: &str, client_id: &str) -> String {
    page(
        "Allow access?",
        &format!(
            r#"<p>The application <code>{}</code> wants to sign in to your AWS access portal.</p>
<form method="post" action="/authorize/decision"><input type="hidden" name="request" value="{}">
<button class="allow" id="allow" name="decision" value="allow" type="submit">Allow</button>
<button id="deny" name="decision" value="deny" type="submit">Deny</button></form>"#,
            escape(client_id),
            escape(request_id)
        ),
    )
}

/// The answer after a decision.
pub fn outcome(title: &str, text: &str) -> String {
    page(title, &format!("<p id=\"outcome\">{}</p>", escape(text)))
}

/// A page that turns a request away, its text in the element `id`.
pub fn notice(id: &str, title: &str, text: &str) -> String {
    page(
        &escape(title),
        &format!("<p id=\"{}\">{}</p>", escape(id), escape(text)),
    )
}

/// What the console shows after a federation sign-in: the account, the role, the
/// destination and the console session's length (`default` when none was asked for).
pub fn console(
    account_id: &str,
    role: &str,
    destination: &str,
    session_seconds: Option<u32>,
) -> String {
    let seconds = session_seconds.map_or_else(|| "default".to_owned(), |s| s.to_string());
    page(
        "AWS console (emulated)",
        &format!(
            r#"<p id="console">Signed in to account <code id="account">{}</code> as <code id="role">{}</code>.</p><p>Destination: <code id="destination">{}</code></p><p>Session length (seconds): <code id="session-seconds">{}</code></p>"#,
            escape(account_id),
            escape(role),
            escape(destination),
            escape(&seconds)
        ),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_input_is_escaped() {
        let html = super::device(Some("<script>x</script>"));
        assert!(!html.contains("<script>x"));
        assert!(html.contains("&lt;script&gt;"));
    }

    #[test]
    fn the_console_escapes_what_it_shows() {
        let html = super::console("<a>", "R&D", "https://x/\"><script>", None);
        assert!(!html.contains("<a>") && !html.contains("<script>"));
        assert!(html.contains("R&amp;D") && html.contains("&quot;&gt;&lt;script&gt;"));
        assert!(html.contains(r#"<code id="session-seconds">default</code>"#));
        let html = super::console(
            "123456789012",
            "Admin",
            "https://console.aws.amazon.com/",
            Some(900),
        );
        assert!(html.contains(r#"<code id="session-seconds">900</code>"#));
    }
}
