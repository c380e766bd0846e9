//! Part 2 of issue 27 in the window: the IAM user dialog takes the AWS console's
//! access-key CSV, picked (a file input, given the file's path as a person's file
//! chooser would) or dropped, through the same reader as the CLI's `--from-csv`. The
//! keys end up in the keychain; the page keeps no copy of the secret once they are
//! stored; a malformed dropped file is refused beside the file field, naming its line,
//! and nothing is added.

use serde_json::json;

use crate::cli::World;
use crate::desktop::{Desktop, TestResult};

const DIALOG: &str = "dialog[data-dialog='iam-user']";

fn ensure(ok: bool, what: String) -> TestResult {
    if ok { Ok(()) } else { Err(what.into()) }
}

/// Whether the page's DOM holds `text` anywhere (markup, or an input's value).
async fn page_holds(app: &Desktop, text: &str) -> TestResult<bool> {
    let found = app
        .client
        .execute(
            "const t = arguments[0];
             return document.documentElement.outerHTML.includes(t)
               || [...document.querySelectorAll('input, textarea')].some((e) => e.value.includes(t));",
            vec![json!(text)],
        )
        .await?;
    Ok(found.as_bool().unwrap_or(true))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_user_dialog_takes_the_console_csv_picked_or_dropped() -> TestResult {
    let world = World::start();
    let bob = world.peers.moto().create_user("bob")?;
    let dir = world.peers.home().root().join("downloads");
    std::fs::create_dir_all(&dir)?;
    let csv = dir.join("bob_accessKeys.csv");
    std::fs::write(
        &csv,
        format!(
            "\u{feff}Access key ID,Secret access key\r\n{},{}\r\n",
            bob.access_key_id, bob.secret_access_key
        ),
    )?;
    let app = Desktop::launch("iam-user-csv", &world.peers, &[]).await?;
    app.run(async |app: &Desktop| {
        // Dropped: a file of two keys is refused beside the file field, naming line 3.
        app.click("button[name='add-iam-user']").await?;
        app.fill(&format!("{DIALOG} input[name='name']"), "dropped")
            .await?;
        app.fill(&format!("{DIALOG} input[name='profile']"), "dropped")
            .await?;
        app.client
            .execute(
                "const text = 'Access key ID,Secret access key\\r\\nAKIAIOSFODNN7EXAMPLE,a\\r\\nAKIAIOSFODNN7EXAMPLE,b\\r\\n';
                 const data = new DataTransfer();
                 data.items.add(new File([text], 'two_accessKeys.csv', { type: 'text/csv' }));
                 const input = document.querySelector(arguments[0]);
                 input.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));",
                vec![json!(format!("{DIALOG} input[name='csv']"))],
            )
            .await?;
        app.wait_for(&format!("{DIALOG} input[name='csv'][data-csv='two_accessKeys.csv']"))
            .await?;
        app.click(&format!("{DIALOG} button[name='save']")).await?;
        let error = app
            .wait_text(&format!("{DIALOG} [data-error-field='csv']"), |t| !t.is_empty())
            .await?;
        ensure(error.contains("line 3"), format!("the refusal reads {error:?}"))?;
        let listed = world.rolehop(&["session", "list", "--json"]).ok().json();
        ensure(listed == json!([]), format!("a session was added: {listed}"))?;

        // Picked: the console's file by its path.
        app.choose_file(&format!("{DIALOG} input[name='csv']"), &csv)
            .await?;
        app.wait_for(&format!("{DIALOG} input[name='csv'][data-csv='bob_accessKeys.csv']"))
            .await?;
        app.click(&format!("{DIALOG} button[name='save']")).await?;
        app.wait_gone(DIALOG).await?;
        app.wait_for(&Desktop::row("dropped", None)).await?;

        let keychain = world
            .peers
            .secret_service()
            .search_all(world.peers.home().keychain_service())?;
        ensure(
            keychain.contains(&bob.secret_access_key),
            "the keys are not in the keychain".into(),
        )?;
        ensure(
            !page_holds(app, &bob.secret_access_key).await?,
            "the page keeps the secret after storing it".into(),
        )
    })
    .await
}
