//! Crash safety: `nora unpack` killed with SIGKILL at 20 random moments of a multi-volume
//! unpack; after each kill the bundle verifies clean and re-running the unpack completes.

mod common;

use common::{json, Env};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn nora_bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("nora")
}

/// xorshift, seeded from the clock (printed, so a failing run can be replayed with NORA_CRASH_SEED).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[cfg(unix)]
#[test]
fn sigkill_during_multi_volume_unpack_leaves_a_sound_bundle() {
    let env = Env::new();
    env.init("src");
    let mut seed_rng = Rng(0x9e37_79b9_7f4a_7c15);
    // a few large incompressible blobs (carried in parts) and many small files
    for i in 0..3 {
        let data: Vec<u8> = (0..3_000_000).map(|_| seed_rng.next() as u8).collect();
        std::fs::write(env.path(&format!("big{i}.bin")), data).unwrap();
    }
    std::fs::create_dir_all(env.path("small")).unwrap();
    let mut args = vec!["add".to_string(), "raw".to_string()];
    for i in 0..3 {
        args.push(format!("big{i}.bin"));
    }
    env.nora("src", &args.iter().map(String::as_str).collect::<Vec<_>>())
        .assert()
        .success();
    for i in 0..150 {
        let p = format!("small/f{i}.txt");
        std::fs::write(env.path(&p), format!("file {i} {}\n", seed_rng.next())).unwrap();
        if i % 50 == 49 {
            let files: Vec<String> = (i - 49..=i).map(|j| format!("small/f{j}.txt")).collect();
            let mut a = vec!["add", "raw"];
            a.extend(files.iter().map(String::as_str));
            env.nora("src", &a).assert().success();
        }
    }
    let out = env
        .nora(
            "src",
            &["--json", "pack", "-o", "v.tar.zst", "--split", "1M"],
        )
        .output()
        .unwrap();
    assert!(out.status.success());
    let files: Vec<String> = json(&out)["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    assert!(files.len() >= 8, "{} volumes", files.len());
    let expected = env.nora("src", &["--json", "ls"]).output().unwrap().stdout;

    // how long one whole unpack takes here, to spread the kills over it
    env.init("probe");
    let t0 = Instant::now();
    env.nora(
        "probe",
        &[
            &["unpack"][..],
            &files.iter().map(String::as_str).collect::<Vec<_>>()[..],
        ]
        .concat(),
    )
    .assert()
    .success();
    let full = t0.elapsed().max(Duration::from_millis(20));

    let seed = std::env::var("NORA_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("crash test seed {seed} (set NORA_CRASH_SEED to replay); full unpack takes {full:?}");
    let mut rng = Rng(seed);
    let mut killed_mid_run = 0;
    for round in 0..20 {
        let b = format!("dst{round}");
        env.init(&b);
        let delay = Duration::from_micros(rng.next() % full.as_micros() as u64);
        let mut child = Command::new(nora_bin())
            .current_dir(env.dir.path())
            .arg("--bundle")
            .arg(env.path(&b))
            .arg("unpack")
            .args(&files)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay); // the kill moment, not a synchronisation
        let finished_first = child.try_wait().unwrap().is_some();
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        if !finished_first {
            killed_mid_run += 1;
        }
        env.nora(&b, &["verify"]).assert().success();
        let mut args = vec!["unpack"];
        args.extend(files.iter().map(String::as_str));
        env.nora(&b, &args).assert().success();
        env.nora(&b, &["verify"]).assert().success();
        assert_eq!(
            env.nora(&b, &["--json", "ls"]).output().unwrap().stdout,
            expected,
            "round {round}: content differs after re-run"
        );
    }
    eprintln!("{killed_mid_run} of 20 kills landed mid-run");
    assert!(
        killed_mid_run >= 10,
        "only {killed_mid_run} of 20 kills landed mid-run"
    );
}

/// `nora mirror` killed with SIGKILL at 12 random moments while it fetches and group-commits
/// 200 files: every ref left names blobs that are whole (verify), and a re-run completes.
#[cfg(unix)]
#[test]
fn sigkill_during_mirror_leaves_a_sound_bundle() {
    let env = Env::new();
    let root = env.path("files");
    std::fs::create_dir_all(&root).unwrap();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut specs = Vec::new();
    for i in 0..200 {
        let data: Vec<u8> = (0..40_000).map(|_| rng.next() as u8).collect();
        std::fs::write(root.join(format!("f{i}.bin")), &data).unwrap();
        specs.push((
            format!("f{i}.bin"),
            common::sha256_hex(&data)[7..].to_string(),
        ));
    }
    let up = common::upstream::Upstream::serve_dir(&root);
    let config = env.path("mirror.toml");
    let mut toml = String::new();
    for (name, sha) in &specs {
        toml.push_str(&format!(
            "[[raw]]\nurl = \"{}/{name}\"\nsha256 = \"{sha}\"\n\n",
            up.url
        ));
    }
    std::fs::write(&config, toml).unwrap();
    let mirror = |b: &str| {
        let mut c = Command::new(nora_bin());
        c.current_dir(env.dir.path())
            .arg("--bundle")
            .arg(env.path(b))
            .args(["mirror", "--config", config.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    env.init("probe");
    let t0 = Instant::now();
    assert!(mirror("probe").status().unwrap().success());
    let full = t0.elapsed().max(Duration::from_millis(20));
    let expected = env
        .nora("probe", &["--json", "ls"])
        .output()
        .unwrap()
        .stdout;

    let mut killed_mid_run = 0;
    for round in 0..12 {
        let b = format!("m{round}");
        env.init(&b);
        let delay = Duration::from_micros(rng.next() % full.as_micros() as u64);
        let mut child = mirror(&b).spawn().unwrap();
        std::thread::sleep(delay); // the kill moment, not a synchronisation
        let finished_first = child.try_wait().unwrap().is_some();
        let _ = child.kill();
        child.wait().unwrap();
        if !finished_first {
            killed_mid_run += 1;
        }
        env.nora(&b, &["verify"]).assert().success();
        assert!(mirror(&b).status().unwrap().success(), "round {round}");
        env.nora(&b, &["verify"]).assert().success();
        assert_eq!(
            env.nora(&b, &["--json", "ls"]).output().unwrap().stdout,
            expected,
            "round {round}: content differs after re-run"
        );
    }
    eprintln!("{killed_mid_run} of 12 kills landed mid-run; a whole run takes {full:?}");
    assert!(
        killed_mid_run >= 6,
        "only {killed_mid_run} of 12 kills landed mid-run"
    );
}
