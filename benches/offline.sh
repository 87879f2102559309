#!/usr/bin/env bash
# Benchmark of pack, unpack and verify beside the standard tools on the same data, in one run.
#   bash benches/offline.sh [WORKDIR]     (default: a temp dir; needs ~8 GiB free,
#   plus 4 GiB per round of the unpack comparison)
# Prints throughput (MiB/s of content) and peak RSS. Figures, not assertions.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
NORA="$PWD/target/release/nora"
W="${1:-$(mktemp -d /tmp/nora-bench.XXXXXX)}"
mkdir -p "$W"
cd "$W"
rm -rf data a b std-x* b.* big bigb bigc
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

# Each contender runs ROUNDS times, alternating, after a sync and a pause; medians are
# reported (this VM's disk is noisy: single runs vary by 2x).
ROUNDS=${ROUNDS:-3}
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.2f}')" "$@"; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
timed() { sync; sleep 2; { time "$@" >/dev/null 2>&1; } 2>&1; }

echo "== pack (median of $ROUNDS)"
std=(); nora=()
for r in $(seq "$ROUNDS"); do
  std+=("$(timed sh -c 'tar -cf - -C a/blobs sha256 | zstd -q -T0 -3 -o std.tar.zst -f')")
  nora+=("$(timed "$NORA" --bundle a -q pack -o p.tar.zst)")
done
t_std=$(median "${std[@]}"); t_nora=$(median "${nora[@]}")
echo "tar -c | zstd -T0   : ${t_std}s  $(mib "$t_std") MiB/s  ($(( $(stat -c %s std.tar.zst) / 1048576 )) MiB)   runs: ${std[*]}"
echo "nora pack           : ${t_nora}s  $(mib "$t_nora") MiB/s  ($(( $(stat -c %s p.tar.zst) / 1048576 )) MiB)   runs: ${nora[*]}"
echo "ratio pack/standard : $(ratio "$t_std" "$t_nora")"

echo "== unpack (median of $ROUNDS)"
# Every run writes into a directory of its own, and nothing is deleted until all runs are
# done: ext4 without a journal (as on these machines) passes over every inode deleted in the
# last minute (six if its table block is still dirty) at each file creation, so a run that
# follows the deletion of the previous run's 40,000 files measures that scan, not the tool.
# AFTER_DELETE=1 measures that case: each round starts by deleting the earlier rounds' output.
std=(); stds=(); nora=()
for r in $(seq "$ROUNDS"); do
  [ "${AFTER_DELETE:-0}" = 1 ] && { rm -rf std-x.* std-xs.* b.*; r=0; }
  mkdir "std-x.$r" "std-xs.$r" && "$NORA" init "b.$r" >/dev/null
  std+=("$(timed sh -c "zstd -q -d -c std.tar.zst | tar -xf - -C std-x.$r")")
  stds+=("$(timed sh -c "zstd -q -d -c std.tar.zst | tar -xf - -C std-xs.$r; sync")")
  nora+=("$(timed "$NORA" --bundle "b.$r" -q unpack p.tar.zst)")
done
rm -rf std-x.* std-xs.* b.*
t_std=$(median "${std[@]}"); t_stds=$(median "${stds[@]}"); t_nora=$(median "${nora[@]}")
echo "zstd -d | tar -x          : ${t_std}s  $(mib "$t_std") MiB/s   runs: ${std[*]}"
echo "zstd -d | tar -x; sync    : ${t_stds}s  $(mib "$t_stds") MiB/s   runs: ${stds[*]}"
echo "nora unpack               : ${t_nora}s  $(mib "$t_nora") MiB/s   runs: ${nora[*]}  (verifies every digest, durable before visible)"
echo "ratio unpack/tar          : $(ratio "$t_std" "$t_nora")"
echo "ratio unpack/(tar; sync)  : $(ratio "$t_stds" "$t_nora")"

echo "== verify (median of $ROUNDS)"
std=(); nora=()
for r in $(seq "$ROUNDS"); do
  std+=("$(timed sh -c 'find a/blobs/sha256 -type f -print0 | xargs -0 -P2 -n 256 openssl dgst -sha256')")
  nora+=("$(timed "$NORA" --bundle a -q verify)")
done
t_std=$(median "${std[@]}"); t_nora=$(median "${nora[@]}")
echo "openssl dgst, xargs -P2 : ${t_std}s  $(mib "$t_std") MiB/s   runs: ${std[*]}"
echo "nora verify             : ${t_nora}s  $(mib "$t_nora") MiB/s   runs: ${nora[*]}"
echo "ratio verify/openssl    : $(ratio "$t_std" "$t_nora")"

echo "== peak RSS on the 1 GiB bundle (KiB)"
rm -rf b && "$NORA" init b >/dev/null
echo "pack   : $(peak "$NORA" --bundle a -q pack -o p2.tar.zst)"
echo "unpack : $(peak "$NORA" --bundle b -q unpack p.tar.zst)"
echo "verify : $(peak "$NORA" --bundle a -q verify)"

echo "== peak RSS with one 2 GiB blob (KiB)"
rm -rf big bigb bigc v.*.tar.zst big.tar.zst p.tar.zst p2.tar.zst std.tar.zst std-x b
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
