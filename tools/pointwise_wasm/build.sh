#!/usr/bin/env bash
# Builds the pointwise-convolution kernel (pointwise.c) to WebAssembly with Debian's clang and
# lld, checks that each module has no data, no stack and no global of its own, and (by default)
# regenerates src/backend/pointwise/pointwise_wasm.ts through tools/jpeg_wasm/embed_wasm.ts.
#
#   tools/pointwise_wasm/build.sh                     # the shipped builds, embedded
#   MR=4 NR=16 EMBED=0 OUT=/tmp/pw tools/pointwise_wasm/build.sh   # a variant, not embedded
#
# Four modules, one source: {relaxed_madd, mul+add} x {plain memory, shared memory}. The
# memory is always imported (the tfjs-backend-wasm module's own): plain for the single-thread
# binaries, shared (maximum 4 GiB, as emscripten declares it) for the threaded one.
#
# Needs Debian bookworm (root for apt-get) and Deno. Settings (environment variables):
#   LLVM   clang/lld major version from bookworm (default 19: clang-19 1:19.1.7-3~deb12u1)
#   RELAXED_TILE, MULADD_TILE  the register tile of each build, "rows columns" (defaults "6 8"
#          and "5 8": the fastest on x86-64 by tools/pointwise_wasm/tiles.ts; columns a multiple
#          of 4). MR and NR set both at once, for experiments.
#   Q8_RELAXED_TILE, Q8_I16_TILE  the tile of the int8 GEMM (int8.c) in the relaxed builds
#          (relaxed dot) and the mul + add builds (16-bit dot; columns a multiple of 8).
#   OUT    directory for the .wasm files (default /tmp/pointwise_wasm_build)
#   EMBED  1 = regenerate src/backend/pointwise/pointwise_wasm.ts (default 1)
#   APT    1 = install clang-$LLVM and lld-$LLVM if missing (default 1)
#   EXTRA_CFLAGS  more clang flags, for experiments (e.g. -DPW_DW_OX=2)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LLVM="${LLVM:-19}"
RELAXED_TILE="${RELAXED_TILE:-6 8}"
MULADD_TILE="${MULADD_TILE:-5 8}"
Q8_RELAXED_TILE="${Q8_RELAXED_TILE:-6 8}"
Q8_I16_TILE="${Q8_I16_TILE:-4 8}"
if [ -n "${MR:-}" ] || [ -n "${NR:-}" ]; then
  RELAXED_TILE="${MR:-6} ${NR:-8}"
  MULADD_TILE="$RELAXED_TILE"
fi
OUT="${OUT:-/tmp/pointwise_wasm_build}"
EMBED="${EMBED:-1}"
APT="${APT:-1}"
CLANG=clang-$LLVM
WASM_LD=wasm-ld-$LLVM
OBJDUMP=llvm-objdump-$LLVM

if [ "$APT" = 1 ] && { ! command -v "$CLANG" >/dev/null || ! command -v "$WASM_LD" >/dev/null; }; then
  apt-get update
  apt-get install -y "clang-$LLVM" "lld-$LLVM"
fi

mkdir -p "$OUT"
# -ffreestanding -nostdlib: no libc, no start files. -fno-builtin: clang may not turn the
# packing loop into a memcpy/memset call (there is no libc to link).
CFLAGS=(--target=wasm32 -O3 -msimd128 -ffreestanding -nostdlib -fno-builtin
  -Wall -Wextra -Werror ${EXTRA_CFLAGS:-})
# No entry point; exports by export_name attributes only; stack size 0 (the code keeps every
# value in WebAssembly locals: checked below).
LDFLAGS=(--no-entry --import-memory --strip-all --gc-sections -z stack-size=0)
SHARED_FLAGS=(--shared-memory --max-memory=4294967296)

