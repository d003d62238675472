// toString(): NumPy-like printing, summarised with "..." past 6 entries per axis.
import type { Tensor } from "./tensor.js";

const EDGE = 3;

function fmtValue(v: number, dtype: string): string {
  if (dtype === "bool") return v ? "true" : "false";
  if (dtype === "int32") return String(v);
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e5 || a < 1e-4) ? v.toExponential(4) : String(Number(v.toFixed(4)));
}

export function formatTensor(t: Tensor): string {
  if (!t.onHost) return `tensor(<on the GPU: await t.data()>, shape=[${t.shape.join(", ")}], dtype=${t.dtype})`;
  const values = t.values;
  const shape = t.shape;
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  const rec = (axis: number, offset: number, indent: string): string => {
    if (axis === shape.length) return fmtValue(values[offset], t.dtype);
    const n = shape[axis];
    const idx = n > 2 * EDGE ? [...Array(EDGE).keys(), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)] : [...Array(n).keys()];
    const parts = idx.map((i) => (i < 0 ? "..." : rec(axis + 1, offset + i * strides[axis], indent + " ")));
    const sep = axis === shape.length - 1 ? ", " : ",\n" + indent + " ";
    return "[" + parts.join(sep) + "]";
  };
  const grad = t.requiresGrad ? ", requiresGrad" : "";
  return `tensor(${rec(0, 0, "       ")}, shape=[${shape.join(", ")}], dtype=${t.dtype}${grad})`;
}
