// The entry of src/vendor/tfjs.js (built by tools/tfjs_bundle/build.ts): what the library takes
// from tfjs at run time, as one ES module.
export * from "npm:@tensorflow/tfjs-core@4.22.0";
export { BackendWasm, setThreadsCount } from "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
