//! Issue 27's window parts in the real window (Xvfb, WebDriver), against moto and a
//! private gnome-keyring: the loading state before the workspace is read and the
//! welcome view's ways in and keyboard cheat sheet (part 6); every error of a form at
//! once, in words, beside its field, and a layout that holds at the minimum window size
//! (part 7); the profile, region and parent pickers (part 1). Each story runs axe-core
//! on what it opened: no serious or critical finding.

use std::fs::File;

use serde_json::{Value, json};

use crate::cli::World;
use crate::desktop::{Desktop, TestResult, seed_users};

/// Fails the story (so its screenshot is taken) unless `ok`.
fn ensure(ok: bool, why: impl FnOnce() -> String) -> TestResult {
    if ok { Ok(()) } else { Err(why().into()) }
}

async fn no_serious_axe_finding(app: &Desktop, view: &str) -> TestResult {
    let found = app.axe_serious_violations().await?;
    if !found.is_empty() {
        app.screenshot(&format!("axe-{view}")).await?;
    }
    ensure(found.is_empty(), || format!("{view}: {}", found.join("\n")))
}

/// The fields of `dialog` marked required, in order.
async fn marked_required(app: &Desktop, dialog: &str) -> TestResult<Vec<String>> {
    Ok(serde_json::from_value(
        app.client
            .execute(
                "return [...document.querySelectorAll(`${arguments[0]} [data-required=true]`)]
                   .map((l) => l.dataset.field);",
                vec![json!(dialog)],
            )
            .await?,
    )?)
}

/// Fails unless each field of `dialog` shows exactly its words as its error.
async fn shows_beside_fields(app: &Desktop, dialog: &str, expected: &[(&str, &str)]) -> TestResult {
    for (field, words) in expected {
        let shown = app
            .text(&format!("{dialog} [data-error-field='{field}']"))
            .await?;
        ensure(shown == *words, || format!("{field}: {shown}"))?;
    }
    Ok(())
}

/// The values of the options a combobox's list shows now, in order.
async fn listed(app: &Desktop, combobox: &str) -> TestResult<Vec<String>> {
    let values = app
        .client
        .execute(
            "const list = document.querySelector(`[data-combobox='${arguments[0]}'] [role=listbox]`);
             return list.hidden ? null
               : [...list.querySelectorAll('[role=option]')].map((o) => o.dataset.choice);",
            vec![json!(combobox)],
        )
        .await?;
    Ok(serde_json::from_value(values).unwrap_or_default())
}

/// Part 6: while the workspace cannot be read (another process holds its lock, as the
/// CLI does during an update), the window says it is loading, never "No session
/// matches." nor "0 sessions"; once read, the list and "1 session" show. The shell
/// reads the workspace before it opens the window, so the story holds the lock, changes
/// the file (the shell's cache then reads it again) and reloads the page: its first
/// snapshot waits for the lock as a launch's would for a slow read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part6_the_window_shows_loading_until_the_workspace_is_read() -> TestResult {
    let world = World::start();
    world.add_iam_user("alice", "alice");
    let home = world.peers.home().rolehop_home();
    let app = Desktop::launch("loading", &world.peers, &[]).await?;
    app.run(async |app: &Desktop| {
        app.wait_for(&Desktop::row("alice", Some("inactive")))
            .await?;
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(home.join("workspace.lock"))?;
        lock.lock()?;
        let workspace = home.join("workspace.json");
        let bytes = std::fs::read(&workspace)?;
        std::fs::write(&workspace, [bytes.as_slice(), b"\n"].concat())?;
        // WebDriver's own refresh returns once the new page has loaded: a script's
        // `location.reload()` returns at once, and the next lookup could run in the
        // page being unloaded ("Callback was not called before the unload event").
        app.client.refresh().await?;

        let loading = app.wait_text("[data-loading]", |t| !t.is_empty()).await?;
        ensure(loading.contains("Loading"), || {
            format!("loading: {loading}")
        })?;
        let footer = app.text("footer.status").await?;
        ensure(footer.trim() == "Loading…", || {
            format!("footer: {footer}")
        })?;
        ensure(app.all(".empty").await?.is_empty(), || {
            "an empty-list message before the workspace was read".into()
        })?;
        app.screenshot("loading").await?;
        lock.unlock()?;
        app.wait_for(&Desktop::row("alice", Some("inactive")))
            .await?;
        app.wait_gone("[data-loading]").await?;
        let footer = app.text("footer.status").await?;
        ensure(footer.starts_with("1 session ·"), || {
            format!("footer: {footer}")
        })
    })
    .await
}

