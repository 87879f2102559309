#!/usr/bin/env bash
# nora's offline cycle on samples it makes itself: init, add one artifact of each of the
# seven ecosystems, pack (split and signed), unpack into a second bundle, verify.
#   bash examples/offline-cycle.sh
# Leaves ./nora-bundle (connected side), ./nora-bundle-far (isolated side) and ./nora-demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin nora --example make_samples
nora() { ./target/release/nora "$@"; }
rm -rf nora-demo nora-bundle nora-bundle-far
mkdir -p nora-demo
./target/release/examples/make_samples nora-demo/samples >/dev/null
S=nora-demo/samples

echo "== connected side: ./nora-bundle"
nora init nora-bundle
nora add oci "$S/oci-layout-dir"
nora add oci "$S/hello-docker.tar"
nora add npm "$S/left-pad-1.3.0.tgz" "$S/scope-util-2.0.0.tgz"
nora add pypi "$S/sample_pkg-1.0.0-py3-none-any.whl" "$S/sample_pkg-1.0.0.tar.gz"
nora add cargo "$S/sample-crate-0.1.0.crate"
nora add go "$S/v1.2.3.zip"
nora add maven "$S/app-1.0.pom" "$S/app-1.0.jar"
nora add raw --path tools/tool.sh "$S/tool.sh"
nora ls
nora verify

echo "== pack, signed, in volumes of at most 1 MiB"
nora key generate -o nora-demo/nora.key
nora pack --sign nora-demo/nora.key --split 1M -o nora-demo/transfer.tar.zst

echo "== isolated side: ./nora-bundle-far"
nora --bundle nora-bundle-far init
nora verify --pack nora-demo/transfer*.tar.zst --key nora-demo/nora.pub
nora --bundle nora-bundle-far unpack --require-signature nora-demo/nora.pub nora-demo/transfer*.tar.zst
nora --bundle nora-bundle-far verify
nora --bundle nora-bundle-far ls
nora --bundle nora-bundle-far receipt -o nora-demo/receipt.json
echo "== done: carry nora-demo/receipt.json back and cut the next pack with: nora pack --since nora-demo/receipt.json -o next.tar.zst"
