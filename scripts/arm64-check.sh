#!/usr/bin/env bash
# arm64 check: runs the project on Deno's real arm64 (aarch64) build under qemu user-mode
# emulation and compares it with this machine's x86-64 run (same top-5, probabilities within
# 1e-4). See scripts/arm64_check.ts for the steps and the PASS/FAIL table.
#
# On an x86-64 Debian machine it first installs what it needs, idempotently:
#   - apt: qemu-user-static, libc6:arm64, libgcc-s1:arm64 (after `dpkg --add-architecture arm64`)
#   - npm: @deno/linux-arm64-glibc@<the README's Deno version>, packed and unpacked into
#     .cache/arm64/ (git-ignored)
# Run as root, or with sudo available, for the apt step (skipped when everything is present).
#
# usage: scripts/arm64-check.sh [--jobs N] [--skip-ingest]     (or: deno task arm64-check)
# env:   ARM64_DENO=/path/to/aarch64/deno  use this binary instead of the npm package
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# The Deno version the README's two commands pin (`npx -y deno@X task test`).
version=$(grep -oE 'npx -y deno@[0-9]+\.[0-9]+\.[0-9]+ task test' README.md | head -n 1 |
  sed -E 's/.*deno@([0-9.]+).*/\1/')
if [ -z "$version" ]; then
  echo "arm64-check: cannot find the pinned Deno version in README.md" >&2
  exit 2
fi

case "$(uname -m)" in
  x86_64 | amd64) ;;
  *)
    echo "arm64-check: this emulates arm64 on an x86-64 host; this host is $(uname -m)" >&2
    exit 2
    ;;
esac

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "arm64-check: need root (or sudo) to run: $*" >&2
    return 1
  fi
}

# 1. qemu and the arm64 C runtime the Deno binary links against (glibc, libgcc_s).
need_apt=0
command -v qemu-aarch64-static >/dev/null || need_apt=1
[ -e /lib/ld-linux-aarch64.so.1 ] || need_apt=1
[ -e /lib/aarch64-linux-gnu/libgcc_s.so.1 ] || need_apt=1
if [ "$need_apt" = 1 ]; then
  echo "arm64-check: installing qemu-user-static, libc6:arm64, libgcc-s1:arm64 (apt)"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    as_root dpkg --add-architecture arm64
  fi
  # Another apt run may hold the lock: wait for it rather than fail.
  as_root apt-get -o DPkg::Lock::Timeout=300 update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q \
    qemu-user-static libc6:arm64 libgcc-s1:arm64
fi

# 2. Deno's official arm64 build from npm, pinned to the README's version.
cache=$root/.cache/arm64
arm64_deno=${ARM64_DENO:-$cache/deno-$version/deno}
if [ ! -x "$arm64_deno" ]; then
  pkg="@deno/linux-arm64-glibc@$version"
  echo "arm64-check: fetching $pkg from npm into $cache"
  if [ "$(npm view "$pkg" version 2>/dev/null)" != "$version" ]; then
    echo "arm64-check: npm has no $pkg" >&2
    exit 2
  fi
  mkdir -p "$cache"
  tarball=$(cd "$cache" && npm pack --silent "$pkg" | tail -n 1)
  rm -rf "$cache/deno-$version.tmp"
  mkdir -p "$cache/deno-$version.tmp"
  tar -xzf "$cache/$tarball" -C "$cache/deno-$version.tmp" --strip-components=1
  chmod +x "$cache/deno-$version.tmp/deno"
  rm -rf "$cache/deno-$version"
  mv "$cache/deno-$version.tmp" "$cache/deno-$version"
  rm -f "$cache/$tarball"
fi
qemu-aarch64-static "$arm64_deno" --version | head -n 1

# 3. The x86-64 Deno that runs the comparison (the README's version).
host_deno=(deno)
if [ "$(deno --version 2>/dev/null | head -n 1 | awk '{print $2}')" != "$version" ]; then
  host_deno=(npx -y "deno@$version")
fi

exec "${host_deno[@]}" run --allow-read --allow-write --allow-env --allow-net --allow-run \
  scripts/arm64_check.ts --arm64-deno "$arm64_deno" --dir "$cache" "$@"
