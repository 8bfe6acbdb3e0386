#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the repository's examples, test data and presets, and images compiled from an
# example for each family (needs a built `soma`: target/release/soma or target/debug/soma). Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
soma=target/release/soma; [ -x "$soma" ] || soma=target/debug/soma
c=fuzz/corpus
mkdir -p "$c"/{snn,nir,connectome,spike_input,preset,image}
cp examples/*.snn tests/in/*.snn "$c/snn/"
find tests/data/nir -name '*.nir' -size -64k -exec cp {} "$c/nir/" \;
head -201 tests/data/connectomes/white1986_whole.csv > "$c/connectome/white1986_head.csv"
printf 'time_s,index\n0.001,0\n0.0025,1\n0.004,0\n' > "$c/spike_input/events.csv"
printf '0,1,0\n1,0,0\n0,0,1\n' > "$c/spike_input/matrix.csv"
cp targets/presets/*.toml "$c/preset/"
for t in spinnaker1 reram_128 sfq_mitll; do
    "$soma" compile examples/xor_sfq.snn --target "$t" -o "$c/image/xor_$t.img" -q > /dev/null
done
echo "seeded $(find "$c" -type f | wc -l) files in $c"
