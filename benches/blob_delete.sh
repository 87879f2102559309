#!/usr/bin/env bash
# Cost of `DELETE /v2/<name>/blobs/<digest>` against a bundle of many refs: the server must
# know that no ref uses the blob, and holds the bundle's exclusive lock (every writer waits)
# while it finds out. 28,000 raw files; times a delete refused because a ref uses the blob,
# and deletes of unused blobs, the first one (nothing remembered yet) and later ones.
#   bash benches/blob_delete.sh [WORKDIR]       needs curl, python3
# REFS (default 28000); OTHER=/path/to/another/nora prints its figures beside (e.g. a build
# of an earlier commit).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin nora
export NORA="$PWD/target/release/nora"
export W="${1:-$(mktemp -d /tmp/nora-delete-bench.XXXXXX)}"
export REFS="${REFS:-28000}"
export OTHER="${OTHER:-}"
mkdir -p "$W"
exec python3 - <<'PY'
import hashlib, os, shutil, socket, statistics, subprocess, sys, time, urllib.request

NORA, W, REFS, OTHER = os.environ["NORA"], os.environ["W"], int(os.environ["REFS"]), os.environ["OTHER"]
os.chdir(W)
if not os.path.exists("b/nora-bundle.toml"):
    shutil.rmtree("b", ignore_errors=True); shutil.rmtree("files", ignore_errors=True)
    subprocess.run([NORA, "--bundle", "b", "-q", "init"], check=True)
    os.makedirs("files")
    names = []
    for i in range(REFS):
        n = f"f{i}.txt"; names.append(n)
        open(f"files/{n}", "w").write(f"file {i}\n")
    for k in range(0, REFS, 5000):
        subprocess.run([NORA, "--bundle", "../b", "-q", "add", "raw", *names[k:k + 5000]], check=True, cwd="files")

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def call(method, url, data=None):
    req = urllib.request.Request(url, data=data, method=method)
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            code = r.status; r.read()
    except urllib.error.HTTPError as e:
        code = e.code
    return code, (time.perf_counter() - t) * 1000

def measure(binary):
    port = free_port(); base = f"http://127.0.0.1:{port}"
    p = subprocess.Popen([binary, "--bundle", "b", "serve", "--listen", f"127.0.0.1:{port}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "NORA_LOG": "warn"})
    end = time.time() + 20
    while True:
        try:
            call("GET", f"{base}/health"); break
        except Exception:
            if time.time() > end: sys.exit("server did not start")
            time.sleep(0.05)
    used = "sha256:" + hashlib.sha256(f"file {REFS - 1}\n".encode()).hexdigest()
    unused = []
    for k in range(6):
        data = f"unused {k} {time.time()}\n".encode()
        call("PUT", f"{base}/raw/tmp/{k}.txt", data); call("DELETE", f"{base}/raw/tmp/{k}.txt")
        unused.append("sha256:" + hashlib.sha256(data).hexdigest())
    first = call("DELETE", f"{base}/v2/x/blobs/{unused[0]}")
    later = [call("DELETE", f"{base}/v2/x/blobs/{d}") for d in unused[1:]]
    refused = [call("DELETE", f"{base}/v2/x/blobs/{used}") for _ in range(5)]
    p.terminate(); p.wait(20)
    assert first[0] == 202 and all(c == 202 for c, _ in later) and all(c == 405 for c, _ in refused), (first, later, refused)
    return first[1], statistics.median(t for _, t in later), statistics.median(t for _, t in refused)

rows = [("nora (this tree)", measure(NORA))]
if OTHER:
    rows.append((f"nora ({OTHER})", measure(OTHER)))
print(f"blob DELETE at {REFS} raw refs (ms; the server holds the exclusive lock meanwhile)")
print(f"{'':32} {'first unused':>14} {'later unused':>14} {'in use (405)':>14}")
for name, (f, l, r) in rows:
    print(f"{name[:32]:32} {f:14.1f} {l:14.1f} {r:14.1f}")
PY
