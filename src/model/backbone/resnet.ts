import type { Executor } from '../../runtime/executor.ts';
import { Conv2d, type NormKind } from '../../runtime/layers.ts';
import { Module } from '../../runtime/module.ts';
import { DensePoseError } from '../../errors.ts';
import { RESNET_DEPTHS, RESNET_STAGES, type ResNetOptions, type ResNetStage } from '../config.ts';
import { freezeModule } from '../freeze.ts';

/** Stage outputs of the bottom-up network, NHWC: res2 `[N,H/4,W/4,C2]` … res5 `[N,H/32,W/32,C5]`. */
export type ResNetFeatures<T> = Record<ResNetStage, T>;

function conv(inChannels: number, outChannels: number, kernel: number, norm: NormKind, o: { stride?: number; padding?: number; dilation?: number; groups?: number } = {}): Conv2d {
  return new Conv2d({ inChannels, outChannels, kernel, norm, bias: false, ...o });
}

/** detectron2 BasicStem (`stem.conv1`, 7×7/2, then 3×3/2 max pool) or the SENet-154 deep stem (`conv1..conv3`). */
export class Stem extends Module {
  private readonly convs: Conv2d[];
  constructor(readonly kind: 'basic' | 'deep', outChannels: number, norm: NormKind) {
    super();
    if (kind === 'basic') {
      this.convs = [this.addModule('conv1', conv(3, outChannels, 7, norm, { stride: 2, padding: 3 }))];
    } else {
      const mid = outChannels / 2;
      this.convs = [
        this.addModule('conv1', conv(3, mid, 3, norm, { stride: 2, padding: 1 })),
        this.addModule('conv2', conv(mid, mid, 3, norm, { padding: 1 })),
        this.addModule('conv3', conv(mid, outChannels, 3, norm, { padding: 1 })),
      ];
    }
  }
  forward<T>(ex: Executor<T>, x: T): T {
    let y = x;
    for (const c of this.convs) y = ex.relu(c.forward(ex, y));
    return ex.maxPool(y, { kernel: 3, stride: 2, padding: 1 });
  }
}

/** Squeeze-and-excitation: global pool → 1×1 `fc1` → ReLU → 1×1 `fc2` → sigmoid → channel scale. */
export class SqueezeExcite extends Module {
  readonly fc1: Conv2d;
  readonly fc2: Conv2d;
  constructor(channels: number, reduction: number) {
    super();
    const mid = Math.max(1, Math.floor(channels / reduction));
    this.fc1 = this.addModule('fc1', new Conv2d({ inChannels: channels, outChannels: mid, kernel: 1 }));
    this.fc2 = this.addModule('fc2', new Conv2d({ inChannels: mid, outChannels: channels, kernel: 1 }));
  }
  forward<T>(ex: Executor<T>, x: T): T {
    const s = ex.sigmoid(this.fc2.forward(ex, ex.relu(this.fc1.forward(ex, ex.globalAvgPool(x)))));
    return ex.mul(x, s);
  }
}

interface BlockOptions {
  inChannels: number;
  outChannels: number;
  stride: number;
  norm: NormKind;
  shortcutKernel: number;
}

function shortcutConv(o: BlockOptions): Conv2d | null {
  if (o.inChannels === o.outChannels && o.stride === 1) return null;
  const k = o.stride > 1 ? o.shortcutKernel : 1;
  return conv(o.inChannels, o.outChannels, k, o.norm, { stride: o.stride, padding: (k - 1) / 2 });
}

/** detectron2 BasicBlock: 3×3 (stride) → 3×3, projection `shortcut` when the shape changes. */
export class BasicBlock extends Module {
  readonly shortcut: Conv2d | null;
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  constructor(o: BlockOptions) {
    super();
    const sc = shortcutConv(o);
    this.shortcut = sc ? this.addModule('shortcut', sc) : null;
    this.conv1 = this.addModule('conv1', conv(o.inChannels, o.outChannels, 3, o.norm, { stride: o.stride, padding: 1 }));
    this.conv2 = this.addModule('conv2', conv(o.outChannels, o.outChannels, 3, o.norm, { padding: 1 }));
  }
  forward<T>(ex: Executor<T>, x: T): T {
    const y = this.conv2.forward(ex, ex.relu(this.conv1.forward(ex, x)));
    return ex.relu(ex.add(y, this.shortcut ? this.shortcut.forward(ex, x) : x));
  }
}

interface BottleneckOptions extends BlockOptions {
  bottleneckChannels: number;
  groups: number;
  dilation: number;
  strideInOneByOne: boolean;
  seReduction: number;
}

