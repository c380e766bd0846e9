//! Part 3 of issue 27, in the real window: Quit (the toolbar's button and `Ctrl+Q`) ends
//! the app; the close button hides the window to the tray only when a tray host is on
//! the session bus (a stand-in StatusNotifierWatcher on the test's private bus, with
//! which the app's tray icon registers), and otherwise asks once whether to quit or keep
//! running, the answer kept in the workspace's settings and changeable in Settings.

use std::time::{Duration, Instant};

use rolehop_e2e::TrayHost;

use crate::cli::World;
use crate::desktop::{self, Desktop, TestResult, app_pid, running};

const CLOSE_DIALOG: &str = "dialog[data-dialog='close']";

fn ensure(ok: bool, what: &str) -> TestResult {
    if ok { Ok(()) } else { Err(what.into()) }
}

/// The workspace's close setting, as stored.
fn close_setting(world: &World) -> TestResult<String> {
    let file = world.peers.home().rolehop_home().join("workspace.json");
    let ws: serde_json::Value = serde_json::from_slice(&std::fs::read(file)?)?;
    Ok(ws["settings"]["close_without_tray"]
        .as_str()
        .unwrap_or("(unset)")
        .to_owned())
}

/// Sets the close setting before the app starts, as an earlier answer would have.
fn set_close_setting(world: &World, choice: &str) -> TestResult {
    world.rolehop(&["profile", "list"]).ok(); // the workspace file exists
    let file = world.peers.home().rolehop_home().join("workspace.json");
    let mut ws: serde_json::Value = serde_json::from_slice(&std::fs::read(&file)?)?;
    ws["settings"]["close_without_tray"] = choice.into();
    std::fs::write(file, serde_json::to_vec(&ws)?)?;
    Ok(())
}

