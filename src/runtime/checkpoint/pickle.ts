import { DensePoseError } from '../../errors.ts';
import { FileReader, MemoryReader } from './byte-reader.ts';
import type { ByteReader } from './byte-reader.ts';
import { fortranToC, numel, typedView } from './ndarray.ts';
import type { DType, NdArray } from './ndarray.ts';
import { parseNumpyDescr } from './npy.ts';

/**
 * A Python pickle reader (protocols 0–5) for checkpoint files: detectron2 model-zoo `.pkl`,
 * DensePose's `Pdist_matrix.pkl`, numpy arrays pickled by Python 2 or 3. It never executes code:
 * a few known callables are emulated (numpy arrays/dtypes/scalars, OrderedDict, set, bytearray,
 * `_codecs.encode`), anything else becomes a {@link PickleObject} holding its class name, arguments and state.
 *
 * Python → JS:
 * - `None` → null; bool → boolean; int → number (bigint beyond ±2^53); float → number.
 * - `str` (Python 3) → string. Python-2 `str` (STRING/BINSTRING/SHORT_BINSTRING) → string decoded as
 *   latin1 (as Python 3's `encoding="latin1"` does), except payloads over 64 KiB, which are returned as
 *   Uint8Array so that array data never goes through JS strings.
 * - `bytes` / `bytearray` → Uint8Array (a view onto the file's bytes).
 * - `dict` and `OrderedDict` → Map (keys keep their Python type; tuple keys become arrays).
 * - `list` and `tuple` → Array. `set` / `frozenset` → Set.
 * - numpy `ndarray` → {@link NdArray} in C order: a typed-array view onto the file's bytes when the data
 *   is aligned for its type, else a copy of just that tensor (pickles put data at arbitrary offsets;
 *   when reading a path, large payloads are read into buffers of their own so they are always aligned).
 *   Fortran-ordered arrays are transposed to C order. numpy scalars → number / bigint / boolean.
 */
export type PickleValue = unknown;

/** An object of a class the reader does not emulate: `module.name` called/constructed with `args`, then `state` from BUILD. */
export class PickleObject {
  /** Items appended by APPEND(S) (list subclasses). */
  readonly listItems: unknown[] = [];
  /** Items set by SETITEM(S) (dict subclasses). */
  readonly dictItems = new Map<unknown, unknown>();
  state: unknown = undefined;
  constructor(
    readonly className: string,
    readonly args: readonly unknown[],
    readonly kwargs?: unknown,
  ) {}
}

/** A class or function reference (GLOBAL / STACK_GLOBAL) that is not emulated. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** numpy.dtype as far as arrays need it. */
class NumpyDtype {
  byteorder = '=';
  constructor(readonly descr: string) {}
}

/** An emulated Python callable (GLOBAL + REDUCE); `ctx.where` names the file for errors. */
export type Callable = (args: unknown[], ctx: Ctx) => unknown;

export interface Ctx {
  where: string;
  pending: WeakSet<object>;
  /** Extra callables of this read ({@link ReadPickleOptions.callables}). */
  callables?: Readonly<Record<string, Callable>>;
  persistentLoad?: (pid: unknown) => unknown;
}

/** Python 3 numpy renamed numpy.core to numpy._core; accept both. */
function npName(mod: string, name: string): string {
  return `${mod.replace(/^numpy\._core\b/, 'numpy.core')}.${name}`;
}

function asBytes(v: unknown, what: string, where: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  // small Python-2 str payloads arrive as latin1-decoded strings; this re-encodes only those
  if (typeof v === 'string') return Buffer.from(v, 'latin1');
  throw new DensePoseError('BAD_FILE', `${what}: expected bytes, got ${describe(v)}`, { where });
}

