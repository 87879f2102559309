//! The go and cargo commands as the tests run them: isolated homes and caches, nothing
//! fetched from anywhere but the proxy or registry given.

use std::path::Path;
use std::process::{Command, Output};

/// `go ARGS` in `dir` with `proxy` as its only GOPROXY, no checksum database, and module,
/// build and home directories under `home`.
pub fn go(home: &Path, dir: &Path, proxy: &str, args: &[&str]) -> Output {
    Command::new("go")
        .args(args)
        .current_dir(dir)
        .env("GOPROXY", proxy)
        .env("GOFLAGS", "-mod=mod")
        .env("GOSUMDB", "off")
        .env("GONOSUMDB", "")
        .env("GOPRIVATE", "")
        .env("GOENV", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOMODCACHE", home.join("modcache"))
        .env("GOPATH", home.join("path"))
        .env("GOCACHE", home.join("cache"))
        .env("HOME", home)
        .output()
        .expect("run go")
}

/// `cargo ARGS` in `dir` with `CARGO_HOME` at `home` (its config names the registries) and
/// builds in `target`.
pub fn cargo(home: &Path, target: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_HOME", home)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_HTTP_TIMEOUT", "30")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_REGISTRIES_NORA_TOKEN")
        .output()
        .expect("run cargo")
}