build() { # name fma shared "mr nr" "int8 mr nr"
  local name=$1 fma=$2 shared=$3 mr nr qmr qnr
  read -r mr nr <<<"$4"
  read -r qmr qnr <<<"$5"
  local cflags=("${CFLAGS[@]}" -DPW_FMA="$fma" -DPW_MR="$mr" -DPW_NR="$nr") ldflags=("${LDFLAGS[@]}")
  # relaxed SIMD only where it is meant to be used: the mul+add builds must run without it
  if [ "$fma" = 1 ]; then cflags+=(-mrelaxed-simd); fi
  if [ "$shared" = 1 ]; then
    cflags+=(-matomics -mbulk-memory)
    ldflags+=("${SHARED_FLAGS[@]}")
  fi
  "$CLANG" "${cflags[@]}" -c "$HERE/pointwise.c" -o "$OUT/$name.o"
  # the int8 GEMM: relaxed dot in the relaxed builds, the 16-bit dot in the others
  "$CLANG" "${cflags[@]}" -DQ8_RELAXED="$fma" -DQ8_MR="$qmr" -DQ8_NR="$qnr" -c "$HERE/int8.c" \
    -o "$OUT/$name.int8.o"
  "$WASM_LD" "${ldflags[@]}" "$OUT/$name.o" "$OUT/$name.int8.o" -o "$OUT/$name.wasm"
  # The module must own no linear memory: no data segment, no use of a global (the only one
  # is lld's unused __stack_pointer), no memory.grow, no call out of the module.
  local sections disasm
  sections="$("$OBJDUMP" -h "$OUT/$name.wasm")"
  disasm="$("$OBJDUMP" -d "$OUT/$name.wasm")"
  if grep -Eq ' (DATA|DATACOUNT) ' <<<"$sections"; then
    echo "$name.wasm has a data section" >&2
    exit 1
  fi
  if grep -Eq 'global\.(get|set)|memory\.grow|\scall(_indirect)?\s' <<<"$disasm"; then
    echo "$name.wasm uses a global, grows memory or calls a function:" >&2
    grep -E 'global\.(get|set)|memory\.grow|\scall(_indirect)?\s' <<<"$disasm" | head >&2
    exit 1
  fi
  # f32x4.relaxed_madd (fd 85 02) and i32x4.relaxed_dot_i8x16_i7x16_add_s (fd 93 02): in the
  # relaxed builds, and nowhere else
  local op
  for op in 'fd 85 02' 'fd 93 02'; do
    if [ "$fma" = 1 ] && ! grep -q "$op" <<<"$disasm"; then
      echo "$name.wasm lacks the relaxed SIMD instruction $op" >&2
      exit 1
    fi
    if [ "$fma" = 0 ] && grep -q "$op" <<<"$disasm"; then
      echo "$name.wasm uses the relaxed SIMD instruction $op" >&2
      exit 1
    fi
  done
  echo "built $OUT/$name.wasm ($(stat -c %s "$OUT/$name.wasm") bytes)"
}

build relaxed 1 0 "$RELAXED_TILE" "$Q8_RELAXED_TILE"
build relaxed_shared 1 1 "$RELAXED_TILE" "$Q8_RELAXED_TILE"
build muladd 0 0 "$MULADD_TILE" "$Q8_I16_TILE"
build muladd_shared 0 1 "$MULADD_TILE" "$Q8_I16_TILE"

if [ "$EMBED" = 1 ]; then
  CLANG_VERSION="$($CLANG --version | head -1 | sed 's/.*clang version //')"
  SOURCE_DESC="tools/pointwise_wasm/pointwise.c and int8.c built by"
  SOURCE_DESC="$SOURCE_DESC tools/pointwise_wasm/build.sh: clang $CLANG_VERSION ${CFLAGS[*]}"
  SOURCE_DESC="$SOURCE_DESC (relaxed: -mrelaxed-simd -DPW_FMA=1 -DQ8_RELAXED=1, tiles $RELAXED_TILE"
  SOURCE_DESC="$SOURCE_DESC and int8 $Q8_RELAXED_TILE; muladd: -DPW_FMA=0 -DQ8_RELAXED=0, tiles"
  SOURCE_DESC="$SOURCE_DESC $MULADD_TILE and int8 $Q8_I16_TILE);"
  SOURCE_DESC="$SOURCE_DESC wasm-ld ${LDFLAGS[*]} (shared: ${SHARED_FLAGS[*]} -matomics -mbulk-memory)"
  deno run --allow-read --allow-write "$ROOT/tools/jpeg_wasm/embed_wasm.ts" --kind=pointwise \
    "--source=$SOURCE_DESC" "$OUT/relaxed.wasm" "$OUT/relaxed_shared.wasm" "$OUT/muladd.wasm" \
    "$OUT/muladd_shared.wasm"
  deno fmt --quiet "$ROOT/src/backend/pointwise/pointwise_wasm.ts"
fi