/// Part 6: the welcome view links the three ways in (the import, an IAM user, IAM
/// Identity Center: its dialog opens) and the cheat sheet; `?` opens the cheat sheet
/// from the list too, and Escape closes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part6_the_welcome_view_links_the_ways_in_and_question_mark_opens_the_cheat_sheet()
-> TestResult {
    use fantoccini::key::Key;
    let world = World::start();
    world.peers.home().write_aws_config("[profile portal]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 111111111111\nsso_role_name = Admin\n")?;
    let app = Desktop::launch("welcome-guide", &world.peers, &[]).await?;
    app.run(async |app: &Desktop| {
        app.wait_for("[data-welcome] button[name='import']").await?;
        let import = app.text("[data-welcome] button[name='import']").await?;
        ensure(import == "Import 1 session", || format!("import: {import}"))?;
        app.wait_for("[data-welcome] button[name='guided-add']")
            .await?;
        no_serious_axe_finding(app, "welcome-guide").await?;

        app.click("[data-welcome] button[name='welcome-sso']")
            .await?;
        app.wait_for("dialog[data-dialog='integrations'][open]")
            .await?;
        app.keyboard(&char::from(Key::Escape).to_string()).await?;
        app.wait_gone("dialog[data-dialog='integrations']").await?;

        app.click("[data-welcome] button[name='welcome-shortcuts']")
            .await?;
        let sheet = "dialog[data-dialog='shortcuts'][open]";
        let text = app
            .wait_text(sheet, |t| t.contains("Keyboard shortcuts"))
            .await?;
        for key in ["/", "Enter", "Esc", "?"] {
            ensure(text.contains(key), || {
                format!("the cheat sheet lacks {key}: {text}")
            })?;
        }
        no_serious_axe_finding(app, "shortcuts").await?;
        app.keyboard(&char::from(Key::Escape).to_string()).await?;
        app.wait_gone(sheet).await?;

        // From the list: `?` anywhere but in a text field.
        app.click("[data-welcome] button[name='skip']").await?;
        app.wait_for(".viewport").await?;
        app.client
            .execute("document.querySelector('.viewport').focus();", vec![])
            .await?;
        app.keyboard("?").await?;
        app.wait_for(sheet).await?;
        app.screenshot("shortcuts").await?;
        app.keyboard(&char::from(Key::Escape).to_string()).await?;
        app.wait_gone(sheet).await?;
        Ok(())
    })
    .await
}

