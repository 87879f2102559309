//! What one client can hold of the server: connections, slow request heads and idle
//! keep-alive connections, and OCI upload sessions (their number, their expiry, their file
//! descriptors). Other clients are served throughout, and the bundle stays sound.

mod common;

use common::http::send;
use common::server::Server;
use common::Env;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Raises this process's open-file limit to its hard limit and returns it.
fn raise_own_files_limit() -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut r), 0);
        r.rlim_cur = r.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &r), 0);
    }
    r.rlim_cur
}

/// `METHOD url` from another loopback address (127.0.0.2), as a second client would;
/// the status, or 0 when no answer came within 5 s.
fn from_other_client(method: &str, url: &str) -> u16 {
    let o = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "5",
        ])
        .args(["--interface", "127.0.0.2", "-X", method, url])
        .output()
        .expect("run curl");
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

/// Open descriptors of a process.
fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// Waits (at most `limit`) until the server closes `c`; returns how long that took.
fn closed_within(c: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    c.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match c.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(start.elapsed())
            }
            Err(_) => return None,
        }
    }
}

#[test]
fn slow_request_heads_and_idle_connections_cannot_starve_other_clients() {
    assert!(
        raise_own_files_limit() >= 1500,
        "the test needs 1,500 open files"
    );
    let env = Env::new();
    env.init("b");
    // as on a machine whose `ulimit -n` is 1024
    let s = Server::start_with_files_limit(
        env.dir.path(),
        &env.path("b"),
        &["--header-timeout", "2s", "--idle-timeout", "3s"],
        1024,
    );
    let mut slow: Vec<TcpStream> = (0..1100)
        .map(|_| {
            let mut c = TcpStream::connect(&s.host).unwrap();
            c.write_all(b"GET /hea").unwrap();
            c
        })
        .collect();
    assert_eq!(
        from_other_client("GET", &format!("{}/health", s.url)),
        200,
        "another client is answered while one holds 1,100 half-sent requests"
    );
    assert_eq!(
        from_other_client("PUT", &format!("{}/raw/while-slow.txt", s.url)),
        201
    );
    // over the per-client cap: closed at once; the rest: after the header timeout
    let started = Instant::now();
    for (i, c) in slow.iter_mut().enumerate() {
        assert!(
            closed_within(c, Duration::from_secs(20)).is_some(),
            "slow connection {i} still open after {:?}",
            started.elapsed()
        );
    }
    assert!(started.elapsed() < Duration::from_secs(15));

    // a kept-alive connection is closed once idle for the idle timeout, not before
    let mut c = TcpStream::connect(&s.host).unwrap();
    c.write_all(format!("GET /health HTTP/1.1\r\nHost: {}\r\n\r\n", s.host).as_bytes())
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = c.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let idle = closed_within(&mut c, Duration::from_secs(20)).expect("idle connection closed");
    assert!(
        idle >= Duration::from_millis(2500),
        "closed after {idle:?}, before the 3 s idle timeout"
    );
    // and the server still answers everyone
    assert_eq!(send(&s.host, "GET", "/health", &[], b"").status, 200);
    env.nora("b", &["verify"]).assert().success();
}

