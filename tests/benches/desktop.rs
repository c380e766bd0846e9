//! The desktop app's figures, on its release build (`cargo xtask bench` builds it):
//!
//! - memory: the sum of PSS over the app's process tree (the app, WebKit's web and
//!   network processes) 10 s after launch with 1,000 sessions, and the same in the same
//!   run for a bare Tauri window (`src-tauri/examples/bare_window.rs`) as Tauri ships
//!   it and with the app's runtime settings (two malloc arenas, no JIT), and for the
//!   app in the compiler's order when `cargo xtask bench` left that build next to it
//!   (`xtask/src/startup_order.rs`); then all of them again on two workloads the launch
//!   profile never saw (no sessions; 3,000 IAM Identity Center role sessions);
//! - launch to list painted: from asking tauri-driver for the window to the frame after
//!   the first snapshot's rows are in the DOM (the UI's `rolehop:list-painted` mark);
//! - one keystroke in the search box over 5,000 sessions: filter, DOM update, style and
//!   layout; and until the next frame starts (WebKit's clock has 1 ms steps).
//!
//! Each figure is the median of a few runs; the raw runs are printed too.
//!
//! `-- sso` measures 3,000 SSO role sessions, `-- saml` issue 21's federated figures in
//! the window (`desktop/saml.rs`), `-- startup-order` profiles a launch.
//!
//! `ROLEHOP_BENCH_RELEASE_DIR=target/release cargo bench --profile dev -p rolehop-e2e
//! --bench desktop` measures the release programs from a debug harness (no release
//! build of the harness), after `cargo xtask startup-order` built them.

#[allow(dead_code)] // the suites use the rest of it
#[path = "../tests/e2e/desktop/mod.rs"]
mod desktop;
#[path = "desktop/saml.rs"]
mod saml;
#[path = "desktop/startup_order.rs"]
mod startup_order;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use desktop::{Desktop, TestResult, Xvfb};
use rolehop_core::model::SsoRole;
use rolehop_core::model::{
    ChainedRole, DEFAULT_USER_SESSION_SECONDS, IamUser, Profile, ProfileName, Session, SessionId,
    SessionKind, SessionState,
};
use rolehop_core::sso::{DEFAULT_SCOPE, Integration, IntegrationId, LoginStatus};
use rolehop_core::sync::{SyncKey, SyncOrigin, SyncSource, SyncedValues};
use rolehop_core::workspace::{StoredSession, Workspace};
use rolehop_e2e::Peers;
use serde_json::json;

const RUNS: usize = 5;
/// Typed into the search box over the 5,000-session list, one character a time.
const LIST_TEXTS: [&str; 9] = [
    "r", "ro", "rol", "role", "role-", "role-4", "role-49", "role-499", "",
];
/// Memory runs of each program on a workload the launch profile never saw.
const HELD_OUT_RUNS: usize = 3;
const IDLE: Duration = Duration::from_secs(10);

/// Active for another hour (so countdowns tick), or inactive.
fn state(active: bool) -> SessionState {
    if active {
        SessionState::Active {
            expires_at: Utc::now() + chrono::Duration::hours(1),
        }
    } else {
        SessionState::Inactive
    }
}

