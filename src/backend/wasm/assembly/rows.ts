// Row-wise kernels over (N, C) float32 rows: softmax, log-softmax, layer norm, cross-entropy.
// Work unit = `rpu` consecutive rows. Vector bodies with scalar tails for C % 4.
import { hmax, hsum, madd, nextUnit, vexp } from "./common";

@inline function sexp(x: f32): f32 {
  return f32x4.extract_lane(vexp(f32x4.splat(x)), 0);
}

/** max over a row; NaN propagates (the row then comes out NaN, as in the reference). */
@inline function rowMax(x: usize, C: i32): f32 {
  let m = f32x4.splat(-Infinity);
  let c = 0;
  for (; c + 4 <= C; c += 4) m = f32x4.max(m, v128.load(x + (<usize>c << 2)));
  let s = hmax(m);
  for (; c < C; c++) s = max(s, load<f32>(x + (<usize>c << 2)));
  return s;
}

/** sum of exp(x - m); also writes the exponentials to e when e != 0. */
@inline function rowExpSum(e: usize, x: usize, C: i32, m: f32): f32 {
  const mv = f32x4.splat(m);
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= C; c += 4) {
    const v = vexp(f32x4.sub(v128.load(x + (<usize>c << 2)), mv));
    if (e) v128.store(e + (<usize>c << 2), v);
    acc = f32x4.add(acc, v);
  }
  let s = hsum(acc);
  for (; c < C; c++) {
    const v = sexp(load<f32>(x + (<usize>c << 2)) - m);
    if (e) store<f32>(e + (<usize>c << 2), v);
    s += v;
  }
  return s;
}

export function softmaxForward(out: usize, x: usize, N: i32, C: i32, rpu: i32, counter: usize): void {
  const units = (N + rpu - 1) / rpu;
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    for (let n = u * rpu, n1 = min(N, n + rpu); n < n1; n++) {
      const o = <usize>n * <usize>C << 2;
      let m = rowMax(x + o, C);
      if (m == -Infinity) m = 0;
      const s = rowExpSum(out + o, x + o, C, m);
      const sv = f32x4.splat(s);
      let c = 0;
      for (; c + 4 <= C; c += 4) { const p = out + o + (<usize>c << 2); v128.store(p, f32x4.div(v128.load(p), sv)); }
      for (; c < C; c++) { const p = out + o + (<usize>c << 2); store<f32>(p, load<f32>(p) / s); }
    }
  }
}

export function softmaxBackward(dx: usize, y: usize, dy: usize, N: i32, C: i32, rpu: i32, counter: usize): void {
  const units = (N + rpu - 1) / rpu;
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    for (let n = u * rpu, n1 = min(N, n + rpu); n < n1; n++) {
      const o = <usize>n * <usize>C << 2;
      let acc = f32x4.splat(0);
      let c = 0;
      for (; c + 4 <= C; c += 4) acc = madd(v128.load(dy + o + (<usize>c << 2)), v128.load(y + o + (<usize>c << 2)), acc);
      let dot = hsum(acc);
      for (; c < C; c++) dot += load<f32>(dy + o + (<usize>c << 2)) * load<f32>(y + o + (<usize>c << 2));
      const dv = f32x4.splat(dot);
      c = 0;
      for (; c + 4 <= C; c += 4) {
        const q = o + (<usize>c << 2);
        v128.store(dx + q, madd(v128.load(y + q), f32x4.sub(v128.load(dy + q), dv), v128.load(dx + q)));
      }
      for (; c < C; c++) {
        const q = o + (<usize>c << 2);
        store<f32>(dx + q, load<f32>(dx + q) + load<f32>(y + q) * (load<f32>(dy + q) - dot));
      }
    }
  }
}

export function logSoftmaxForward(out: usize, x: usize, N: i32, C: i32, rpu: i32, counter: usize): void {
  const units = (N + rpu - 1) / rpu;
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    for (let n = u * rpu, n1 = min(N, n + rpu); n < n1; n++) {
      const o = <usize>n * <usize>C << 2;
      let m = rowMax(x + o, C);
      if (m == -Infinity) m = 0;
      const lse = <f32>(<f64>m + Math.log(<f64>rowExpSum(0, x + o, C, m)));
      const lv = f32x4.splat(lse);
      let c = 0;
      for (; c + 4 <= C; c += 4) { const q = o + (<usize>c << 2); v128.store(out + q, f32x4.sub(v128.load(x + q), lv)); }
      for (; c < C; c++) { const q = o + (<usize>c << 2); store<f32>(out + q, load<f32>(x + q) - lse); }
    }
  }
}

