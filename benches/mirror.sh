#!/usr/bin/env bash
# Benchmark of `nora mirror` beside each ecosystem's own client (npm ci, pip download,
# cargo fetch, go mod download) fetching the same synthetic artifacts, pinned by lockfiles
# the clients wrote, from the same `nora serve` upstream on loopback, in one run; then the
# same clients through a pull-through `nora serve --upstream` (a first pull into an empty
# bundle, and a second with the client's cache emptied, answered from the bundle).
#   bash benches/mirror.sh          needs npm, go, cargo, curl, /usr/bin/python3 with venv
# Prints wall seconds, the nora/client ratio and nora's peak RSS; asserts only that every
# run fetched everything. Env: N_NPM N_PYPI N_CARGO N_GO (artifacts per ecosystem),
# SIZE (random bytes in each, default 65536), RUNS (best of, default 1), PULL=0 (skip the
# pull-through part),
# NORA (binary, default target/release/nora; not built here), KEEP=1 (leave the work
# directory, to rerun a step by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
NORA=$(realpath "${NORA:-target/release/nora}")
N_NPM=${N_NPM:-300} N_PYPI=${N_PYPI:-200} N_CARGO=${N_CARGO:-150} N_GO=${N_GO:-150}
SIZE=${SIZE:-65536} RUNS=${RUNS:-1}
PY=/usr/bin/python3
[ -x "$NORA" ] || { echo "no nora binary at $NORA (cargo build --release)"; exit 1; }
for t in npm go cargo curl "$PY"; do
  command -v "$t" >/dev/null || { echo "missing $t"; exit 1; }
done
TIME=; [ -x /usr/bin/time ] && TIME=/usr/bin/time

W=$(mktemp -d /tmp/nora-mirror-bench.XXXXXX)
SERVER=
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  if [ -n "${PROXY:-}" ]; then kill "$PROXY" 2>/dev/null || true; wait "$PROXY" 2>/dev/null || true; fi
  if [ -n "${KEEP:-}" ]; then echo "kept $W"; return; fi
  chmod -R u+w "$W" 2>/dev/null || true  # the go module cache is read-only
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$W/logs"
cd "$W"
echo "== $N_NPM npm, $N_PYPI PyPI, $N_CARGO Cargo, $N_GO Go artifacts of $SIZE random bytes in $W"

N_NPM=$N_NPM N_PYPI=$N_PYPI N_CARGO=$N_CARGO N_GO=$N_GO SIZE=$SIZE "$PY" - <<'PY'
import gzip, hashlib, io, json, os, tarfile, zipfile

n = {k: int(os.environ[k]) for k in ("N_NPM", "N_PYPI", "N_CARGO", "N_GO")}
size = int(os.environ["SIZE"])

def tgz(path, files):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        for name, data in files:
            info = tarfile.TarInfo(name); info.size = len(data); info.mode = 0o644; info.mtime = 1700000000
            t.addfile(info, io.BytesIO(data))
    with open(path, "wb") as f:
        f.write(gzip.compress(raw.getvalue(), mtime=0))

def zipf(path, files):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            z.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)

for d in ("art/npm", "art/pypi", "art/cargo", "art/go", "npm", "pypi", "cargo/src", "go"):
    os.makedirs(d, exist_ok=True)

deps = {}
for i in range(1, n["N_NPM"] + 1):
    name = f"@bench/bench-pkg-{i}" if i % 10 == 0 else f"bench-pkg-{i}"
    manifest = {"name": name, "version": "1.0.0", "description": "bench", "license": "MIT"}
    tgz(f"art/npm/{name.replace('@', '').replace('/', '-')}-1.0.0.tgz",
        [("package/package.json", json.dumps(manifest).encode()), ("package/data.bin", os.urandom(size))])
    deps[name] = "1.0.0"
json.dump({"name": "bench-app", "version": "1.0.0", "private": True, "dependencies": deps},
          open("npm/package.json", "w"), indent=1)

