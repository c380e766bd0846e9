//! Part 4 of issue 27 in the window: the role dialog's tags editor. Tags typed there are
//! saved (read back by the CLI), refused input is named beside its field with nothing
//! changed, and a start from the window sends the tags on that hop's `AssumeRole`
//! (moto's recorder).

use serde_json::json;

use crate::cli::World;
use crate::cli_tags::{assume_role_tags, listed_tags, pairs};
use crate::desktop::{Desktop, TestResult};

const ROLE_DIALOG: &str = "dialog[data-dialog='role']";

fn ensure(ok: bool, what: String) -> TestResult {
    if ok { Ok(()) } else { Err(what.into()) }
}

async fn edit_role(app: &Desktop, session: &str) -> TestResult {
    app.click(&format!("{} .details-button", Desktop::row(session, None)))
        .await?;
    app.click(&format!(
        "[data-details='{session}'] .actions button:nth-of-type(2)"
    ))
    .await?;
    app.click(&format!("{ROLE_DIALOG} details summary")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_dialog_tags_are_saved_refused_by_field_and_sent_on_the_wire() -> TestResult {
    let world = World::start();
    let story = world.seed_story();
    let app = Desktop::launch("role-tags", &world.peers, &[]).await?;
    app.run(async |app: &Desktop| {
        edit_role(app, "codebuild").await?;
        // A new line is typed as Return (WebDriver types "\n" as nothing in WebKitGTK).
        let lines = format!(
            "team=platform{}project=blue",
            char::from(fantoccini::key::Key::Return)
        );
        app.fill(&format!("{ROLE_DIALOG} textarea[name='tags']"), &lines)
            .await?;
        app.fill(
            &format!("{ROLE_DIALOG} input[name='transitive_tag_keys']"),
            "team",
        )
        .await?;
        app.click(&format!("{ROLE_DIALOG} button[name='save']"))
            .await?;
        app.wait_gone(ROLE_DIALOG).await?;
        let saved = listed_tags(&world, "codebuild");
        ensure(
            saved
                == (
                    json!([{"key": "team", "value": "platform"}, {"key": "project", "value": "blue"}]),
                    json!(["team"]),
                ),
            format!("saved {saved:?}"),
        )?;

        // A key STS refuses ('#') is named beside the tags field; nothing changes.
        edit_role(app, "codebuild").await?;
        app.fill(&format!("{ROLE_DIALOG} textarea[name='tags']"), "team#1=a")
            .await?;
        app.click(&format!("{ROLE_DIALOG} button[name='save']"))
            .await?;
        app.wait_for(&format!("{ROLE_DIALOG} [data-error-field='tags']"))
            .await?;
        ensure(
            listed_tags(&world, "codebuild") == saved,
            "a refused edit changed the tags".into(),
        )?;
        // A transitive key that is not a tag's is named beside its own field.
        app.fill(&format!("{ROLE_DIALOG} textarea[name='tags']"), "team=a")
            .await?;
        app.fill(
            &format!("{ROLE_DIALOG} input[name='transitive_tag_keys']"),
            "project",
        )
        .await?;
        app.click(&format!("{ROLE_DIALOG} button[name='save']"))
            .await?;
        app.wait_for(&format!(
            "{ROLE_DIALOG} [data-error-field='transitive_tag_keys']"
        ))
        .await?;
        ensure(
            listed_tags(&world, "codebuild") == saved,
            "a refused edit changed the tags".into(),
        )?;
        app.press(fantoccini::key::Key::Escape).await?;
        app.wait_gone(ROLE_DIALOG).await?;

        // Started from the window: the hop's AssumeRole carries the saved tags.
        world.peers.moto().start_recording()?;
        app.click(&Desktop::row("codebuild", Some("inactive")))
            .await?;
        app.fill_and_enter("dialog[data-dialog='mfa'] input[name='mfa_code']", "123456")
            .await?;
        app.wait_for(&Desktop::row("codebuild", Some("active")))
            .await?;
        let calls = assume_role_tags(&world);
        let sent = calls.get(&story.codebuild_arn).cloned();
        ensure(
            sent == Some((
                pairs(&[("team", "platform"), ("project", "blue")]),
                vec!["team".to_owned()],
            )),
            format!("AssumeRole carried {calls:?}"),
        )
    })
    .await
}
