//! A bare Tauri window (same Tauri, same WebKitGTK, an empty page): the baseline that
//! `cargo xtask bench` compares the app's memory with.

fn main() -> anyhow::Result<()> {
    tauri::Builder::default()
        .setup(|app| {
            let blank = tauri::WebviewUrl::External("about:blank".parse()?);
            tauri::WebviewWindowBuilder::new(app, "main", blank)
                .title("bare Tauri window")
                .inner_size(1200.0, 760.0)
                .build()?;
            Ok(())
        })
        .run(tauri::tauri_build_context!())?;
    Ok(())
}
