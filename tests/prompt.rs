//! `nora restore` asks on a terminal (driven under tmux) and never without one.

mod common;

use common::Env;
use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(session: &str, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let screen = tmux(&["capture-pane", "-p", "-t", session]);
        if screen.contains(text) {
            return screen;
        }
        assert!(
            Instant::now() < deadline,
            "'{text}' never appeared; screen:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn restore_asks_merge_replace_or_abort_on_a_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(
            std::env::var("CI").is_err(),
            "tmux is missing; .ci/test installs it"
        );
        eprintln!("SKIPPED: tmux not installed, terminal prompt not tested");
        return;
    }
    let env = Env::new();
    env.init("a");
    std::fs::write(env.path("f.txt"), "one\n").unwrap();
    env.nora("a", &["add", "raw", "f.txt"]).assert().success();
    env.nora("a", &["backup", "-o", "b.tar.zst"])
        .assert()
        .success();
    env.init("c");
    std::fs::write(env.path("f.txt"), "two\n").unwrap();
    env.nora("c", &["add", "raw", "f.txt"]).assert().success();
    let before = std::fs::read(env.path("c/refs/raw/f.txt.json")).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("nora");
    let session = format!("nora-test-{}", std::process::id());
    let cmd = format!(
        "cd {} && {} --bundle c restore b.tar.zst; echo EXIT=$?; sleep 30",
        env.dir.path().display(),
        bin.display()
    );
    // abort: nothing changes
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "160",
        "-y",
        "40",
        &cmd,
    ]);
    let screen = wait_for(&session, "How should nora proceed?");
    assert!(screen.contains("1 differ from the bundle's"), "{screen}");
    assert!(
        screen.contains("merge") && screen.contains("replace") && screen.contains("abort"),
        "{screen}"
    );
    tmux(&["send-keys", "-t", &session, "Down", "Down", "Enter"]);
    let screen = wait_for(&session, "EXIT=");
    assert!(
        screen.contains("aborted") && screen.contains("EXIT=1"),
        "{screen}"
    );
    tmux(&["kill-session", "-t", &session]);
    assert_eq!(
        before,
        std::fs::read(env.path("c/refs/raw/f.txt.json")).unwrap()
    );
    // replace: the backup's version wins
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "160",
        "-y",
        "40",
        &cmd,
    ]);
    wait_for(&session, "How should nora proceed?");
    tmux(&["send-keys", "-t", &session, "Down", "Enter"]);
    let screen = wait_for(&session, "EXIT=");
    tmux(&["kill-session", "-t", &session]);
    assert!(
        screen.contains("EXIT=0") && screen.contains("1 replaced"),
        "{screen}"
    );
    assert_ne!(
        before,
        std::fs::read(env.path("c/refs/raw/f.txt.json")).unwrap()
    );
    env.nora("c", &["verify"]).assert().success();
}
