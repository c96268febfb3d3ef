#!/usr/bin/env bash
# Build the signed shard map for the three-shard example. Run on the operator's machine.
# Each shard's key is its token key: generated in its data dir on first use, printed by `shards pubkey`.
# Here the data dirs are local (./data-np ...); on real hosts run `halobuzz shards pubkey` there.
set -euo pipefail
cd "$(dirname "$0")"
halobuzz shards init --map shards.json --operator-key operator.pem
for s in np:NP in:IN bd:BD; do
  name=${s%%:*}; countries=${s##*:}
  key=$(halobuzz shards pubkey --data-dir "data-$name")
  halobuzz shards add "$name" --countries "$countries" --url "https://$name.halobuzz.example" \
    --public-key "$key" --map shards.json
done
halobuzz shards sign --map shards.json --operator-key operator.pem
halobuzz shards show --map shards.json
echo "keep operator.pem OFFLINE; put its public key (above) in each env/<shard>.env"
