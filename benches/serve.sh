#!/usr/bin/env bash
# Benchmark of `nora serve` beside nginx (static ceiling) and Debian's docker-registry
# (CNCF distribution, the peer), all on loopback in one run, with wrk at 32 connections:
# manifest GET by tag, 10 MiB blob GET, 1 KiB raw GET. Also: idle and peak RSS, CPU left
# running after a load, start-up time to the first /health 200 (empty bundle and 100,000
# refs), and RSS of a 2 GiB layer pushed and pulled with skopeo.
#   bash benches/serve.sh [WORKDIR]      needs wrk, nginx, docker-registry, skopeo, python3
# Prints figures; asserts nothing. DURATION (default 10 s per wrk run), SKIP_BIG=1 to skip 2 GiB.
set -euo pipefail
cd "$(dirname "$0")/.."
for t in wrk nginx docker-registry skopeo python3 curl; do
  command -v "$t" >/dev/null || { echo "missing $t (apt-get install wrk nginx-light docker-registry skopeo)"; exit 1; }
done
cargo build --release --quiet --bin nora --example make_samples
export NORA="$PWD/target/release/nora"
export SAMPLES="$PWD/target/release/examples/make_samples"
export W="${1:-$(mktemp -d /tmp/nora-serve-bench.XXXXXX)}"
export DURATION="${DURATION:-10}"
export SKIP_BIG="${SKIP_BIG:-0}"
mkdir -p "$W"
exec python3 - <<'PY'
import hashlib, json, os, re, shutil, signal, socket, subprocess, sys, time, urllib.request

NORA, W, DUR = os.environ["NORA"], os.environ["W"], int(os.environ["DURATION"])
os.chdir(W)
for d in ["img", "b", "empty", "many", "reg", "static", "big", "bigb"]:
    shutil.rmtree(d, ignore_errors=True)

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def put(blobs, data):
    h = hashlib.sha256(data).hexdigest()
    open(f"{blobs}/{h}", "wb").write(data)
    return "sha256:" + h, len(data)

def layout(dir, layer_path=None, layer_bytes=None):
    blobs = f"{dir}/blobs/sha256"; os.makedirs(blobs)
    open(f"{dir}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
    if layer_path:
        h = hashlib.sha256()
        with open(layer_path, "rb") as f:
            while chunk := f.read(1 << 20): h.update(chunk)
        ld, ls = "sha256:" + h.hexdigest(), os.path.getsize(layer_path)
        os.rename(layer_path, f"{blobs}/{h.hexdigest()}")
    else:
        ld, ls = put(blobs, layer_bytes)
    cd, cs = put(blobs, json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [ld]}}).encode())
    m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ls}]}).encode()
    md, ms = put(blobs, m)
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}, open(f"{dir}/index.json", "w"))
    return ld, m

def wait_http(url, limit=20):
    end = time.time() + limit
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status < 500: return
        except urllib.error.HTTPError as e:
            if e.code < 500: return
        except Exception:
            pass
        time.sleep(0.01)
    raise SystemExit(f"{url} did not answer")

def proc_status(pid):
    out = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"): out[k] = int(v.split()[0])
    return out

def cpu_ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])

