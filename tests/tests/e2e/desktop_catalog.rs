//! Issue 25, part 4: team catalogs in the real window (Xvfb, WebDriver) against a real
//! `git daemon` on 127.0.0.1 and moto. A refused source is named beside its field; a
//! catalog is followed from the window, `{me}` bound to an IAM user with a preview of
//! the two roles it adds, synced, and a chained session started by a click and read
//! back by the AWS CLI. A teammate then pushes a role: the "moved on" notice appears
//! (the app's slow timer shortened by its test hook, `ROLEHOP_CATALOG_CHECK_SECS`), the
//! preview shows the change, and the sync applies it. Screenshots of the panel and the
//! preview go to the test artifacts.

use rolehop_e2e::GitServer;
use rolehop_e2e::git_server::Clone;

use crate::cli::World;
use crate::cli_catalog::{AUDIT, seed_catalog};
use crate::desktop::{Desktop, TestResult};

const DIALOG: &str = "dialog[data-dialog='catalogs'][open]";

fn within(css: &str) -> String {
    format!("{DIALOG} {css}")
}

/// Clicks a Preview button (`click`) once it is enabled (a person cannot press it while
/// the dialog is busy, e.g. asking the sources on opening) and waits for the preview's
/// counts to read `summary`.
async fn preview(app: &Desktop, click: &str, summary: &str) -> TestResult {
    app.wait_for(&format!("{click}:not([disabled])")).await?;
    app.click(click).await?;
    app.wait_text(&within("[data-preview-summary]"), |t| t == summary)
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part4_follow_bind_preview_sync_and_start_then_a_pushed_change_is_noticed_previewed_and_synced()
-> TestResult {
    let server = GitServer::start()?;
    let url = server.create_repo("catalog.git")?;
    let publisher = Clone::of(&url, &server.scratch("work").join("catalog"))?;
    publisher.publish(&seed_catalog(""))?;
    let world = World::start();
    world.add_iam_user("alice", "alice");
    // The test hook: the sources are asked every 2 s instead of every 15 minutes.
    let app = Desktop::launch(
        "catalog",
        &world.peers,
        &[("ROLEHOP_CATALOG_CHECK_SECS", "2")],
    )
    .await?;
    app.run(async |app: &Desktop| {
        app.click("button[name='catalogs']").await?;
        app.wait_for(DIALOG).await?;

        // A bad source: refused beside its field, nothing followed.
        app.fill(&within("input[name='source']"), "-oops").await?;
        app.click(&within("button[name='preview-add']")).await?;
        let refused = app
            .wait_text(&within("[data-error-field='source']"), |t| !t.is_empty())
            .await?;
        assert!(refused.contains("must not start with '-'"), "{refused}");
        assert!(app.all(&within("[data-catalog]")).await?.is_empty());

        // Follow it: the preview says {me} is unbound and its roles are skipped.
        app.fill(&within("input[name='source']"), &url).await?;
        app.fill(&within("input[name='name']"), "platform").await?;
        preview(
            app,
            &within("button[name='preview-add']"),
            "0 to add, 0 to change, 0 to remove, 0 unchanged",
        )
        .await?;
        let unbound = app
            .text(&within("[data-preview] [data-line='unbound']"))
            .await?;
        assert!(unbound.contains("{me} is not bound"), "{unbound}");
        app.click(&within("button[name='apply-preview']")).await?;
        app.wait_for(&within("[data-catalog='platform']")).await?;
        assert_eq!(app.row_names().await?, ["alice"]);

        // Bind {me} to alice: the preview shows the two roles it would add, and only
        // Apply adds them.
        let row = within("[data-catalog='platform']");
        app.select_label(&format!("{row} select[name='bind-session']"), "alice")
            .await?;
        preview(
            app,
            &format!("{row} button[name='preview-bind']"),
            "2 to add, 0 to change, 0 to remove, 0 unchanged",
        )
        .await?;
        let mut added = Vec::new();
        for line in app
            .all(&within("[data-preview] [data-line='added']"))
            .await?
        {
            added.push(line.text().await?);
        }
        added.sort();
        assert_eq!(
            added,
            [
                "Add codebuild (codebuild, 123456789012)",
                "Add deploy (deploy, 210987654321)"
            ]
        );
        app.screenshot("catalog-preview").await?;
        assert_eq!(
            app.row_names().await?,
            ["alice"],
            "a preview added sessions"
        );
        app.click(&within("button[name='apply-preview']")).await?;
        app.wait_text(&within("[data-sync-report]"), |t| {
            t == "platform: Added 2, changed 0, removed 0, 0 unchanged"
        })
        .await?;
        app.wait_text(
            &within("[data-catalog='platform'] [data-catalog-status]"),
            |t| t.starts_with("2 sessions") && t.contains("{me} = alice"),
        )
        .await?;
        app.screenshot("catalog-panel").await?;
        app.click(&within("button[name='close']")).await?;
        app.wait_gone(DIALOG).await?;

        // The chained sessions are in the list; a click starts one, the AWS CLI acts as it.
        app.wait_for(&Desktop::row("deploy", Some("inactive")))
            .await?;
        assert_eq!(app.row_names().await?, ["alice", "codebuild", "deploy"]);
        app.click(&Desktop::row("deploy", None)).await?;
        app.wait_for(&Desktop::row("deploy", Some("active")))
            .await?;
        let arn = world
            .caller_arn("deploy")
            .map_err(|run| format!("{run:?}"))?;
        assert!(
            arn.starts_with("arn:aws:sts::210987654321:assumed-role/ResourceDeployCAR/"),
            "{arn}"
        );

        // A teammate pushes a role: the timer's check announces it on the button.
        app.wait_for("button[name='catalogs'][data-moved-on='0']")
            .await?;
        publisher.publish(&seed_catalog(AUDIT))?;
        app.wait_for("button[name='catalogs'][data-moved-on='1']")
            .await?;
        app.click("button[name='catalogs']").await?;
        app.wait_for(&within("[data-catalog='platform'] [data-moved-on-notice]"))
            .await?;
        preview(
            app,
            &within("[data-catalog='platform'] button[name='preview-sync']"),
            "1 to add, 0 to change, 0 to remove, 2 unchanged",
        )
        .await?;
        let line = app
            .text(&within("[data-preview] [data-line='added']"))
            .await?;
        assert_eq!(line, "Add audit (audit, 210987654321)");
        app.screenshot("catalog-moved-on-preview").await?;
        assert_eq!(app.row_names().await?, ["alice", "codebuild", "deploy"]);
        app.click(&within("button[name='apply-preview']")).await?;
        app.wait_text(&within("[data-sync-report]"), |t| {
            t == "platform: Added 1, changed 0, removed 0, 2 unchanged"
        })
        .await?;
        app.wait_gone(&within("[data-moved-on-notice]")).await?;
        app.wait_for("button[name='catalogs'][data-moved-on='0']")
            .await?;
        app.wait_for(&Desktop::row("audit", Some("inactive")))
            .await?;
        // The started session was left as it was.
        app.wait_for(&Desktop::row("deploy", Some("active")))
            .await?;

        // Apply makes the change previewed, or none: a push between the preview and
        // Apply is refused, naming the catalog, and nothing changes.
        preview(
            app,
            &within("[data-catalog='platform'] button[name='preview-sync']"),
            "0 to add, 0 to change, 0 to remove, 3 unchanged",
        )
        .await?;
        publisher.publish(&seed_catalog(&AUDIT.replace("Audit", "AuditV2")))?;
        app.click(&within("button[name='apply-preview']")).await?;
        let refused = app
            .wait_text(&within("p.form-error"), |t| !t.is_empty())
            .await?;
        assert!(refused.contains("moved on since its preview"), "{refused}");
        let status = app
            .text(&within("[data-catalog='platform'] [data-catalog-status]"))
            .await?;
        assert!(status.starts_with("3 sessions"), "{status}");
        Ok(())
    })
    .await
}
