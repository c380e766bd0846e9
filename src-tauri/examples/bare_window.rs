//! A bare Tauri window (same Tauri, same WebKitGTK, an empty page served the way Tauri
//! serves an app's own pages: from a custom URI scheme): the baseline that
//! `cargo xtask bench` compares the app's memory with.
//!
//! Run plain, it is a window as Tauri ships it. With `--rolehop-settings` it first
//! gives itself the two runtime settings the app gives itself (src-tauri/src/lib.rs,
//! first thing in `run`): at most two malloc arenas in this process, and
//! `JSC_useJIT=false` in the environment WebKit's web process inherits. The bench
//! measures both, so that the app is also compared with a window tuned as it is.

const PAGE: &[u8] = b"<!doctype html><html><head><title>bare</title></head><body></body></html>";

fn main() -> anyhow::Result<()> {
    if std::env::args().skip(1).any(|a| a == "--rolehop-settings") {
        rolehop_settings();
    }
    tauri::Builder::default()
        .register_uri_scheme_protocol("bare", |_, _| {
            tauri::http::Response::builder()
                .header("content-type", "text/html")
                .body(PAGE.to_vec())
                .expect("a static response")
        })
        .setup(|app| {
            let page = tauri::WebviewUrl::CustomProtocol("bare://localhost/".parse()?);
            tauri::WebviewWindowBuilder::new(app, "main", page)
                .title("bare Tauri window")
                .inner_size(1200.0, 760.0)
                .build()?;
            Ok(())
        })
        .run(tauri::tauri_build_context!())?;
    Ok(())
}

/// What the app's `limit_malloc_arenas` and `web_view_without_jit` do (the bench checks
/// that both web processes see the same `JSC_useJIT`). Called before any thread exists.
fn rolehop_settings() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; no other thread runs yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    if std::env::var_os("JSC_useJIT").is_none() {
        // SAFETY: no other thread exists yet.
        unsafe { std::env::set_var("JSC_useJIT", "false") };
    }
}
