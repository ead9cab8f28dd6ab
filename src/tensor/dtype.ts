/** Element types a Tensor can hold. Kernels compute in float32; the others hold images and labels. */
export type DType = 'float32' | 'int32' | 'uint8' | 'float64';
export type TypedArray = Float32Array | Int32Array | Uint8Array | Float64Array;

export const BYTES: Record<DType, number> = { float32: 4, int32: 4, uint8: 1, float64: 8 };

export function isDType(s: unknown): s is DType {
  return s === 'float32' || s === 'int32' || s === 'uint8' || s === 'float64';
}

/**
 * Throws a clear error unless `dtype` is one of the four DTypes. Every creation path calls it
 * before allocating, so a refused call leaves the heap untouched (issue 11 §4).
 */
export function checkDType(dtype: unknown, op: string): asserts dtype is DType {
  if (!isDType(dtype)) {
    throw new TypeError(`convnet: ${op}: unknown dtype ${JSON.stringify(dtype)} (use float32, int32, uint8 or float64)`);
  }
}

export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Float64Array) return 'float64';
  throw new TypeError('unsupported typed array');
}

export function typedView(buffer: ArrayBufferLike, dtype: DType, byteOffset: number, length: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(buffer, byteOffset, length);
    case 'int32': return new Int32Array(buffer, byteOffset, length);
    case 'uint8': return new Uint8Array(buffer, byteOffset, length);
    case 'float64': return new Float64Array(buffer, byteOffset, length);
  }
}

export function allocTyped(dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(length);
    case 'int32': return new Int32Array(length);
    case 'uint8': return new Uint8Array(length);
    case 'float64': return new Float64Array(length);
  }
}
