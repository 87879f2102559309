//! `nora verify` finds each kind of problem and names the ref and file; `nora gc` is safe
//! while another nora process writes.

mod common;

use common::Env;
use predicates::str::contains;

fn blob_of(env: &Env, bundle: &str, ref_file: &str, field: &str) -> String {
    let rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.path(&format!("{bundle}/{ref_file}"))).unwrap())
            .unwrap();
    rec[field]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string()
}

#[test]
fn verify_reports_each_problem_with_ref_and_file() {
    let env = Env::new();
    env.init("a");
    let s = env.samples();
    env.add_all("a", &s);
    env.nora("a", &["verify"]).assert().success();

    // a blob whose bytes changed
    let raw = blob_of(&env, "a", "refs/raw/tools/tool.sh.json", "digest");
    std::fs::write(env.path(&format!("a/blobs/sha256/{raw}")), "tampered\n").unwrap();
    env.nora("a", &["verify"])
        .assert()
        .code(3)
        .stderr(contains(format!("sha256:{raw}: content hashes to")))
        .stderr(contains(format!("blobs/sha256/{raw}")));
    std::fs::remove_file(env.path(&format!("a/blobs/sha256/{raw}"))).unwrap();
    // a missing blob: the ref that needs it is named
    env.nora("a", &["verify"])
        .assert()
        .code(3)
        .stderr(contains("raw/tools/tool.sh"))
        .stderr(contains("not in the bundle"));
    std::fs::copy(&s.raw, env.path(&format!("a/blobs/sha256/{raw}"))).unwrap();
    env.nora("a", &["verify"]).assert().success();

    // an OCI child (a layer of one platform) missing
    let index = blob_of(
        &env,
        "a",
        "refs/oci/library/sample/_tags/1.0.json",
        "digest",
    );
    let idx: serde_json::Value = serde_json::from_slice(
        &std::fs::read(env.path(&format!("a/blobs/sha256/{index}"))).unwrap(),
    )
    .unwrap();
    let m1 = idx["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    let saved = std::fs::read(env.path(&format!("a/blobs/sha256/{m1}"))).unwrap();
    std::fs::remove_file(env.path(&format!("a/blobs/sha256/{m1}"))).unwrap();
    env.nora("a", &["verify"])
        .assert()
        .code(3)
        .stderr(contains("oci/library/sample/_tags/1.0"))
        .stderr(contains(&m1));
    std::fs::write(env.path(&format!("a/blobs/sha256/{m1}")), saved).unwrap();

    // ecosystem hashes recorded in refs: npm integrity, Cargo cksum, Go h1, Maven sha1
    let edits = [
        (
            "refs/npm/left-pad/_versions/1.3.0.json",
            "integrity",
            "sha512-AAAA",
            "npm integrity",
        ),
        (
            "refs/cargo/sample-crate/0.1.0.json",
            "index",
            "",
            "Cargo cksum",
        ),
        (
            "refs/go/example.com/!sample/mod/@v/v1.2.3.json",
            "h1",
            "h1:AAAA",
            "Go zip hash",
        ),
        (
            "refs/maven/com/example/app/1.0/app-1.0.jar.json",
            "sha1",
            "0000",
            "Maven checksums",
        ),
    ];
    for (file, field, value, message) in edits {
        let p = env.path(&format!("a/{file}"));
        let orig = std::fs::read(&p).unwrap();
        let mut rec: serde_json::Value = serde_json::from_slice(&orig).unwrap();
        if field == "index" {
            rec["index"]["cksum"] = "00".into();
        } else {
            rec[field] = value.into();
        }
        std::fs::write(&p, serde_json::to_vec_pretty(&rec).unwrap()).unwrap();
        env.nora("a", &["verify"])
            .assert()
            .code(3)
            .stderr(contains(message))
            .stderr(contains(file));
        std::fs::write(&p, orig).unwrap();
    }
    // a record stored at the wrong path, and one that is not JSON
    std::fs::write(env.path("a/refs/raw/junk.json"), "{not json").unwrap();
    env.nora("a", &["verify"])
        .assert()
        .code(3)
        .stderr(contains("refs/raw/junk.json"));
    std::fs::remove_file(env.path("a/refs/raw/junk.json")).unwrap();
    env.nora("a", &["--json", "verify"]).assert().success();
}

#[test]
fn gc_is_safe_while_another_process_adds() {
    let env = Env::new();
    env.init("a");
    std::fs::create_dir_all(env.path("in")).unwrap();
    let files: Vec<String> = (0..60)
        .map(|i| {
            let p = format!("in/f{i}.txt");
            std::fs::write(env.path(&p), format!("content {i}\n")).unwrap();
            p
        })
        .collect();
    let bin = assert_cmd::cargo::cargo_bin("nora");
    let bundle = env.path("a");
    let dir = env.dir.path().to_path_buf();
    let writer = std::thread::spawn(move || {
        for chunk in files.chunks(3) {
            let st = std::process::Command::new(&bin)
                .current_dir(&dir)
                .arg("--bundle")
                .arg(&bundle)
                .args(["-q", "add", "raw"])
                .args(chunk)
                .status()
                .unwrap();
            assert!(st.success());
        }
    });
    let mut runs = 0;
    while !writer.is_finished() || runs < 3 {
        env.nora("a", &["-q", "gc", "--grace", "0s"])
            .assert()
            .success();
        runs += 1;
    }
    writer.join().unwrap();
    env.nora("a", &["verify"]).assert().success();
    let out = env.nora("a", &["--json", "ls"]).output().unwrap();
    assert_eq!(common::json(&out).as_array().unwrap().len(), 60);
    assert!(runs >= 3);
}

#[test]
fn gc_stops_at_a_manifest_it_cannot_read_rather_than_drop_what_it_names() {
    let env = Env::new();
    env.init("a");
    let index = common::fixtures::oci_layout(&env.path("img"), "team/app", "v1", "gc");
    env.nora("a", &["add", "oci", env.path("img").to_str().unwrap()])
        .assert()
        .success();
    // one platform manifest of the index rots on disk: what it named is unknown now
    let index_bytes = std::fs::read(env.path(&format!("a/blobs/sha256/{}", &index[7..]))).unwrap();
    let index_json: serde_json::Value = serde_json::from_slice(&index_bytes).unwrap();
    let amd64 = index_json["manifests"][0]["digest"].as_str().unwrap()[7..].to_string();
    let m_path = env.path(&format!("a/blobs/sha256/{amd64}"));
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&m_path).unwrap()).unwrap();
    let layer = m["layers"][0]["digest"].as_str().unwrap()[7..].to_string();
    std::fs::write(&m_path, b"\x00\x01 not a manifest any more").unwrap();
    let before = common::snapshot(&env.path("a"));
    env.nora("a", &["gc", "--grace", "0s"])
        .assert()
        .failure()
        .stderr(contains("gc stops without deleting anything"))
        .stderr(contains(&amd64));
    assert_eq!(before, common::snapshot(&env.path("a")));
    assert!(env.path(&format!("a/blobs/sha256/{layer}")).exists());
    // verify names the damage
    env.nora("a", &["verify"]).assert().code(3);
}