/** A short description of a pickled value, for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof PickleObject) return `object of ${v.className}`;
  if (v instanceof PickleGlobal) return `global ${v.qualifiedName}`;
  if (Array.isArray(v)) return `tuple/list of ${v.length}`;
  if (v instanceof Map) return 'dict';
  if (typeof v === 'object') return v.constructor.name;
  return typeof v;
}

function dtypeOf(d: unknown, where: string): { dtype: DType; bigEndian: boolean } {
  if (!(d instanceof NumpyDtype)) throw new DensePoseError('BAD_FILE', `numpy array dtype is ${describe(d)}, not numpy.dtype`, { where });
  if (d.descr === 'O' || d.descr === 'O8') {
    throw new DensePoseError('UNSUPPORTED', 'numpy object arrays (dtype=object) are not supported', { where });
  }
  const order = d.byteorder === '=' || d.byteorder === '|' ? '<' : d.byteorder;
  const m = /^([<>|=]?)(.*)$/.exec(d.descr)!;
  return parseNumpyDescr(`${m[1] || order}${m[2]}`, where);
}

function toShape(v: unknown, where: string): number[] {
  const arr = Array.isArray(v) ? v : [v];
  return arr.map((x) => {
    const n = typeof x === 'bigint' ? Number(x) : x;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw new DensePoseError('BAD_FILE', `bad numpy shape ${String(v)}`, { where });
    }
    return n;
  });
}

function makeArray(dt: unknown, shape: number[], fortran: boolean, raw: unknown, ctx: Ctx): NdArray {
  const { dtype, bigEndian } = dtypeOf(dt, ctx.where);
  if (Array.isArray(raw)) throw new DensePoseError('UNSUPPORTED', 'numpy array stored as a list of objects', { where: ctx.where });
  const bytes = asBytes(raw, 'numpy array data', ctx.where);
  const n = numel(shape);
  const data = typedView(bytes, 0, dtype, n, ctx.where, bigEndian);
  return { dtype, shape, data: fortran ? fortranToC(dtype, shape, data) : data };
}

const CALLABLES: Record<string, Callable> = {
  'numpy.core.multiarray._reconstruct': (_args, ctx) => {
    // an empty array whose BUILD (ndarray.__setstate__) fills it in; kept as one object so memo references stay valid
    const arr: NdArray = { dtype: 'uint8', shape: [0], data: new Uint8Array(0) };
    ctx.pending.add(arr);
    return arr;
  },
  'numpy.dtype': (args) => new NumpyDtype(String(args[0])),
  'numpy.core.numeric._frombuffer': (args, ctx) => {
    const [buf, dt, shape, order] = args;
    return makeArray(dt, toShape(shape, ctx.where), order === 'F', buf, ctx);
  },
  'numpy.core.multiarray.scalar': (args, ctx) => {
    const a = makeArray(args[0], [], false, args[1], ctx);
    const v = a.data[0]!;
    return a.dtype === 'bool' ? v !== 0 : v;
  },
  '_codecs.encode': (args) => Buffer.from(String(args[0]), args[1] === 'latin1' || args[1] === 'latin-1' ? 'latin1' : 'utf8'),
  'collections.OrderedDict': (args) => new Map(Array.isArray(args[0]) ? (args[0] as [unknown, unknown][]) : []),
  'builtins.set': (args) => new Set(Array.isArray(args[0]) ? args[0] : []),
  'builtins.frozenset': (args) => new Set(Array.isArray(args[0]) ? args[0] : []),
  'builtins.bytearray': (args) =>
    args.length === 0 ? new Uint8Array(0) : typeof args[0] === 'string' ? Buffer.from(args[0], args[1] === 'latin-1' || args[1] === 'latin1' ? 'latin1' : 'utf8') : Uint8Array.from(args[0] as number[]),
  'builtins.bytes': (args) => (args.length === 0 ? new Uint8Array(0) : Uint8Array.from(args[0] as number[])),
};
for (const k of ['set', 'frozenset', 'bytearray', 'bytes']) CALLABLES[`__builtin__.${k}`] = CALLABLES[`builtins.${k}`]!;

function resolveGlobal(module: string, name: string, ctx: Ctx): PickleGlobal | Callable {
  return ctx.callables?.[`${module}.${name}`] ?? CALLABLES[npName(module, name)] ?? new PickleGlobal(module, name);
}

function call(fn: unknown, args: unknown, ctx: Ctx, kwargs?: unknown): unknown {
  const list = Array.isArray(args) ? args : [];
  if (typeof fn === 'function') return (fn as Callable)(list, ctx);
  if (fn instanceof PickleGlobal) return new PickleObject(fn.qualifiedName, list, kwargs);
  throw new DensePoseError('BAD_FILE', `REDUCE/NEWOBJ on ${describe(fn)}, which is not callable`, { where: ctx.where });
}

function build(obj: unknown, state: unknown, ctx: Ctx): void {
  if (typeof obj === 'object' && obj !== null && ctx.pending.has(obj)) {
    // ndarray.__setstate__: (version, shape, dtype, is_fortran, data) or the old 4-tuple without version
    const st = state as unknown[];
    const s = Array.isArray(st) && st.length === 5 ? st.slice(1) : st;
    if (!Array.isArray(s) || s.length !== 4) throw new DensePoseError('BAD_FILE', `numpy array state ${describe(state)}`, { where: ctx.where });
    const arr = makeArray(s[1], toShape(s[0], ctx.where), s[2] === true || s[2] === 1, s[3], ctx);
    Object.assign(obj, arr);
    ctx.pending.delete(obj);
    return;
  }
  if (obj instanceof NumpyDtype) {
    // dtype.__setstate__: (version, byteorder, subdescr, names, fields, elsize, alignment, flags)
    const s = state as unknown[];
    if (Array.isArray(s) && typeof s[1] === 'string') obj.byteorder = s[1];
    if (Array.isArray(s) && s[3] !== null && s[3] !== undefined) {
      throw new DensePoseError('UNSUPPORTED', 'structured numpy dtypes are not supported', { where: ctx.where });
    }
    return;
  }
  if (obj instanceof PickleObject) {
    obj.state = state;
    return;
  }
  if (obj instanceof Map && state instanceof Map) {
    for (const [k, v] of state) obj.set(k, v);
    return;
  }
  throw new DensePoseError('BAD_FILE', `BUILD on ${describe(obj)}`, { where: ctx.where });
}

function setItem(target: unknown, k: unknown, v: unknown, where: string): void {
  if (target instanceof Map) target.set(k, v);
  else if (target instanceof PickleObject) target.dictItems.set(k, v);
  else throw new DensePoseError('BAD_FILE', `SETITEM on ${describe(target)}`, { where });
}

function append(target: unknown, items: unknown[], where: string): void {
  if (Array.isArray(target)) for (const x of items) target.push(x);
  else if (target instanceof PickleObject) for (const x of items) target.listItems.push(x);
  else if (target instanceof Set) for (const x of items) target.add(x);
  else throw new DensePoseError('BAD_FILE', `APPEND on ${describe(target)}`, { where });
}

function decodeLong(b: Uint8Array): number | bigint {
  if (b.byteLength === 0) return 0;
  if (b.byteLength <= 6) {
    let v = 0;
    for (let i = b.byteLength - 1; i >= 0; i--) v = v * 256 + b[i]!;
    if (b[b.byteLength - 1]! & 0x80) v -= 2 ** (8 * b.byteLength);
    return v;
  }
  let v = 0n;
  for (let i = b.byteLength - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.byteLength - 1]! & 0x80) v -= 1n << BigInt(8 * b.byteLength);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function parseIntText(s: string, where: string): number | bigint | boolean {
  const t = s.trim().replace(/L$/, '');
  if (t === '00') return false;
  if (t === '01') return true;
  if (!/^[-+]?\d+$/.test(t)) throw new DensePoseError('BAD_FILE', `bad integer literal "${s}"`, { where });
  const b = BigInt(t);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

/** Python string literal of protocol 0 STRING ('...' or "..." with backslash escapes) → latin1 string. */
function parseStringLiteral(s: string, where: string): string {
  const q = s[0];
  if ((q !== "'" && q !== '"') || s[s.length - 1] !== q) throw new DensePoseError('BAD_FILE', `bad STRING literal ${s.slice(0, 40)}`, { where });
  return s.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ({ n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v' } as Record<string, string>)[e] ?? `\\${e}`;
  });
}