/// Waits until this test's app process has exited.
async fn wait_app_gone(world: &World, pid: i32) -> TestResult {
    let deadline = Instant::now() + desktop::UI_TIMEOUT;
    while running(pid) {
        ensure(
            Instant::now() < deadline,
            "the app still runs after quitting",
        )?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // No other app of this test took its place.
    ensure(
        app_pid(&world.peers.home().rolehop_home()).is_none_or(|p| !running(p)),
        "an app of this test still runs",
    )
}

fn this_app(world: &World) -> TestResult<i32> {
    app_pid(&world.peers.home().rolehop_home()).ok_or_else(|| "this test's app process".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quit_button_ends_the_app() -> TestResult {
    let world = World::start();
    world.seed_story();
    let app = Desktop::launch("quit-button", &world.peers, &[]).await?;
    let pid = this_app(&world)?;
    app.run(async |app: &Desktop| {
        // The app may end before WebDriver answers the click: its answer proves nothing
        // either way; the process ending does.
        let _ = app.click("header button[name='quit']").await;
        wait_app_gone(&world, pid).await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_q_ends_the_app() -> TestResult {
    let world = World::start();
    world.seed_story();
    let app = Desktop::launch("quit-ctrl-q", &world.peers, &[]).await?;
    let pid = this_app(&world)?;
    app.run(async |app: &Desktop| {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        use fantoccini::key::Key;
        let ctrl = char::from(Key::Control);
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: ctrl })
            .then(KeyAction::Down { value: 'q' })
            .then(KeyAction::Up { value: 'q' })
            .then(KeyAction::Up { value: ctrl });
        let _ = app.client.perform_actions(keys).await; // as for the button

        wait_app_gone(&world, pid).await
    })
    .await
}

/// No tray host: the close button asks (the window stays until the answer); "Keep
/// running" hides it, is kept as the setting, and the next close hides at once without
/// asking; a second launch brings the window back; Settings shows the choice and changes
/// it to "Quit", after which the close button ends the app.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_without_a_tray_host_asks_once_and_keeps_the_choice() -> TestResult {
    let world = World::start();
    world.seed_story();
    let app = Desktop::launch("close-no-tray", &world.peers, &[]).await?;
    let pid = this_app(&world)?;
    app.run(async |app: &Desktop| {
        ensure(
            close_setting(&world)? == "ask",
            "the close setting starts at ask",
        )?;
        app.close_window()?;
        app.wait_for(CLOSE_DIALOG).await?;
        ensure(app.window_shown()?, "the window hid before the answer")?;
        app.click(&format!("{CLOSE_DIALOG} button[name='keep-running']"))
            .await?;
        app.wait_window_shown(false).await?;
        ensure(
            close_setting(&world)? == "keep-running",
            "the answer is kept as the setting",
        )?;
        ensure(running(pid), "keep running: the app runs on")?;

        // A second launch shows the window; closing it again does not ask.
        ensure(
            app.launch_again(&world.peers).await?,
            "the second launch failed",
        )?;
        app.wait_window_shown(true).await?;
        ensure(
            app.all(CLOSE_DIALOG).await?.is_empty(),
            "the dialog is still open",
        )?;
        app.close_window()?;
        app.wait_window_shown(false).await?;
        ensure(
            app.all(CLOSE_DIALOG).await?.is_empty(),
            "asked a second time",
        )?;

        // Settings holds the choice, and changes it.
        ensure(
            app.launch_again(&world.peers).await?,
            "the third launch failed",
        )?;
        app.wait_window_shown(true).await?;
        app.click("button[name='settings']").await?;
        let shown = app
            .prop("select[name='close_without_tray']", "value")
            .await?;
        ensure(
            shown.as_deref() == Some("keep-running"),
            &format!("Settings shows {shown:?}"),
        )?;
        app.select_value("select[name='close_without_tray']", "quit")
            .await?;
        app.click("dialog[data-dialog='settings'] button[name='save']")
            .await?;
        app.wait_gone("dialog[data-dialog='settings']").await?;
        ensure(close_setting(&world)? == "quit", "Settings saved quit")?;
        app.close_window()?;
        wait_app_gone(&world, pid).await
    })
    .await
}

/// No tray host, and the answer is "Quit": the app ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_without_a_tray_host_answered_quit_ends_the_app() -> TestResult {
    let world = World::start();
    world.seed_story();
    let app = Desktop::launch("close-no-tray-quit", &world.peers, &[]).await?;
    let pid = this_app(&world)?;
    app.run(async |app: &Desktop| {
        app.close_window()?;
        app.wait_for(CLOSE_DIALOG).await?;
        let _ = app
            .click(&format!("{CLOSE_DIALOG} button[name='quit']"))
            .await; // as for the toolbar's Quit
        wait_app_gone(&world, pid).await?;
        ensure(close_setting(&world)? == "quit", "the answer is kept")
    })
    .await
}

/// A tray host on the bus: the app's icon registers with it, and the close button hides
/// the window to the tray without asking, even where the setting says quit (the tray
/// leaves a way back); the app runs on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_with_a_tray_host_hides_to_the_tray() -> TestResult {
    let world = World::start();
    world.seed_story();
    set_close_setting(&world, "quit")?;
    let host = TrayHost::start(&desktop::session_bus(&world.peers)?)?;
    let app = Desktop::launch("close-tray", &world.peers, &[]).await?;
    let pid = this_app(&world)?;
    app.run(async |app: &Desktop| {
        let items = host.wait_for_item(desktop::UI_TIMEOUT);
        ensure(!items.is_empty(), "the app's tray icon never registered")?;
        app.close_window()?;
        app.wait_window_shown(false).await?;
        ensure(app.all(CLOSE_DIALOG).await?.is_empty(), "asked with a tray")?;
        ensure(running(pid), "the app runs on in the tray")?;
        ensure(close_setting(&world)? == "quit", "the setting is untouched")
    })
    .await
}

/// The tray host goes away (its panel quit) while the app runs: the next close asks
/// instead of hiding to a tray nobody shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_after_the_tray_host_left_asks() -> TestResult {
    let world = World::start();
    world.seed_story();
    let host = TrayHost::start(&desktop::session_bus(&world.peers)?)?;
    let app = Desktop::launch("close-tray-left", &world.peers, &[]).await?;
    app.run(async |app: &Desktop| {
        host.wait_for_item(desktop::UI_TIMEOUT);
        host.stop();
        app.close_window()?;
        app.wait_for(CLOSE_DIALOG).await?;
        ensure(app.window_shown()?, "hid to a tray that is gone")
    })
    .await
}