/// Part 7: an empty submit of the IAM user dialog marks every required field and says
/// what is missing beside each, at once, in words; nothing is added. A refusal by the
/// engine ('mars-1') reads as a sentence beside its field, without the Rust field name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part7_an_empty_submit_shows_every_missing_field_at_once_in_words() -> TestResult {
    let world = World::start();
    world.add_iam_user("alice", "alice");
    let app = Desktop::launch("all-errors", &world.peers, &[]).await?;
    app.run(async |app: &Desktop| {
        app.click("button[name='add-iam-user']").await?;
        let dialog = "dialog[data-dialog='iam-user'][open]";
        app.wait_for(dialog).await?;
        let required = marked_required(app, dialog).await?;
        ensure(
            required == ["name", "profile", "access_key_id", "secret_access_key"],
            || format!("marked required: {required:?}"),
        )?;

        app.click(&format!("{dialog} button[name='save']")).await?;
        shows_beside_fields(
            app,
            dialog,
            &[
                ("name", "Enter the name."),
                ("profile", "Enter the profile."),
                ("access_key_id", "Enter the access key ID."),
                ("secret_access_key", "Enter the secret access key."),
            ],
        )
        .await?;
        app.screenshot("all-errors").await?;
        no_serious_axe_finding(app, "all-errors").await?;

        // Everything given, a region that is none: the engine's refusal, in words.
        app.fill(&format!("{dialog} input[name='name']"), "bob")
            .await?;
        app.fill(&format!("{dialog} input[name='profile']"), "bob")
            .await?;
        app.fill(&format!("{dialog} input[name='region']"), "mars-1")
            .await?;
        app.fill(
            &format!("{dialog} input[name='access_key_id']"),
            "AKIAIOSFODNN7EXAMPLE",
        )
        .await?;
        app.fill(
            &format!("{dialog} input[name='secret_access_key']"),
            "secret",
        )
        .await?;
        app.click(&format!("{dialog} button[name='save']")).await?;
        let region = app
            .wait_text(&format!("{dialog} [data-error-field='region']"), |t| {
                !t.is_empty()
            })
            .await?;
        ensure(
            region == "'mars-1' is not an AWS region (e.g. eu-west-1).",
            || format!("region: {region}"),
        )?;
        ensure(
            app.all(&format!("{dialog} [data-error-field='name']"))
                .await?
                .is_empty(),
            || "the name's error stayed after it was given".into(),
        )?;
        let listed = world.rolehop(&["session", "list", "--json"]).ok().json();
        ensure(listed.as_array().map(Vec::len) == Some(1), || {
            format!("a refused form added a session: {listed}")
        })
    })
    .await
}

/// Part 1: the profile picker lists the existing profiles sorted, then a new one named
/// after what is typed; the region picker lists AWS's regions by partition and finds
/// one by its name ("paris"); the parent picker finds a session by its chain. The
/// chosen values are what the role is saved with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part1_pickers_offer_sorted_profiles_regions_by_partition_and_searchable_parents()
-> TestResult {
    use fantoccini::key::Key;
    let world = World::start();
    let names = seed_users(&world.peers, 8)?;
    let app = Desktop::launch("pickers", &world.peers, &[]).await?;
    app.run(async |app: &Desktop| {
        app.click("button[name='add-role']").await?;
        let dialog = "dialog[data-dialog='role'][open]";
        app.wait_for(dialog).await?;

        // Profiles: all 40, sorted as people read numbers, then "New profile…".
        app.click(&format!("{dialog} [data-combobox-toggle='profile']")).await?;
        let profiles = listed(app, "profile").await?;
        ensure(profiles.len() == 41, || format!("profiles: {profiles:?}"))?;
        ensure(
            profiles[..3] == ["team-0", "team-1", "team-2"] && profiles[39] == "team-39",
            || format!("not sorted: {profiles:?}"),
        )?;
        ensure(
            app.all(&format!("{dialog} [data-combobox='profile'] [data-new]")).await?.len() == 1,
            || "no new-profile line".into(),
        )?;
        no_serious_axe_finding(app, "profile-picker").await?;
        app.fill(&format!("{dialog} input[name='profile']"), "team-3").await?;
        let found = listed(app, "profile").await?;
        ensure(
            found == ["team-3", "team-30", "team-31", "team-32", "team-33", "team-34", "team-35", "team-36", "team-37", "team-38", "team-39"],
            || format!("typed team-3: {found:?}"),
        )?;
        app.fill(&format!("{dialog} input[name='profile']"), "fresh").await?;
        ensure(listed(app, "profile").await?.is_empty(), || {
            "a name only the new-profile line matches still shows the list".into()
        })?;

        // Regions: by partition, found by AWS's name for them, chosen with the keyboard.
        app.click(&format!("{dialog} [data-combobox-toggle='region']")).await?;
        let groups: Vec<String> = serde_json::from_value(
            app.client
                .execute(
                    "return [...document.querySelectorAll(`[data-combobox='region'] .combobox-group`)]
                       .map((g) => g.textContent.trim());",
                    vec![],
                )
                .await?,
        )?;
        ensure(
            groups.first().map(String::as_str) == Some("AWS")
                && groups.iter().any(|g| g == "AWS China")
                && groups.iter().any(|g| g == "AWS GovCloud (US)"),
            || format!("partitions: {groups:?}"),
        )?;
        app.fill(&format!("{dialog} input[name='region']"), "paris").await?;
        ensure(listed(app, "region").await? == ["eu-west-3"], || "paris".into())?;
        no_serious_axe_finding(app, "region-picker").await?;
        app.keyboard(&format!("{}{}", char::from(Key::Down), char::from(Key::Return)))
            .await?;
        let region = app.prop(&format!("{dialog} input[name='region']"), "value").await?;
        ensure(region.as_deref() == Some("eu-west-3"), || format!("region: {region:?}"))?;

        // Parents: 8 sessions, so a search; it narrows the choice to the match.
        app.fill(&format!("{dialog} input[name='parent-search']"), "s-0005").await?;
        let options: Vec<String> = serde_json::from_value(
            app.client
                .execute(
                    "return [...document.querySelectorAll(`select[name=parent] option:not([disabled])`)]
                       .map((o) => o.textContent.trim());",
                    vec![],
                )
                .await?,
        )?;
        ensure(options == [names[5].clone()], || format!("parents: {options:?}"))?;
        app.select_label(&format!("{dialog} select[name='parent']"), &names[5]).await?;

        app.fill(&format!("{dialog} input[name='name']"), "picked").await?;
        app.fill(
            &format!("{dialog} input[name='role_arn']"),
            "arn:aws:iam::123456789012:role/Picked",
        )
        .await?;
        app.click(&format!("{dialog} button[name='save']")).await?;
        app.wait_gone(dialog).await?;
        app.wait_for(&Desktop::row("picked", Some("inactive"))).await?;
        let listed = world.rolehop(&["session", "list", "--json"]).ok().json();
        let picked = listed
            .as_array()
            .and_then(|all| all.iter().find(|s| s["name"] == "picked"))
            .cloned()
            .unwrap_or(Value::Null);
        ensure(
            picked["profile"] == "fresh" && picked["region"] == "eu-west-3",
            || format!("saved: {picked}"),
        )
    })
    .await
}