/** Python-2 str payloads above this length stay bytes (they are array data, not text). */
const PY2_STR_AS_TEXT_MAX = 64 * 1024;

/** Name of the dict entry being built when an error happened, found from the stack (for error messages). */
function entryBeingBuilt(stack: unknown[], marks: number[]): string | undefined {
  for (let i = stack.length - 1; i >= 1; i--) {
    const v = stack[i];
    if (typeof v !== 'string') continue;
    if (stack[i - 1] instanceof Map) return v;
    const m = [...marks].reverse().find((p) => p <= i);
    if (m !== undefined && m >= 1 && stack[m - 1] instanceof Map && (i - m) % 2 === 0) return v;
  }
  return undefined;
}

function run(r: ByteReader, options: ReadPickleOptions): unknown {
  const ctx: Ctx = {
    where: r.where,
    pending: new WeakSet(),
    ...(options.callables ? { callables: options.callables } : {}),
    ...(options.persistentLoad ? { persistentLoad: options.persistentLoad } : {}),
  };
  const where = r.where;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u8 = (what: string) => r.take(1, what)[0]!;
  const u16 = (what: string) => dv(r.take(2, what)).getUint16(0, true);
  const i32 = (what: string) => dv(r.take(4, what)).getInt32(0, true);
  const u32 = (what: string) => dv(r.take(4, what)).getUint32(0, true);
  const u64 = (what: string) => {
    const v = dv(r.take(8, what)).getBigUint64(0, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DensePoseError('BAD_FILE', `${what}: length ${v} too large`, { where });
    return Number(v);
  };
  const utf8 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  const py2str = (b: Uint8Array): unknown => (b.byteLength > PY2_STR_AS_TEXT_MAX ? b : latin1(b));
  const pop = (): unknown => {
    const base = marks.length > 0 ? marks[marks.length - 1]! : 0;
    if (stack.length <= base) throw new DensePoseError('BAD_FILE', `stack underflow at offset ${r.pos}`, { where });
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) throw new DensePoseError('BAD_FILE', `empty stack at offset ${r.pos}`, { where });
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) throw new DensePoseError('BAD_FILE', `no MARK for opcode at offset ${r.pos - 1}`, { where });
    return stack.splice(m);
  };
  const get = (i: number): unknown => {
    if (!memo.has(i)) throw new DensePoseError('BAD_FILE', `memo key ${i} not found (offset ${r.pos})`, { where });
    return memo.get(i);
  };
  const pairs = (items: unknown[], target: unknown) => {
    for (let i = 0; i + 1 < items.length; i += 2) setItem(target, items[i], items[i + 1], where);
  };

  try {
    for (;;) {
      const op = r.byte();
      switch (op) {
        case 0x80: // PROTO
          if (u8('PROTO') > 5) throw new DensePoseError('UNSUPPORTED', 'pickle protocol above 5', { where });
          break;
        case 0x95: // FRAME: a length hint only; the stream continues regardless of framing
          u64('FRAME');
          break;
        case 0x2e: // STOP
          if (stack.length !== 1 || marks.length !== 0) {
            throw new DensePoseError('BAD_FILE', `STOP with ${stack.length} items on the stack`, { where });
          }
          return stack[0];
        case 0x28: // MARK
          marks.push(stack.length);
          break;
        case 0x30: // POP
          if (marks.length > 0 && stack.length === marks[marks.length - 1]) popMark();
          else pop();
          break;
        case 0x31: // POP_MARK
          popMark();
          break;
        case 0x32: // DUP
          stack.push(top());
          break;
        case 0x4e: // NONE
          stack.push(null);
          break;
        case 0x88: // NEWTRUE
          stack.push(true);
          break;
        case 0x89: // NEWFALSE
          stack.push(false);
          break;
        case 0x4b: // BININT1
          stack.push(u8('BININT1'));
          break;
        case 0x4d: // BININT2
          stack.push(u16('BININT2'));
          break;
        case 0x4a: // BININT
          stack.push(i32('BININT'));
          break;
        case 0x8a: // LONG1
          stack.push(decodeLong(r.take(u8('LONG1'), 'LONG1')));
          break;
        case 0x8b: // LONG4
          stack.push(decodeLong(r.take(i32('LONG4'), 'LONG4')));
          break;
        case 0x49: // INT
        case 0x4c: // LONG
          stack.push(parseIntText(latin1(r.line('INT')), where));
          break;
        case 0x47: // BINFLOAT (big-endian)
          stack.push(dv(r.take(8, 'BINFLOAT')).getFloat64(0, false));
          break;
        case 0x46: // FLOAT
          stack.push(Number(latin1(r.line('FLOAT'))));
          break;
        case 0x58: // BINUNICODE
          stack.push(utf8(r.take(u32('BINUNICODE'), 'BINUNICODE')));
          break;
        case 0x8c: // SHORT_BINUNICODE
          stack.push(utf8(r.take(u8('SHORT_BINUNICODE'), 'SHORT_BINUNICODE')));
          break;
        case 0x8d: // BINUNICODE8
          stack.push(utf8(r.take(u64('BINUNICODE8'), 'BINUNICODE8')));
          break;
        case 0x56: // UNICODE (raw-unicode-escape)
          stack.push(latin1(r.line('UNICODE')).replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a?: string, b?: string) => String.fromCodePoint(parseInt((a ?? b)!, 16))));
          break;
        case 0x54: // BINSTRING (Python 2 str)
          stack.push(py2str(r.take(i32('BINSTRING'), 'BINSTRING payload')));
          break;
        case 0x55: // SHORT_BINSTRING
          stack.push(py2str(r.take(u8('SHORT_BINSTRING'), 'SHORT_BINSTRING payload')));
          break;
        case 0x53: // STRING
          stack.push(parseStringLiteral(latin1(r.line('STRING')).trimEnd(), where));
          break;
        case 0x42: // BINBYTES
          stack.push(r.take(u32('BINBYTES'), 'BINBYTES payload'));
          break;
        case 0x43: // SHORT_BINBYTES
          stack.push(r.take(u8('SHORT_BINBYTES'), 'SHORT_BINBYTES payload'));
          break;
        case 0x8e: // BINBYTES8
          stack.push(r.take(u64('BINBYTES8'), 'BINBYTES8 payload'));
          break;
        case 0x96: // BYTEARRAY8
          stack.push(r.take(u64('BYTEARRAY8'), 'BYTEARRAY8 payload'));
          break;
        case 0x97: // NEXT_BUFFER
        case 0x98: // READONLY_BUFFER
          throw new DensePoseError('UNSUPPORTED', 'out-of-band pickle buffers (protocol 5 NEXT_BUFFER) are not supported', { where });
        case 0x29: // EMPTY_TUPLE
          stack.push([]);
          break;
        case 0x85: // TUPLE1
          stack.push([pop()]);
          break;
        case 0x86: {
          // TUPLE2
          const b = pop();
          stack.push([pop(), b]);
          break;
        }
        case 0x87: {
          // TUPLE3
          const c = pop();
          const b = pop();
          stack.push([pop(), b, c]);
          break;
        }
        case 0x74: // TUPLE
        case 0x6c: // LIST
          stack.push(popMark());
          break;
        case 0x5d: // EMPTY_LIST
          stack.push([]);
          break;
        case 0x7d: // EMPTY_DICT
          stack.push(new Map());
          break;
        case 0x64: {
          // DICT
          const m = new Map();
          pairs(popMark(), m);
          stack.push(m);
          break;
        }
        case 0x8f: // EMPTY_SET
          stack.push(new Set());
          break;
        case 0x91: // FROZENSET
          stack.push(new Set(popMark()));
          break;
        case 0x90: {
          // ADDITEMS
          const items = popMark();
          append(top(), items, where);
          break;
        }
        case 0x61: {
          // APPEND
          const v = pop();
          append(top(), [v], where);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = popMark();
          append(top(), items, where);
          break;
        }
        case 0x73: {
          // SETITEM
          const v = pop();
          const k = pop();
          setItem(top(), k, v, where);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = popMark();
          pairs(items, top());
          break;
        }
        case 0x70: // PUT
          memo.set(Number(latin1(r.line('PUT'))), top());
          break;
        case 0x71: // BINPUT
          memo.set(u8('BINPUT'), top());
          break;
        case 0x72: // LONG_BINPUT
          memo.set(u32('LONG_BINPUT'), top());
          break;
        case 0x94: // MEMOIZE
          memo.set(memo.size, top());
          break;
        case 0x67: // GET
          stack.push(get(Number(latin1(r.line('GET')))));
          break;
        case 0x68: // BINGET
          stack.push(get(u8('BINGET')));
          break;
        case 0x6a: // LONG_BINGET
          stack.push(get(u32('LONG_BINGET')));
          break;
        case 0x63: {
          // GLOBAL
          const mod = latin1(r.line('GLOBAL'));
          stack.push(resolveGlobal(mod, latin1(r.line('GLOBAL')), ctx));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = pop();
          const mod = pop();
          stack.push(resolveGlobal(String(mod), String(name), ctx));
          break;
        }
        case 0x52: {
          // REDUCE
          const args = pop();
          const fn = pop();
          stack.push(call(fn, args, ctx));
          break;
        }
        case 0x81: {
          // NEWOBJ: cls.__new__(cls, *args)
          const args = pop();
          const cls = pop();
          stack.push(call(cls, args, ctx));
          break;
        }
        case 0x92: {
          // NEWOBJ_EX
          const kwargs = pop();
          const args = pop();
          const cls = pop();
          stack.push(call(cls, args, ctx, kwargs));
          break;
        }
        case 0x69: {
          // INST (protocol 0): module\nname\n then args since MARK
          const mod = latin1(r.line('INST'));
          const cls = resolveGlobal(mod, latin1(r.line('INST')), ctx);
          stack.push(call(cls, popMark(), ctx));
          break;
        }
        case 0x6f: {
          // OBJ: MARK cls args... OBJ
          const items = popMark();
          stack.push(call(items[0], items.slice(1), ctx));
          break;
        }
        case 0x62: {
          // BUILD
          const state = pop();
          build(top(), state, ctx);
          break;
        }
        case 0x50: // PERSID
        case 0x51: {
          // BINPERSID: references to data outside the pickle (PyTorch storages); resolved by the caller
          const pid = op === 0x50 ? latin1(r.line('PERSID')) : pop();
          if (!ctx.persistentLoad) throw new DensePoseError('UNSUPPORTED', 'persistent ids (PyTorch storages) outside a PyTorch checkpoint; read .pth files with readTorchCheckpoint', { where });
          stack.push(ctx.persistentLoad(pid));
          break;
        }
        case 0x82:
        case 0x83:
        case 0x84:
          throw new DensePoseError('UNSUPPORTED', 'copyreg extension codes (EXT1/2/4) are not supported', { where });
        default:
          throw new DensePoseError('BAD_FILE', `unknown pickle opcode 0x${op.toString(16)} at offset ${r.pos - 1} (not a pickle file?)`, { where });
      }
    }
  } catch (e) {
    if (e instanceof DensePoseError) {
      const entry = entryBeingBuilt(stack, marks);
      if (entry !== undefined && !e.message.includes('(entry ')) {
        throw new DensePoseError(e.code, `${e.message.slice(e.where ? e.where.length + 2 : 0)} (entry "${entry}")`, { where: e.where, cause: e.cause });
      }
    }
    throw e;
  }
}