export function logSoftmaxBackward(dx: usize, y: usize, dy: usize, N: i32, C: i32, rpu: i32, counter: usize): void {
  const units = (N + rpu - 1) / rpu;
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    for (let n = u * rpu, n1 = min(N, n + rpu); n < n1; n++) {
      const o = <usize>n * <usize>C << 2;
      let acc = f32x4.splat(0);
      let c = 0;
      for (; c + 4 <= C; c += 4) acc = f32x4.add(acc, v128.load(dy + o + (<usize>c << 2)));
      let s = hsum(acc);
      for (; c < C; c++) s += load<f32>(dy + o + (<usize>c << 2));
      const sv = f32x4.splat(s);
      c = 0;
      for (; c + 4 <= C; c += 4) {
        const q = o + (<usize>c << 2);
        const g = f32x4.sub(v128.load(dy + q), f32x4.mul(vexp(v128.load(y + q)), sv));
        v128.store(dx + q, f32x4.add(v128.load(dx + q), g));
      }
      for (; c < C; c++) {
        const q = o + (<usize>c << 2);
        store<f32>(dx + q, load<f32>(dx + q) + load<f32>(dy + q) - sexp(load<f32>(y + q)) * s);
      }
    }
  }
}

/** weight/bias are 0 when absent. */
export function layerNormForward(out: usize, mean: usize, rstd: usize, x: usize, w: usize, b: usize, N: i32, C: i32, eps: f32, rpu: i32, counter: usize): void {
  const units = (N + rpu - 1) / rpu;
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    for (let n = u * rpu, n1 = min(N, n + rpu); n < n1; n++) {
      const o = <usize>n * <usize>C << 2;
      let acc = f32x4.splat(0);
      let c = 0;
      for (; c + 4 <= C; c += 4) acc = f32x4.add(acc, v128.load(x + o + (<usize>c << 2)));
      let m = hsum(acc);
      for (; c < C; c++) m += load<f32>(x + o + (<usize>c << 2));
      m /= <f32>C;
      const mv = f32x4.splat(m);
      acc = f32x4.splat(0);
      c = 0;
      for (; c + 4 <= C; c += 4) { const d = f32x4.sub(v128.load(x + o + (<usize>c << 2)), mv); acc = madd(d, d, acc); }
      let v = hsum(acc);
      for (; c < C; c++) { const d = load<f32>(x + o + (<usize>c << 2)) - m; v += d * d; }
      v /= <f32>C;
      const s = <f32>(1.0 / Math.sqrt(<f64>v + <f64>eps));
      const sv = f32x4.splat(s);
      c = 0;
      for (; c + 4 <= C; c += 4) {
        const q = <usize>c << 2;
        let y = f32x4.mul(f32x4.sub(v128.load(x + o + q), mv), sv);
        if (w) y = f32x4.mul(y, v128.load(w + q));
        if (b) y = f32x4.add(y, v128.load(b + q));
        v128.store(out + o + q, y);
      }
      for (; c < C; c++) {
        const q = <usize>c << 2;
        let y = (load<f32>(x + o + q) - m) * s;
        if (w) y *= load<f32>(w + q);
        if (b) y += load<f32>(b + q);
        store<f32>(out + o + q, y);
      }
      store<f32>(mean + (<usize>n << 2), m);
      store<f32>(rstd + (<usize>n << 2), s);
    }
  }
}

/** dx only, over rows; dweight/dbias come from layerNormBackwardParams over columns. */
export function layerNormBackward(dx: usize, dout: usize, x: usize, mean: usize, rstd: usize, w: usize, N: i32, C: i32, rpu: i32, counter: usize): void {
  const units = (N + rpu - 1) / rpu;
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    for (let n = u * rpu, n1 = min(N, n + rpu); n < n1; n++) {
      const o = <usize>n * <usize>C << 2;
      const m = load<f32>(mean + (<usize>n << 2)), s = load<f32>(rstd + (<usize>n << 2));
      const mv = f32x4.splat(m), sv = f32x4.splat(s);
      let am = f32x4.splat(0), ax = f32x4.splat(0);
      let c = 0;
      for (; c + 4 <= C; c += 4) {
        const q = <usize>c << 2;
        const xh = f32x4.mul(f32x4.sub(v128.load(x + o + q), mv), sv);
        let dn = v128.load(dout + o + q);
        if (w) dn = f32x4.mul(dn, v128.load(w + q));
        am = f32x4.add(am, dn);
        ax = madd(dn, xh, ax);
      }
      let dm = hsum(am), dxh = hsum(ax);
      for (let c2 = c; c2 < C; c2++) {
        const q = <usize>c2 << 2;
        const xh = (load<f32>(x + o + q) - m) * s;
        let dn = load<f32>(dout + o + q);
        if (w) dn *= load<f32>(w + q);
        dm += dn;
        dxh += dn * xh;
      }
      dm /= <f32>C;
      dxh /= <f32>C;
      const dmv = f32x4.splat(dm), dxv = f32x4.splat(dxh);
      c = 0;
      for (; c + 4 <= C; c += 4) {
        const q = <usize>c << 2;
        const xh = f32x4.mul(f32x4.sub(v128.load(x + o + q), mv), sv);
        let dn = v128.load(dout + o + q);
        if (w) dn = f32x4.mul(dn, v128.load(w + q));
        const g = f32x4.mul(sv, f32x4.sub(f32x4.sub(dn, dmv), f32x4.mul(xh, dxv)));
        v128.store(dx + o + q, f32x4.add(v128.load(dx + o + q), g));
      }
      for (; c < C; c++) {
        const q = <usize>c << 2;
        const xh = (load<f32>(x + o + q) - m) * s;
        let dn = load<f32>(dout + o + q);
        if (w) dn *= load<f32>(w + q);
        store<f32>(dx + o + q, load<f32>(dx + o + q) + s * (dn - dm - xh * dxh));
      }
    }
  }
}

