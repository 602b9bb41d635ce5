//! Just enough of the W3C WebDriver protocol to drive the app through `tauri-driver`:
//! sessions, finding elements by CSS, clicking, typing, reading text, screenshots.

use base64::Engine;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The key W3C uses for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// `tauri-driver` (and the WebKitWebDriver under it) on free ports; killed on drop.
pub struct Driver {
    child: tokio::process::Child,
    base: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole process group: the driver, WebKitWebDriver and the app, even when a
        // failed test never ended its session.
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", "--", &format!("-{pid}")])
                .status();
        }
        let _ = self.child.start_kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn tauri_driver() -> PathBuf {
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo/bin")));
    for dir in candidates {
        let p = dir.join("tauri-driver");
        if p.is_file() {
            return p;
        }
    }
    panic!("tauri-driver is not installed: run scripts/install-deps (cargo install tauri-driver --locked)");
}

impl Driver {
    /// Starts the driver; the app it launches gets `envs` on top of this environment.
    pub async fn start(envs: &[(String, String)]) -> Self {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "the end-to-end tests need a display: run them with scripts/test (Xvfb)"
        );
        let (port, native) = (free_port(), free_port());
        let mut cmd = tokio::process::Command::new(tauri_driver());
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
        let child = cmd.spawn().expect("tauri-driver starts");
        let driver = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while client
            .get(format!("{}/status", driver.base))
            .send()
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "tauri-driver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        driver
    }

    /// A session running `application`.
    pub async fn session(&self, application: &Path, shots: PathBuf) -> Session {
        self.session_with_args(application, &[], shots).await
    }

    /// A session running `application` with `args`.
    pub async fn session_with_args(
        &self,
        application: &Path,
        args: &[&str],
        shots: PathBuf,
    ) -> Session {
        // A stuck driver fails the test instead of hanging it.
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("http client");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": application, "args": args}
        }}});
        let reply: Value = client
            .post(format!("{}/session", self.base))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("json");
        let id = reply["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {reply}"))
            .to_owned();
        // This run's screenshots only.
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).expect("screenshot dir");
        Session {
            client,
            url: format!("{}/session/{id}", self.base),
            shots,
        }
    }
}

/// A WebDriver session.
pub struct Session {
    client: reqwest::Client,
    url: String,
    shots: PathBuf,
}

/// An element of the page.
#[derive(Clone, Debug)]
pub struct Element(String);