/// `count` sessions over 40 profiles: an IAM user, then nine roles chained below it
/// (depths 1 to 3); every 50th active, so countdowns tick as they would.
fn workspace(count: usize) -> Workspace {
    let mut ws = Workspace::default();
    for p in 0..40 {
        ws.profiles.push(Profile {
            name: ProfileName::parse(&format!("team-{p}")).expect("profile name"),
        });
    }
    let regions = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"];
    let mut ids: Vec<SessionId> = Vec::with_capacity(count);
    for i in 0..count {
        let id = SessionId::new();
        let kind = if i % 10 == 0 {
            SessionKind::IamUser(IamUser {
                mfa_serial: Some(format!("arn:aws:iam::{:012}:mfa/user-{i}", 100_000 + i)),
                session_duration: DEFAULT_USER_SESSION_SECONDS,
                account_id: Some(format!("{:012}", 100_000 + i)),
            })
        } else {
            // Parent: the user of this group, or the previous role (depth up to 3).
            let parent = if i % 10 <= 3 {
                ids[i - i % 10]
            } else {
                ids[i - 3]
            };
            SessionKind::Role(ChainedRole {
                parent,
                role_arn: format!("arn:aws:iam::{:012}:role/Deploy{i}", 200_000 + i),
                role_session_name: None,
                external_id: None,
                duration: None,
                source_identity: None,
                tags: Vec::new(),
                transitive_tag_keys: Vec::new(),
            })
        };
        let state = state(i % 50 == 7);
        ws.sessions.push(StoredSession {
            session: Session {
                console: Default::default(),
                id,
                name: if i % 10 == 0 {
                    format!("user-{i}")
                } else {
                    format!("role-{i}")
                },
                profile: ProfileName::parse(&format!("team-{}", i % 40)).expect("profile"),
                region: Some(regions[i % regions.len()].to_owned()),
                kind,
            },
            state,
            claim: None,
            origin: None,
            issued: None,
        });
        ids.push(id);
    }
    ws
}

/// `count` SSO role sessions of one logged-in integration as a sync makes them (3
/// roles per account, the account's name in the origin, 40 profiles), `active` of them
/// active: the issue's 3,000 sessions with 20 active.
fn sso_workspace(count: usize, active: usize) -> Workspace {
    let mut ws = workspace(0);
    let integration = IntegrationId::new();
    ws.integrations.push(Integration {
        id: integration,
        name: "acme".into(),
        start_url: "https://acme.awsapps.com/start".into(),
        region: "eu-west-1".into(),
        scopes: vec![DEFAULT_SCOPE.into()],
        login: LoginStatus::LoggedIn {
            expires_at: Utc::now() + chrono::Duration::hours(8),
            refreshable: true,
        },
    });
    let roles = ["Admin", "ReadOnly", "Billing"];
    for i in 0..count {
        let (account, role) = (i / roles.len(), roles[i % roles.len()]);
        let account_id = format!("{:012}", 100_000_000_000u64 + account as u64);
        let account_name = format!("account-{:04}", account + 1);
        let name = format!("{account_name}-{role}");
        let profile = ProfileName::parse(&format!("team-{}", i % 40)).expect("profile");
        let every = (count / active.max(1)).max(1);
        let state = state(active > 0 && i % every == 0 && i / every < active);
        ws.sessions.push(StoredSession {
            session: Session {
                console: Default::default(),
                id: SessionId::new(),
                name: name.clone(),
                profile: profile.clone(),
                region: None,
                kind: SessionKind::SsoRole(SsoRole {
                    integration,
                    account_id: account_id.clone(),
                    account_name: Some(account_name.clone()),
                    role_name: role.into(),
                }),
            },
            state,
            claim: None,
            origin: Some(SyncOrigin {
                source: SyncSource::SsoIntegration { integration },
                key: SyncKey {
                    account_id,
                    role_name: role.into(),
                },
                account_name,
                synced: SyncedValues {
                    name,
                    profile,
                    region: None,
                },
            }),
            issued: None,
        });
    }
    ws
}

/// The peers the app runs against here (a private keyring), and the environment that
/// points the app at them.
fn app_peers() -> TestResult<(Peers, Vec<(String, String)>)> {
    let peers = Peers::builder().with_secret_service().start()?;
    let mut env = peers.env();
    env.push((
        "ROLEHOP_KEYCHAIN_SERVICE".into(),
        peers.home().keychain_service().into(),
    ));
    Ok((peers, env))
}

fn seed(peers: &Peers, count: usize) -> TestResult {
    seed_workspace(peers, &workspace(count))
}

fn seed_workspace(peers: &Peers, ws: &Workspace) -> TestResult {
    let home = peers.home().rolehop_home();
    fs::create_dir_all(&home)?;
    fs::write(home.join("workspace.json"), serde_json::to_vec(ws)?)?;
    Ok(())
}

