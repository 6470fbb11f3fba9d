#!/bin/sh
# `deno task serve`: the edge endpoint under `deno serve` with least privilege.
#
#   PORT=8000 HOST=0.0.0.0 deno task serve          (the defaults)
#   sh edge/serve.sh --print-flags                  (print the permission flags and exit)
#
# A shell script because deno task's shell has no ${PORT:-8000} default, and `deno serve` takes
# its port only from --port (or DENO_SERVE_ADDRESS), not from $PORT.
#
# Permissions, and nothing else (no write, no run, no ffi, no sys, no other env):
# - net:  listening on HOST:PORT, plus the host of MOBILENET_EDGE_WEIGHTS_URL when it is set.
# - read: the weights directory (or MOBILENET_EDGE_MODEL when it is a path), the head directory
#         MOBILENET_EDGE_HEADS when it is set, the directory
#         holding tfjs-backend-wasm's .wasm binaries and the one holding imagescript's PNG/GIF/
#         TIFF decoders (both read with Deno.readFile at run time; modules themselves load
#         without read permission). Reading `node_modules/.deno` whole also works, and is
#         wider than needed.
# - env:  the settings of edge/config.ts, the library's MOBILENET_EDGE_THREADS/SIMD, and
#         IMAGESCRIPT_WASM_SIMD (imagescript's decoders read it when they load).
# A MOBILENET_EDGE_* variable the edge does not know (a typo: MOBILENET_EDGE_MAX_INFLIGT) stops
# the start with one line, as a bad value does (edge/start.ts). The camera credentials of ingest
# and the variables of the benches and tests are known too, so one environment can serve all.
# The decode worker (edge/decoder.ts) inherits these permissions. --v8-flags=--expose-gc lets it
# collect its garbage after each image (without it, the worker holds tens of MiB of dead
# buffers); nothing else calls gc.
set -eu
cd "$(dirname "$0")/.."

port="${PORT:-8000}"
host="${HOST:-0.0.0.0}"

net="$host:$port"
if [ -n "${MOBILENET_EDGE_WEIGHTS_URL:-}" ]; then
  weights_host=$(printf '%s' "$MOBILENET_EDGE_WEIGHTS_URL" | sed -E 's#^[A-Za-z]+://([^/]+).*$#\1#')
  net="$net,$weights_host"
fi

npm=node_modules/.deno
read="weights,edge/decode_worker.ts,mod.ts,src"
read="$read,$npm/@tensorflow+tfjs-backend-wasm@4.22.0/node_modules/@tensorflow/tfjs-backend-wasm/wasm-out"
read="$read,$npm/imagescript@1.3.1/node_modules/imagescript/wasm/any"
case "${MOBILENET_EDGE_MODEL:-}" in
  */*) read="$read,${MOBILENET_EDGE_MODEL%/manifest.json}" ;;
esac
if [ -n "${MOBILENET_EDGE_HEADS:-}" ]; then
  read="$read,$MOBILENET_EDGE_HEADS"
fi

env="MOBILENET_EDGE_MODEL,MOBILENET_EDGE_WEIGHTS_URL,MOBILENET_EDGE_MAX_BODY_BYTES,MOBILENET_EDGE_MAX_PIXELS"
env="$env,MOBILENET_EDGE_HEADS,MOBILENET_EDGE_RESIZE,MOBILENET_EDGE_PRECISION"
env="$env,MOBILENET_EDGE_MAX_BUFFERED_BYTES,MOBILENET_EDGE_BODY_IDLE_MS,MOBILENET_EDGE_BODY_TIMEOUT_MS"
env="$env,MOBILENET_EDGE_MAX_INFLIGHT,MOBILENET_EDGE_MAX_QUEUE,MOBILENET_EDGE_RETRY_AFTER"
env="$env,MOBILENET_EDGE_DECODE,MOBILENET_EDGE_DECODE_TIMEOUT_MS,MOBILENET_EDGE_BASE_PATH"
env="$env,MOBILENET_EDGE_THREADS,MOBILENET_EDGE_SIMD,MOBILENET_EDGE_KERNELS,MOBILENET_EDGE_SMALL_BOARD"
env="$env,IMAGESCRIPT_WASM_SIMD"

known="$env,MOBILENET_EDGE_CAMERA_USER,MOBILENET_EDGE_CAMERA_TOKEN"
known="$known,MOBILENET_EDGE_BENCH_DENO,MOBILENET_EDGE_SCREENSHOT"
for name in $(env | sed -n 's/^\(MOBILENET_EDGE_[A-Za-z0-9_]*\)=.*/\1/p'); do
  case ",$known," in
    *",$name,"*) ;;
    *)
      echo "edge: cannot start: $name is not a setting of the edge (a typo?); see edge/config.ts" >&2
      exit 1
      ;;
  esac
done

if [ "${1:-}" = "--print-flags" ]; then
  printf '%s\n' "--allow-net=$net" "--allow-read=$read" "--allow-env=$env"
  exit 0
fi

# Memory (issue 18): under concurrent uploads glibc's main heap, not the WASM heap, is what grows
# (a bare Deno.serve echo server reading the same bodies reaches about 110 MB). One arena, large
# buffers from mmap (returned at free) and a low trim threshold, with a 1 MB V8 young generation,
# held the 16-concurrent edge load flat (bench/edge_load.ts). Set any of them to override.
# Start-up (issue 18): glibc.malloc.hugetlb=1 lets malloc ask for transparent huge pages
# (madvise), so the weights' buffers and the first bodies fault in 2 MiB at a time instead of
# 4 KiB; on this project's VM that took the first 200 from 537 to 449 ms (median of 7) and
# 16.2 -> 14.6 ms of CPU per request, for 3.6 MiB more peak RSS (bench/edge_load.ts: 138.5 ->
# 142.1 MiB, flat from round 2). Where THP is off or glibc is older than 2.35, it does nothing.
export GLIBC_TUNABLES="${GLIBC_TUNABLES:-glibc.malloc.hugetlb=1}"
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-1}"
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-65536}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-131072}"

exec deno serve --host="$host" --port="$port" --v8-flags=--expose-gc,--max-semi-space-size=1 \
  --allow-net="$net" --allow-read="$read" --allow-env="$env" \
  edge/main.ts
