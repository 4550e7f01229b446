import type { Executor } from '../../runtime/executor.ts';
import { Conv2d } from '../../runtime/layers.ts';
import { Module } from '../../runtime/module.ts';
import { RESNET_STAGES, type FpnOptions, type ResNetOptions } from '../config.ts';
import { ResNet } from './resnet.ts';

export const FPN_LEVELS = ['p2', 'p3', 'p4', 'p5', 'p6'] as const;
export type FpnLevel = (typeof FPN_LEVELS)[number];
/** P2..P6 NHWC `[N,H/s,W/s,C]` with s = 4, 8, 16, 32, 64; plus the bottom-up stages. */
export type FpnFeatures<T> = Record<FpnLevel, T> & { res2: T; res3: T; res4: T; res5: T };
export const FPN_STRIDES: Record<FpnLevel, number> = { p2: 4, p3: 8, p4: 16, p5: 32, p6: 64 };

/**
 * detectron2 `FPN` over a ResNet (`backbone`): `bottom_up` + `fpn_lateral{2..5}` (1×1) and
 * `fpn_output{2..5}` (3×3), top-down nearest ×2 sum, P6 = LastLevelMaxPool (1×1 max pool, stride 2) of P5.
 */
export class Fpn extends Module {
  readonly bottom_up: ResNet;
  private readonly laterals: Conv2d[] = [];
  private readonly outputs: Conv2d[] = [];
  readonly outChannels: number;
  constructor(readonly options: { resnet?: ResNetOptions; fpn?: FpnOptions } = {}) {
    super();
    const out = options.fpn?.outChannels ?? 256;
    const norm = options.fpn?.norm ?? '';
    this.outChannels = out;
    // detectron2 registers the FPN convs before bottom_up; names, not order, decide loading.
    const resnet = new ResNet(options.resnet);
    RESNET_STAGES.forEach((stage, i) => {
      const lvl = i + 2;
      const common = { norm: norm === 'GN' ? ('GN' as const) : ('' as const), bias: norm === '', init: 'xavier' as const };
      this.laterals.push(this.addModule(`fpn_lateral${lvl}`, new Conv2d({ inChannels: resnet.shape.channels[stage], outChannels: out, kernel: 1, ...common })));
      this.outputs.push(this.addModule(`fpn_output${lvl}`, new Conv2d({ inChannels: out, outChannels: out, kernel: 3, padding: 1, ...common })));
    });
    this.bottom_up = this.addModule('bottom_up', resnet);
  }

  forward<T>(ex: Executor<T>, x: T): FpnFeatures<T> {
    const c = this.bottom_up.forward(ex, x);
    const ins = [c.res2, c.res3, c.res4, c.res5];
    const ps: T[] = new Array<T>(4);
    let prev = this.laterals[3]!.forward(ex, ins[3]!);
    ps[3] = this.outputs[3]!.forward(ex, prev);
    for (let i = 2; i >= 0; i--) {
      const topDown = ex.resize(prev, { mode: 'nearest', scale: 2 });
      const lateral = this.laterals[i]!.forward(ex, ins[i]!);
      prev = ex.add(lateral, topDown);
      ps[i] = this.outputs[i]!.forward(ex, prev);
    }
    const p6 = ex.maxPool(ps[3]!, { kernel: 1, stride: 2 });
    return { ...c, p2: ps[0]!, p3: ps[1]!, p4: ps[2]!, p5: ps[3]!, p6 };
  }
}
