/*
 * setjmp.h for libjpeg-turbo compiled to wasm32-wasi (wasi-libc has no setjmp/longjmp).
 *
 * Part of mobilenet-edge's build of libjpeg-turbo (tools/jpeg_wasm/build.sh). Both functions are
 * imported from the host, as in the npm:@cwasm/jpeg-turbo build this replaces:
 *   env.setjmp(buf) -> 0        (always: the "second return" never happens)
 *   env.longjmp(buf, value)     throws a JavaScript exception, which unwinds the WebAssembly
 *                               stack; src/image/jpeg/turbo.ts catches it and discards the
 *                               instance (its heap may hold half-built libjpeg state).
 * libjpeg-turbo only longjmps from its error_exit / emit_message handlers in turbojpeg.c.
 */
#ifndef MOBILENET_EDGE_WASM_SETJMP_H
#define MOBILENET_EDGE_WASM_SETJMP_H

typedef int jmp_buf[1];

__attribute__((import_module("env"), import_name("setjmp")))
int setjmp(jmp_buf env);

__attribute__((import_module("env"), import_name("longjmp"), noreturn))
void longjmp(jmp_buf env, int value);

#endif
