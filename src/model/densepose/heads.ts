import type { Executor } from '../../runtime/executor.ts';
import { Conv2d, GroupNorm } from '../../runtime/layers.ts';
import { Module } from '../../runtime/module.ts';
import type { HeadNorm } from './config.ts';

/** A parameter holder that only names children, like a PyTorch `nn.Sequential` / `ModuleList`. */
class Named extends Module {}

export interface AsppOptions {
  inChannels: number;
  outChannels: number;
  /** Dilation rates of the 3×3 branches (detectron2: 6, 12, 56). */
  rates: readonly number[];
  /** Global-average-pooling branch. @default true */
  imagePooling?: boolean;
  /** GroupNorm(32) after each branch conv; '' gives the convs a bias instead. @default 'GN' */
  norm?: HeadNorm;
}

/** conv (no bias when normed) → GN? → ReLU, with torchvision's `nn.Sequential` numbering (`0` conv, `1` GN). */
class ConvBranch extends Named {
  readonly conv: Conv2d;
  readonly gn: GroupNorm | null;
  constructor(inC: number, outC: number, kernel: number, dilation: number, norm: HeadNorm, convIndex: number) {
    super();
    this.conv = this.addModule(String(convIndex), new Conv2d({ inChannels: inC, outChannels: outC, kernel, padding: kernel === 1 ? 0 : dilation, dilation, bias: norm === '' }));
    this.gn = norm === 'GN' ? this.addModule(String(convIndex + 1), new GroupNorm(32, outC)) : null;
  }
  forward<T>(ex: Executor<T>, x: T): T {
    const y = this.conv.forward(ex, x);
    return ex.relu(this.gn ? this.gn.forward(ex, y) : y);
  }
}

/**
 * Atrous Spatial Pyramid Pooling as torchvision's / detectron2 DensePose's `ASPP`: branches 1×1,
 * one dilated 3×3 per rate (padding = rate, so the size is kept), and optionally global average
 * pooling → 1×1 → broadcast back; concatenated and fused by 1×1 + ReLU (`project.0`).
 * Names: `convs.0.0` (1×1), `convs.{1..R}.0` (dilated), `convs.{R+1}.1` (pooling conv; `.0` is the pool), `.1`/`.2` GN.
 * `[K,H,W,Cin]` → `[K,H,W,Cout]`.
 */
export class Aspp extends Module {
  readonly branches: ConvBranch[] = [];
  readonly pool: ConvBranch | null;
  readonly project: Conv2d;
  constructor(readonly options: AsppOptions) {
    super();
    const { inChannels: inC, outChannels: outC, rates } = options;
    const norm = options.norm ?? 'GN';
    const convs = this.addModule('convs', new Named());
    this.branches.push(convs.addModule('0', new ConvBranch(inC, outC, 1, 1, norm, 0)));
    rates.forEach((r, i) => this.branches.push(convs.addModule(String(i + 1), new ConvBranch(inC, outC, 3, r, norm, 0))));
    this.pool = (options.imagePooling ?? true) ? convs.addModule(String(rates.length + 1), new ConvBranch(inC, outC, 1, 1, norm, 1)) : null;
    const n = this.branches.length + (this.pool ? 1 : 0);
    this.project = this.addModule('project', new Named()).addModule('0', new Conv2d({ inChannels: n * outC, outChannels: outC, kernel: 1, bias: false }));
  }
  forward<T>(ex: Executor<T>, x: T): T {
    const parts = this.branches.map((b) => b.forward(ex, x));
    if (this.pool) parts.push(ex.resizeLike(this.pool.forward(ex, ex.globalAvgPool(x)), x, 'bilinear'));
    return ex.relu(this.project.forward(ex, ex.concatChannels(parts)));
  }
}

/** Stack of `body_conv_fcn{i}` (conv k×k, optional GN, ReLU). */
function convStack(owner: Module, n: number, inC: number, dim: number, kernel: number, norm: HeadNorm): Conv2d[] {
  const out: Conv2d[] = [];
  for (let i = 0; i < n; i++) {
    out.push(owner.addModule(`body_conv_fcn${i + 1}`, new Conv2d({ inChannels: i === 0 ? inC : dim, outChannels: dim, kernel, padding: kernel >> 1, norm, bias: norm === '' })));
  }
  return out;
}

