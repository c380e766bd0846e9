//! `aws login` console sign-in sessions in the real window (Xvfb, WebDriver; issue 22,
//! part 2): a session of the kind, imported from a profile `aws login` left (the
//! `signin` stand-in plays the sign-in), is listed with its kind and the ARN signed in
//! as; a role chained from it starts by a click, through the stand-in's token and
//! moto's STS, and the AWS CLI acts as that role from the files the window's start
//! wrote. A screenshot goes to the test artifacts.

use std::time::Duration;

use rolehop_e2e::SigninStandIn;

use crate::cli::{World, assumed};
use crate::cli_login_session::{ACCOUNT, ALICE, add_deploy, deploy_role, home};
use crate::desktop::{Desktop, TestResult};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part2_a_login_session_is_listed_with_its_kind_and_a_role_chained_from_it_starts_by_click()
-> TestResult {
    let signin = SigninStandIn::start()?;
    let (key, value) = signin.endpoint_env();
    let world = World::start().with_env(&key, &value);
    let role_arn = deploy_role(&world);
    world.peers.home().write_aws_config(&format!(
        "[profile console]\nlogin_session = {ALICE}\nregion = us-east-1\n"
    ))?;
    signin.sign_in(&home(&world), ALICE, ACCOUNT, Duration::from_secs(900))?;
    world.rolehop(&["import", "aws-config"]).ok();
    add_deploy(&world, &role_arn);
    let app = Desktop::launch("login-session", &world.peers, &[(&key, &value)]).await?;
    app.run(async |app: &Desktop| {
        let console = Desktop::row("console", None);
        app.wait_for(&Desktop::row("console", Some("inactive")))
            .await?;
        assert_eq!(
            app.text(&format!("{console} .kind")).await?,
            "Console sign-in (aws login)"
        );
        assert_eq!(
            app.text(&format!("{console} .secondary-text")).await?,
            ALICE
        );

        // A click on the role starts it, its parent's credentials from the token.
        app.click(&Desktop::row("deploy", None)).await?;
        app.wait_for(&Desktop::row("deploy", Some("active")))
            .await?;
        assert_eq!(
            world.caller_arn("deploy").unwrap(),
            assumed(ACCOUNT, "Deploy", "rolehop-deploy")
        );
        app.screenshot("login-session-chain-active").await?;
        Ok(())
    })
    .await
}
