//! The binaries of this build that the suites and benches run (the `rolehop` CLI, the
//! desktop app): found in `target/<profile>/`, beside the `deps/` directory the running
//! test or bench executable lives in.

use std::path::PathBuf;

/// `target/<profile>`: the parent of the running executable's `deps/` directory.
pub fn build_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("test executable lives in target/<profile>/deps")
        .to_owned()
}

/// The `rolehop` binary of this build: `target/<profile>/rolehop`. `cargo nextest run
/// --workspace` (and `cargo xtask test`) build it with the suites.
pub fn rolehop_bin() -> PathBuf {
    let bin = build_dir().join(format!("rolehop{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p rolehop-cli` (or run the suites with \
         `cargo nextest run --workspace`)",
        bin.display()
    );
    bin
}

/// The `rolehop` a benchmark times: `ROLEHOP_BENCH_BIN` when set (a release binary timed
/// from a harness built in debug), else [`rolehop_bin`].
pub fn bench_bin() -> PathBuf {
    std::env::var_os("ROLEHOP_BENCH_BIN")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(rolehop_bin)
}