#[test]
fn upload_sessions_are_capped_per_client_expire_and_hold_no_descriptor() {
    let env = Env::new();
    env.init("b");
    let s = Server::start(
        env.dir.path(),
        &env.path("b"),
        &[
            "--max-uploads-per-client",
            "40",
            "--max-uploads",
            "60",
            "--upload-expiry",
            "3s",
        ],
    );
    let pid = s.child.id();
    let idle_files = open_files(pid);
    let mut sessions = Vec::new();
    let mut refused = 0;
    for _ in 0..1100 {
        let r = send(&s.host, "POST", "/v2/x/y/blobs/uploads/", &[], b"");
        match r.status {
            202 => sessions.push(r.header("location").unwrap().to_string()),
            429 => {
                assert!(r.text().contains("TOOMANYREQUESTS"), "{}", r.text());
                refused += 1;
            }
            other => panic!("{other} {}", r.text()),
        }
    }
    assert_eq!((sessions.len(), refused), (40, 1060));
    // every session receives a chunk; none keeps a file open afterwards
    for loc in &sessions {
        let r = send(
            &s.host,
            "PATCH",
            loc,
            &[("Content-Type", "application/octet-stream")],
            &[7u8; 1000],
        );
        assert_eq!(r.status, 202, "{}", r.text());
    }
    assert!(
        open_files(pid) <= idle_files + 2,
        "40 idle sessions hold descriptors: {} open, {idle_files} when idle",
        open_files(pid)
    );
    // other mounts, and other clients up to the server's cap, are served
    assert_eq!(send(&s.host, "PUT", "/raw/a.txt", &[], b"a").status, 201);
    let url = format!("{}/v2/x/y/blobs/uploads/", s.url);
    let others: Vec<u16> = (0..21).map(|_| from_other_client("POST", &url)).collect();
    assert_eq!(&others[..20], &[202; 20][..]);
    assert_eq!(others[20], 429, "the server's cap of 60 sessions holds");
    // idle sessions expire, with their bytes
    let deadline = Instant::now() + Duration::from_secs(20);
    while sessions
        .iter()
        .any(|loc| send(&s.host, "GET", loc, &[], b"").status != 404)
    {
        assert!(Instant::now() < deadline, "sessions did not expire");
        std::thread::sleep(Duration::from_millis(100));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while common::temp_files(&env.path("b")) > 0 {
        assert!(
            Instant::now() < deadline,
            "expired sessions left their bytes"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(s.log().contains("expired idle upload sessions"));
    let r = send(&s.host, "POST", "/v2/x/y/blobs/uploads/", &[], b"");
    assert_eq!(r.status, 202, "the client may upload again");
    env.nora("b", &["verify"]).assert().success();
}

/// Sends a request head declaring `length` body bytes and then `body` (a part of it), and
/// returns what the server answered by then (within 10 s).
fn answer_before_the_body_ends(host: &str, head: &str, length: u64, body: &[u8]) -> String {
    let mut c = TcpStream::connect(host).unwrap();
    c.write_all(format!("{head}\r\nHost: {host}\r\nContent-Length: {length}\r\n\r\n").as_bytes())
        .unwrap();
    // the server may refuse and close before all of it is sent
    let _ = c.write_all(body);
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = c.read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if got.windows(4).any(|w| w == b"\r\n\r\n") && got.ends_with(b"}") {
            break;
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn publishes_have_a_default_limit_and_form_fields_are_capped_as_they_arrive() {
    let env = Env::new();
    env.init("b");
    let s = Server::start(env.dir.path(), &env.path("b"), &[]);
    let before = common::snapshot(&env.path("b"));
    // an npm publish of 600 MiB, refused on its declared length without a byte read
    let a = answer_before_the_body_ends(
        &s.host,
        "PUT /npm/huge HTTP/1.1\r\nContent-Type: application/json",
        600 << 20,
        b"",
    );
    assert!(a.starts_with("HTTP/1.1 413"), "{a}");
    assert!(a.contains("512"), "the answer names the limit: {a}");
    // a PyPI form field that goes on and on: refused once it passes 1 MiB, long before
    // the 100 MiB it declares have arrived
    let boundary = "nora-test-boundary";
    let mut form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\":action\"\r\n\r\nfile_upload\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n"
    )
    .into_bytes();
    form.extend(std::iter::repeat_n(b'a', 3 << 20));
    let a = answer_before_the_body_ends(
        &s.host,
        &format!(
            "POST /simple/ HTTP/1.1\r\nContent-Type: multipart/form-data; boundary={boundary}"
        ),
        100 << 20,
        &form,
    );
    assert!(a.starts_with("HTTP/1.1 413"), "{a}");
    assert!(a.contains("form field description is over 1 MiB"), "{a}");
    // everyone else is served, and nothing changed
    assert_eq!(send(&s.host, "GET", "/health", &[], b"").status, 200);
    assert_eq!(common::snapshot(&env.path("b")), before);
    env.nora("b", &["verify"]).assert().success();
}

#[test]
fn a_client_that_stops_sending_a_body_is_answered_and_its_upload_ends() {
    let env = Env::new();
    env.init("b");
    let s = Server::start(env.dir.path(), &env.path("b"), &["--idle-timeout", "2s"]);
    let start = send(&s.host, "POST", "/v2/stall/app/blobs/uploads/", &[], b"");
    let loc = start.header("location").unwrap().to_string();
    let mut c = TcpStream::connect(&s.host).unwrap();
    c.write_all(
        format!(
            "PATCH {loc} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n",
            s.host
        )
        .as_bytes(),
    )
    .unwrap();
    c.write_all(&[1u8; 1000]).unwrap();
    // the client goes quiet without closing: the server answers 408 once the idle timeout
    // passes, and the session (a busy one) ends with its bytes
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let started = Instant::now();
    while let Ok(n) = c.read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if got.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let answer = String::from_utf8_lossy(&got).to_string();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert_eq!(send(&s.host, "GET", &loc, &[], b"").status, 404);
    assert_eq!(common::temp_files(&env.path("b")), 0);
    assert_eq!(send(&s.host, "GET", "/health", &[], b"").status, 200);
}
