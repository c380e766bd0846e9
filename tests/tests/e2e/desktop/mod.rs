//! Driving the desktop app in a real window: an Xvfb display, `tauri-driver` in front of
//! Debian's WebKitWebDriver, and the fantoccini WebDriver client.
//!
//! The app is the binary `cargo build -p rolehop-desktop` made (`cargo xtask test` builds
//! it before the suites), found next to this test's own executable, or at
//! `$ROLEHOP_DESKTOP_BIN`. It runs with the test's peers in its environment: its
//! workspace, AWS files and keychain service are the test's, its STS is moto.

use std::fs;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use rolehop_e2e::Peers;
use rolehop_e2e::binaries::build_dir;
use serde_json::json;

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// How long the UI may take to show what a test waits for (a start goes through moto).
pub const UI_TIMEOUT: Duration = Duration::from_secs(30);

/// The app binary to drive.
pub fn app_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("ROLEHOP_DESKTOP_BIN").filter(|v| !v.is_empty()) {
        return PathBuf::from(bin);
    }
    let bin = build_dir().join("rolehop-desktop");
    assert!(
        bin.exists(),
        "{} does not exist: build it first (`cargo build -p rolehop-desktop`, which \
         `cargo xtask test` does)",
        bin.display()
    );
    bin
}

/// Where screenshots go: `target/artifacts/desktop/`.
pub fn artifacts_dir() -> PathBuf {
    let dir = build_dir()
        .parent()
        .expect("target dir")
        .join("artifacts/desktop");
    fs::create_dir_all(&dir).expect("creating the artifacts dir");
    dir
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A process started in its own process group, so that stopping it also stops what it
/// started (tauri-driver starts WebKitWebDriver, which starts the app and WebKit's
/// helpers). Terminated, then killed, and reaped on drop.
struct Group {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Group {
    fn spawn(name: &'static str, command: &mut Command, log: PathBuf) -> Self {
        use std::os::unix::process::CommandExt;
        let out = fs::File::create(&log).expect("creating a log file");
        let err = out.try_clone().expect("duplicating a log handle");
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({e}); run `cargo xtask install`"));
        Self { name, child, log }
    }

    fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!(
                "{} exited ({status}): {}",
                self.name,
                fs::read_to_string(&self.log).unwrap_or_default()
            )),
            _ => None,
        }
    }

    fn signal(&self, signal: &str) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args([signal, "--", &group])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            thread::sleep(Duration::from_millis(50));
        }
        // Whatever is left of the group (the app, WebKit's helpers) goes now.
        self.signal("-KILL");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An X server of our own, on the first free display number from 90 up.
pub struct Xvfb {
    display: String,
    _group: Group,
}

impl Xvfb {
    pub fn start(logs: &Path) -> Self {
        for n in 90..190 {
            if Path::new(&format!("/tmp/.X{n}-lock")).exists()
                || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            {
                continue;
            }
            let mut group = Group::spawn(
                "Xvfb",
                Command::new("Xvfb").args([
                    &format!(":{n}"),
                    "-screen",
                    "0",
                    "1280x800x24",
                    "-nolisten",
                    "tcp",
                ]),
                logs.join(format!("xvfb-{n}.log")),
            );
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if group.exited().is_some() {
                    break; // lost a race for this display: try the next
                }
                if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                    return Self {
                        display: format!(":{n}"),
                        _group: group,
                    };
                }
                assert!(Instant::now() < deadline, "Xvfb :{n} did not start");
                thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("no free X display between :90 and :189");
    }

    pub fn display(&self) -> &str {
        &self.display
    }

    /// The X id of the window titled `title`.
    pub fn window_named(&self, title: &str) -> TestResult<String> {
        let info = output("xwininfo", &["-display", self.display(), "-name", title])?;
        info.split_whitespace()
            .skip_while(|w| *w != "id:")
            .nth(1)
            .map(str::to_owned)
            .ok_or_else(|| format!("no window id in {info:?}").into())
    }

    /// Whether a window titled `title` is on screen now (mapped and viewable); a window
    /// that exists hidden, or none, is not.
    pub fn window_viewable(&self, title: &str) -> TestResult<bool> {
        let Ok(id) = self.window_named(title) else {
            return Ok(false);
        };
        let info =
            output("xwininfo", &["-display", self.display(), "-id", &id]).unwrap_or_default();
        Ok(info.contains("Map State: IsViewable"))
    }

