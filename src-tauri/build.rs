//! Tauri's build step: the app's command permissions (so the capability file can allow
//! exactly the app's own commands and nothing else) and the embedded UI.

use std::path::Path;

/// Every command the web UI may call: the names of `src/commands/list.rs`, the one list
/// the app registers. Each gets an `allow-<command>` permission that
/// `capabilities/main.json` (written from the same list) grants.
macro_rules! commands {
    ($(
        $(#[doc = $doc:literal])*
        $module:ident :: $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) -> $ok:ty;
    )*) => {
        const COMMANDS: &[&str] = &[$(stringify!($name)),*];
    };
}

include!("src/commands/list.rs");

fn main() {
    // `cargo check`/`clippy` on a fresh clone runs before the UI is built; Tauri embeds
    // the UI at compile time and refuses a missing directory. A placeholder page keeps
    // the Rust side buildable on its own and says what to do; `cargo xtask` always
    // builds the real UI first, which replaces it (and retriggers this build).
    let dist = Path::new("../ui/dist");
    if !dist.join("index.html").exists() {
        std::fs::create_dir_all(dist).expect("creating ui/dist");
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><title>Rolehop</title>\
             <p>The UI is not built: run <code>cargo xtask run</code>.</p>",
        )
        .expect("writing the placeholder ui/dist/index.html");
    }
    println!("cargo:rerun-if-changed=src/commands/list.rs");
    launch_code_first();
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS))
            .codegen(tauri_build::CodegenContext::new()),
    )
    .expect("tauri build step");
}

/// A release build on Linux can place the code the app runs from launch to an idle
/// window together, at the front of the program's code: `ROLEHOP_LAUNCH_ORDER` names a
/// linker script that `cargo xtask bundle` writes from a profile of a launch of this
/// very build, then checks in the binary it links (`xtask/src/startup_order.rs`). Why:
/// Linux maps a program's code in 64 KiB blocks around each page it runs, so a few
/// functions scattered over the binary keep most of it resident; gathered, the launch
/// code fills a few blocks (docs/benchmarks.md, "Desktop memory"). The script names
/// functions with rustc's hashes, which change with the compiler and the dependencies,
/// so none is kept in the repository: every other build keeps the compiler's order.
fn launch_code_first() {
    const ORDER_ENV: &str = "ROLEHOP_LAUNCH_ORDER";
    println!("cargo:rerun-if-env-changed={ORDER_ENV}");
    let Some(script) = std::env::var_os(ORDER_ENV).filter(|s| !s.is_empty()) else {
        return;
    };
    let script = Path::new(&script);
    assert!(
        script.is_absolute() && script.is_file(),
        "{ORDER_ENV}={}: not an absolute path to a linker script",
        script.display()
    );
    assert!(
        std::env::var("PROFILE").as_deref() == Ok("release")
            && std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux"),
        "{ORDER_ENV} is for release builds on Linux"
    );
    println!("cargo:rerun-if-changed={}", script.display());
    println!(
        "cargo:rustc-link-arg-bin=rolehop-desktop=-Wl,-T,{}",
        script.display()
    );
}
