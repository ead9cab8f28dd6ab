/**
 * HDF5 in and out through h5wasm, sandboxed.
 *
 * Files are opened in h5wasm's in-memory file system (its ESM build), never on the host's: an
 * HDF5 file cannot reach another file through an external link, an external or virtual dataset.
 * On top of that the reader refuses each of these, and soft links, with a message naming the
 * object, and it never trusts a dataset's declared size beyond the limits.
 *
 * The reader returns a plain tree (`H5Group`), so the format code above it never touches
 * h5wasm objects; the writer takes the same kind of tree, in creation order.
 */
import { UnsafeFileError } from './zip.js';

export type H5DType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool';

export interface H5Dataset {
  kind: 'dataset';
  shape: number[];
  dtype: H5DType;
  /** Element values (int64 as numbers; float16 widened to float32). */
  data: Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array;
  attrs: Record<string, unknown>;
}

export interface H5Group {
  kind: 'group';
  attrs: Record<string, unknown>;
  /** Children by name, in the file's (alphabetical) order. */
  children: Map<string, H5Group | H5Dataset>;
}

/** Limits applied while reading an HDF5 file. */
export interface H5Limits {
  /** Most groups and datasets (default 100,000). */
  maxObjects?: number;
  /** Deepest group nesting (default 32). */
  maxDepth?: number;
  /** Most bytes all datasets together may hold once read (default 2 GiB). */
  maxTotalBytes?: number;
}

const DEFAULT_LIMITS: Required<H5Limits> = { maxObjects: 100_000, maxDepth: 32, maxTotalBytes: 2 ** 31 };

/** A dataset to write: float32 for weights, int64 for counters such as `iterations`. */
export interface H5WriteDataset {
  kind: 'dataset';
  shape: number[];
  dtype: 'float32' | 'int64';
  data: Float32Array | number[];
}
export interface H5WriteGroup {
  kind: 'group';
  /** String attributes, or lists of strings (`layer_names`, `weight_names`), written as variable-length UTF-8 as h5py does. */
  attrs?: Record<string, string | string[]>;
  children: [string, H5WriteGroup | H5WriteDataset][];
}

type H5wasm = typeof import('h5wasm').default;
type H5Mod = Awaited<H5wasm['ready']>;
let loading: Promise<{ h5: H5wasm; mod: H5Mod }> | null = null;
let fileCounter = 0;
/** Names the in-memory files apart (no process in a browser: 0 there). */
const PID = typeof process === 'object' && typeof process.pid === 'number' ? process.pid : 0;
/** Paths the HDF5 library tried to open besides the file being read (external references). */
let foreignOpens: string[] = [];
let allowedPath = '';
/** True while reading an untrusted file: HDF5's own diagnostics are dropped. */
let quietDiagnostics = false;

async function loadH5(): Promise<{ h5: H5wasm; mod: H5Mod }> {
  if (!loading) {
    loading = (async () => {
      // The ESM build keeps its files in memory (MEMFS) even under Node, which is the sandbox.
      // It binds its stderr to console.error when evaluated: route that through a filter so the
      // library's diagnostics for a refused file do not flood the terminal (the error says it all).
      const consoleError = console.error;
      console.error = (...args: unknown[]) => { if (!quietDiagnostics) consoleError.apply(console, args); };
      let h5: H5wasm;
      try {
        h5 = (await import('h5wasm')).default;
      } finally {
        console.error = consoleError;
      }
      const mod = await h5.ready;
      const fs = mod.FS as any;
      const open = fs.open;
      fs.open = function (path: string, ...rest: unknown[]) {
        if (allowedPath && path !== allowedPath) {
          foreignOpens.push(String(path));
          throw new fs.ErrnoError(2);
        }
        return open.call(this, path, ...rest);
      };
      (mod as any).activate_throwing_error_handler?.();
      return { h5, mod };
    })();
  }
  return loading;
}

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? Number(x) : x));
  }
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function datasetDType(meta: any, where: string): H5DType {
  // H5T classes: 0 integer, 1 float; h5py writes bool as an enum of int8 (class 8).
  if (meta.type === 1) {
    if (meta.size === 4) return 'float32';
    if (meta.size === 8) return 'float64';
    if (meta.size === 2) return 'float16';
  } else if (meta.type === 0) {
    const bits = meta.size * 8;
    const name = `${meta.signed ? 'int' : 'uint'}${bits}`;
    if (['int64', 'int32', 'int16', 'int8', 'uint8', 'uint16', 'uint32', 'uint64'].includes(name)) return name as H5DType;
  } else if (meta.type === 8 && meta.size === 1) {
    return 'bool';
  }
  throw new UnsafeFileError(`HDF5 dataset ${where} has an unsupported element type (class ${meta.type}, ${meta.size} bytes)`);
}

