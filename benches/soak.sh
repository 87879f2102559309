#!/usr/bin/env bash
# Soak of `nora serve` on loopback: 64 connections (wrk) for 5 minutes of a mixed load —
# 98 % small GETs (raw files, an npm packument, an OCI manifest, a PyPI page, /health), 2 %
# 1 MiB raw PUTs to new paths, and a 10 MiB blob GET every 1,000 requests. Prints requests,
# errors and the server's resident memory (idle before, after a 3 s warm-up of the same mix;
# min / median / max during; 30 s after), then runs `nora verify` and checks every
# uploaded file's bytes.
#   bash benches/soak.sh [WORKDIR]      needs wrk, python3, curl
# DURATION (seconds, default 300), CONNECTIONS (default 64). Exits 1 when a target is missed:
# an error, a peak over 64 MiB, or memory not back within 2 MiB of idle.
set -euo pipefail
cd "$(dirname "$0")/.."
for t in wrk python3 curl; do
  command -v "$t" >/dev/null || { echo "missing $t (apt-get install wrk python3 curl)"; exit 1; }
done
cargo build --release --quiet --bin nora
export NORA="$PWD/target/release/nora"
export W="${1:-$(mktemp -d /tmp/nora-soak.XXXXXX)}"
export DURATION="${DURATION:-300}"
export CONNECTIONS="${CONNECTIONS:-64}"
mkdir -p "$W"
exec python3 - <<'PY'
import hashlib, io, json, os, shutil, socket, statistics, subprocess, sys, tarfile, threading, time, urllib.request

NORA, W = os.environ["NORA"], os.environ["W"]
DUR, CONNS = int(os.environ["DURATION"]), int(os.environ["CONNECTIONS"])
os.chdir(W)
shutil.rmtree("b", ignore_errors=True)

def run(*args):
    subprocess.run([NORA, "--bundle", "b", *args], check=True, stdout=subprocess.DEVNULL)

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def request(method, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.read()

def rss_kib(pid, field="VmRSS:"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field):
            return int(line.split()[1])
    return 0

run("init")
port = free_port()
base = f"http://127.0.0.1:{port}"
log = open("serve.log", "w")
server = subprocess.Popen([NORA, "--bundle", "b", "serve", "--listen", f"127.0.0.1:{port}"],
                          stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, "NORA_LOG": "warn"})
end = time.time() + 20
while True:
    try:
        request("GET", f"{base}/health"); break
    except Exception:
        if time.time() > end: sys.exit("nora serve did not start")
        time.sleep(0.05)

# what the small GETs ask for
for i in range(100):
    request("PUT", f"{base}/raw/small/{i}.txt", f"small file {i}\n".encode() * 40)
tgz = io.BytesIO()
with tarfile.open(fileobj=tgz, mode="w:gz") as t:
    pj = json.dumps({"name": "soak-pkg", "version": "1.0.0"}).encode()
    ti = tarfile.TarInfo("package/package.json"); ti.size = len(pj); t.addfile(ti, io.BytesIO(pj))
tgz = tgz.getvalue()
import base64
request("PUT", f"{base}/npm/soak-pkg", json.dumps({"name": "soak-pkg", "versions": {"1.0.0": {"name": "soak-pkg", "version": "1.0.0",
    "dist": {"shasum": hashlib.sha1(tgz).hexdigest()}}}, "dist-tags": {"latest": "1.0.0"},
    "_attachments": {"soak-pkg-1.0.0.tgz": {"data": base64.b64encode(tgz).decode(), "length": len(tgz)}}}).encode(),
    {"Content-Type": "application/json"})
