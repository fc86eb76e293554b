import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
type Tf = typeof import("@tensorflow/tfjs");
let ready: Promise<Tf> | null = null;

/**
 * TensorFlow.js on its WebAssembly backend (XNNPACK kernels; 9 to 23 times faster than the pure-JS CPU backend for
 * these models in test/bench/models.ts on a 2-core machine), with the CPU backend as the fallback.
 * `TFJS_BACKEND=cpu` forces the fallback. Every model of the thread shares the one backend chosen here.
 */
export function tfReady(): Promise<Tf> {
  ready ??= (async () => {
    const tf = await import("@tensorflow/tfjs");
    if (process.env.TFJS_BACKEND !== "cpu") {
      try {
        const wasm = await import("@tensorflow/tfjs-backend-wasm");
        const binary = require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm");
        wasm.setWasmPaths(`${path.dirname(binary)}/`);
        if (await tf.setBackend("wasm")) return tf;
      } catch {
        // no wasm package or no WebAssembly: the CPU backend below still works
      }
    }
    await tf.setBackend("cpu");
    return tf;
  })();
  return ready;
}
