#!/usr/bin/env bash
# Packs @iolab/framing and @iolab/balancer, installs the tarballs alone into a scratch project outside the
# workspace (so nothing resolves through workspace links), and uses them as a user would: ESM, CommonJS,
# TypeScript (nodenext and bundler), the iolab-balancer bin, publint and arethetypeswrong. Assumes a build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scratch=$(mktemp -d /tmp/iolab-pack-smoke.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
for p in framing balancer; do
  (cd "packages/$p" && npm pack --silent --pack-destination "$scratch" >/dev/null)
done
cp .ci/pack-smoke/* "$scratch/"
cd "$scratch"
echo '{ "name": "scratch", "private": true, "type": "module" }' >package.json
npm install --no-audit --no-fund --loglevel=error ./iolab-framing-*.tgz ./iolab-balancer-*.tgz \
  typescript@^5.9.3 @types/node@^20.19.0 publint@^0.3.25 @arethetypeswrong/cli@^0.18.5
for p in framing balancer; do
  npx publint --strict "node_modules/@iolab/$p"
  # Deliberately ESM-only: require() works on the engines' Node versions (require(esm)), so the rule that
  # assumes older Node is ignored, and so is node10 resolution (no exports support; TypeScript deprecates it).
  npx attw --pack "node_modules/@iolab/$p" --profile node16 --ignore-rules cjs-resolves-to-esm --format table-flipped
done
node smoke.mjs
node smoke.cjs
npx tsc -p tsconfig.nodenext.json && echo 'ok  consumer type-checks (nodenext)'
npx tsc -p tsconfig.bundler.json && echo 'ok  consumer type-checks (bundler)'
npx @iolab/balancer --help | head -1
npx iolab-balancer --version
npx iolab-balancer --config app.yaml --check
for f in node_modules/@iolab/balancer/examples/*; do npx iolab-balancer --config "$f" --check >/dev/null && echo "ok  $f"; done
echo "pack smoke: ok ($root)"
