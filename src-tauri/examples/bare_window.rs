//! A bare Tauri window (same Tauri, same WebKitGTK, an empty page served the way Tauri
//! serves an app's own pages: from a custom URI scheme): the baseline that
//! `cargo xtask bench` compares the app's memory with.

const PAGE: &[u8] = b"<!doctype html><html><head><title>bare</title></head><body></body></html>";

fn main() -> anyhow::Result<()> {
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
