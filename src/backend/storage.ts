// Where a tensor's numbers live. The CPU storage keeps a typed array in the JS heap; the webgpu
// backend's GpuArray keeps them in a GPU buffer and reads them back asynchronously (same interface).

export type DType = "float32" | "float64" | "int32" | "bool";

export type ArrayFor<D extends DType> = D extends "float32"
  ? Float32Array
  : D extends "float64"
    ? Float64Array
    : D extends "int32"
      ? Int32Array
      : Uint8Array;

export type AnyArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export interface Storage {
  readonly dtype: DType;
  readonly length: number;
  /** The values as a host typed array; a device storage may refuse and name the async call. */
  readSync(): AnyArray;
  /** The values as a host typed array, however far away they live. */
  read(): Promise<AnyArray>;
  /** Overwrites every value from host numbers (converted to this dtype), in place. */
  write(src: ArrayLike<number>): void;
}

export class CpuStorage implements Storage {
  constructor(
    readonly dtype: DType,
    readonly array: AnyArray,
  ) {}

  get length(): number {
    return this.array.length;
  }

  readSync(): AnyArray {
    return this.array;
  }

  read(): Promise<AnyArray> {
    return Promise.resolve(this.array);
  }

  write(src: ArrayLike<number>): void {
    this.array.set(src);
  }
}

export function allocArray(dtype: DType, n: number): AnyArray {
  switch (dtype) {
    case "float32": return new Float32Array(n);
    case "float64": return new Float64Array(n);
    case "int32": return new Int32Array(n);
    case "bool": return new Uint8Array(n);
    default: return dtype satisfies never;
  }
}

export function isFloat(dtype: DType): dtype is "float32" | "float64" {
  return dtype === "float32" || dtype === "float64";
}
