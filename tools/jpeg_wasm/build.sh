#!/usr/bin/env bash
# Builds libjpeg-turbo's TurboJPEG decompressor as WebAssembly from Debian's source package and
# (by default) regenerates src/image/jpeg/turbo_wasm.ts through tools/jpeg_wasm/embed_wasm.ts.
#
#   tools/jpeg_wasm/build.sh            # the shipped build (the defaults below), embedded
#   OPT=-O2 SIMD=0 EMBED=0 OUT=/tmp/x.wasm tools/jpeg_wasm/build.sh    # a variant, not embedded
#
# Needs Debian bookworm (root for apt-get) and Deno. Everything is downloaded from
# deb.debian.org: clang 14 / lld 14 (wasm32 target), wasi-libc, the compiler-rt wasm32 builtins
# and the libjpeg-turbo source package. No emsdk, no wasi-sdk, no network access otherwise.
#
# Settings (environment variables):
#   WORK     scratch directory (default /tmp/jpeg_wasm_build); the source tree stays there
#   OPT      optimisation level for compile and LTO (default -O3)
#   SIMD     1 = add -msimd128 (default 1; the auto-vectoriser gains little by itself: the
#            gain is jsimd_wasm.c, since libjpeg-turbo has no wasm SIMD code of its own)
#   JSIMD    1 = with SIMD=1, compile jsimd_wasm.c (simd128 reduced-size IDCTs and YCbCr->RGB)
#            in place of jsimd_none.c (default 1)
#   PATCHES  which of this folder's patches to libjpeg-turbo's Huffman decoder (jdhuff.[ch]) to
#            apply, in order (default: both; "" = unmodified libjpeg-turbo):
#              wasm32-64bit-bit-buffer  64-bit bit buffer on wasm32, as upstream does for x32
#              wasm32-fast-ac-table     one-lookup decoding of short AC code + value pairs
#   WASM_OPT 1 = run binaryen's wasm-opt $OPT over the linked module (default 0)
#   OUT      where to write the .wasm (default $WORK/jpeg-turbo.wasm)
#   EMBED    1 = regenerate src/image/jpeg/turbo_wasm.ts from OUT (default 1)
#   APT      1 = install the apt packages / fetch the source if missing (default 1)
#   LLVM     clang/lld major version from bookworm: 14 (default; the `clang` package); 19 was
#            tried too (clang-19, lld-19, libclang-rt-19-dev-wasm32: no faster)
#   FEATURES WebAssembly features beyond clang 14's default (MVP + mutable-globals); default
#            "-mbulk-memory -msign-ext -mnontrapping-fptoint", all in V8 since 2019
#   EXTRA_CFLAGS  more compiler flags, for experiments
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORK="${WORK:-/tmp/jpeg_wasm_build}"
OPT="${OPT:--O3}"
SIMD="${SIMD:-1}"
PATCHES="${PATCHES-wasm32-64bit-bit-buffer wasm32-fast-ac-table}"
JSIMD="${JSIMD:-1}"
WASM_OPT="${WASM_OPT:-0}"
OUT="${OUT:-$WORK/jpeg-turbo.wasm}"
EMBED="${EMBED:-1}"
APT="${APT:-1}"

# The exact source this build was made from (checked below).
DEB_VERSION="2.1.5-2"       # source package libjpeg-turbo 1:2.1.5-2 (epoch 1)
ORIG_SHA256="254f3642b04e309fee775123133c6464181addc150499561020312ec61c1bf7c"
DEBIAN_SHA256="cdb2433c2f7101345c1ffa14efb943787c675b86354691a32490845fe4bc9237"

LLVM="${LLVM:-14}"
FEATURES="${FEATURES--mbulk-memory -msign-ext -mnontrapping-fptoint}"
EXTRA_CFLAGS="${EXTRA_CFLAGS:-}"
CLANG=clang-$LLVM
WASM_LD=wasm-ld-$LLVM
SYSROOT_INC=/usr/include/wasm32-wasi
SYSROOT_LIB=/usr/lib/wasm32-wasi
BUILTINS_GLOB="/usr/lib/llvm-$LLVM/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a"

