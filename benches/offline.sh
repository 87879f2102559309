#!/usr/bin/env bash
# Benchmark of pack, unpack and verify beside the standard tools on the same data, in one run.
#   bash benches/offline.sh [WORKDIR]     (default: a temp dir; needs ~8 GiB free)
# Prints throughput (MiB/s of content) and peak RSS. Figures, not assertions.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
NORA="$PWD/target/release/nora"
W="${1:-$(mktemp -d /tmp/nora-bench.XXXXXX)}"
mkdir -p "$W"
cd "$W"
rm -rf data a b std-x
export TIMEFORMAT=%R

echo "== generating data in $W (many small files and a few large blobs, >= 1 GiB)"
python3 - <<'PY'
import os, random
random.seed(7)
os.makedirs("data/small", exist_ok=True)
words = [bytes(random.choice("abcdefghijklmnopqrstuvwxyz") * random.randint(2, 9), "ascii") for _ in range(4000)]
for i in range(20000):
    # text-like (compressible) and random (incompressible) small files, 2..60 KiB
    n = random.randint(2048, 61440)
    if i % 2:
        data = b" ".join(random.choice(words) for _ in range(n // 6))[:n]
    else:
        data = os.urandom(n)
    open(f"data/small/f{i:05d}", "wb").write(data)
for i in range(3):
    with open(f"data/large{i}.bin", "wb") as f:
        for j in range(200):  # 200 MiB each: half random, half text
            f.write(os.urandom(1 << 20) if j % 2 else (b"offline air gap bundle " * 45590)[: 1 << 20])
PY
"$NORA" init a >/dev/null
( cd data && find . -type f | sort | xargs -n 2000 "$NORA" --bundle ../a -q add raw )
BYTES=$(du -sb a/blobs | cut -f1)
FILES=$(ls a/blobs/sha256 | wc -l)
echo "bundle: $FILES blobs, $((BYTES / 1048576)) MiB"
mib() { python3 -c "print(f'{$BYTES/1048576/$1:.0f}')"; }
peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
sync

echo "== pack"
t_std=$( { time (tar -cf - -C a/blobs sha256 | zstd -q -T0 -3 -o std.tar.zst -f); } 2>&1 )
t_nora=$( { time "$NORA" --bundle a -q pack -o p.tar.zst; } 2>&1 )
echo "tar -c | zstd -T0   : ${t_std}s  $(mib "$t_std") MiB/s  ($(( $(stat -c %s std.tar.zst) / 1048576 )) MiB)"
echo "nora pack           : ${t_nora}s  $(mib "$t_nora") MiB/s  ($(( $(stat -c %s p.tar.zst) / 1048576 )) MiB)"
echo "ratio pack/standard : $(python3 -c "print(f'{$t_std/$t_nora:.2f}')")"

echo "== unpack"
mkdir std-x
sync
t_std=$( { time (zstd -q -d -c std.tar.zst | tar -xf - -C std-x); } 2>&1 )
"$NORA" init b >/dev/null
sync
t_nora=$( { time "$NORA" --bundle b -q unpack p.tar.zst; } 2>&1 )
echo "zstd -d | tar -x    : ${t_std}s  $(mib "$t_std") MiB/s"
echo "nora unpack         : ${t_nora}s  $(mib "$t_nora") MiB/s  (verifies every digest, fsyncs)"
echo "ratio unpack/std    : $(python3 -c "print(f'{$t_std/$t_nora:.2f}')")"

echo "== verify"
t_std=$( { time (find a/blobs/sha256 -type f -print0 | xargs -0 -P2 -n 256 openssl dgst -sha256 >/dev/null); } 2>&1 )
t_nora=$( { time "$NORA" --bundle a -q verify >/dev/null; } 2>&1 )
echo "openssl dgst, xargs -P2 : ${t_std}s  $(mib "$t_std") MiB/s"
echo "nora verify             : ${t_nora}s  $(mib "$t_nora") MiB/s"
echo "ratio verify/openssl    : $(python3 -c "print(f'{$t_std/$t_nora:.2f}')")"

echo "== peak RSS on the 1 GiB bundle (KiB)"
rm -rf b && "$NORA" init b >/dev/null
echo "pack   : $(peak "$NORA" --bundle a -q pack -o p2.tar.zst)"
echo "unpack : $(peak "$NORA" --bundle b -q unpack p.tar.zst)"
echo "verify : $(peak "$NORA" --bundle a -q verify)"

echo "== peak RSS with one 2 GiB blob (KiB)"
rm -rf big bigb p.tar.zst p2.tar.zst std.tar.zst std-x b
"$NORA" init big >/dev/null
python3 -c "
import os
with open('big.bin','wb') as f:
    for j in range(2048): f.write(os.urandom(1<<20) if j%3 else b'z'*(1<<20))"
echo "add    : $(peak "$NORA" --bundle big -q add raw big.bin)"
rm -f big.bin
echo "pack   : $(peak "$NORA" --bundle big -q pack -o big.tar.zst)"
"$NORA" init bigb >/dev/null
echo "unpack : $(peak "$NORA" --bundle bigb -q unpack big.tar.zst)"
echo "verify : $(peak "$NORA" --bundle bigb -q verify)"
echo "split 700M pack + unpack of all volumes:"
rm -rf bigc && "$NORA" init bigc >/dev/null
echo "pack --split : $(peak "$NORA" --bundle big -q pack --split 700M -o v.tar.zst)"
echo "unpack vols  : $(peak "$NORA" --bundle bigc -q unpack v.001.tar.zst v.002.tar.zst v.003.tar.zst v.004.tar.zst)"
[ -z "${1:-}" ] && rm -rf "$W"
echo done
