// Elementwise kernels over flat float32 arrays: unary ops and their backward, the Adam update.
// Work unit = `epu` elements (a multiple of 4). Op codes match UNARY_CODES in ../ops.ts.
import { madd, nextUnit, vexp, vtanh } from "./common";

const GELU_C: f32 = 0.7978845608028654; // sqrt(2 / pi)

@inline function sigmoidv(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), vexp(f32x4.neg(x))));
}

@inline function unaryv(op: i32, x: v128): v128 {
  switch (op) {
    case 0: return f32x4.neg(x);
    case 1: return vexp(x);
    case 2: return f32x4.sqrt(x);
    case 3: return vtanh(x);
    case 4: return v128.and(x, f32x4.gt(x, f32x4.splat(0))); // relu: x > 0 ? x : 0, NaN -> 0
    case 5: {
      const u = f32x4.mul(f32x4.splat(GELU_C), madd(f32x4.mul(f32x4.mul(x, x), x), f32x4.splat(0.044715), x));
      return f32x4.mul(f32x4.mul(f32x4.splat(0.5), x), f32x4.add(f32x4.splat(1), vtanh(u)));
    }
    case 6: return f32x4.mul(x, sigmoidv(x));
    case 7: return f32x4.abs(x);
    case 8: return sigmoidv(x);
    default: return x;
  }
}

/** d op(x) / dx given x and y = op(x). */
@inline function gradv(op: i32, x: v128, y: v128): v128 {
  switch (op) {
    case 0: return f32x4.splat(-1);
    case 1: return y;
    case 2: return f32x4.div(f32x4.splat(0.5), y);
    case 3: return f32x4.sub(f32x4.splat(1), f32x4.mul(y, y));
    case 4: return v128.and(f32x4.gt(x, f32x4.splat(0)), f32x4.splat(1));
    case 5: {
      const x2 = f32x4.mul(x, x);
      const t = vtanh(f32x4.mul(f32x4.splat(GELU_C), madd(f32x4.mul(x2, x), f32x4.splat(0.044715), x)));
      const a = f32x4.mul(f32x4.splat(0.5), f32x4.add(f32x4.splat(1), t));
      const du = f32x4.mul(f32x4.splat(GELU_C), madd(x2, f32x4.splat(3 * 0.044715), f32x4.splat(1)));
      return madd(f32x4.mul(f32x4.mul(f32x4.splat(0.5), x), f32x4.sub(f32x4.splat(1), f32x4.mul(t, t))), du, a);
    }
    case 6: {
      const s = sigmoidv(x);
      return f32x4.mul(s, madd(x, f32x4.sub(f32x4.splat(1), s), f32x4.splat(1)));
    }
    case 7: {
      // sign(x): -1, 0 or 1 (and NaN for NaN)
      const pos = v128.and(f32x4.gt(x, f32x4.splat(0)), f32x4.splat(1));
      const neg = v128.and(f32x4.lt(x, f32x4.splat(0)), f32x4.splat(-1));
      return v128.bitselect(x, v128.or(pos, neg), f32x4.ne(x, x));
    }
    case 8: return f32x4.mul(y, f32x4.sub(f32x4.splat(1), y));
    default: return x;
  }
}

/** n is padded by the caller to a multiple of 4 (the padding lanes are discarded). */
export function unary(op: i32, out: usize, x: usize, n: i32, epu: i32, counter: usize): void {
  const units = (n + epu - 1) / epu;
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    for (let i = u * epu, i1 = min(n, i + epu); i < i1; i += 4) {
      const q = <usize>i << 2;
      v128.store(out + q, unaryv(op, v128.load(x + q)));
    }
  }
}

export function unaryBackward(op: i32, dx: usize, x: usize, y: usize, dy: usize, n: i32, epu: i32, counter: usize): void {
  const units = (n + epu - 1) / epu;
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    for (let i = u * epu, i1 = min(n, i + epu); i < i1; i += 4) {
      const q = <usize>i << 2;
      const g = gradv(op, v128.load(x + q), v128.load(y + q));
      v128.store(dx + q, madd(v128.load(dy + q), g, v128.load(dx + q)));
    }
  }
}

/** One Adam/AdamW step; decay = 1 - lr*wd for AdamW (1 otherwise), l2 = wd for Adam (0 otherwise). */
export function adamUpdate(param: usize, grad: usize, m: usize, v: usize, n: i32, beta1: f32, beta2: f32, eps: f32, stepSize: f32, bc2Sqrt: f32, decay: f32, l2: f32, epu: i32, counter: usize): void {
  const units = (n + epu - 1) / epu;
  const b1 = f32x4.splat(beta1), b2 = f32x4.splat(beta2), c1 = f32x4.splat(1 - beta1), c2 = f32x4.splat(1 - beta2);
  const ev = f32x4.splat(eps), ss = f32x4.splat(stepSize), bs = f32x4.splat(bc2Sqrt), dv = f32x4.splat(decay), lv = f32x4.splat(l2);
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    for (let i = u * epu, i1 = min(n, i + epu); i < i1; i += 4) {
      const q = <usize>i << 2;
      let p = v128.load(param + q);
      const g = madd(lv, p, v128.load(grad + q));
      p = f32x4.mul(p, dv);
      const mm = madd(b1, v128.load(m + q), f32x4.mul(c1, g));
      const vv = madd(b2, v128.load(v + q), f32x4.mul(f32x4.mul(c2, g), g));
      v128.store(m + q, mm);
      v128.store(v + q, vv);
      const den = f32x4.add(f32x4.div(f32x4.sqrt(vv), bs), ev);
      v128.store(param + q, f32x4.sub(p, f32x4.div(f32x4.mul(ss, mm), den)));
    }
  }
}