# ---------------------------------------------------------------- tools and source
if [ "$APT" = 1 ]; then
  if ! command -v "$CLANG" >/dev/null || ! command -v "$WASM_LD" >/dev/null ||
    [ ! -f "$SYSROOT_LIB/libc.a" ] || ! compgen -G "$BUILTINS_GLOB" >/dev/null ||
    ! command -v dpkg-source >/dev/null || ! command -v patch >/dev/null; then
    apt-get update
    apt-get install -y "clang-$LLVM" "lld-$LLVM" wasi-libc "libclang-rt-$LLVM-dev-wasm32" dpkg-dev patch
  fi
  if [ "$WASM_OPT" = 1 ] && ! command -v wasm-opt >/dev/null; then apt-get install -y binaryen; fi
fi

BUILTINS="$(compgen -G "$BUILTINS_GLOB" | head -1)"

mkdir -p "$WORK"
SRC="$WORK/libjpeg-turbo-2.1.5"
if [ ! -f "$WORK/libjpeg-turbo_${DEB_VERSION}.dsc" ]; then
  if ! grep -rqs '^deb-src .*deb.debian.org/debian bookworm main' /etc/apt/sources.list /etc/apt/sources.list.d/ &&
    ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/; then
    echo 'deb-src http://deb.debian.org/debian bookworm main' >/etc/apt/sources.list.d/deb-src-bookworm.list
    apt-get update
  fi
  (cd "$WORK" && apt-get source --download-only "libjpeg-turbo=1:${DEB_VERSION}")
