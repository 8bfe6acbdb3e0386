#![allow(dead_code)] // each test crate uses a different subset of the helpers
//! Helpers shared by the end-to-end tests: run the `soma` binary, read its output, make scratch folders.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `soma` with `args` from the repository root.
pub fn soma(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_soma"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("soma runs")
}

/// The standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh scratch folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("soma-test-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
