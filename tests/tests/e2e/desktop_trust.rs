//! Trust policies in the desktop app, in a real window under WebDriver against moto and
//! a private gnome-keyring: the details pane's Trust section shows each hop's trust and
//! identity statements (with Copy) and checks the role's real trust policy; a start
//! moto refuses (IAM auth on) shows its explanation in trust-policy terms on the row
//! and in the details pane. axe-core finds no serious violation in the section.
//!
//! As in `cli_trust_explain`: moto with auth on refuses the fixed keys of its
//! GetSessionToken, so `codebuild` is started (its role credentials cached) before auth
//! is switched on, and the refused hop is `codebuild` → a role trusting an IAM user
//! `bob`, which AWS refuses just as moto does.

use crate::cli::World;
use crate::desktop::{Desktop, TestResult};

/// Like `assert!`, but fails the story with an error, so that its screenshot is taken.
macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+).into());
        }
    };
}

/// Selects `session` (its details button: a row click would also start it).
async fn select(app: &Desktop, session: &str) -> TestResult {
    app.click(&format!("[data-details-of='{session}']")).await?;
    app.wait_for(&format!("[data-details='{session}']")).await?;
    Ok(())
}

/// Opens the Trust section of the selected session and waits for its hops.
async fn open_trust(app: &Desktop, session: &str) -> TestResult {
    app.click(&format!("[data-details='{session}'] [data-trust] summary"))
        .await?;
    app.wait_for(&format!(
        "[data-details='{session}'] [data-hop='{session}'] [data-statement='trust']"
    ))
    .await?;
    Ok(())
}

/// A statement the section shows, parsed.
async fn statement(app: &Desktop, hop: &str, which: &str) -> TestResult<serde_json::Value> {
    let text = app
        .text(&format!("[data-hop='{hop}'] [data-statement='{which}']"))
        .await?;
    Ok(serde_json::from_str(&text)?)
}

async fn no_serious_axe_violation(app: &Desktop, view: &str) -> TestResult {
    let violations = app.axe_serious_violations().await?;
    if !violations.is_empty() {
        app.screenshot(&format!("axe-{view}")).await?;
        return Err(format!("{view}: {}", violations.join("\n")).into());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trust_section_shows_each_hops_statements_checks_the_policy_and_a_refusal_is_explained()
-> TestResult {
    let world = World::start();
    let story = world.seed_story();
    let bobs = world.create_role_trusting(
        "TrustsBob",
        &serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:user/bob"},
            "Action": "sts:AssumeRole"}]}),
    );
    world.add_role("bobs", "codebuild", &bobs);
    world
        .rolehop(&["session", "start", "codebuild", "--mfa-code", "123456"])
        .ok();

    let app = Desktop::launch("trust", &world.peers, &[]).await?;
    app.run(async |app: &Desktop| {
        // The statements of each hop of codebuild's chain, and the Check of its role
        // (CodeBuildRole trusts alice: admitted).
        select(app, "codebuild").await?;
        open_trust(app, "codebuild").await?;
        let trust = statement(app, "codebuild", "trust").await?;
        check!(
            trust
                == serde_json::json!({"Effect": "Allow",
                    "Principal": {"AWS": story.alice.arn}, "Action": "sts:AssumeRole"}),
            "trust statement: {trust}"
        );
        let identity = statement(app, "codebuild", "identity").await?;
        check!(
            identity["Resource"] == story.codebuild_arn.as_str(),
            "identity statement: {identity}"
        );
        app.click("[data-hop='codebuild'] button[name='copy-trust']")
            .await?;
        let copied = app.wait_text("[data-copied]", |t| !t.is_empty()).await?;
        check!(
            copied == "Copied the trust-policy statement.",
            "copy: {copied}"
        );
        app.click("button[name='trust-check']").await?;
        let verdict = app.text("[data-verdict='admitted']").await?;
        check!(
            verdict.contains(&format!(
                "Admitted: the trust policy of {} admits 'alice' ({})",
                story.codebuild_arn, story.alice.arn
            )),
            "verdict: {verdict}"
        );
        no_serious_axe_violation(app, "trust-admitted").await?;

        // A role trusting someone else: Check names the principal to add.
        select(app, "bobs").await?;
        check!(
            app.all("[data-verdict]").await?.is_empty(),
            "another session's verdict stayed"
        );
        open_trust(app, "bobs").await?;
        let hops = app.all("[data-details='bobs'] [data-hop]").await?.len();
        check!(
            hops == 2,
            "alice → codebuild → bobs has 2 role hops: {hops}"
        );
        let trust = statement(app, "bobs", "trust").await?;
        check!(
            trust["Principal"]["AWS"] == story.codebuild_arn.as_str(),
            "a role hop trusts the parent role's ARN: {trust}"
        );
        app.click("button[name='trust-check']").await?;
        let verdict = app.text("[data-verdict='not-admitted']").await?;
        check!(
            verdict.contains(&format!(
                "Missing: the policy does not trust {} ('codebuild'): add it to Principal.AWS",
                story.codebuild_arn
            )),
            "verdict: {verdict}"
        );
        no_serious_axe_violation(app, "trust-not-admitted").await?;

        // moto now checks the trust policy: the start is refused, and explained.
        world.peers.moto().enable_auth()?;
        app.click(&Desktop::row("bobs", Some("inactive"))).await?;
        app.wait_for(&Desktop::row("bobs", Some("failed"))).await?;
        let explained = format!(
            "AWS refused sts:AssumeRole on {bobs} by 'codebuild' (the hop to 'bobs'): the \
             trust policy of {bobs} must admit {}; it does not (iam:GetRole as 'codebuild')",
            story.codebuild_arn
        );
        let row = app
            .text(&format!("{} [data-reason]", Desktop::row("bobs", None)))
            .await?;
        check!(
            row.starts_with("AWS denied access (AccessDenied): ") && row.contains(&explained),
            "row: {row}"
        );
        let pane = app.text("[data-details='bobs'] [data-reason]").await?;
        check!(
            pane.contains(&explained) && pane.contains("add it to Principal.AWS"),
            "details pane: {pane}"
        );
        no_serious_axe_violation(app, "trust-refused").await?;
        // Selected again, the refused session's Trust section is open by itself.
        select(app, "codebuild").await?;
        select(app, "bobs").await?;
        app.wait_for(
            "[data-details='bobs'] [data-trust][open] [data-hop='bobs'] [data-statement='trust']",
        )
        .await?;
        app.screenshot("refused").await?;
        Ok(())
    })
    .await
}
