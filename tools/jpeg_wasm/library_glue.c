/*
 * Link-time glue for mobilenet-edge's build of libjpeg-turbo (tools/jpeg_wasm/build.sh).
 *
 * wasm-ld treats a module in which nothing calls `__wasm_call_ctors` as a WASI "command" and
 * wraps every export (malloc, tjDecompress2, ...) in a function that runs the C library's
 * exit-time destructors (wasi-libc's __wasm_call_dtors: a stdio flush) after each call. This
 * file makes the module a library ("reactor", like wasi-libc's crt1-reactor.o): `_initialize`
 * calls `__wasm_call_ctors`, so the exports are the functions themselves. `_initialize` is not
 * exported and nobody calls it: there is nothing to initialise (no static constructors; build.sh
 * checks that __wasm_call_ctors is empty). This object must not be LTO bitcode.
 */
extern void __wasm_call_ctors(void);

void _initialize(void)
{
  __wasm_call_ctors();
}
