// The peers, run in this process on the same inputs: onnxruntime-web (wasm) with a plain attention
// graph, and TensorFlow.js on its wasm backend with one batched matMul per product.
import { attentionModel } from "./onnx-graph.js";

export interface Peer {
  name: string;
  /** Returns a function computing attention output (B, H, T, D) for the given inputs. */
  attention(B: number, H: number, T: number, S: number, D: number, causal: boolean, q: Float32Array, k: Float32Array, v: Float32Array): Promise<() => Promise<Float32Array>>;
  matmul?(n: number, a: Float32Array, b: Float32Array): Promise<() => Promise<Float32Array>>;
}

export async function onnxruntimeWeb(threads: number): Promise<Peer> {
  const ort = await import("onnxruntime-web");
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = "error";
  return {
    name: `onnxruntime-web ${ort.env.versions?.web ?? ""} wasm ${threads}t`.replace("  ", " "),
    async attention(B, H, T, S, D, causal, q, k, v) {
      const session = await ort.InferenceSession.create(attentionModel(B, H, T, S, D, causal), { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
      const feeds = { q: new ort.Tensor("float32", q, [B, H, T, D]), k: new ort.Tensor("float32", k, [B, H, S, D]), v: new ort.Tensor("float32", v, [B, H, S, D]) };
      return async () => (await session.run(feeds)).out.data as Float32Array;
    },
  };
}

export async function tfjsWasm(threads: number): Promise<Peer> {
  const tf = await import("@tensorflow/tfjs-core");
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  wasm.setThreadsCount(threads);
  await tf.setBackend("wasm");
  await tf.ready();
  return {
    name: `tfjs-backend-wasm ${tf.version_core} ${wasm.getThreadsCount()}t`,
    async attention(B, H, T, S, D, causal, q, k, v) {
      const tq = tf.tensor3d(q, [B * H, T, D]), tk = tf.tensor3d(k, [B * H, S, D]), tv = tf.tensor3d(v, [B * H, S, D]);
      const maskArr = new Float32Array(T * S);
      for (let t = 0; t < T; t++) for (let s = 0; s < S; s++) maskArr[t * S + s] = s <= t + S - T ? 0 : -Infinity;
      const mask = tf.tensor2d(maskArr, [T, S]);
      return async () => {
        const out = tf.tidy(() => {
          let s = tf.mul(tf.matMul(tq, tk, false, true), 1 / Math.sqrt(D));
          if (causal) s = tf.add(s, mask);
          return tf.matMul(tf.softmax(s), tv);
        });
        const data = (await out.data()) as Float32Array;
        out.dispose();
        return data;
      };
    },
    async matmul(n, a, b) {
      const ta = tf.tensor2d(a, [n, n]), tb = tf.tensor2d(b, [n, n]);
      return async () => {
        const out = tf.matMul(ta, tb);
        const data = (await out.data()) as Float32Array;
        out.dispose();
        return data;
      };
    },
  };
}