/// The rectangles of what matters at a small size, measured in the page.
async fn layout(app: &Desktop) -> TestResult<Value> {
    Ok(app
        .client
        .execute(
            "const r = (css) => { const e = document.querySelector(css); if (!e) return null;
               const b = e.getBoundingClientRect();
               return { left: b.left, right: b.right, top: b.top, bottom: b.bottom, width: b.width }; };
             const heads = [...document.querySelectorAll('.list-head > span')].map((s) => {
               const b = s.getBoundingClientRect(); return { left: b.left, right: b.right, text: s.textContent.trim(),
               clipped: s.scrollWidth > s.clientWidth + 1 }; });
             return { width: innerWidth, height: innerHeight, list: r('.list'), heads,
                      details: r('[data-details]'), remove: r('[data-details] button[name=delete]'),
                      toolbar: [...document.querySelectorAll('.toolbar button')].map((b) => b.getBoundingClientRect().right) };",
            vec![],
        )
        .await?)
}

/// Part 7: at the window's minimum size (760×480, src-tauri/tauri.conf.json) and at
/// 800×600, every list header shows in full without overlapping the next, the toolbar
/// fits, and the details pane is a drawer over the list whose Delete button is inside
/// the window; its ✕ closes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part7_the_layout_holds_at_the_minimum_window_size() -> TestResult {
    let world = World::start();
    world.seed_story();
    let app = Desktop::launch("min-size", &world.peers, &[]).await?;
    app.run(async |app: &Desktop| {
        for (width, height) in [(760_u32, 480_u32), (800, 600)] {
            app.client.set_window_rect(0, 0, width, height).await?;
            app.client
                .execute("document.querySelector('[name=close-details]')?.click();", vec![])
                .await?;
            app.wait_gone("[data-details]").await?;
            let at = layout(app).await?;
            let size = format!("{width}×{height}");
            let heads = at["heads"].as_array().cloned().unwrap_or_default();
            let list_right = at["list"]["right"].as_f64().unwrap_or(0.0);
            for pair in heads.windows(2) {
                ensure(pair[0]["right"].as_f64() <= pair[1]["left"].as_f64(), || {
                    format!("{size}: headers overlap: {pair:?}")
                })?;
            }
            for head in &heads {
                ensure(
                    head["clipped"] == false && head["right"].as_f64().unwrap_or(f64::MAX) <= list_right,
                    || format!("{size}: header cut: {head}"),
                )?;
            }
            ensure(
                heads.iter().any(|h| h["text"] == "Region"),
                || format!("{size}: no Region header: {heads:?}"),
            )?;
            let window = at["width"].as_f64().unwrap_or(0.0);
            for right in at["toolbar"].as_array().cloned().unwrap_or_default() {
                ensure(right.as_f64().unwrap_or(f64::MAX) <= window, || {
                    format!("{size}: a toolbar button is cut: {at}")
                })?;
            }

            app.click(&format!("{} .details-button", Desktop::row("alice", None))).await?;
            app.wait_for("[data-details='alice']").await?;
            let at = layout(app).await?;
            let (details, remove) = (&at["details"], &at["remove"]);
            let inside = |outer: &Value, inner: &Value| {
                ["left", "top"].iter().all(|k| inner[k].as_f64() >= outer[k].as_f64())
                    && ["right", "bottom"].iter().all(|k| inner[k].as_f64() <= outer[k].as_f64())
            };
            let window = json!({ "left": 0.0, "top": 0.0, "right": at["width"], "bottom": at["height"] });
            app.client
                .execute(
                    "document.querySelector('[data-details] button[name=delete]').scrollIntoView({block: 'nearest'});",
                    vec![],
                )
                .await?;
            let scrolled = layout(app).await?;
            ensure(
                inside(&window, details) && inside(&window, &scrolled["remove"]) && inside(&scrolled["details"], &scrolled["remove"]),
                || format!("{size}: the drawer or its Delete is outside the window: {at} / {scrolled}"),
            )?;
            ensure(remove["width"].as_f64() > Some(0.0), || format!("{size}: no Delete"))?;
            app.screenshot(&format!("drawer-{width}x{height}")).await?;
            no_serious_axe_finding(app, &format!("drawer-{width}x{height}")).await?;
        }
        app.click("[data-details] button[name='close-details']").await?;
        app.wait_gone("[data-details]").await?;
        Ok(())
    })
    .await
}

