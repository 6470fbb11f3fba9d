// Types of src/vendor/tfjs.js (tools/tfjs_bundle/build.ts): those of the npm packages it bundles.
export * from "npm:@tensorflow/tfjs-core@4.22.0";
export { BackendWasm, setThreadsCount } from "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