/** Options of {@link readPickle}. */
export interface ReadPickleOptions {
  /** Name used in error messages when reading from a buffer. @default the path, or "<buffer>" */
  name?: string;
  /** Further emulated callables by qualified name (`torch._utils._rebuild_tensor_v2`), checked first. */
  callables?: Readonly<Record<string, Callable>>;
  /** Resolves PERSID/BINPERSID references (PyTorch storages); without it they are an UNSUPPORTED error. */
  persistentLoad?: (pid: unknown) => unknown;
}

/**
 * Read one pickled object (see {@link PickleValue} for the mapping to JS). A path is read in chunks,
 * with large payloads in aligned buffers of their own; a buffer is parsed in place (array data are views
 * onto it where aligned). Errors are DensePoseError naming the file (TRUNCATED_FILE, BAD_FILE, UNSUPPORTED)
 * and, when possible, the dict entry being read.
 */
export function readPickle(source: string | Uint8Array, options: ReadPickleOptions = {}): PickleValue {
  const reader = typeof source === 'string' ? new FileReader(source, options.name ?? source) : new MemoryReader(source, options.name ?? '<buffer>');
  try {
    return run(reader, options);
  } finally {
    reader.close();
  }
}

function isNdArray(v: unknown): v is NdArray {
  return typeof v === 'object' && v !== null && 'dtype' in v && 'shape' in v && 'data' in v && ArrayBuffer.isView((v as NdArray).data);
}