function runStack<T>(ex: Executor<T>, convs: readonly Conv2d[], x: T): T {
  let y = x;
  for (const c of convs) y = ex.relu(c.forward(ex, y));
  return y;
}

export interface ConvHeadOptions {
  inChannels: number;
  /** @default 512 */
  hiddenDim?: number;
  /** @default 3 */
  kernel?: number;
  /** @default 8 */
  numConvs?: number;
}

/** Any head body: pooled RoI features `[K,h,w,Cin]` → `[K,h,w,outChannels]`. */
export interface DensePoseHeadBody extends Module {
  readonly outChannels: number;
  forward<T>(ex: Executor<T>, x: T): T;
}

/** detectron2 `DensePoseV1ConvXHead`: N × (conv k×k + ReLU), names `body_conv_fcn{1..N}`. */
export class DensePoseV1ConvXHead extends Module implements DensePoseHeadBody {
  readonly convs: Conv2d[];
  readonly outChannels: number;
  constructor(options: ConvHeadOptions) {
    super();
    const dim = options.hiddenDim ?? 512;
    const n = options.numConvs ?? 8;
    this.convs = convStack(this, n, options.inChannels, dim, options.kernel ?? 3, '');
    this.outChannels = n > 0 ? dim : options.inChannels;
  }
  forward<T>(ex: Executor<T>, x: T): T {
    return runStack(ex, this.convs, x);
  }
}

export interface DeepLabHeadOptions extends ConvHeadOptions {
  /** Norm of the stacked convs (`DEEPLAB.NORM`). @default 'GN' */
  norm?: HeadNorm;
  /** @default [6, 12, 56] */
  rates?: readonly number[];
}

/**
 * detectron2 `DensePoseDeepLabHead`: ASPP (rates 6/12/56, GN, image pooling; output = input channels)
 * then N × (conv + GN + ReLU). The optional NonLocal block of detectron2 (off in its configs) is not built.
 */
export class DensePoseDeepLabHead extends Module implements DensePoseHeadBody {
  readonly aspp: Aspp;
  readonly convs: Conv2d[];
  readonly outChannels: number;
  constructor(options: DeepLabHeadOptions) {
    super();
    const dim = options.hiddenDim ?? 512;
    this.aspp = this.addModule('ASPP', new Aspp({ inChannels: options.inChannels, outChannels: options.inChannels, rates: options.rates ?? [6, 12, 56], norm: 'GN' }));
    this.convs = convStack(this, options.numConvs ?? 8, options.inChannels, dim, options.kernel ?? 3, options.norm ?? 'GN');
    this.outChannels = this.convs.length > 0 ? dim : options.inChannels;
  }
  forward<T>(ex: Executor<T>, x: T): T {
    return runStack(ex, this.convs, this.aspp.forward(ex, x));
  }
}

export interface AsppHeadOptions extends ConvHeadOptions {
  aspp: Omit<AsppOptions, 'inChannels' | 'outChannels'>;
}

/**
 * The paper's head body: a conv tower (`body_conv_fcn{i}`, conv + ReLU) for local features, then ASPP
 * (`aspp.*`) for context over the whole person at full RoI resolution.
 */
export class DensePoseAsppHead extends Module implements DensePoseHeadBody {
  readonly convs: Conv2d[];
  readonly aspp: Aspp;
  readonly outChannels: number;
  constructor(options: AsppHeadOptions) {
    super();
    const dim = options.hiddenDim ?? 512;
    this.convs = convStack(this, options.numConvs ?? 4, options.inChannels, dim, options.kernel ?? 3, '');
    const towerOut = this.convs.length > 0 ? dim : options.inChannels;
    this.aspp = this.addModule('aspp', new Aspp({ ...options.aspp, inChannels: towerOut, outChannels: dim }));
    this.outChannels = dim;
  }
  forward<T>(ex: Executor<T>, x: T): T {
    return this.aspp.forward(ex, runStack(ex, this.convs, x));
  }
}
