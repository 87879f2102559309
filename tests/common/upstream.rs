//! A small HTTP/1.1 file server on a free loopback port, standing in for an upstream that
//! misbehaves: a path can answer 500 a number of times first, hang, or serve other bytes.
//! It counts the requests for each path.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// How one path answers.
#[derive(Clone, Default)]
pub struct Route {
    /// The body of a 200.
    pub body: Vec<u8>,
    /// Answer 500 (with `Retry-After: 0`) this many times before the 200.
    pub fail_first: usize,
    /// Never answer (the connection stays open).
    pub hang: bool,
    /// Send the headers and half the body, then stall, this many times before answering
    /// whole.
    pub stall_first: usize,
    /// Hold every answer until the gate is opened.
    pub gate: Option<Gate>,
}

/// Holds answers back until the test opens it.
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, std::sync::Condvar)>);

impl Gate {
    /// Lets every held and later answer go.
    pub fn open(&self) {
        *self.0 .0.lock().unwrap() = true;
        self.0 .1.notify_all();
    }
    fn wait(&self) {
        let mut open = self.0 .0.lock().unwrap();
        while !*open {
            open = self.0 .1.wait(open).unwrap();
        }
    }
}

/// The running server; it stops with the test process.
pub struct Upstream {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Upstream {
    /// Serves `routes` (path -> route); other paths answer 404.
    pub fn start(routes: Vec<(&str, Route)>) -> Upstream {
        Upstream::start_in(routes, None)
    }

    /// Serves the files under `dir` at their relative paths, read when asked for: a fixture
    /// directory in an ecosystem's layout behind a plain static server.
    pub fn serve_dir(dir: &std::path::Path) -> Upstream {
        Upstream::start_in(Vec::new(), Some(dir.to_path_buf()))
    }

    /// [`Upstream::serve_dir`] with `routes` answering their paths instead of the files.
    #[allow(dead_code)]
    pub fn start_dir_with(dir: &std::path::Path, routes: Vec<(&str, Route)>) -> Upstream {
        Upstream::start_in(routes, Some(dir.to_path_buf()))
    }

    fn start_in(routes: Vec<(&str, Route)>, root: Option<std::path::PathBuf>) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let routes: Arc<HashMap<String, Route>> = Arc::new(
            routes
                .into_iter()
                .map(|(p, r)| (p.to_string(), r))
                .collect(),
        );
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let counted = hits.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (routes, hits, root) = (routes.clone(), counted.clone(), root.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() {
                        return;
                    }
                    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                    }
                    let n = {
                        let mut hits = hits.lock().unwrap();
                        let n = hits.entry(path.clone()).or_insert(0);
                        *n += 1;
                        *n
                    };
                    let mut conn = conn;
                    let from_disk = root
                        .as_ref()
                        .filter(|_| !path.contains(".."))
                        .and_then(|r| {
                            std::fs::read(r.join(decode(path.trim_start_matches('/')))).ok()
                        });
                    let (status, body): (&str, &[u8]) = match routes.get(&path) {
                        None => match &from_disk {
                            Some(b) => ("200 OK", b),
                            None => ("404 Not Found", b"not found"),
                        },
                        Some(r) if r.hang => {
                            std::thread::sleep(std::time::Duration::from_secs(600));
                            return;
                        }
                        Some(r) if n <= r.stall_first => {
                            let _ = write!(
                                conn,
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                r.body.len()
                            );
                            let _ = conn.write_all(&r.body[..r.body.len() / 2]);
                            let _ = conn.flush();
                            std::thread::sleep(std::time::Duration::from_secs(600));
                            return;
                        }
                        Some(r) if n <= r.fail_first => ("500 Internal Server Error", b"busy"),
                        Some(Route {
                            gate: Some(g),
                            body,
                            ..
                        }) => {
                            g.wait();
                            ("200 OK", body)
                        }
                        Some(r) => ("200 OK", &r.body),
                    };
                    let _ = write!(
                        conn,
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nRetry-After: 0\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = conn.write_all(body);
                });
            }
        });
        Upstream { url, hits }
    }

    /// How many requests `path` has had.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

/// Undoes percent-encoding in a request path, as a static file server does.
fn decode(path: &str) -> String {
    let b = path.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (
            b[i],
            b.get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()),
        ) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