impl Session {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.client.request(method, format!("{}{path}", self.url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let reply: Value = req
            .send()
            .await
            .expect("webdriver reachable")
            .json()
            .await
            .expect("json");
        reply["value"].clone()
    }

    /// Every element matching `css` now.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(|s| Element(s.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first element matching `css`, waiting up to `secs` for it.
    pub async fn wait_for(&self, css: &str, secs: u64) -> Element {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(e) = self.find_all(css).await.into_iter().next() {
                return e;
            }
            if Instant::now() > deadline {
                self.screenshot("failed-wait").await;
                panic!("no element '{css}' after {secs} s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of the first element matching `css` once it satisfies `ok`, waiting up to
    /// `secs` (the element may be redrawn meanwhile); the test fails with the last text
    /// seen otherwise.
    pub async fn wait_for_text(&self, css: &str, secs: u64, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut last = String::new();
        let read = format!(
            "const e = document.querySelector({}); return e ? e.innerText : null;",
            json!(css)
        );
        loop {
            if let Some(text) = self.execute(&read).await.as_str() {
                last = text.trim().to_owned();
                if ok(&last) {
                    return last;
                }
            }
            if Instant::now() > deadline {
                self.screenshot("failed-wait").await;
                panic!(
                    "'{css}' did not come to say what was expected in {secs} s; it says: {last:?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks `e`; a click the driver refuses (the element gone or covered) fails the test.
    pub async fn click(&self, e: &Element) {
        if let Err(e) = self.try_click(e).await {
            panic!("the click was refused: {e}");
        }
    }

    async fn try_click(&self, e: &Element) -> Result<(), String> {
        let reply = self
            .call(
                reqwest::Method::POST,
                &format!("/element/{}/click", e.0),
                Some(json!({})),
            )
            .await;
        match reply.get("error") {
            Some(error) => Err(format!("{error}: {}", reply["message"])),
            None => Ok(()),
        }
    }

    /// Clicks the first element matching `css` within `secs`: found again if the view
    /// redrew it between finding and clicking (a list refreshed in the background).
    pub async fn click_on(&self, css: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let e = self.wait_for(css, secs).await;
            match self.try_click(&e).await {
                Ok(()) => return,
                Err(e) if Instant::now() > deadline => {
                    self.screenshot("failed-click").await;
                    panic!("'{css}' could not be clicked for {secs} s: {e}");
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Replaces the text of input `e` with `text`.
    pub async fn type_into(&self, e: &Element, text: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/clear", e.0),
            Some(json!({})),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/value", e.0),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// The visible text of `e`.
    pub async fn text(&self, e: &Element) -> String {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{}/text", e.0),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Moves the mouse pointer over `e` (its `:hover` styles apply).
    pub async fn hover(&self, e: &Element) {
        let reply = self
            .call(
                reqwest::Method::POST,
                "/actions",
                Some(json!({"actions": [{
                    "type": "pointer",
                    "id": "mouse",
                    "parameters": {"pointerType": "mouse"},
                    "actions": [{"type": "pointerMove", "duration": 0, "x": 0, "y": 0,
                                 "origin": {ELEMENT: e.0}}],
                }]})),
            )
            .await;
        assert!(
            reply.get("error").is_none(),
            "the hover was refused: {reply}"
        );
    }

    /// Presses the mouse's button on `e` and lets go of it `hold` later, where the pointer
    /// is then, as an unhurried person clicks; `Err` when the driver refuses (`e` gone).
    pub async fn press_and_release(&self, e: &Element, hold: Duration) -> Result<(), String> {
        let reply = self
            .call(
                reqwest::Method::POST,
                "/actions",
                Some(json!({"actions": [{
                    "type": "pointer",
                    "id": "mouse",
                    "parameters": {"pointerType": "mouse"},
                    "actions": [
                        {"type": "pointerMove", "duration": 0, "x": 0, "y": 0,
                         "origin": {ELEMENT: e.0}},
                        {"type": "pointerDown", "button": 0},
                        {"type": "pause", "duration": hold.as_millis()},
                        {"type": "pointerUp", "button": 0},
                    ],
                }]})),
            )
            .await;
        match reply.get("error") {
            Some(error) => Err(format!("{error}: {}", reply["message"])),
            None => Ok(()),
        }
    }

    /// Presses `keys` one after the other on whatever has the focus, at a fast typist's
    /// pace (one key every 60 ms; WebDriver's codes for special keys: [`keys`]).
    pub async fn press(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|c| {
                let c = c.to_string();
                [
                    json!({"type": "keyDown", "value": c}),
                    json!({"type": "keyUp", "value": c}),
                    json!({"type": "pause", "duration": 60}),
                ]
            })
            .collect();
        let reply = self
            .call(
                reqwest::Method::POST,
                "/actions",
                Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
            )
            .await;
        assert!(
            reply.get("error").is_none(),
            "the keys were refused: {reply}"
        );
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub async fn execute(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Resizes the window to `width` × `height`.
    pub async fn resize(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// Saves a screenshot of the window as `<dir>/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .expect("base64 png");
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Ends the session (and the app).
    pub async fn close(self) {
        let _ = self.client.delete(&self.url).send().await;
    }
}

/// WebDriver's codes for keys that are not characters.
pub mod keys {
    /// Enter.
    pub const ENTER: char = '\u{E007}';
    /// The down arrow.
    pub const DOWN: char = '\u{E015}';
}