    /// Waits until a window titled `title` is on screen, and returns its X id.
    pub async fn wait_window_named(&self, title: &str) -> TestResult<String> {
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            if let Ok(id) = self.window_named(title) {
                let info = output("xwininfo", &["-display", self.display(), "-id", &id])?;
                if info.contains("Map State: IsViewable") {
                    return Ok(id);
                }
            }
            if Instant::now() > deadline {
                return Err(format!("no window titled {title:?} after {UI_TIMEOUT:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until no window is titled `title`.
    pub async fn wait_window_gone(&self, title: &str) -> TestResult {
        let deadline = Instant::now() + UI_TIMEOUT;
        while self.window_named(title).is_ok() {
            if Instant::now() > deadline {
                return Err(format!("the window {title:?} is still there").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Types `keys` (xdotool's `type` text, then `key` names such as `Tab`, `Return`)
    /// into window `id` as a keyboard would: the window is given the input focus and
    /// the keys go through the X server (XTEST).
    pub fn type_into_window(&self, id: &str, steps: &[KeyStep<'_>]) -> TestResult {
        let xdotool = |args: &[&str]| -> TestResult {
            let out = Command::new("xdotool")
                .args(args)
                .env("DISPLAY", self.display())
                .output()
                .map_err(|e| format!("xdotool (Debian package xdotool): {e}"))?;
            if !out.status.success() {
                return Err(
                    format!("xdotool {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into(),
                );
            }
            Ok(())
        };
        xdotool(&["windowfocus", "--sync", id])?;
        for step in steps {
            match step {
                KeyStep::Text(text) => xdotool(&["type", "--delay", "15", text])?,
                KeyStep::Key(name) => xdotool(&["key", name])?,
            }
        }
        Ok(())
    }
}

/// The app in a window, driven through WebDriver. Dropping it closes the session and
/// stops tauri-driver, WebKitWebDriver, the app and the display.
pub struct Desktop {
    pub client: Client,
    /// When the window was asked for (ms since the epoch, like the page's
    /// `performance.timeOrigin`): the start of "launch to painted".
    pub launched_at: f64,
    name: String,
    artifacts: PathBuf,
    // Field order is drop order: the driver (and the app) before the display.
    _driver: Group,
    _xvfb: Xvfb,
}

impl Desktop {
    /// Launches the app with `peers`' environment (and `extra`) and waits until it has
    /// loaded its first snapshot. `name` prefixes this test's screenshots.
    pub async fn launch(name: &str, peers: &Peers, extra: &[(&str, &str)]) -> TestResult<Self> {
        Self::launch_binary(name, peers, extra, &app_binary()).await
    }

    /// [`Desktop::launch`] of another build of the app, `binary`.
    pub async fn launch_binary(
        name: &str,
        peers: &Peers,
        extra: &[(&str, &str)],
        binary: &Path,
    ) -> TestResult<Self> {
        let artifacts = artifacts_dir();
        let xvfb = Xvfb::start(&artifacts);
        let (port, native_port) = (free_port(), free_port());

        let mut command = Command::new(tauri_driver());
        command
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()]);
        app_environment(&mut command, peers, xvfb.display(), extra);
        let log = artifacts.join(format!("{name}-app.log"));
        let mut driver = Group::spawn("tauri-driver", &mut command, log);
        // tauri-driver listens before WebKitWebDriver does, and drops what it cannot
        // forward: wait for both.
        let deadline = Instant::now() + Duration::from_secs(20);
        let listening = |port: u16| TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok();
        while !(listening(port) && listening(native_port)) {
            if let Some(why) = driver.exited() {
                return Err(why.into());
            }
            if Instant::now() > deadline {
                return Err("tauri-driver did not listen within 20 s".into());
            }
            thread::sleep(Duration::from_millis(50));
        }

        let mut capabilities = serde_json::Map::new();
        capabilities.insert("tauri:options".into(), json!({ "application": binary }));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let launched_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs_f64()
            * 1000.0;
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await?;
        let desktop = Self {
            client,
            launched_at,
            name: name.to_owned(),
            artifacts,
            _driver: driver,
            _xvfb: xvfb,
        };
        desktop.wait_for(".app[data-loaded='true']").await?;
        Ok(desktop)
    }

    /// Launch to list painted, in ms: from asking tauri-driver for the window to the
    /// frame after the first snapshot's rows are in the DOM (the UI's
    /// `rolehop:list-painted` mark). For the desktop bench and the package test.
    pub async fn launch_to_paint_ms(&self) -> TestResult<f64> {
        let script = "const m = performance.getEntriesByName('rolehop:list-painted')[0];
                      return m ? performance.timeOrigin + m.startTime : null;";
        loop {
            if let Some(at) = self.client.execute(script, vec![]).await?.as_f64() {
                return Ok(at - self.launched_at);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until an element matches `css`, and returns it.
    pub async fn wait_for(&self, css: &str) -> TestResult<Element> {
        self.wait_for_within(css, UI_TIMEOUT).await
    }

    pub async fn wait_for_within(&self, css: &str, timeout: Duration) -> TestResult<Element> {
        self.client
            .wait()
            .at_most(timeout)
            .every(Duration::from_millis(100))
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| format!("waiting for `{css}`: {e}").into())
    }

    /// Waits until nothing matches `css`.
    pub async fn wait_gone(&self, css: &str) -> TestResult {
        let deadline = Instant::now() + UI_TIMEOUT;
        while !self.all(css).await?.is_empty() {
            if Instant::now() > deadline {
                return Err(format!("`{css}` still present after {UI_TIMEOUT:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    pub async fn all(&self, css: &str) -> TestResult<Vec<Element>> {
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            match self.client.find_all(Locator::Css(css)).await {
                // An element went away while WebDriver collected the matches (a
                // re-render): look again.
                Err(e) if e.is_stale_element_reference() && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                found => return Ok(found?),
            }
        }
    }

    /// Runs `act` on the element matching `css`, finding it again when the UI replaced
    /// it between the find and the act (a re-render after an engine event: WebDriver's
    /// StaleElementReference), until `UI_TIMEOUT`.
    async fn on_element<T, F, Fut>(&self, css: &str, act: F) -> TestResult<T>
    where
        F: Fn(Element) -> Fut,
        Fut: std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
    {
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            let element = self.wait_for(css).await?;
            match act(element).await {
                Err(e) if e.is_stale_element_reference() && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                other => return Ok(other?),
            }
        }
    }

    /// Chooses the option labelled `label` in the select matching `css`.
    pub async fn select_label(&self, css: &str, label: &str) -> TestResult {
        self.on_element(css, |e| async move { e.select_by_label(label).await })
            .await
    }

    /// Chooses the option of value `value` in the select matching `css`.
    pub async fn select_value(&self, css: &str, value: &str) -> TestResult {
        self.on_element(css, |e| async move { e.select_by_value(value).await })
            .await
    }

    /// The DOM property `name` of the element matching `css`.
    pub async fn prop(&self, css: &str, name: &str) -> TestResult<Option<String>> {
        self.on_element(css, |e| async move { e.prop(name).await })
            .await
    }

    /// Clicks the element matching `css`, scrolled into view first: WebKitWebDriver does
    /// not scroll an element below the fold of a scrolling pane (the details pane) and
    /// refuses it as not interactable.
    pub async fn click(&self, css: &str) -> TestResult {
        self.wait_for(css).await?;
        self.client
            .execute(
                "document.querySelector(arguments[0])?.scrollIntoView({block: 'nearest'});",
                vec![serde_json::Value::from(css)],
            )
            .await?;
        self.on_element(css, |e| async move { e.click().await })
            .await
    }

    /// Replaces the text of the input matching `css`.
    pub async fn fill(&self, css: &str, text: &str) -> TestResult {
        self.on_element(css, |input| async move {
            input.clear().await?;
            input.send_keys(text).await
        })
        .await
    }

    /// Gives the file input at `css` the file at `path`, as a file chooser would.
    pub async fn choose_file(&self, css: &str, path: &Path) -> TestResult {
        let path = path.to_str().ok_or("a file path that is not UTF-8")?;
        self.on_element(css, |input| async move { input.send_keys(path).await })
            .await
    }

    /// Types `text` then Enter into the input matching `css`.
    pub async fn fill_and_enter(&self, css: &str, text: &str) -> TestResult {
        let typed = format!("{text}{}", char::from(Key::Return));
        self.on_element(css, |input| {
            let typed = typed.clone();
            async move {
                input.clear().await?;
                input.send_keys(&typed).await
            }
        })
        .await
    }

    /// Waits until the text of the element matching `css` satisfies `ok`; returns it.
    pub async fn wait_text(&self, css: &str, ok: impl Fn(&str) -> bool) -> TestResult<String> {
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            let text = self.text(css).await?;
            if ok(&text) {
                return Ok(text);
            }
            if Instant::now() > deadline {
                return Err(format!("`{css}` still reads {text:?} after {UI_TIMEOUT:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of the element matching `css` (its `textContent`, trimmed: WebKit's
    /// WebDriver reads the visible text of an ellipsised cell as empty).
    pub async fn text(&self, css: &str) -> TestResult<String> {
        let text = self
            .on_element(css, |e| async move { e.prop("textContent").await })
            .await?
            .unwrap_or_default();
        Ok(text.trim().to_owned())
    }

    /// The names of the session rows in the DOM (the list is virtualised: the rows in
    /// view, which is all of them in these small workspaces).
    pub async fn row_names(&self) -> TestResult<Vec<String>> {
        let deadline = Instant::now() + UI_TIMEOUT;
        'read: loop {
            let mut names = Vec::new();
            for row in self.all(".row[data-session]").await? {
                match row.attr("data-session").await {
                    Ok(Some(name)) => names.push(name),
                    Ok(None) => {}
                    // A re-render replaced the rows while they were read: read them again.
                    Err(e) if e.is_stale_element_reference() && Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue 'read;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            names.sort();
            return Ok(names);
        }
    }

    /// The CSS selector of a session's row, optionally in a given state.
    pub fn row(name: &str, state: Option<&str>) -> String {
        match state {
            Some(state) => format!(".row[data-session='{name}'][data-state='{state}']"),
            None => format!(".row[data-session='{name}']"),
        }
    }

    /// Saves a PNG of the window to `target/artifacts/desktop/<test>-<label>.png`.
    pub async fn screenshot(&self, label: &str) -> TestResult<PathBuf> {
        // WebKitGTK answers a screenshot with the next rendering update, and a page
        // that is not changing has none: paint a 1-pixel, all but transparent dot
        // (removed again) so that there is one.
        self.client
            .execute(
                "const dot = document.createElement('div');
                 dot.style.cssText = 'position:fixed;right:0;bottom:0;width:1px;height:1px;'
                   + 'background:rgba(0,0,0,0.01);pointer-events:none';
                 setTimeout(() => document.body.appendChild(dot), 50);
                 setTimeout(() => dot.remove(), 2000);",
                vec![],
            )
            .await?;
        let png = self.client.screenshot().await?;
        let path = self.artifacts.join(format!("{}-{label}.png", self.name));
        fs::write(&path, png)?;
        Ok(path)
    }

    /// Runs `story`; if it fails, saves a screenshot of the moment before returning
    /// the error. Closes the WebDriver session either way.
    pub async fn run(self, story: impl AsyncFnOnce(&Self) -> TestResult) -> TestResult {
        let outcome = story(&self).await;
        if outcome.is_err() {
            let _ = self.screenshot("failure").await;
        }
        let _ = self.client.clone().close().await;
        outcome
    }
}

/// What WebKit needs to paint under Xvfb, in the app's environment: no GPU there, and
/// WebKit's DMA-BUF renderer would show a blank window.
pub const WEBKIT_UNDER_XVFB: [(&str, &str); 4] = [
    ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
    ("WEBKIT_DISABLE_COMPOSITING_MODE", "1"),
    ("LIBGL_ALWAYS_SOFTWARE", "1"),
    ("NO_AT_BRIDGE", "1"),
];

/// The app's environment: `peers`' (workspace, AWS files, keychain, moto), the display,
/// and `extra`.
fn app_environment(command: &mut Command, peers: &Peers, display: &str, extra: &[(&str, &str)]) {
    command
        .envs(peers.env())
        .env("ROLEHOP_KEYCHAIN_SERVICE", peers.home().keychain_service())
        .env("DISPLAY", display)
        .envs(WEBKIT_UNDER_XVFB);
    for (k, v) in extra {
        command.env(k, v);
    }
}

fn tauri_driver() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("tauri-driver"))
        .find(|p| p.exists());
    on_path.unwrap_or_else(|| {
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo")
            });
        cargo_home.join("bin/tauri-driver")
    })
}

// ---- Many sessions and the virtualised list (the list and MFA-dialog suites) --------

/// Writes a workspace of `count` IAM users named `s-0000`, `s-0001`... over 40
/// profiles straight into the app's workspace file (adding 5,000 through the CLI would
/// take minutes), and returns their names in list order.
pub fn seed_users(peers: &Peers, count: usize) -> TestResult<Vec<String>> {
    use rolehop_core::model::{
        DEFAULT_USER_SESSION_SECONDS, IamUser, Profile, ProfileName, Session, SessionId,
        SessionKind, SessionState,
    };
    use rolehop_core::workspace::{StoredSession, Workspace};

    let mut ws = Workspace::default();
    for p in 0..40 {
        ws.profiles.push(Profile {
            name: ProfileName::parse(&format!("team-{p}"))?,
        });
    }
    let names: Vec<String> = (0..count).map(|i| format!("s-{i:04}")).collect();
    for (i, name) in names.iter().enumerate() {
        ws.sessions.push(StoredSession {
            session: Session {
                console: Default::default(),
                id: SessionId::new(),
                name: name.clone(),
                profile: ProfileName::parse(&format!("team-{}", i % 40))?,
                region: Some("eu-west-1".into()),
                kind: SessionKind::IamUser(IamUser {
                    mfa_serial: None,
                    session_duration: DEFAULT_USER_SESSION_SECONDS,
                    account_id: Some(format!("{:012}", 100_000 + i)),
                }),
            },
            state: SessionState::Inactive,
            claim: None,
            origin: None,
            issued: None,
        });
    }
    let home = peers.home().rolehop_home();
    fs::create_dir_all(&home)?;
    fs::write(home.join("workspace.json"), serde_json::to_vec(&ws)?)?;
    Ok(names)
}

impl Desktop {
    /// Presses `key` in whatever has the focus.
    pub async fn press(&self, key: Key) -> TestResult {
        self.client
            .active_element()
            .await?
            .send_keys(&char::from(key).to_string())
            .await?;
        Ok(())
    }

    /// The names of the session rows wholly inside the list's viewport, top to bottom:
    /// what the user sees, whatever else the virtualised list keeps in the DOM.
    pub async fn rows_in_view(&self) -> TestResult<Vec<String>> {
        let names = self
            .client
            .execute(
                "const viewport = document.querySelector('.viewport');
                 const top = viewport.getBoundingClientRect().top + viewport.clientTop;
                 const bottom = top + viewport.clientHeight;
                 return [...viewport.querySelectorAll('.row[data-session]')]
                   .map((row) => [row.dataset.session, row.getBoundingClientRect()])
                   .filter(([, r]) => r.top >= top - 0.5 && r.bottom <= bottom + 0.5)
                   .sort((a, b) => a[1].top - b[1].top)
                   .map(([name]) => name);",
                vec![],
            )
            .await?;
        Ok(serde_json::from_value(names)?)
    }

    /// The name of the selected row, if one is in the DOM.
    pub async fn selected_row(&self) -> TestResult<Option<String>> {
        let rows = self.all(".row[aria-selected='true']").await?;
        match rows.first() {
            Some(row) => Ok(row.attr("data-session").await?),
            None => Ok(None),
        }
    }

    /// Scrolls the session list to `top` pixels, as a wheel or the scroll bar would.
    pub async fn scroll_list_to(&self, top: f64) -> TestResult {
        self.client
            .execute(
                "document.querySelector('.viewport').scrollTop = arguments[0];",
                vec![json!(top)],
            )
            .await?;
        Ok(())
    }

    /// Evaluates `script` (a JavaScript expression's `return`) as a number.
    pub async fn number(&self, script: &str) -> TestResult<f64> {
        self.client
            .execute(script, vec![])
            .await?
            .as_f64()
            .ok_or_else(|| format!("`{script}` is not a number").into())
    }
}

// ---- The app's process ----------------------------------------------------------------

/// The pid of this test's app: the app binary (WebKit's helpers run other binaries)
/// whose environment names this test's `ROLEHOP_HOME` (other suites run their own apps
/// from the same binary at the same time).
pub fn app_pid(home: &Path) -> Option<i32> {
    let app = app_binary().canonicalize().ok()?;
    let mut wanted = b"ROLEHOP_HOME=".to_vec();
    wanted.extend_from_slice(home.as_os_str().as_encoded_bytes());
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let exe = std::fs::read_link(entry.path().join("exe")).ok()?;
            let environ = std::fs::read(entry.path().join("environ")).ok()?;
            let ours = environ
                .split(|b| *b == 0)
                .any(|var| var == wanted.as_slice());
            (exe == app && ours).then_some(pid)
        })
}

/// Whether `pid` still runs (a zombie waiting for its parent does not).
pub fn running(pid: i32) -> bool {
    std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat")).is_ok_and(
        |stat| {
            !stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.starts_with(" Z"))
        },
    )
}

// ---- The tray, a second launch and close-to-tray ---------------------------------------

/// Runs `program` with `args`; its standard output, or an error with its standard error.
fn output(program: &str, args: &[&str]) -> TestResult<String> {
    let out = Command::new(program).args(args).output()?;
    if !out.status.success() {
        return Err(format!(
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The test's private session bus (the Secret Service's), where the app's tray exports
/// its menu and a stand-in tray host (`rolehop_e2e::TrayHost`) can be started.
pub fn session_bus(peers: &Peers) -> TestResult<String> {
    peers
        .env()
        .into_iter()
        .find(|(k, _)| k == "DBUS_SESSION_BUS_ADDRESS")
        .map(|(_, v)| v)
        .ok_or_else(|| "the peers have no session bus (with_secret_service)".into())
}

/// The app's tray menu, read and clicked over D-Bus exactly as a StatusNotifier host
/// (a panel) does: Tauri's tray is an Ayatana app indicator, whose menu is exported as
/// `com.canonical.dbusmenu` on the session bus (the test's private one).
pub struct Tray {
    address: String,
    connection: String,
    menu: String,
}

impl Tray {
    /// Waits until the app exports its tray menu on `peers`' session bus.
    pub async fn find(peers: &Peers) -> TestResult<Self> {
        let address = session_bus(peers)?;
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            if let Some(tray) = Self::look(&address)? {
                return Ok(tray);
            }
            if Instant::now() > deadline {
                return Err("no tray menu on the session bus".into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn look(address: &str) -> TestResult<Option<Self>> {
        let bus = format!("--address={address}");
        for connection in Self::app_connections(address)? {
            let Ok(tree) = output("busctl", &[&bus, "--list", "tree", &connection]) else {
                continue; // a connection that exports nothing
            };
            if let Some(menu) = tree
                .lines()
                .find(|p| p.starts_with("/org/ayatana/NotificationItem/") && p.ends_with("/Menu"))
            {
                return Ok(Some(Self {
                    address: address.to_owned(),
                    connection,
                    menu: menu.to_owned(),
                }));
            }
        }
        Ok(None)
    }

    /// The bus connections of `rolehop-desktop` processes.
    fn app_connections(address: &str) -> TestResult<Vec<String>> {
        let bus = format!("--address={address}");
        let list = output("busctl", &[&bus, "--no-pager", "--no-legend", "list"])?;
        Ok(list
            .lines()
            .filter_map(|line| {
                let mut columns = line.split_whitespace();
                let name = columns.next()?;
                let process = columns.nth(1)?;
                (name.starts_with(':') && process == "rolehop-desktop").then(|| name.to_owned())
            })
            .collect())
    }

    /// Whether the app that exported the menu is still on the bus.
    pub fn app_running(&self) -> TestResult<bool> {
        Ok(Self::app_connections(&self.address)?.contains(&self.connection))
    }

    /// The menu's items, (id, label) top to bottom; separators have no label.
    pub fn items(&self) -> TestResult<Vec<(i64, String)>> {
        let bus = format!("--address={}", self.address);
        let layout: serde_json::Value = serde_json::from_str(&output(
            "busctl",
            &[
                &bus,
                "--json=short",
                "--",
                "call",
                &self.connection,
                &self.menu,
                "com.canonical.dbusmenu",
                "GetLayout",
                "iias",
                "0",
                "-1",
                "0",
            ],
        )?)?;
        // u(ia{sv}av): revision, then the root (id, properties, children).
        let children = layout["data"][1][2].as_array().cloned().unwrap_or_default();
        Ok(children
            .iter()
            .filter_map(|child| {
                let item = &child["data"];
                let label = item[1]["label"]["data"].as_str().unwrap_or_default();
                Some((item[0].as_i64()?, label.to_owned()))
            })
            .collect())
    }

    /// The labels of the menu's items, separators left out.
    pub fn labels(&self) -> TestResult<Vec<String>> {
        Ok(self
            .items()?
            .into_iter()
            .map(|(_, label)| label)
            .filter(|label| !label.is_empty())
            .collect())
    }

    /// Clicks the item labelled `label`, as a panel does when the user picks it.
    pub fn click(&self, label: &str) -> TestResult {
        let items = self.items()?;
        let (id, _) = items
            .iter()
            .find(|(_, l)| l == label)
            .ok_or_else(|| format!("no tray item {label:?} in {items:?}"))?;
        let bus = format!("--address={}", self.address);
        output(
            "busctl",
            &[
                &bus,
                "--",
                "call",
                &self.connection,
                &self.menu,
                "com.canonical.dbusmenu",
                "Event",
                "isvu",
                &id.to_string(),
                "clicked",
                "s",
                "",
                "0",
            ],
        )?;
        Ok(())
    }

    /// Waits until the menu's labels satisfy `ok`; returns them.
    pub async fn wait_labels(&self, ok: impl Fn(&[String]) -> bool) -> TestResult<Vec<String>> {
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            let labels = self.labels()?;
            if ok(&labels) {
                return Ok(labels);
            }
            if Instant::now() > deadline {
                return Err(format!("the tray menu still reads {labels:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Desktop {
    /// The X id of the app's main window (titled "Rolehop").
    fn window_id(&self) -> TestResult<String> {
        self.window_named("Rolehop")
    }

    /// The X id of the app's window titled `title`.
    fn window_named(&self, title: &str) -> TestResult<String> {
        self._xvfb.window_named(title)
    }

    /// Whether a window titled `title` is on screen now (mapped and viewable); a window
    /// that exists hidden, or none, is not.
    pub fn window_viewable(&self, title: &str) -> TestResult<bool> {
        self._xvfb.window_viewable(title)
    }

    /// The X display the app runs on, for a program a test starts beside it.
    pub fn display(&self) -> &str {
        self._xvfb.display()
    }

    /// The X server the app's windows are on.
    pub fn screen(&self) -> &Xvfb {
        &self._xvfb
    }

    /// Waits until a window titled `title` is on screen, and returns its X id (for a
    /// window WebDriver cannot reach: the federated login window).
    pub async fn wait_window_named(&self, title: &str) -> TestResult<String> {
        self._xvfb.wait_window_named(title).await
    }

    /// Waits until no window is titled `title`.
    pub async fn wait_window_gone(&self, title: &str) -> TestResult {
        self._xvfb.wait_window_gone(title).await
    }

    /// Saves a PNG of X window `id` to `target/artifacts/desktop/<test>-<label>.png`.
    pub fn window_screenshot(&self, id: &str, label: &str) -> TestResult<PathBuf> {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/e2e/desktop/window_png.py"
        );
        let path = self.artifacts.join(format!("{}-{label}.png", self.name));
        let out = path.to_str().ok_or("an artifacts path that is not UTF-8")?;
        output("python3", &[script, self._xvfb.display(), id, out])?;
        Ok(path)
    }

    /// Closes window `id` as its title bar's close button would.
    pub fn close_window_id(&self, id: &str) -> TestResult {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/e2e/desktop/close_window.py"
        );
        output("python3", &[script, self._xvfb.display(), id])?;
        Ok(())
    }

    /// Whether the main window is on screen (mapped), as the X server says.
    pub fn window_shown(&self) -> TestResult<bool> {
        let id = self.window_id()?;
        let info = output("xwininfo", &["-display", self._xvfb.display(), "-id", &id])?;
        Ok(info.contains("Map State: IsViewable"))
    }

    /// Waits until the main window is shown (`true`) or hidden (`false`).
    pub async fn wait_window_shown(&self, shown: bool) -> TestResult {
        let deadline = Instant::now() + UI_TIMEOUT;
        while self.window_shown()? != shown {
            if Instant::now() > deadline {
                return Err(format!(
                    "the window is still {}",
                    if shown { "hidden" } else { "shown" }
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Closes the main window as its title bar's close button would.
    pub fn close_window(&self) -> TestResult {
        self.close_window_id(&self.window_id()?)
    }

    /// Launches the app a second time, as a user would, with `peers`' environment on this
    /// display; returns once it has exited, with whether it exited successfully.
    pub async fn launch_again(&self, peers: &Peers) -> TestResult<bool> {
        let mut command = Command::new(app_binary());
        app_environment(&mut command, peers, self._xvfb.display(), &[]);
        let mut second = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            if let Some(status) = second.try_wait()? {
                return Ok(status.success());
            }
            if Instant::now() > deadline {
                let _ = second.kill();
                let _ = second.wait();
                return Err("a second launch kept running beside the first".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// One step of [`Desktop::type_into_window`].
pub enum KeyStep<'a> {
    Text(&'a str),
    Key(&'a str),
}

/// What a person types into the test SAML provider's login form (its first field
/// focused): the user, Tab, the password, Return.
pub fn saml_provider_sign_in() -> [KeyStep<'static>; 4] {
    use rolehop_e2e::saml_idp::{PASSWORD, USER};
    [
        KeyStep::Text(USER),
        KeyStep::Key("Tab"),
        KeyStep::Text(PASSWORD),
        KeyStep::Key("Return"),
    ]
}

// ---- Accessibility: axe-core inside the window, and the keyboard alone -----------------

/// axe-core's browser build, from the UI's `node_modules` (a devDependency in
/// ui/package.json, so `npm ci` puts this exact version there).
fn axe_source() -> TestResult<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/node_modules/axe-core/axe.min.js");
    fs::read_to_string(&path).map_err(|e| {
        format!(
            "reading {} ({e}): run `npm ci` in ui/ first",
            path.display()
        )
        .into()
    })
}

impl Desktop {
    /// Runs axe-core (WCAG 2.x A and AA rules, best practices included) on the window as
    /// it is now, and returns its serious and critical violations, each as
    /// `rule: help [selector, ...]`. The source goes in through WebDriver's execute
    /// script, which the page's CSP does not govern; the page itself still loads nothing.
    pub async fn axe_serious_violations(&self) -> TestResult<Vec<String>> {
        let loaded = self
            .client
            .execute("return typeof window.axe === 'object';", vec![])
            .await?;
        if loaded != json!(true) {
            let source = axe_source()?;
            self.client
                .execute(&format!("{source}\n;return true;"), vec![])
                .await?;
        }
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then((r) => done(r.violations
                     .filter((v) => v.impact === 'serious' || v.impact === 'critical')
                     .map((v) => `${v.id} (${v.impact}): ${v.help} [`
                       + v.nodes.map((n) => n.target.join(' ')).join(', ') + ']')))
                   .catch((e) => done([`axe failed: ${e}`]));",
                vec![],
            )
            .await?;
        Ok(serde_json::from_value(found)?)
    }

    /// Types `keys` as a keyboard does (a key down and up for each character, `Key`s
    /// included), into whatever has the focus: Tab moves the focus as it would for a
    /// person, which an element's send-keys does not do.
    pub async fn keyboard(&self, keys: &str) -> TestResult {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let mut actions = KeyActions::new("keyboard".into());
        for value in keys.chars() {
            actions = actions
                .then(KeyAction::Down { value })
                .then(KeyAction::Up { value });
        }
        self.client.perform_actions(actions).await?;
        Ok(())
    }

    /// Presses Tab until the focus is on an element matching `css`; fails after `max`
    /// presses (the control is not reachable by keyboard).
    pub async fn tab_to(&self, css: &str, max: usize) -> TestResult {
        for _ in 0..max {
            if self.focus_matches(css).await? {
                return Ok(());
            }
            self.keyboard(&char::from(Key::Tab).to_string()).await?;
        }
        if self.focus_matches(css).await? {
            return Ok(());
        }
        Err(format!(
            "`{css}` not reached in {max} Tab presses (focus on {})",
            self.focused().await?
        )
        .into())
    }

    /// Whether the focused element matches `css`.
    pub async fn focus_matches(&self, css: &str) -> TestResult<bool> {
        let matches = self
            .client
            .execute(
                "const e = document.activeElement;
                 return e !== null && e.matches(arguments[0]);",
                vec![json!(css)],
            )
            .await?;
        Ok(matches == json!(true))
    }

    /// The focused element, for messages: its tag, name and class.
    pub async fn focused(&self) -> TestResult<String> {
        let description = self
            .client
            .execute(
                "const e = document.activeElement;
                 return e === null ? 'nothing'
                   : `${e.tagName.toLowerCase()}[name=${e.getAttribute('name')}].${e.className}`;",
                vec![],
            )
            .await?;
        Ok(description.as_str().unwrap_or_default().to_owned())
    }

    /// Whether the focused element shows a focus ring: an outline of some width that is
    /// not `none` (`:focus-visible` in app.css).
    pub async fn focus_is_visible(&self) -> TestResult<bool> {
        let visible = self
            .client
            .execute(
                "const s = getComputedStyle(document.activeElement);
                 return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;",
                vec![],
            )
            .await?;
        Ok(visible == json!(true))
    }
}
