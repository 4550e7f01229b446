// PyTorch checkpoints (`torch.save`, zip format: `<archive>/data.pkl` + one `<archive>/data/<key>` entry per
// storage), read without executing code: the pickle's persistent ids become storage references and
// `torch._utils._rebuild_tensor_v2` becomes a tensor record; only the tensors asked for are read.
import { DensePoseError } from '../../errors.ts';
import { allocTyped, numel, typedView, type DType, type NdArray } from './ndarray.ts';
import { describe, detectron2StateDict, readPickle, type Callable, PickleGlobal } from './pickle.ts';
import { isZipFile, openZip } from './zip.ts';

/** PyTorch storage classes → element type. */
const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** A storage of the archive: `data/<key>`, `numel` elements of `dtype`. */
interface StorageRef {
  key: string;
  dtype: DType;
  numel: number;
}

/** A tensor of the checkpoint, not yet read: a strided view of a storage. */
export class TorchTensor {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

function ints(v: unknown, what: string, where: string): number[] {
  const arr = Array.isArray(v) ? v : [v];
  return arr.map((x) => {
    const n = typeof x === 'bigint' ? Number(x) : x;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new DensePoseError('BAD_FILE', `${what}: ${describe(v)} is not a list of integers`, { where });
    return n;
  });
}

const rebuildTensor: Callable = (args, ctx) => {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof Object) || !('key' in storage)) throw new DensePoseError('BAD_FILE', `_rebuild_tensor_v2 on ${describe(storage)}, not a storage`, { where: ctx.where });
  return new TorchTensor(storage as StorageRef, ints(offset, 'storage offset', ctx.where)[0]!, ints(size, 'tensor size', ctx.where), ints(stride, 'tensor stride', ctx.where));
};

const TORCH_CALLABLES: Record<string, Callable> = {
  'torch._utils._rebuild_tensor_v2': rebuildTensor,
  'torch._utils._rebuild_tensor': rebuildTensor,
  // nn.Parameter(data, requires_grad, hooks) → its data
  'torch._utils._rebuild_parameter': (args) => args[0],
  'torch._utils._rebuild_parameter_with_state': (args) => args[0],
};

/** An open PyTorch checkpoint: the unpickled object (tensors as {@link TorchTensor}) and a way to read tensors. */
export interface TorchCheckpoint {
  root: unknown;
  /** Read a tensor's data (C order; strided views are copied). */
  read(t: TorchTensor): NdArray;
  close(): void;
}

export function openTorchCheckpoint(path: string): TorchCheckpoint {
  if (!isZipFile(path)) {
    throw new DensePoseError('UNSUPPORTED', 'not a zip-format PyTorch checkpoint (torch < 1.6 legacy format, or not PyTorch); re-save it with torch.save in a current PyTorch, or convert it to .pkl', { where: path });
  }
  const zip = openZip(path);
  try {
    const dataPkl = [...zip.entries.keys()].find((n) => /(^|\/)data\.pkl$/.test(n));
    if (!dataPkl) throw new DensePoseError('BAD_FILE', 'zip has no data.pkl: not a PyTorch checkpoint', { where: path });
    const prefix = dataPkl.slice(0, dataPkl.length - 'data.pkl'.length);
    const root = readPickle(zip.read(dataPkl), {
      name: `${path}:${dataPkl}`,
      callables: TORCH_CALLABLES,
      persistentLoad: (pid) => {
        // ('storage', StorageClass, key, location, numel)
        if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof PickleGlobal)) throw new DensePoseError('BAD_FILE', `unknown persistent id ${describe(pid)}`, { where: path });
        const cls = pid[1].name;
        const dtype = STORAGE_DTYPES[cls];
        if (!dtype) throw new DensePoseError('UNSUPPORTED', `tensor storage ${pid[1].qualifiedName} is not supported. Supported: ${Object.keys(STORAGE_DTYPES).join(', ')}`, { where: path });
        return { key: String(pid[2]), dtype, numel: ints(pid[4], 'storage size', path)[0]! } satisfies StorageRef;
      },
    });
    const cache = new Map<string, NdArray['data']>();
    return {
      root,
      read(t) {
        let data = cache.get(t.storage.key);
        if (!data) {
          data = typedView(zip.read(`${prefix}data/${t.storage.key}`), 0, t.storage.dtype, t.storage.numel, `${path}:data/${t.storage.key}`);
          cache.set(t.storage.key, data);
        }
        const n = numel(t.shape);
        const contiguous = t.shape.every((_, i) => t.shape[i] === 1 || t.stride[i] === t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
        if (contiguous) return { dtype: t.storage.dtype, shape: t.shape, data: data.subarray(t.offset, t.offset + n) as NdArray['data'] };
        const out = allocTyped(t.storage.dtype, n);
        const idx = new Array<number>(t.shape.length).fill(0);
        for (let i = 0; i < n; i++) {
          let src = t.offset;
          for (let d = 0; d < idx.length; d++) src += idx[d]! * t.stride[d]!;
          (out as unknown as number[])[i] = (data as unknown as number[])[src]!;
          for (let d = idx.length - 1; d >= 0; d--) {
            if (++idx[d]! < t.shape[d]!) break;
            idx[d] = 0;
          }
        }
        return { dtype: t.storage.dtype, shape: t.shape, data: out };
      },
      close: () => zip.close(),
    };
  } catch (e) {
    zip.close();
    throw e;
  }
}

/**
 * A detectron2 `.pth` (`torch.save({"model": state_dict, "optimizer": …, "iteration": …})`, or a bare
 * state dict) → name → NdArray in detectron2's layout, like `readDetectron2Pkl`. Only the model's
 * tensors are read (optimizer state is skipped).
 */
export function readDetectron2Pth(path: string): Map<string, NdArray> {
  const ckpt = openTorchCheckpoint(path);
  try {
    const sd = detectron2StateDict(ckpt.root, path, (v): v is TorchTensor => v instanceof TorchTensor);
    return new Map([...sd].map(([k, t]) => [k, ckpt.read(t)]));
  } finally {
    ckpt.close();
  }
}

/** A detectron2 checkpoint of either form, by content (zip → `.pth`, else pickle `.pkl`). */
export function isTorchZipCheckpoint(path: string): boolean {
  return isZipFile(path);
}