/** detectron2 BottleneckBlock (1×1 → grouped 3×3 → 1×1), optionally with SE (`se.fc1/fc2`) before the residual add. */
export class BottleneckBlock extends Module {
  readonly shortcut: Conv2d | null;
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly conv3: Conv2d;
  readonly se: SqueezeExcite | null;
  constructor(o: BottleneckOptions) {
    super();
    const sc = shortcutConv(o);
    this.shortcut = sc ? this.addModule('shortcut', sc) : null;
    const [s1, s3] = o.strideInOneByOne ? [o.stride, 1] : [1, o.stride];
    this.conv1 = this.addModule('conv1', conv(o.inChannels, o.bottleneckChannels, 1, o.norm, { stride: s1 }));
    this.conv2 = this.addModule('conv2', conv(o.bottleneckChannels, o.bottleneckChannels, 3, o.norm, { stride: s3, padding: o.dilation, dilation: o.dilation, groups: o.groups }));
    this.conv3 = this.addModule('conv3', conv(o.bottleneckChannels, o.outChannels, 1, o.norm));
    this.se = o.seReduction > 0 ? this.addModule('se', new SqueezeExcite(o.outChannels, o.seReduction)) : null;
  }
  forward<T>(ex: Executor<T>, x: T): T {
    let y = ex.relu(this.conv1.forward(ex, x));
    y = ex.relu(this.conv2.forward(ex, y));
    y = this.conv3.forward(ex, y);
    if (this.se) y = this.se.forward(ex, y);
    return ex.relu(ex.add(y, this.shortcut ? this.shortcut.forward(ex, x) : x));
  }
}

/** Resolved channel plan of a ResNet (for the FPN and tests). */
export interface ResNetShape {
  channels: Record<ResNetStage, number>;
  strides: Record<ResNetStage, number>;
}

/**
 * detectron2 `ResNet` (`backbone.bottom_up`): `stem`, `res2`..`res5` of Basic (depth 18/34) or Bottleneck
 * (50/101/152; ResNeXt by `numGroups`, SE by `seReduction`) blocks. Input `[N,H,W,3]`, H and W multiples of 32.
 */
export class ResNet extends Module {
  readonly stem: Stem;
  readonly stages: Module[] = [];
  readonly shape: ResNetShape;
  constructor(options: ResNetOptions = {}) {
    super();
    const depth = options.depth ?? 50;
    const blocks = RESNET_DEPTHS[depth];
    if (!blocks) throw new DensePoseError('BAD_OPTION', `Unknown backbone depth "${String(depth)}". Expected one of: ${Object.keys(RESNET_DEPTHS).join(', ')}.`);
    const norm: NormKind = options.norm ?? 'FrozenBN';
    const basic = depth < 50;
    const stemKind = options.stem ?? 'basic';
    const stemOut = options.stemOutChannels ?? (stemKind === 'deep' ? 128 : 64);
    this.stem = this.addModule('stem', new Stem(stemKind, stemOut, norm));
    const groups = options.numGroups ?? 1;
    let bottleneck = groups * (options.widthPerGroup ?? 64);
    let out = options.res2OutChannels ?? (basic ? 64 : 256);
    let inCh = stemOut;
    const channels = {} as Record<ResNetStage, number>;
    const strides = {} as Record<ResNetStage, number>;
    RESNET_STAGES.forEach((name, s) => {
      const dilation = s === 3 ? (options.res5Dilation ?? 1) : 1;
      const firstStride = s === 0 || dilation === 2 ? 1 : 2;
      const stage = this.addModule(name, new Module());
      for (let b = 0; b < blocks[s]!; b++) {
        const common = { inChannels: inCh, outChannels: out, stride: b === 0 ? firstStride : 1, norm, shortcutKernel: options.shortcutKernel ?? 1 };
        stage.addModule(
          String(b),
          basic
            ? new BasicBlock(common)
            : new BottleneckBlock({ ...common, bottleneckChannels: bottleneck, groups, dilation, strideInOneByOne: options.strideInOneByOne ?? true, seReduction: options.seReduction ?? 0 }),
        );
        inCh = out;
      }
      this.stages.push(stage);
      channels[name] = out;
      strides[name] = 4 * 2 ** s / (s === 3 && dilation === 2 ? 2 : 1);
      out *= 2;
      bottleneck *= 2;
    });
    this.shape = { channels, strides };
    const freezeAt = options.freezeAt ?? 2;
    if (freezeAt >= 1) freezeModule(this.stem);
    for (let s = 0; s < 4; s++) if (freezeAt >= s + 2) freezeModule(this.stages[s]!);
  }

  forward<T>(ex: Executor<T>, x: T): ResNetFeatures<T> {
    let y = this.stem.forward(ex, x);
    const out = {} as ResNetFeatures<T>;
    this.stages.forEach((stage, s) => {
      for (const [, block] of stage.namedChildren()) y = (block as BasicBlock | BottleneckBlock).forward(ex, y);
      out[RESNET_STAGES[s]!] = y;
    });
    return out;
  }
}