/// Where README's screenshots live; the story below rewrites them when
/// `ROLEHOP_README_SCREENSHOTS=1` (else it leaves them alone and keeps its own copies in
/// the artifacts), so the pictures are always of the window as it is.
fn readme_screenshots() -> Option<std::path::PathBuf> {
    (std::env::var_os("ROLEHOP_README_SCREENSHOTS").is_some_and(|v| v == "1"))
        .then(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots"))
}

/// Part 8: README's pictures of the main views (the list with a session's details, a
/// dialog) in the light and the dark palette, taken from the real window with a role
/// chain in it, one session active: each palette is the one the picture says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part8_screenshots_of_the_main_views_in_light_and_dark() -> TestResult {
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["session", "start", "codebuild", "--mfa-code", "123456"])
        .ok();
    for (scheme, theme, background) in [
        ("light", "Adwaita", "rgb(247, 248, 250)"),
        ("dark", "Adwaita:dark", "rgb(20, 24, 30)"),
    ] {
        let app = Desktop::launch(
            &format!("readme-{scheme}"),
            &world.peers,
            &[("GTK_THEME", theme)],
        )
        .await?;
        app.run(async |app: &Desktop| {
            let painted = app
                .client
                .execute(
                    "return getComputedStyle(document.documentElement).backgroundColor;",
                    vec![],
                )
                .await?;
            ensure(painted == background, || {
                format!("{scheme}: background {painted}")
            })?;
            app.client.set_window_rect(0, 0, 1200, 720).await?;
            app.wait_for(&Desktop::row("codebuild", Some("active")))
                .await?;
            app.click(&format!(
                "{} .details-button",
                Desktop::row("codebuild", None)
            ))
            .await?;
            app.wait_for("[data-details='codebuild']").await?;
            let mut shots = vec![("list", app.screenshot("list").await?)];
            app.click("button[name='add-role']").await?;
            app.wait_for("dialog[data-dialog='role'][open]").await?;
            app.click("dialog[data-dialog='role'] button[name='save']")
                .await?;
            app.wait_for("dialog[data-dialog='role'] [data-error-field='name']")
                .await?;
            shots.push(("dialog", app.screenshot("dialog").await?));
            if let Some(dir) = readme_screenshots() {
                std::fs::create_dir_all(&dir)?;
                for (view, shot) in shots {
                    std::fs::copy(shot, dir.join(format!("{view}-{scheme}.png")))?;
                }
            }
            Ok(())
        })
        .await?;
    }
    Ok(())
}