def tree_pids(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [pid] + [int(p) for p in out]

def rss_tree(pid, key="VmRSS"):
    return sum(proc_status(p).get(key, 0) for p in tree_pids(pid))

def wrk(url, header=None):
    time.sleep(2)  # let the machine go quiet between runs
    cmd = ["wrk", "-t2", "-c32", f"-d{DUR}s", "--latency"]
    if header: cmd += ["-H", header]
    out = subprocess.run(cmd + [url], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    tr = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    mib = float(tr.group(1)) * {"B": 1/1048576, "KB": 1/1024, "MB": 1, "GB": 1024}[tr.group(2)]
    def lat(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(\w+)", out)
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: .*", out)
    return {"rps": rps, "mib": mib, "p50": lat(50), "p99": lat(99),
            "non2xx": int(non2xx.group(1)) if non2xx else 0, "errors": errs.group(0) if errs else ""}

print(f"== data in {W}")
ld, manifest = layout("img", layer_bytes=os.urandom(10 << 20))
open("one-k.bin", "wb").write(os.urandom(1024))
subprocess.run([NORA, "init", "b"], check=True, stdout=subprocess.DEVNULL)
subprocess.run([NORA, "--bundle", "b", "-q", "add", "oci", "--name", "bench/app:v1", "img"], check=True)
subprocess.run([NORA, "--bundle", "b", "-q", "add", "raw", "--path", "files/one-k.bin", "one-k.bin"], check=True)
subprocess.run([os.environ["SAMPLES"], "samples"], check=True, stdout=subprocess.DEVNULL)
for eco, files in [("npm", ["left-pad-1.3.0.tgz", "scope-util-2.0.0.tgz"]),
                   ("pypi", ["sample_pkg-1.0.0-py3-none-any.whl", "sample_pkg-1.0.0.tar.gz"]),
                   ("cargo", ["sample-crate-0.1.0.crate"]), ("go", ["v1.2.3.zip"]),
                   ("maven", ["app-1.0.pom", "app-1.0.jar"])]:
    subprocess.run([NORA, "--bundle", "b", "-q", "add", eco] + [f"samples/{f}" for f in files], check=True)
os.makedirs("static")
shutil.copy("one-k.bin", "static/one-k.bin")
shutil.copy(f"img/blobs/sha256/{ld.split(':')[1]}", "static/ten-m.bin")
open("static/manifest.json", "wb").write(manifest)

results = {}
accept = "Accept: application/vnd.oci.image.manifest.v1+json"

def measure(name, pid, base, urls):
    idle = rss_tree(pid)
    r = {"idle_kib": idle}
    for key, path, hdr in urls:
        r[key] = wrk(base + path, hdr)
    r["peak_kib"] = rss_tree(pid, "VmHWM")
    t0 = sum(cpu_ticks(p) for p in tree_pids(pid)); time.sleep(3)
    r["cpu_after_ticks_3s"] = sum(cpu_ticks(p) for p in tree_pids(pid)) - t0
    r["rss_after_kib"] = rss_tree(pid)
    time.sleep(7)
    r["rss_after10_kib"] = rss_tree(pid)
    results[name] = r

# nora
port = free_port()
p = subprocess.Popen([NORA, "--bundle", "b", "-q", "serve", "--listen", f"127.0.0.1:{port}"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"
wait_http(base + "/health"); time.sleep(1)
PACKAGE_GETS = [
    ("npm packument", "/npm/left-pad", None),
    ("PyPI simple page", "/simple/sample-pkg/", None),
    ("Cargo index file", "/cargo/index/sa/mp/sample-crate", None),
    ("Go .info", "/go/example.com/!sample/mod/@v/v1.2.3.info", None),
    ("Maven POM", "/maven2/com/example/app/1.0/app-1.0.pom", None),
]
idle_at_start = rss_tree(p.pid)
for label, path, _ in PACKAGE_GETS:
    with urllib.request.urlopen(base + path) as r:
        assert r.status == 200, (label, r.status)
measure("nora", p.pid, base, [
    ("manifest", "/v2/bench/app/manifests/v1", accept),
    ("blob", f"/v2/bench/app/blobs/{ld}", None),
    ("raw", "/raw/files/one-k.bin", None)] + PACKAGE_GETS)
p.send_signal(signal.SIGTERM); p.wait(20)

# nginx, the static ceiling
port = free_port()
conf = f"""worker_processes auto; daemon off; pid {W}/nginx.pid; error_log {W}/nginx.err;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_requests 100000;
  default_type application/octet-stream;
  server {{ listen 127.0.0.1:{port}; root {W}/static; }} }}"""
open("nginx.conf", "w").write(conf)
p = subprocess.Popen(["nginx", "-c", f"{W}/nginx.conf", "-p", W], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"
wait_http(base + "/one-k.bin"); time.sleep(1)
measure("nginx", p.pid, base, [("manifest", "/manifest.json", None), ("blob", "/ten-m.bin", None), ("raw", "/one-k.bin", None)])
p.send_signal(signal.SIGQUIT); p.wait(20)

# docker-registry, the peer
port = free_port()
open("reg.yml", "w").write(f"""version: 0.1
log: {{level: error, accesslog: {{disabled: true}}}}
storage: {{filesystem: {{rootdirectory: {W}/reg}}, delete: {{enabled: true}}}}
http: {{addr: 127.0.0.1:{port}}}
""")
p = subprocess.Popen(["docker-registry", "serve", "reg.yml"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"
wait_http(base + "/v2/")
subprocess.run(["skopeo", "copy", "-q", "--preserve-digests", "--dest-tls-verify=false", "oci:img:v1",
                f"docker://127.0.0.1:{port}/bench/app:v1"], check=True)
time.sleep(1)
measure("registry", p.pid, base, [
    ("manifest", "/v2/bench/app/manifests/v1", accept),
    ("blob", f"/v2/bench/app/blobs/{ld}", None)])
p.send_signal(signal.SIGTERM); p.wait(20)

def startup(bundle, rounds=5):
    times = []
    for _ in range(rounds):
        port = free_port()
        t0 = time.perf_counter()
        p = subprocess.Popen([NORA, "--bundle", bundle, "-q", "serve", "--listen", f"127.0.0.1:{port}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=1)
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    times.append((time.perf_counter() - t0) * 1000); s.close(); break
                s.close()
            except OSError:
                time.sleep(0.001)
        p.send_signal(signal.SIGTERM); p.wait(20)
    times.sort()
    return times[len(times) // 2]

subprocess.run([NORA, "init", "empty"], check=True, stdout=subprocess.DEVNULL)
subprocess.run([NORA, "init", "many"], check=True, stdout=subprocess.DEVNULL)
blob = hashlib.sha256(b"x").hexdigest()
open(f"many/blobs/sha256/{blob}", "wb").write(b"x")
for i in range(100_000):
    d = f"many/refs/raw/d{i // 1000:03d}"
    if i % 1000 == 0: os.makedirs(d)
    open(f"{d}/f{i:06d}.json", "w").write(json.dumps({"added": "2026-01-01T00:00:00Z", "kind": "raw-file",
        "path": f"d{i // 1000:03d}/f{i:06d}", "digest": "sha256:" + blob, "size": 1, "content_type": "application/octet-stream"}))
startup_empty, startup_many = startup("empty"), startup("many")

big = None
if os.environ.get("SKIP_BIG") != "1":
    with open("layer.bin", "wb") as f:
        for _ in range(2048): f.write(os.urandom(1 << 20))
    bld, _ = layout("big", layer_path="layer.bin")
    subprocess.run([NORA, "init", "bigb"], check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    p = subprocess.Popen([NORA, "--bundle", "bigb", "-q", "serve", "--listen", f"127.0.0.1:{port}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/health")
    t0 = time.time()
    subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", "oci:big:v1", f"docker://127.0.0.1:{port}/big:v1"], check=True)
    push_s = time.time() - t0
    push_peak = proc_status(p.pid)["VmHWM"]
    t0 = time.time()
    subprocess.run(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://127.0.0.1:{port}/big:v1", "oci:big-pulled:v1"], check=True)
    pull_s = time.time() - t0
    big = {"push_s": push_s, "pull_s": pull_s, "push_peak_kib": push_peak, "peak_kib": proc_status(p.pid)["VmHWM"]}
    p.send_signal(signal.SIGTERM); p.wait(20)
    shutil.rmtree("big-pulled", ignore_errors=True); shutil.rmtree("bigb", ignore_errors=True); shutil.rmtree("big", ignore_errors=True)

n, x, g = results["nora"], results["nginx"], results["registry"]
print(f"\n== wrk -t2 -c32 -d{DUR}s on loopback (2 cores shared by wrk and the server)")
print(f"{'':22}{'nora':>22}{'nginx':>22}{'docker-registry':>22}")
def row(label, key, unit):
    cells = []
    for r in (n, x, g):
        v = r.get(key)
        if v is None: cells.append(f"{'-':>22}"); continue
        main = v["mib"] if unit == "MiB/s" else v["rps"]
        cells.append(f"{main:>10.0f} {unit:<5} p99 {v['p99']:>4.1f}ms")
    print(f"{label:22}" + "".join(cells))
row("manifest GET by tag", "manifest", "req/s")
row("10 MiB blob GET", "blob", "MiB/s")
row("1 KiB raw GET", "raw", "req/s")
for label, _, _ in PACKAGE_GETS:
    row(label, label, "req/s")
for r, name in ((n, "nora"), (x, "nginx"), (g, "docker-registry")):
    bad = [f"{k}: {v['non2xx']} non-2xx {v['errors']}" for k, v in r.items() if isinstance(v, dict) and (v["non2xx"] or v["errors"])]
    if bad: print(f"  {name}: " + "; ".join(bad))
print("package GETs vs nginx's 1 KiB req/s (target >= 0.25, p99 < 5 ms): " + ", ".join(
    f"{label} {n[label]['rps']/x['raw']['rps']:.2f} (p99 {n[label]['p99']:.1f} ms)" for label, _, _ in PACKAGE_GETS))
print(f"\nratios: blob MiB/s nora/nginx {n['blob']['mib']/x['blob']['mib']:.2f} (target >= 0.8); "
      f"manifest req/s nora/nginx-1KiB {n['manifest']['rps']/x['raw']['rps']:.2f}, raw {n['raw']['rps']/x['raw']['rps']:.2f} (targets >= 0.25, p99 < 5 ms); "
      f"vs docker-registry: manifest {n['manifest']['rps']/g['manifest']['rps']:.2f}x, blob {n['blob']['mib']/g['blob']['mib']:.2f}x (targets >= 1.5x)")
print("\nRSS (KiB): idle / peak under load / 3 s after / 10 s after; CPU ticks (1/100 s) used in the 3 s after the load")
for r, name in ((n, "nora"), (x, "nginx (all processes)"), (g, "docker-registry")):
    print(f"  {name:24} {r['idle_kib']:>8} / {r['peak_kib']:>8} / {r['rss_after_kib']:>8} / {r['rss_after10_kib']:>8}    cpu after: {r['cpu_after_ticks_3s']}")
print(f"  nora idle right after start (before any request but /health): {idle_at_start} KiB; "
      f"the idle figure above is after one request of each package kind")
print(f"\nstart to first /health 200 (median of 5): empty bundle {startup_empty:.1f} ms, 100,000 refs {startup_many:.1f} ms")
if big:
    print(f"2 GiB layer: skopeo push {big['push_s']:.1f} s ({2048/big['push_s']:.0f} MiB/s), pull {big['pull_s']:.1f} s "
          f"({2048/big['pull_s']:.0f} MiB/s); nora peak RSS after push {big['push_peak_kib']} KiB, after pull {big['peak_kib']} KiB")
PY