/** dweight[c] += sum_n dout * xhat, dbias[c] += sum_n dout; units of 4 columns (no races). */
export function layerNormBackwardParams(dw: usize, db: usize, dout: usize, x: usize, mean: usize, rstd: usize, N: i32, C: i32, counter: usize): void {
  const units = (C + 3) >> 2;
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    const c0 = u * 4, nc = min(4, C - c0);
    for (let c = c0; c < c0 + nc; c++) {
      let sw: f32 = 0, sb: f32 = 0;
      for (let n = 0; n < N; n++) {
        const q = (<usize>n * <usize>C + <usize>c) << 2;
        const g = load<f32>(dout + q);
        sw += g * (load<f32>(x + q) - load<f32>(mean + (<usize>n << 2))) * load<f32>(rstd + (<usize>n << 2));
        sb += g;
      }
      if (dw) store<f32>(dw + (<usize>c << 2), load<f32>(dw + (<usize>c << 2)) + sw);
      if (db) store<f32>(db + (<usize>c << 2), load<f32>(db + (<usize>c << 2)) + sb);
    }
  }
}

export function crossEntropyForward(losses: usize, logits: usize, targets: usize, N: i32, V: i32, ignore: i32, rpu: i32, counter: usize): void {
  const units = (N + rpu - 1) / rpu;
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    for (let n = u * rpu, n1 = min(N, n + rpu); n < n1; n++) {
      const t = load<i32>(targets + (<usize>n << 2));
      let loss: f32 = 0;
      if (t != ignore) {
        const o = logits + (<usize>n * <usize>V << 2);
        const m = rowMax(o, V);
        const lse = <f64>m + Math.log(<f64>rowExpSum(0, o, V, m));
        loss = <f32>(lse - <f64>load<f32>(o + (<usize>t << 2)));
      }
      store<f32>(losses + (<usize>n << 2), loss);
    }
  }
}

export function crossEntropyBackward(dlogits: usize, dlosses: usize, logits: usize, targets: usize, N: i32, V: i32, ignore: i32, rpu: i32, counter: usize): void {
  const units = (N + rpu - 1) / rpu;
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    for (let n = u * rpu, n1 = min(N, n + rpu); n < n1; n++) {
      const t = load<i32>(targets + (<usize>n << 2));
      if (t == ignore) continue;
      const ob = <usize>n * <usize>V << 2;
      const o = logits + ob;
      const m = rowMax(o, V);
      const lse = <f32>(<f64>m + Math.log(<f64>rowExpSum(0, o, V, m)));
      const d = load<f32>(dlosses + (<usize>n << 2));
      const lv = f32x4.splat(lse), dv = f32x4.splat(d);
      let c = 0;
      for (; c + 4 <= V; c += 4) {
        const q = <usize>c << 2;
        const p = vexp(f32x4.sub(v128.load(o + q), lv));
        v128.store(dlogits + ob + q, madd(dv, p, v128.load(dlogits + ob + q)));
      }
      for (; c < V; c++) {
        const q = <usize>c << 2;
        store<f32>(dlogits + ob + q, load<f32>(dlogits + ob + q) + d * sexp(load<f32>(o + q) - lse));
      }
      const q = ob + (<usize>t << 2);
      store<f32>(dlogits + q, load<f32>(dlogits + q) - d);
    }
  }
}

/** dweight[ids[n]] += dout[n]; units are 64-column slices so threads never share a cell. */
export function embeddingBackward(dw: usize, dout: usize, ids: usize, N: i32, C: i32, counter: usize): void {
  const units = (C + 63) >> 6;
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    const c0 = u * 64, c1 = min(C, c0 + 64);
    for (let n = 0; n < N; n++) {
      const w = dw + (<usize>load<i32>(ids + (<usize>n << 2)) * <usize>C << 2);
      const g = dout + (<usize>n * <usize>C << 2);
      let c = c0;
      for (; c + 4 <= c1; c += 4) { const q = <usize>c << 2; v128.store(w + q, f32x4.add(v128.load(w + q), v128.load(g + q))); }
      for (; c < c1; c++) { const q = <usize>c << 2; store<f32>(w + q, load<f32>(w + q) + load<f32>(g + q)); }
    }
  }
}