/// Part 1 and part 7 in the IAM Identity Center dialog: its SSO region is the same
/// picker as every other region (AWS's regions by partition, found by AWS's name for
/// them), marked required, and an empty submit names all three required fields at once;
/// the integration is saved with the region chosen from the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part1_the_iam_identity_center_dialog_picks_its_region_and_names_every_missing_field()
-> TestResult {
    use fantoccini::key::Key;
    let world = World::start();
    world.add_iam_user("alice", "alice");
    let app = Desktop::launch("sso-region-picker", &world.peers, &[]).await?;
    app.run(async |app: &Desktop| {
        app.click("button[name='integrations']").await?;
        let dialog = "dialog[data-dialog='integrations'][open]";
        app.wait_for(dialog).await?;
        let required = marked_required(app, dialog).await?;
        ensure(required == ["name", "start_url", "region"], || {
            format!("marked required: {required:?}")
        })?;
        app.click(&format!("{dialog} button[name='save-integration']")).await?;
        shows_beside_fields(
            app,
            dialog,
            &[
                ("name", "Enter the name."),
                ("start_url", "Enter the start URL."),
                ("region", "Enter the region."),
            ],
        )
        .await?;

        app.click(&format!("{dialog} [data-combobox-toggle='region']")).await?;
        let groups: Vec<String> = serde_json::from_value(
            app.client
                .execute(
                    "return [...document.querySelectorAll(`${arguments[0]} [data-combobox='region'] .combobox-group`)]
                       .map((g) => g.textContent.trim());",
                    vec![json!(dialog)],
                )
                .await?,
        )?;
        ensure(
            groups.first().map(String::as_str) == Some("AWS")
                && groups.iter().any(|g| g == "AWS GovCloud (US)"),
            || format!("partitions: {groups:?}"),
        )?;
        app.fill(&format!("{dialog} input[name='region']"), "frankfurt").await?;
        ensure(listed(app, "region").await? == ["eu-central-1"], || "frankfurt".into())?;
        no_serious_axe_finding(app, "sso-region-picker").await?;
        app.keyboard(&format!("{}{}", char::from(Key::Down), char::from(Key::Return)))
            .await?;
        app.fill(&format!("{dialog} input[name='name']"), "acme").await?;
        app.fill(
            &format!("{dialog} input[name='start_url']"),
            "https://acme.awsapps.com/start",
        )
        .await?;
        app.click(&format!("{dialog} button[name='save-integration']")).await?;
        app.wait_for(&format!("{dialog} [data-integration='acme']")).await?;
        let listed = world.rolehop(&["sso", "list", "--json"]).ok().json();
        let region = listed
            .as_array()
            .and_then(|all| all.iter().find(|i| i["name"] == "acme"))
            .map(|i| i["region"].clone());
        ensure(region == Some(json!("eu-central-1")), || {
            format!("saved: {listed}")
        })
    })
    .await
}