big = bytes((i * 7919) % 251 for i in range(10 << 20))
big_d = "sha256:" + hashlib.sha256(big).hexdigest()
request("POST", f"{base}/v2/soak/app/blobs/uploads/?digest={big_d}", big, {"Content-Type": "application/octet-stream"})
cfg = b'{"architecture":"amd64","os":"linux"}'
cfg_d = "sha256:" + hashlib.sha256(cfg).hexdigest()
request("POST", f"{base}/v2/soak/app/blobs/uploads/?digest={cfg_d}", cfg, {"Content-Type": "application/octet-stream"})
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_d, "size": len(cfg)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": big_d, "size": len(big)}]}).encode()
request("PUT", f"{base}/v2/soak/app/manifests/v1", manifest, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
wheel = f"{W}/soak_pkg-1.0-py3-none-any.whl"
import zipfile
with zipfile.ZipFile(wheel, "w") as z:
    z.writestr("soak_pkg/__init__.py", "")
    z.writestr("soak_pkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: soak-pkg\nVersion: 1.0\n")
    z.writestr("soak_pkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: soak\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    z.writestr("soak_pkg-1.0.dist-info/RECORD", "")
subprocess.run([NORA, "--bundle", "b", "add", "pypi", wheel], check=True, stdout=subprocess.DEVNULL)

body = "x" * (1 << 20)
body_d = hashlib.sha256(body.encode()).hexdigest()
lua = f"""
local threads = {{}}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  n = 0; puts = 0; bigs = 0; status = {{}}
  prefix = os.getenv("SOAK_PREFIX") or "load"
  body = string.rep("x", 1048576)
end
function request()
  n = n + 1
  if n % 50 == 25 then
    puts = puts + 1
    return wrk.format("PUT", "/raw/soak/" .. prefix .. "-" .. id .. "-" .. n .. ".bin", nil, body)
  elseif n % 1000 == 500 then
    bigs = bigs + 1
    return wrk.format("GET", "/v2/soak/app/blobs/{big_d}")
  end
  local k = n % 5
  if k == 0 then return wrk.format("GET", "/raw/small/" .. (n % 100) .. ".txt")
  elseif k == 1 then return wrk.format("GET", "/npm/soak-pkg")
  elseif k == 2 then return wrk.format("GET", "/v2/soak/app/manifests/v1", {{Accept = "application/vnd.oci.image.manifest.v1+json"}})
  elseif k == 3 then return wrk.format("GET", "/simple/soak-pkg/")
  else return wrk.format("GET", "/health") end
end
function response(s, headers, b)
  status[s] = (status[s] or 0) + 1
end
function done(summary, latency, requests)
  local out = {{requests = summary.requests, socket_errors = summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout, non_2xx = summary.errors.status, puts = 0, bigs = 0, status = {{}}}}
  for _, t in ipairs(threads) do
    out.puts = out.puts + t:get("puts")
    out.bigs = out.bigs + t:get("bigs")
    local s = t:get("status")
    for k, v in pairs(s) do out.status[tostring(k)] = (out.status[tostring(k)] or 0) + v end
  end
  local f = io.open("{W}/wrk.json", "w")
  local parts = {{}}
  for k, v in pairs(out.status) do table.insert(parts, string.format('"%s": %d', k, v)) end
  f:write(string.format('{{"requests": %d, "socket_errors": %d, "non_2xx": %d, "puts": %d, "bigs": %d, "status": {{%s}}}}',
    out.requests, out.socket_errors, out.non_2xx, out.puts, out.bigs, table.concat(parts, ", ")))
  f:close()
end
"""
open("soak.lua", "w").write(lua)

# idle: after a short warm-up of the same mix at 2 connections, so that the code of every
# request kind is paged in (those pages count in RSS, and are no memory the load holds)
subprocess.run(["wrk", "-t", "1", "-c", "2", "-d", "3s", "-s", "soak.lua", base], check=True,
               stdout=subprocess.DEVNULL, env={**os.environ, "SOAK_PREFIX": "warm"})
time.sleep(5)
idle = rss_kib(server.pid)
idle_anon = rss_kib(server.pid, "RssAnon:")
samples, stop = [], threading.Event()
def sample():
    while not stop.wait(0.5):
        samples.append(rss_kib(server.pid))
th = threading.Thread(target=sample); th.start()
t0 = time.time()
subprocess.run(["wrk", "-t", "2", "-c", str(CONNS), "-d", f"{DUR}s", "--timeout", "30s", "-s", "soak.lua", base],
               check=True, stdout=subprocess.DEVNULL)
took = time.time() - t0
stop.set(); th.join()
after = []
for _ in range(30):
    time.sleep(1); after.append(rss_kib(server.pid))
after_anon = rss_kib(server.pid, "RssAnon:")
w = json.load(open("wrk.json"))

listing = json.loads(request("GET", f"{base}/raw/soak/", headers={"Accept": "application/json"})[1])
entries = listing if isinstance(listing, list) else listing.get("entries", [])
files = [e for e in entries if not e.get("dir")]
bad = [e["name"] for e in files if e.get("digest") != "sha256:" + body_d]
stored = w["status"].get("201", 0)
verify = subprocess.run([NORA, "--bundle", "b", "verify"], capture_output=True, text=True)
server.terminate(); server.wait(20)

mib = lambda k: f"{k / 1024:.1f} MiB"
errors = w["socket_errors"] + w["non_2xx"]
print(f"nora serve soak: {CONNS} connections, {took:.0f} s, {w['requests']} requests ({w['requests'] / took:.0f}/s)")
print(f"  status counts {w['status']}; socket errors {w['socket_errors']}; non-2xx/3xx {w['non_2xx']}")
print(f"  1 MiB PUTs {w['puts']} ({stored} answered 201 before the deadline; {len(files)} files listed, {len(bad)} with wrong bytes); 10 MiB GETs {w['bigs']}")
print(f"  RSS idle {mib(idle)}; during min {mib(min(samples))} median {mib(statistics.median(samples))} max {mib(max(samples))}; "
      f"30 s after {mib(after[-1])} (min {mib(min(after))}); anonymous memory idle {mib(idle_anon)}, 30 s after {mib(after_anon)}")
print(f"  verify: {'ok' if verify.returncode == 0 else 'FAILED: ' + verify.stderr.strip()}")
missed = []
if errors: missed.append(f"{errors} errors")
if max(samples) >= 64 * 1024: missed.append("peak RSS not below 64 MiB")
if after[-1] - idle > 2 * 1024: missed.append("RSS not back within 2 MiB of idle")
# wrk stops counting at the deadline, so a few PUTs the server stored may have no counted 201
if verify.returncode != 0 or bad or len(files) < stored: missed.append("uploads not all stored intact")
print("targets: " + ("all met" if not missed else "MISSED: " + ", ".join(missed)))
sys.exit(1 if missed else 0)
PY