fi
(cd "$WORK" && echo "$ORIG_SHA256  libjpeg-turbo_2.1.5.orig.tar.gz
$DEBIAN_SHA256  libjpeg-turbo_${DEB_VERSION}.debian.tar.xz" | sha256sum -c --quiet)
# A fresh tree every time (dpkg-source applies Debian's patches, which do not touch the files
# used here except jsimd_*: its x86 SIMD-dispatch fix is not compiled in this build).
rm -rf "$SRC"
(cd "$WORK" && dpkg-source -x "libjpeg-turbo_${DEB_VERSION}.dsc" "$SRC" >/dev/null)
for p in $PATCHES; do
  patch -d "$SRC" -p1 --quiet <"$HERE/$p.patch"
done

# ---------------------------------------------------------------- configuration headers
# What CMake would write for a static 8-bit build without SIMD or arithmetic coding.
GEN="$WORK/gen"
rm -rf "$GEN" && mkdir -p "$GEN"
cat >"$GEN/jconfig.h" <<'EOF'
#define JPEG_LIB_VERSION  62
#define LIBJPEG_TURBO_VERSION  2.1.5
#define LIBJPEG_TURBO_VERSION_NUMBER  2001005
/* #undef C_ARITH_CODING_SUPPORTED */
/* #undef D_ARITH_CODING_SUPPORTED (arithmetic JPEGs are refused in header.ts before libjpeg) */
#define MEM_SRCDST_SUPPORTED  1
/* #undef WITH_SIMD */
#define BITS_IN_JSAMPLE  8
/* #undef RIGHT_SHIFT_IS_UNSIGNED */
EOF
sed -e 's/@BUILD@/mobilenet-edge-wasm/' \
  -e 's/@INLINE@/__inline__ __attribute__((always_inline))/' \
  -e 's/@THREAD_LOCAL@//' \
  -e 's/@CMAKE_PROJECT_NAME@/libjpeg-turbo/' \
  -e 's/@VERSION@/2.1.5/' \
  -e 's/@SIZE_T@/4/' \
  -e 's/#cmakedefine HAVE_BUILTIN_CTZL/#define HAVE_BUILTIN_CTZL/' \
  -e 's/#cmakedefine HAVE_INTRIN_H/\/* #undef HAVE_INTRIN_H *\//' \
  "$SRC/jconfigint.h.in" >"$GEN/jconfigint.h"
sed -e 's/@COPYRIGHT_YEAR@/1991-2023/' "$SRC/jversion.h.in" >"$GEN/jversion.h"
if grep -n '@\|#cmakedefine' "$GEN"/*.h; then echo "unconfigured line in headers" >&2; exit 1; fi

# ---------------------------------------------------------------- compile
# libjpeg (decompressor and, because turbojpeg.c refers to it, compressor; LTO drops what the
# exports do not reach), jsimd_wasm.c or jsimd_none.c in place of libjpeg-turbo's SIMD code, and
# the TurboJPEG wrapper.
SOURCES="jcapimin.c jcapistd.c jccoefct.c jccolor.c jcdctmgr.c jchuff.c jcicc.c jcinit.c
  jcmainct.c jcmarker.c jcmaster.c jcomapi.c jcparam.c jcphuff.c jcprepct.c jcsample.c jctrans.c
  jdapimin.c jdapistd.c jdatadst.c jdatasrc.c jdcoefct.c jdcolor.c jddctmgr.c jdhuff.c jdicc.c
  jdinput.c jdmainct.c jdmarker.c jdmaster.c jdmerge.c jdphuff.c jdpostct.c jdsample.c
  jdtrans.c jerror.c jfdctflt.c jfdctfst.c jfdctint.c jidctflt.c jidctfst.c jidctint.c
  jidctred.c jquant1.c jquant2.c jutils.c jmemmgr.c jmemnobs.c jsimd_none.c
  turbojpeg.c transupp.c jdatadst-tj.c jdatasrc-tj.c rdbmp.c rdppm.c wrbmp.c wrppm.c"
# BMP_SUPPORTED/PPM_SUPPORTED: as CMake compiles the turbojpeg library (tjLoadImage/tjSaveImage
# refer to rdbmp.c etc.; LTO removes them since nothing exported reaches them).
CFLAGS=(--target=wasm32-wasi "$OPT" -flto -DNDEBUG -DNO_GETENV -DNO_PUTENV
  -DBMP_SUPPORTED -DPPM_SUPPORTED
  -isystem "$HERE/include" -isystem "$SYSROOT_INC" -I"$GEN" -I"$SRC"
  -Werror=implicit-function-declaration -Wno-unused-command-line-argument)
if [ "$SIMD" = 1 ]; then CFLAGS+=(-msimd128); fi
# shellcheck disable=SC2206
CFLAGS+=($FEATURES $EXTRA_CFLAGS)
OBJ="$WORK/obj"
rm -rf "$OBJ" && mkdir -p "$OBJ"
PIDS=()
for f in $SOURCES; do
  src="$SRC/$f"
  if [ "$f" = jsimd_none.c ] && [ "$SIMD" = 1 ] && [ "$JSIMD" = 1 ]; then src="$HERE/jsimd_wasm.c"; fi
  "$CLANG" "${CFLAGS[@]}" -c "$src" -o "$OBJ/${f%.c}.o" &
  PIDS+=($!)
done
# (not LTO bitcode: wasm-ld must see `_initialize` before link-time optimisation)
"$CLANG" "${CFLAGS[@]}" -fno-lto -c "$HERE/library_glue.c" -o "$OBJ/library_glue.o" &
PIDS+=($!)
for pid in "${PIDS[@]}"; do wait "$pid"; done # set -e: stops at the first failed compile

# ---------------------------------------------------------------- link
# No entry point, no start files: a library module. Exports are exactly those turbo.ts uses
# (plus tjDecompressHeader3, which the previous build exported too) and the memory.
LTO_O="${OPT#-O}"
LDFLAGS=(--no-entry --lto-O"$LTO_O" --gc-sections --strip-all --stack-first -z stack-size=131072
  --export=malloc --export=free --export=tjInitDecompress --export=tjDecompressHeader3
  --export=tjDecompress2 --export=tjDestroy)
mkdir -p "$(dirname "$OUT")"
"$WASM_LD" "${LDFLAGS[@]}" --Map="$WORK/jpeg-turbo.map" -L"$SYSROOT_LIB" "$OBJ"/*.o -lc "$BUILTINS" \
  -o "$OUT"
# library_glue.c's reasoning: no command-export wrappers, and no static constructors (a second
# link that exports _initialize shows __wasm_call_ctors: 3 bytes = an empty function).
if grep -q 'command_export' "$WORK/jpeg-turbo.map"; then
  echo "unexpected command-export wrappers: see $WORK/jpeg-turbo.map" >&2
  exit 1
fi
"$WASM_LD" "${LDFLAGS[@]}" --export=_initialize --Map="$WORK/ctors-check.map" -L"$SYSROOT_LIB" \
  "$OBJ"/*.o -lc "$BUILTINS" -o "$WORK/ctors-check.wasm"
if ! grep -Eq '^ +- +[0-9a-f]+ +3 +<internal>:\(__wasm_call_ctors\)$' "$WORK/ctors-check.map"; then
  echo "static constructors found (never run: _initialize is not exported): see" \
    "$WORK/ctors-check.map" >&2
  exit 1
fi
if [ "$WASM_OPT" = 1 ]; then
  # the features clang may have used (the target_features section is stripped)
  WOFLAGS=("$OPT" --enable-sign-ext --enable-mutable-globals --enable-bulk-memory
    --enable-nontrapping-float-to-int --enable-simd)
  wasm-opt "${WOFLAGS[@]}" "$OUT" -o "$OUT"
fi

echo "built $OUT ($(stat -c %s "$OUT") bytes, sha256 $(sha256sum "$OUT" | cut -d' ' -f1))"
echo "  libjpeg-turbo ${DEB_VERSION} (Debian bookworm source), $($CLANG --version | head -1)"
echo "  OPT=$OPT SIMD=$SIMD JSIMD=$JSIMD PATCHES=\"$PATCHES\" WASM_OPT=$WASM_OPT"
echo "  FEATURES=\"$FEATURES\" EXTRA_CFLAGS=\"$EXTRA_CFLAGS\""

if [ "$EMBED" = 1 ]; then
  CLANG_VERSION="$($CLANG --version | head -1 | sed 's/.*clang version //')"
  WASI_LIBC_VERSION="$(dpkg-query -W -f '${Version}' wasi-libc)"
  SIMD_FLAG=""
  SIMD_FILE=jsimd_none.c
  if [ "$SIMD" = 1 ]; then SIMD_FLAG=-msimd128; fi
  if [ "$SIMD" = 1 ] && [ "$JSIMD" = 1 ]; then SIMD_FILE=jsimd_wasm.c; fi
  SOURCE_DESC="libjpeg-turbo 2.1.5 (Debian bookworm source package libjpeg-turbo 1:${DEB_VERSION},"
  SOURCE_DESC="$SOURCE_DESC orig.tar.gz sha256 ${ORIG_SHA256}) built by tools/jpeg_wasm/build.sh:"
  SOURCE_DESC="$SOURCE_DESC patches [${PATCHES}], ${SIMD_FILE}; clang ${CLANG_VERSION}"
  SOURCE_DESC="$SOURCE_DESC --target=wasm32-wasi ${OPT} -flto ${SIMD_FLAG} ${FEATURES} ${EXTRA_CFLAGS};"
  SOURCE_DESC="$SOURCE_DESC wasm-ld --lto-O${LTO_O}; wasi-libc ${WASI_LIBC_VERSION}"
  if [ "$WASM_OPT" = 1 ]; then SOURCE_DESC="$SOURCE_DESC; wasm-opt ${OPT}"; fi
  SOURCE_DESC="$(echo "$SOURCE_DESC" | tr -s ' ' | sed 's/ ;/;/g')"
  deno run --allow-read --allow-write "$ROOT/tools/jpeg_wasm/embed_wasm.ts" \
    "--source=$SOURCE_DESC" "$OUT"
  deno fmt --quiet "$ROOT/src/image/jpeg/turbo_wasm.ts"
fi