/**
 * Read a detectron2 checkpoint `.pkl` (`{"model": {name: ndarray}, "__author__": ...}`, or a bare
 * `{name: ndarray}`) into name → NdArray, in the file's order. Tensors keep detectron2's layout
 * (NCHW / OIHW); see `detectron2.ts` to convert. Non-array entries of the state dict are an error naming them.
 */
export function readDetectron2Pkl(source: string | Uint8Array, options: ReadPickleOptions = {}): Map<string, NdArray> {
  const where = options.name ?? (typeof source === 'string' ? source : '<buffer>');
  return detectron2StateDict(readPickle(source, options), where, isNdArray);
}

/**
 * The state dict of an unpickled detectron2 checkpoint (`{"model": {...}}` or bare), in order. `isTensor`
 * says which values are tensors (numpy arrays in `.pkl`; PyTorch tensors in `.pth`).
 */
export function detectron2StateDict<T>(root: unknown, where: string, isTensor: (v: unknown) => v is T): Map<string, T> {
  if (!(root instanceof Map)) throw new DensePoseError('BAD_FILE', `expected a dict at the top of a detectron2 checkpoint, got ${describe(root)}`, { where });
  const model = root.get('model') ?? root;
  if (!(model instanceof Map)) throw new DensePoseError('BAD_FILE', `"model" entry is ${describe(model)}, not a dict`, { where });
  if (root.has('blobs') && !root.has('model')) {
    throw new DensePoseError('UNSUPPORTED', 'a Detectron1 (Caffe2) "blobs" checkpoint; its names differ from detectron2\'s', { where });
  }
  const out = new Map<string, T>();
  for (const [k, v] of model) {
    if (model === root && typeof k === 'string' && k.startsWith('__')) continue; // __author__ etc. beside bare weights
    if (typeof k !== 'string') throw new DensePoseError('BAD_FILE', `state dict key ${String(k)} is not a string`, { where });
    if (!isTensor(v)) throw new DensePoseError('BAD_FILE', `state dict entry "${k}" is ${describe(v)}, not a tensor`, { where });
    out.set(k, v);
  }
  return out;
}