function convertData(raw: unknown, dtype: H5DType, size: number, where: string): H5Dataset['data'] {
  if (dtype === 'float16') {
    const bytes = raw instanceof Uint8Array ? raw : new Uint8Array((raw as ArrayBufferView).buffer);
    const u16 = new Uint16Array(bytes.buffer, bytes.byteOffset, size);
    return Float32Array.from(u16, halfToFloat);
  }
  if (raw instanceof BigInt64Array || raw instanceof BigUint64Array) return Float64Array.from(raw, (x) => Number(x));
  if (typeof raw === 'number' || typeof raw === 'bigint' || typeof raw === 'boolean') return new Float64Array([Number(raw)]);
  if (ArrayBuffer.isView(raw)) return raw as H5Dataset['data'];
  throw new UnsafeFileError(`HDF5 dataset ${where} could not be read as numbers`);
}

/**
 * Reads an HDF5 file held in memory into a plain tree, refusing soft links, external links,
 * virtual and external datasets. `what` names the file in error messages.
 */
export async function readH5(bytes: Uint8Array, what: string, limits: H5Limits = {}): Promise<H5Group> {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  const { h5, mod } = await loadH5();
  const fs = mod.FS as any;
  const path = `/convnet-read-${PID}-${++fileCounter}.h5`;
  fs.writeFile(path, bytes);
  foreignOpens = [];
  allowedPath = path;
  quietDiagnostics = true;
  let file: InstanceType<H5wasm['File']> | null = null;
  let objects = 0;
  let totalBytes = 0;
  const refuseForeign = (where: string) => {
    if (foreignOpens.length) {
      const f = foreignOpens[0];
      foreignOpens = [];
      throw new UnsafeFileError(`${what}: refused: ${where} refers to another file (${JSON.stringify(f)})`);
    }
  };
  const readAttrs = (obj: any, where: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, a] of Object.entries(obj.attrs as Record<string, any>)) {
      try {
        out[k] = plain(a.value);
      } catch (e) {
        throw new UnsafeFileError(`${what}: cannot read attribute ${JSON.stringify(k)} of ${where}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    return out;
  };
  const walk = (g: any, gpath: string, depth: number): H5Group => {
    if (depth > lim.maxDepth) throw new UnsafeFileError(`${what}: groups nest deeper than ${lim.maxDepth} levels at ${gpath}`);
    const node: H5Group = { kind: 'group', attrs: readAttrs(g, gpath || '/'), children: new Map() };
    for (const name of g.keys() as string[]) {
      const child = `${gpath}/${name}`;
      if (++objects > lim.maxObjects) throw new UnsafeFileError(`${what}: more than ${lim.maxObjects} HDF5 objects`);
      const type = g.get_type(child);
      if (type === mod.H5G_LINK || g.get_link(child) !== null) {
        throw new UnsafeFileError(`${what}: refused the soft link ${JSON.stringify(child)} (model files have none)`);
      }
      if (type === mod.H5G_UDLINK) throw new UnsafeFileError(`${what}: refused the external link ${JSON.stringify(child)}`);
      refuseForeign(JSON.stringify(child));
      if (type === mod.H5G_GROUP) {
        node.children.set(name, walk(g.get(name), child, depth + 1));
      } else if (type === mod.H5G_DATASET) {
        const ds: any = g.get(name);
        const meta = ds.metadata;
        if (meta.virtual_sources) throw new UnsafeFileError(`${what}: refused the virtual dataset ${JSON.stringify(child)}`);
        const shape: number[] = meta.shape ?? [];
        const dtype = datasetDType(meta, JSON.stringify(child));
        const size = shape.reduce((a, b) => a * b, 1);
        totalBytes += size * Math.max(4, meta.size);
        if (totalBytes > lim.maxTotalBytes) throw new UnsafeFileError(`${what}: datasets hold more than ${lim.maxTotalBytes} bytes`);
        let raw: unknown;
        try {
          raw = ds.value;
        } catch (e) {
          refuseForeign(`the dataset ${JSON.stringify(child)}`);
          throw new UnsafeFileError(`${what}: cannot read dataset ${JSON.stringify(child)}: ${(e as Error).message.split('\n')[0]}`);
        }
        refuseForeign(`the dataset ${JSON.stringify(child)} (external storage)`);
        node.children.set(name, { kind: 'dataset', shape, dtype, data: convertData(raw, dtype, size, JSON.stringify(child)), attrs: readAttrs(ds, child) });
      }
      // Committed datatypes carry no values: skipped.
    }
    return node;
  };
  try {
    try {
      file = new h5.File(path, 'r');
    } catch (e) {
      throw new UnsafeFileError(`${what}: not an HDF5 file (${(e as Error).message.split('\n')[0]})`);
    }
    refuseForeign('the file');
    return walk(file, '', 0);
  } finally {
    try { file?.close(); } catch { /* already reported */ }
    allowedPath = '';
    quietDiagnostics = false;
    try { fs.unlink(path); } catch { /* gone */ }
  }
}

/** Writes a tree to HDF5 bytes (groups and datasets in the order given). */
export async function writeH5(root: H5WriteGroup): Promise<Uint8Array> {
  const { h5, mod } = await loadH5();
  const fs = mod.FS as any;
  const path = `/convnet-write-${PID}-${++fileCounter}.h5`;
  allowedPath = path;
  const file = new h5.File(path, 'w');
  let closed = false;
  try {
    const fill = (g: any, node: H5WriteGroup) => {
      for (const [k, v] of Object.entries(node.attrs ?? {})) g.create_attribute(k, v);
      for (const [name, child] of node.children) {
        if (child.kind === 'group') {
          fill(g.create_group(name), child);
        } else if (child.dtype === 'int64') {
          g.create_dataset({ name, data: BigInt64Array.from(child.data as ArrayLike<number>, (x) => BigInt(Math.round(x))), shape: child.shape, dtype: '<q' });
        } else {
          const data = child.data instanceof Float32Array ? child.data : Float32Array.from(child.data);
          g.create_dataset({ name, data, shape: child.shape, dtype: '<f' });
        }
      }
    };
    fill(file, root);
    file.close();
    closed = true;
    return fs.readFile(path) as Uint8Array;
  } finally {
    if (!closed) try { file.close(); } catch { /* the error above says more */ }
    allowedPath = '';
    try { fs.unlink(path); } catch { /* gone */ }
  }
}

/** The child at a '/'-separated path below `g`, or undefined. Names may hold backslashes. */
export function h5Get(g: H5Group, path: string): H5Group | H5Dataset | undefined {
  let node: H5Group | H5Dataset | undefined = g;
  for (const part of path.split('/').filter(Boolean)) {
    if (!node || node.kind !== 'group') return undefined;
    node = node.children.get(part);
  }
  return node;
}

/** Float32 copy of a dataset's values. */
export function h5Float32(d: H5Dataset): Float32Array {
  return d.data instanceof Float32Array ? d.data : Float32Array.from(d.data as ArrayLike<number>);
}