reqs = []
for i in range(1, n["N_PYPI"] + 1):
    dist = f"bench_pkg_{i}"
    path = f"art/pypi/{dist}-1.0.0-py3-none-any.whl"
    zipf(path, [
        (f"{dist}/__init__.py", b""),
        (f"{dist}/data.bin", os.urandom(size)),
        (f"{dist}-1.0.0.dist-info/METADATA",
         f"Metadata-Version: 2.1\nName: bench-pkg-{i}\nVersion: 1.0.0\nSummary: bench\n".encode()),
        (f"{dist}-1.0.0.dist-info/WHEEL",
         b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
        (f"{dist}-1.0.0.dist-info/RECORD", b""),
    ])
    reqs.append(f"bench-pkg-{i}==1.0.0 --hash=sha256:{hashlib.sha256(open(path, 'rb').read()).hexdigest()}\n")
open("pypi/requirements.txt", "w").writelines(reqs)

crates = []
for i in range(1, n["N_CARGO"] + 1):
    top = f"bench-crate-{i}-0.1.0"
    toml = f'[package]\nname = "bench-crate-{i}"\nversion = "0.1.0"\nedition = "2021"\nlicense = "MIT"\ndescription = "bench"\n'
    tgz(f"art/cargo/{top}.crate", [(f"{top}/Cargo.toml", toml.encode()),
                                   (f"{top}/src/lib.rs", b"pub fn f() -> u32 { 1 }\n"),
                                   (f"{top}/data.bin", os.urandom(size))])
    crates.append(f'bench-crate-{i} = "0.1.0"\n')
open("cargo/Cargo.toml", "w").write('[package]\nname = "bench-app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n' + "".join(crates))
open("cargo/src/lib.rs", "w").write("")

mods = []
for i in range(1, n["N_GO"] + 1):
    mod, pre = f"example.com/bench/m{i}", f"example.com/bench/m{i}@v1.0.0/"
    zipf(f"art/go/m{i}-v1.0.0.zip", [(pre + "go.mod", f"module {mod}\n\ngo 1.19\n".encode()),
                                     (pre + f"m{i}.go", f"package m{i}\n\nfunc F() int {{ return {i} }}\n".encode()),
                                     (pre + "data.bin", os.urandom(size))])
    mods.append(mod)
open("go/go.mod", "w").write("module example.com/benchapp\n\ngo 1.19\n\nrequire (\n" + "".join(f"\t{m} v1.0.0\n" for m in mods) + ")\n")
open("go/main.go", "w").write("package main\n\nimport (\n" + "".join(f'\t_ "{m}"\n' for m in mods) + ")\n\nfunc main() {}\n")
PY

"$NORA" --bundle up -q init
for eco in npm pypi cargo go; do
  ( cd art/$eco && find . -type f | sort | xargs -n 500 "$NORA" --bundle ../../up -q add $eco )
done

"$NORA" --bundle up -q serve --listen 127.0.0.1:0 >serve.out 2>logs/serve.log &
SERVER=$!
for _ in $(seq 200); do grep -q 'http://' serve.out 2>/dev/null && break; sleep 0.05; done
URL=$(grep -o 'http://[0-9.:]*' serve.out | head -1)
[ -n "$URL" ] || { echo "nora serve printed no address"; cat logs/serve.log; exit 1; }
for _ in $(seq 100); do curl -fs "$URL/health" >/dev/null && break; sleep 0.05; done
curl -fs "$URL/health" >/dev/null
HOSTPORT=${URL#http://}
echo "upstream: $URL"

fail() { echo "FAILED: $*"; tail -n 30 "$W/logs/$LOG_NAME".* 2>/dev/null; exit 1; }

# timed NAME CMD...: runs CMD (stdout to logs/NAME.out, stderr to logs/NAME.err); sets SECS, RSS
timed() {
  LOG_NAME=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  if [ -n "$TIME" ]; then
    "$TIME" -f %M -o "$W/rss" "$@" >"$W/logs/$LOG_NAME.out" 2>"$W/logs/$LOG_NAME.err" || fail "$LOG_NAME: $*"
  else
    "$@" >"$W/logs/$LOG_NAME.out" 2>"$W/logs/$LOG_NAME.err" || fail "$LOG_NAME: $*"
  fi
  t1=$(date +%s%N)
  SECS=$(awk "BEGIN { printf \"%.3f\", ($t1 - $t0) / 1e9 }")
  RSS=-; [ -n "$TIME" ] && RSS=$(tail -1 "$W/rss")
  return 0
}

# count FILES... (a glob already expanded): how many exist
count() { local c=0 f; for f in "$@"; do [ -e "$f" ] && c=$((c + 1)); done; echo $c; }

# the clients' settings for the registry at $BASE (the upstream, or a pull-through nora)
use_base() {
  BASE=$1
  NPM_ENV=(env npm_config_userconfig="$W/npm/npmrc" npm_config_registry="$BASE/npm/"
    npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false)
  printf 'registry=%s/npm/\n//%s/npm/:_authToken=x\n' "$BASE" "${BASE#http://}" >"$W/npm/npmrc"
  GO_ENV=(env GOPROXY="$BASE/go" GOSUMDB=off GONOSUMDB= GOPRIVATE= GOENV=off GOFLAGS=-mod=mod GOTOOLCHAIN=local)
}
use_base "$URL"

PIP_ENV=(env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null
  PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=30)

cargo_home() {
  mkdir -p "$1"
  printf '[source.crates-io]\nreplace-with = "nora"\n\n[source.nora]\nregistry = "sparse+%s/cargo/index/"\n' "$BASE" >"$1/config.toml"
}
CARGO_ENV=(env -u RUSTFLAGS -u CARGO_REGISTRIES_NORA_TOKEN CARGO_TARGET_DIR="$W/cargo-target"
  CARGO_TERM_COLOR=never CARGO_HTTP_TIMEOUT=30)

go_home() { GO_HOME=(GOMODCACHE="$1/modcache" GOPATH="$1/path" GOCACHE="$1/cache" HOME="$1"); }

echo "== lockfiles, written by the clients"
( cd npm && "${NPM_ENV[@]}" npm_config_cache="$W/npm-lock-cache" npm install --package-lock-only --ignore-scripts >"$W/logs/npm-lock.log" 2>&1 ) \
  || { tail -30 logs/npm-lock.log; exit 1; }
"$PY" -m venv venv
cargo_home "$W/cargo-lock-home"
( cd cargo && "${CARGO_ENV[@]}" CARGO_HOME="$W/cargo-lock-home" cargo generate-lockfile >"$W/logs/cargo-lock.log" 2>&1 ) \
  || { tail -30 logs/cargo-lock.log; exit 1; }
go_home "$W/go-lock-home"
( cd go && "${GO_ENV[@]}" "${GO_HOME[@]}" go mod tidy >"$W/logs/go-lock.log" 2>&1 ) \
  || { tail -30 logs/go-lock.log; exit 1; }
cp npm/package-lock.json npm-lock.json
echo "package-lock.json: $(grep -c '"integrity"' npm/package-lock.json) integrities;" \
  "requirements.txt: $(wc -l <pypi/requirements.txt) hashes;" \
  "Cargo.lock: $(grep -c '^checksum' cargo/Cargo.lock) checksums;" \
  "go.sum: $(grep -vc '/go.mod ' go/go.sum) zip hashes"

client_npm() {
  rm -rf "$W/npm/node_modules" "$W/npm-cache"
  # npm ci fetches the lockfile's resolved URLs: point them at $BASE
  sed "s#$URL/npm/#$BASE/npm/#g" "$W/npm-lock.json" >"$W/npm/package-lock.json"
  cd "$W/npm"; timed "npm-$1" "${NPM_ENV[@]}" npm_config_cache="$W/npm-cache" npm ci --ignore-scripts; cd "$W"
  local got; got=$(find npm/node_modules -name data.bin | wc -l)
  [ "$got" -eq "$N_NPM" ] || fail "npm ci installed $got of $N_NPM packages"
}
client_pypi() {
  rm -rf "$W/pip-dl"
  timed "pip-$1" "${PIP_ENV[@]}" "$W/venv/bin/pip" download --no-deps -r pypi/requirements.txt -d "$W/pip-dl" \
    --index-url "$BASE/simple/"
  local got; got=$(count pip-dl/*.whl)
  [ "$got" -eq "$N_PYPI" ] || fail "pip downloaded $got of $N_PYPI wheels"
}
client_cargo() {
  chmod -R u+w "$W/cargo-home" 2>/dev/null || true; rm -rf "$W/cargo-home"; cargo_home "$W/cargo-home"
  cd "$W/cargo"; timed "cargo-$1" "${CARGO_ENV[@]}" CARGO_HOME="$W/cargo-home" cargo fetch --locked; cd "$W"
  local got; got=$(count cargo-home/registry/cache/*/*.crate)
  [ "$got" -eq "$N_CARGO" ] || fail "cargo fetched $got of $N_CARGO crates"
}
client_go() {
  chmod -R u+w "$W/go-home" 2>/dev/null || true; rm -rf "$W/go-home"
  go_home "$W/go-home"
  cd "$W/go"; timed "go-$1" "${GO_ENV[@]}" "${GO_HOME[@]}" go mod download; cd "$W"
  local got; got=$(count go-home/modcache/cache/download/example.com/bench/*/@v/v1.0.0.zip)
  [ "$got" -eq "$N_GO" ] || fail "go mod download fetched $got of $N_GO modules"
}

declare -A NORA_ARGS=(
  [npm]="--npm-lock $W/npm/package-lock.json --npm-registry $URL/npm/"
  [pypi]="--pypi-lock $W/pypi/requirements.txt --pypi-index $URL/simple/"
  [cargo]="--cargo-lock $W/cargo/Cargo.lock --cargo-index sparse+$URL/cargo/index/"
  [go]="--go-sum $W/go/go.sum --go-proxy $URL/go"
)
nora_mirror() {
  local eco=$1 n=$2
  rm -rf "$W/fresh"; "$NORA" --bundle "$W/fresh" -q init
  # shellcheck disable=SC2086
  timed "nora-$eco-$3" "$NORA" --bundle "$W/fresh" --json mirror ${NORA_ARGS[$eco]}
  "$PY" -c 'import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2])
got = (r["added"], r["failed"])
sys.exit(0 if got == (n, 0) else f"added, failed = {got}, want ({n}, 0)")' \
    "$W/logs/nora-$eco-$3.out" "$n" || fail "nora mirror $eco"
}

ROWS=()
bench() {
  local eco=$1 n=$2 label=$3 best_c= best_n= best_rss= r runs_c=() runs_n=()
  echo "== $eco: $label vs nora mirror ($RUNS run(s))"
  for r in $(seq "$RUNS"); do
    "client_$eco" "$r"
    runs_c+=("$SECS")
    if [ -z "$best_c" ] || awk "BEGIN { exit !($SECS < $best_c) }"; then best_c=$SECS; fi
    nora_mirror "$eco" "$n" "$r"
    runs_n+=("$SECS")
    if [ -z "$best_n" ] || awk "BEGIN { exit !($SECS < $best_n) }"; then best_n=$SECS best_rss=$RSS; fi
  done
  echo "   client: ${runs_c[*]} s; nora: ${runs_n[*]} s"
  ROWS+=("$eco|$n|$label|$best_c|$best_n|$(awk "BEGIN { printf \"%.2f\", $best_n / $best_c }")|$best_rss")
}

bench npm "$N_NPM" "npm ci --ignore-scripts"
bench pypi "$N_PYPI" "pip download --no-deps"
bench cargo "$N_CARGO" "cargo fetch --locked"
bench go "$N_GO" "go mod download"

# pull-through: the same clients through `nora serve --upstream` on an empty bundle (first
# pull), then again with their caches emptied (second pull, answered from the bundle)
PROXY=
stop_proxy() { if [ -n "$PROXY" ]; then kill "$PROXY" 2>/dev/null || true; wait "$PROXY" 2>/dev/null || true; PROXY=; fi; }
start_proxy() {
  stop_proxy
  rm -rf "$W/pulled"; "$NORA" --bundle "$W/pulled" -q init
  "$NORA" --bundle "$W/pulled" -q serve --listen 127.0.0.1:0 --upstream "npm=$URL/npm" \
    --upstream "pypi=$URL/simple" --upstream "cargo=$URL/cargo/index" --upstream "go=$URL/go" \
    >"$W/proxy.out" 2>"$W/logs/proxy.log" &
  PROXY=$!
  local p=
  for _ in $(seq 200); do p=$(grep -o 'http://[0-9.:]*' "$W/proxy.out" 2>/dev/null | head -1); [ -n "$p" ] && break; sleep 0.05; done
  [ -n "$p" ] || { echo "the pull-through nora printed no address"; cat "$W/logs/proxy.log"; exit 1; }
  for _ in $(seq 100); do curl -fs "$p/health" >/dev/null && break; sleep 0.05; done
  use_base "$p"
}
PROWS=()
pull_bench() {
  local eco=$1 n=$2 direct=$3 best_1= best_2= r
  echo "== $eco through a pull-through nora ($RUNS run(s))"
  for r in $(seq "$RUNS"); do
    start_proxy
    "client_$eco" "pull1-$r"
    if [ -z "$best_1" ] || awk "BEGIN { exit !($SECS < $best_1) }"; then best_1=$SECS; fi
    "client_$eco" "pull2-$r"
    if [ -z "$best_2" ] || awk "BEGIN { exit !($SECS < $best_2) }"; then best_2=$SECS; fi
  done
  local held; held=$("$NORA" --bundle "$W/pulled" --json ls "$eco" | "$PY" -c 'import json, sys
print(sum(1 for e in json.load(sys.stdin) if e["kind"] != "upstream-meta"))')
  [ "$held" -ge "$n" ] || fail "the pull-through bundle holds $held $eco artifacts, not $n"
  PROWS+=("$eco|$n|$direct|$best_1|$best_2|$(awk "BEGIN { printf \"%.2f\", $best_1 / $direct }")|$(awk "BEGIN { printf \"%.2f\", $best_2 / $direct }")")
}
if [ "${PULL:-1}" != 0 ]; then
  for row in "${ROWS[@]}"; do
    IFS='|' read -r eco n _ c _ _ _ <<<"$row"
    pull_bench "$eco" "$n" "$c"
  done
  stop_proxy
fi

echo
echo "== wall seconds, best of $RUNS; $SIZE random bytes per artifact; nora jobs=8 (default); upstream: nora serve"
printf '%-9s %9s  %-26s %9s %9s %10s %14s\n' ecosystem artifacts "client command" client nora nora/client "nora RSS KiB"
for row in "${ROWS[@]}"; do
  IFS='|' read -r eco n label c nr ratio rss <<<"$row"
  printf '%-9s %9s  %-26s %9s %9s %10s %14s\n' "$eco" "$n" "$label" "$c" "$nr" "$ratio" "$rss"
done
if [ "${#PROWS[@]}" -gt 0 ]; then
  echo
  echo "== the same clients: straight from the upstream, first pull through nora --upstream, second (cached) pull"
  printf '%-9s %9s %9s %11s %12s %12s %13s\n' ecosystem artifacts direct "first pull" "second pull" "first/direct" "second/direct"
  for row in "${PROWS[@]}"; do
    IFS='|' read -r eco n d p1 p2 r1 r2 <<<"$row"
    printf '%-9s %9s %9s %11s %12s %12s %13s\n' "$eco" "$n" "$d" "$p1" "$p2" "$r1" "$r2"
  done
fi
echo "total bench time: ${SECONDS}s"