/// Every process in the tree under `root` (the root included).
fn tree(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold spaces; ppid follows the last ')'.
        let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
            continue;
        };
        if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            parents.push((pid, ppid));
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        out.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    out
}

fn pss_kib(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Starts `command` (the app, or a tool running it) on `display` with `env`, its output
/// discarded.
fn spawn_on(command: &mut Command, display: &str, env: &[(String, String)]) -> TestResult<Child> {
    Ok(command
        .envs(env.iter().cloned())
        .env("DISPLAY", display)
        .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .env("NO_AT_BRIDGE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?)
}

/// Starts `command` on `display` with `env` and waits [`IDLE`].
fn launch_and_settle(
    command: &mut Command,
    display: &str,
    env: &[(String, String)],
) -> TestResult<Child> {
    let child = spawn_on(command, display, env)?;
    std::thread::sleep(IDLE);
    Ok(child)
}

/// Ends the process tree `pids` (children first) and reaps `child`.
fn stop(pids: &[u32], child: &mut Child) {
    for pid in pids.iter().rev() {
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }
    let _ = child.wait();
}

/// The PSS of one process tree, in MiB: in all, and by process (its `comm` name, in
/// tree order: the app, then WebKit's processes); and what JavaScriptCore's JIT
/// setting its web process ran with.
struct TreePss {
    total: f64,
    by_process: Vec<(String, f64)>,
    web_jit: Option<String>,
}

/// WebKitGTK's web process, as `/proc/PID/comm` names it (15 characters at most).
const WEB_PROCESS: &str = "WebKitWebProces";

/// Launches `command` on `display` with `env`, waits [`IDLE`], and returns the PSS of
/// its process tree.
fn idle_pss(command: &mut Command, display: &str, env: &[(String, String)]) -> TestResult<TreePss> {
    let mut child = launch_and_settle(command, display, env)?;
    let pids = tree(child.id());
    let comm = |p: u32| {
        let comm = fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
        comm.trim().to_owned()
    };
    let by_process: Vec<(String, f64)> = pids
        .iter()
        .map(|p| (comm(*p), pss_kib(*p) as f64 / 1024.0))
        .collect();
    let web_jit = pids
        .iter()
        .find(|p| comm(**p) == WEB_PROCESS)
        .and_then(|p| environment_value(*p, JIT_VAR));
    stop(&pids, &mut child);
    std::thread::sleep(Duration::from_millis(500));
    Ok(TreePss {
        total: by_process.iter().map(|(_, mib)| mib).sum(),
        by_process,
        web_jit,
    })
}

/// The variable that turns JavaScriptCore's JIT off (src-tauri/src/lib.rs).
const JIT_VAR: &str = "JSC_useJIT";

/// The value of `name` in the environment process `pid` started with.
fn environment_value(pid: u32, name: &str) -> Option<String> {
    let environ = fs::read(format!("/proc/{pid}/environ")).ok()?;
    environ.split(|b| *b == 0).find_map(|entry| {
        let entry = String::from_utf8_lossy(entry);
        let (key, value) = entry.split_once('=')?;
        (key == name).then(|| value.to_owned())
    })
}

/// "name 12.3 + name 45.6 MiB" for the run whose total is the median.
fn breakdown(runs: &[TreePss]) -> String {
    let mut sorted: Vec<&TreePss> = runs.iter().collect();
    sorted.sort_by(|a, b| a.total.total_cmp(&b.total));
    sorted[sorted.len() / 2]
        .by_process
        .iter()
        .map(|(name, mib)| format!("{name} {mib:.1}"))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// The CPU time (user + system) the processes `pids` have used, in clock ticks.
fn cpu_ticks(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|pid| fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|stat| {
            // After "pid (comm)": state is field 3, utime 14 and stime 15.
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        })
        .sum()
}

/// Launches `binary`, lets it settle for [`IDLE`], then returns the CPU its process
/// tree used over `window`, in % of one core, and how many processes that was.
fn idle_cpu(
    binary: &Path,
    display: &str,
    env: &[(String, String)],
    window: Duration,
) -> TestResult<(f64, usize)> {
    let mut child = launch_and_settle(&mut Command::new(binary), display, env)?;
    let pids = tree(child.id());
    let before = cpu_ticks(&pids);
    std::thread::sleep(window);
    let used = cpu_ticks(&pids) - before;
    stop(&pids, &mut child);
    let ticks_per_second: f64 =
        String::from_utf8(Command::new("getconf").arg("CLK_TCK").output()?.stdout)?
            .trim()
            .parse()?;
    Ok((
        used as f64 / ticks_per_second / window.as_secs_f64() * 100.0,
        pids.len(),
    ))
}

/// `cargo bench --profile dev -p rolehop-e2e --bench desktop -- sso`: the issue's
/// desktop figures for 3,000 SSO role sessions on the app `desktop::app_binary()` finds
/// (the debug build unless `ROLEHOP_DESKTOP_BIN` says otherwise): one filter keystroke,
/// and the idle CPU over 60 s with 20 of them active.
async fn sso_figures() -> TestResult {
    let app = desktop::app_binary();
    let build = if app.components().any(|c| c.as_os_str() == "debug") {
        "DEBUG build"
    } else {
        "build"
    };
    println!(
        "desktop, 3,000 SSO role sessions: {build} {}",
        app.display()
    );
    let (peers, env) = app_peers()?;
    seed_workspace(&peers, &sso_workspace(3000, 20))?;

    let texts = [
        "a",
        "ac",
        "acc",
        "account-",
        "account-0",
        "account-05",
        "account-055",
        "admin",
        "",
    ];
    let times = keystrokes(&peers, &texts).await?;
    let updates: Vec<f64> = times.iter().map(|t| t.0).collect();
    let frames: Vec<f64> = times.iter().map(|t| t.1).collect();
    println!(
        "one keystroke, 3,000 SSO sessions ({build}): filter + DOM update + layout {:.1} ms median, {:.1} ms max; to the next frame {:.1} ms median  (runs: {updates:.1?})",
        median(updates.clone()),
        updates.iter().cloned().fold(0.0, f64::max),
        median(frames)
    );

    let window = Duration::from_secs(60);
    let xvfb = Xvfb::start(peers.home().root());
    let (cpu, procs) = idle_cpu(&app, xvfb.display(), &env, window)?;
    println!(
        "idle CPU, 3,000 SSO sessions, 20 active ({build}): {cpu:.2} % of one core over {} s ({procs} processes: the app and WebKit's)",
        window.as_secs()
    );
    Ok(())
}

/// One side of the memory figure: a program, how it is started, and whether its web
/// process runs JavaScript without a JIT (the app's setting).
struct Subject {
    name: String,
    binary: PathBuf,
    args: &'static [&'static str],
    without_jit: bool,
    runs: Vec<TreePss>,
}

impl Subject {
    fn new(
        name: String,
        binary: PathBuf,
        args: &'static [&'static str],
        without_jit: bool,
    ) -> Self {
        Self {
            name,
            binary,
            args,
            without_jit,
            runs: Vec::new(),
        }
    }

    fn median(&self) -> f64 {
        median(self.runs.iter().map(|r| r.total).collect())
    }
}

/// The memory figure: the PSS of each process tree 10 s after launch with 1,000
/// sessions, the app against two bare Tauri windows, one as Tauri ships it and one
/// given the app's runtime settings (two malloc arenas, no JIT: like with like). When
/// `cargo xtask bench` left the app in the compiler's order next to it, that is
/// measured too. The runs go round the programs in turn, so load on this shared machine
/// falls on all alike.
///
/// The launch code was gathered from a profile of a launch with those 1,000 sessions,
/// so the same programs are measured again on two workloads the profile never saw: no
/// sessions, and 3,000 IAM Identity Center role sessions (20 active), whose rows and
/// code paths differ.
fn memory_figures(release: &Path, peers: &Peers, env: &[(String, String)]) -> TestResult {
    let app = release.join("rolehop-desktop");
    let unordered = release.join("startup-order/rolehop-desktop-unordered");
    let bare = release.join("examples/bare_window");
    let gathered = match startup_order::gathered_mib(&app) {
        Some(mib) => format!("launch code gathered, {mib:.2} MiB"),
        None => "launch code not gathered".to_owned(),
    };
    let subjects = || {
        let mut all = vec![Subject::new(
            format!("app ({gathered})"),
            app.clone(),
            &[],
            true,
        )];
        if unordered.exists() {
            let name = "app (compiler's order)".to_owned();
            all.push(Subject::new(name, unordered.clone(), &[], true));
        }
        let shipped = "bare window, as Tauri ships it".to_owned();
        let tuned = "bare window, the app's settings".to_owned();
        all.push(Subject::new(shipped, bare.clone(), &[], false));
        all.push(Subject::new(
            tuned,
            bare.clone(),
            &["--rolehop-settings"],
            true,
        ));
        all
    };
    // Fewer runs of the held-out workloads: they answer whether the gathered order
    // still pays, not the headline ratio.
    let workloads = [
        (
            "1,000 sessions (the profiled workload)",
            workspace(1000),
            RUNS,
        ),
        ("no sessions (held out)", workspace(0), HELD_OUT_RUNS),
        (
            "3,000 SSO role sessions, 20 active (held out)",
            sso_workspace(3000, 20),
            HELD_OUT_RUNS,
        ),
    ];
    let xvfb = Xvfb::start(peers.home().root());
    for (label, ws, runs) in &workloads {
        seed_workspace(peers, ws)?;
        let mut subjects = subjects();
        for _ in 0..*runs {
            for subject in subjects.iter_mut() {
                let mut command = Command::new(&subject.binary);
                let run = idle_pss(command.args(subject.args), xvfb.display(), env)?;
                // The comparison is like with like only if both sides run as stated.
                if (run.web_jit.as_deref() == Some("false")) != subject.without_jit {
                    return Err(format!(
                        "{}: its web process ran with {JIT_VAR}={:?}, not as the app does: \
                         the bare window's settings (src-tauri/examples/bare_window.rs) no \
                         longer match the app's (src-tauri/src/lib.rs), or this environment \
                         sets it",
                        subject.name, run.web_jit
                    )
                    .into());
                }
                subject.runs.push(run);
            }
        }
        print_memory(label, &subjects);
    }
    drop(xvfb);
    seed(peers, 1000)
}

/// One workload's memory lines: each program's median, runs and split by process, then
/// each app's ratio to the bare window in both framings, side by side.
fn print_memory(workload: &str, subjects: &[Subject]) {
    println!(
        "memory, {workload}, {} s idle, PSS of the process tree (median; runs; by process \
         in the median run):",
        IDLE.as_secs()
    );
    for subject in subjects {
        let runs: Vec<f64> = subject.runs.iter().map(|r| r.total).collect();
        println!(
            "  {:<45} {:>6.1} MiB  {runs:.1?}  {}",
            subject.name,
            subject.median(),
            breakdown(&subject.runs)
        );
    }
    let (apps, bares) = subjects.split_at(subjects.len() - 2);
    for app in apps {
        println!(
            "  {}: {:.3}x the bare window as Tauri ships it, {:.3}x with the app's settings",
            app.name,
            app.median() / bares[0].median(),
            app.median() / bares[1].median()
        );
    }
    if let [gathered, unordered] = apps {
        println!(
            "  launch code gathered saves {:.1} MiB against the compiler's order",
            unordered.median() - gathered.median()
        );
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Launch to list painted, in ms, through tauri-driver.
async fn launch_to_paint(peers: &Peers) -> TestResult<f64> {
    let app = Desktop::launch("bench-launch", peers, &[]).await?;
    let painted = app.launch_to_paint_ms().await?;
    app.run(async |_| Ok(())).await?;
    Ok(painted)
}

/// One keystroke's filter over the list: (to DOM updated, to next frame), in ms, for
/// each of a few search texts typed one character at a time.
async fn keystrokes(peers: &Peers, texts: &[&str]) -> TestResult<Vec<(f64, f64)>> {
    let app = Desktop::launch("bench-filter", peers, &[]).await?;
    // What the list holds, so a figure is never of a list that failed to load.
    let status = app.text("footer.status").await?;
    println!(
        "  list: {}",
        status.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    let times = keystrokes_in(&app, "input[name='search']", texts).await;
    app.run(async |_| Ok(())).await?;
    times
}

/// [`keystrokes`] into the text field `input` (a CSS selector) of the running `app`:
/// each text set at once and an `input` event sent, as a keystroke does; then the
/// time to the DOM updated and laid out, and to the next frame.
async fn keystrokes_in(app: &Desktop, input: &str, texts: &[&str]) -> TestResult<Vec<(f64, f64)>> {
    let script = r#"
        const [selector, texts, done] = arguments;
        const input = document.querySelector(selector);
        const times = [];
        (async () => {
          for (const text of texts) {
            const start = performance.now();
            input.value = text;
            input.dispatchEvent(new Event("input", { bubbles: true }));
            // Svelte applies the change in a microtask queued by the input handler.
            await Promise.resolve();
            await Promise.resolve();
            void document.body.offsetHeight; // style and layout of the new rows
            const updated = performance.now();
            await new Promise((r) => requestAnimationFrame(() => r()));
            const frame = performance.now();
            times.push([updated - start, frame - start]);
            await new Promise((r) => setTimeout(r, 50));
          }
          done(times);
        })();
    "#;
    let out = app
        .client
        .execute_async(script, vec![json!(input), json!(texts)])
        .await?;
    let times = out
        .as_array()
        .ok_or("no timings")?
        .iter()
        .filter_map(|pair| Some((pair.get(0)?.as_f64()?, pair.get(1)?.as_f64()?)))
        .collect();
    Ok(times)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> TestResult {
    // `cargo bench -- FILTER` passes a filter: run only when it names this bench.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if args.iter().any(|a| a == "sso") {
        return sso_figures().await;
    }
    if args.iter().any(|a| a == "saml") {
        return saml::figures().await;
    }
    if args.iter().any(|a| a == "startup-order") {
        return startup_order::profile();
    }
    if !args.is_empty() && !args.iter().any(|a| "desktop".contains(a.as_str())) {
        return Ok(());
    }
    // The programs measured are the release builds; the harness only launches them
    // and reads /proc, so it may be a debug build pointed at them (as ROLEHOP_BENCH_BIN
    // does for the CLI's benches).
    let release = std::env::var_os("ROLEHOP_BENCH_RELEASE_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(rolehop_e2e::binaries::build_dir);
    let app = release.join("rolehop-desktop");
    let bare = release.join("examples/bare_window");
    for bin in [&app, &bare] {
        if !bin.exists() {
            return Err(format!(
                "{} is missing: `cargo xtask bench` builds the release app and the bare window",
                bin.display()
            )
            .into());
        }
    }
    // SAFETY: before any other thread of ours reads the environment.
    unsafe { std::env::set_var("ROLEHOP_DESKTOP_BIN", &app) };

    println!("desktop: release build, {} runs each, median first", RUNS);
    let (peers, env) = app_peers()?;
    memory_figures(&release, &peers, &env)?;

    let mut paints = Vec::new();
    for _ in 0..RUNS {
        paints.push(launch_to_paint(&peers).await?);
    }
    println!(
        "launch to list painted, 1,000 sessions: {:.0} ms  (runs: {paints:.0?})",
        median(paints.clone())
    );

    seed(&peers, 5000)?;
    let times = keystrokes(&peers, &LIST_TEXTS).await?;
    let updates: Vec<f64> = times.iter().map(|t| t.0).collect();
    let frames: Vec<f64> = times.iter().map(|t| t.1).collect();
    println!(
        "one keystroke, 5,000 sessions: filter + DOM update + layout {:.1} ms median, {:.1} ms max; to the next frame {:.1} ms median  (runs: {updates:.1?})",
        median(updates.clone()),
        updates.iter().cloned().fold(0.0, f64::max),
        median(frames)
    );
    Ok(())
}
