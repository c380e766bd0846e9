//! The desktop's Organization sync dialog in the real window (Xvfb, WebDriver), against
//! moto's Organizations: a refused OU id beside its field, a sync of one OU then of the
//! whole organization with the counts shown, the synced sessions in the list and found
//! by account name and named in the details, and no serious axe-core violation in the
//! dialog.

use crate::cli::World;
use crate::desktop::{Desktop, TestResult};
use crate::org::make_org;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_sync_dialog_syncs_an_ou_then_the_organization_and_shows_the_counts() -> TestResult {
    let world = World::start();
    world.add_iam_user("mgmt", "mgmt");
    let org = make_org(&world);
    let app = Desktop::launch("org-sync", &world.peers, &[]).await?;
    app.run(async |app: &Desktop| {
        app.click("button[name='org-sync']").await?;
        let dialog = "dialog[data-dialog='org-sync'][open]";
        app.wait_for(dialog).await?;
        let violations = app.axe_serious_violations().await?;
        if !violations.is_empty() {
            return Err(violations.join("\n").into());
        }
        // Issue 27 part 7: no session is chosen for the user, and Sync without one
        // says what is missing instead of calling AWS through a guess.
        let via = app
            .prop(&format!("{dialog} select[name='via']"), "value")
            .await?;
        assert_eq!(via.as_deref(), Some(""), "the via session was pre-filled");
        app.click(&format!("{dialog} button[name='sync']")).await?;
        let missing = app
            .text(&format!("{dialog} [data-error-field='via']"))
            .await?;
        assert_eq!(missing, "Enter the session to sync through.");
        assert_eq!(app.row_names().await?, ["mgmt"]);
        app.select_label(&format!("{dialog} select[name='via']"), "mgmt")
            .await?;

        // A name where an OU id belongs: refused beside the field, nothing synced.
        app.fill(&format!("{dialog} input[name='ou']"), "Workloads")
            .await?;
        app.click(&format!("{dialog} button[name='sync']")).await?;
        let refused = app
            .wait_text(&format!("{dialog} [data-error-field='ou']"), |t| {
                t.contains("not an organizational unit id")
            })
            .await?;
        assert!(refused.contains("'Workloads'"), "{refused}");
        assert_eq!(app.row_names().await?, ["mgmt"]);

        app.fill(&format!("{dialog} input[name='ou']"), &org.workloads)
            .await?;
        app.click(&format!("{dialog} button[name='sync']")).await?;
        app.wait_text(&format!("{dialog} .sync-report"), |t| {
            t == "Added 10, updated 0, removed 0, kept 0"
        })
        .await?;

        // Blank (WebDriver cannot type nothing): every account.
        app.fill(&format!("{dialog} input[name='ou']"), " ").await?;
        app.click(&format!("{dialog} button[name='sync']")).await?;
        app.wait_text(&format!("{dialog} .sync-report"), |t| {
            t == "Added 10, updated 0, removed 0, kept 10"
        })
        .await?;
        app.screenshot("org-sync-report").await?;
        app.click(&format!("{dialog} button[name='close']")).await?;
        app.wait_gone(dialog).await?;

        // The sessions are in the list, and an account's name finds its session.
        app.wait_text("footer.status", |t| t.starts_with("21 sessions"))
            .await?;
        app.fill("input[type='search']", "sandbox 15").await?;
        app.wait_for(&Desktop::row(
            "Sandbox-15-OrganizationAccountAccessRole",
            Some("inactive"),
        ))
        .await?;
        let shown = app.row_names().await?;
        assert_eq!(shown, ["Sandbox-15-OrganizationAccountAccessRole"]);
        // ↓ from the search box goes to the list, ↓ again selects the one row (or stays
        // on it): the details name the account.
        let down = char::from(fantoccini::key::Key::Down).to_string();
        app.keyboard(&down).await?;
        app.keyboard(&down).await?;
        let details = "[data-details='Sandbox-15-OrganizationAccountAccessRole']";
        let name = app.text(&format!("{details} [data-account-name]")).await?;
        assert_eq!(name, "Sandbox 15");
        Ok(())
    })
    .await
}
