import type { GraphBuilder } from '../graph.ts';
import type { OnnxValue } from '../onnx-executor.ts';

/**
 * The small op set training losses are written in, as ONNX nodes of a training stage (so reverse mode
 * differentiates them like the model). Data-dependent choices (which anchors, which points, which class)
 * are made on the host and come in as dense weights, targets and index lists; every loss here is a
 * weighted sum, the weights carrying the normalisers (1/count, loss weights), so batching RoIs of several
 * images into one run changes nothing. Each returns a scalar value name.
 */
export class LossOps {
  constructor(readonly g: GraphBuilder) {}

  private op(type: string, inputs: string[], dims: readonly number[], attrs: Parameters<GraphBuilder['op']>[2] = {}): string {
    return this.g.setDims(this.g.op(type, inputs, attrs), dims);
  }

  private scalar(v: number): string {
    return this.g.setDims(this.g.constFloat([v], []), []);
  }

  /** Record that these values have `dims` (reverse mode reads them to undo broadcasting). */
  private known(dims: readonly number[], ...values: string[]): void {
    for (const v of values) if (!this.g.valueDims.has(v)) this.g.setDims(v, dims);
  }

  /** Σ of all elements → scalar. */
  sum(x: string): string {
    return this.op('ReduceSum', [x], [], { keepdims: { i: 0 } });
  }

  /** A feature map's values as rows `[N·H·W, C]` in NHWC order (cell index n·H·W + y·W + x). */
  rowsNhwc(v: OnnxValue): string {
    const c = v.dims[1]!;
    const t = this.op('Transpose', [v.name], [v.dims[0]!, v.dims[2]!, v.dims[3]!, c], { perm: { ints: [0, 2, 3, 1] } });
    return this.op('Reshape', [t, this.g.constInt64([-1, c])], [-1, c]);
  }

  /** −Σ w·log_softmax(x) along `axis` (w = one-hot targets × per-row weights): weighted cross-entropy. */
  crossEntropy(logits: string, weights: string, dims: readonly number[], axis = 1): string {
    this.known(dims, logits, weights);
    const logp = this.op('LogSoftmax', [logits], dims, { axis: { i: axis } });
    return this.op('Neg', [this.sum(this.op('Mul', [logp, weights], dims))], []);
  }

  /** Σ w·BCE-with-logits(x, y) = Σ w·(max(x,0) − x·y + log(1 + e^(−|x|))). */
  bceWithLogits(logits: string, labels: string, weights: string, dims: readonly number[]): string {
    this.known(dims, logits, labels, weights);
    const relu = this.op('Relu', [logits], dims);
    const xy = this.op('Mul', [logits, labels], dims);
    const soft = this.op('Log', [this.op('Add', [this.scalar(1), this.op('Exp', [this.op('Neg', [this.op('Abs', [logits], dims)], dims)], dims)], dims)], dims);
    const per = this.op('Add', [this.op('Sub', [relu, xy], dims), soft], dims);
    return this.sum(this.op('Mul', [per, weights], dims));
  }

  /** Σ w·smooth_L1(pred − target; β); β < 1e-5 is L1 (detectron2's `smooth_l1_loss`). */
  smoothL1(pred: string, target: string, weights: string, dims: readonly number[], beta: number): string {
    this.known(dims, pred, target, weights);
    const d = this.op('Abs', [this.op('Sub', [pred, target], dims)], dims);
    let per = d;
    if (beta >= 1e-5) {
      const quad = this.op('Mul', [this.op('Mul', [d, d], dims), this.scalar(0.5 / beta)], dims);
      const lin = this.op('Sub', [d, this.scalar(0.5 * beta)], dims);
      per = this.op('Where', [this.op('Less', [d, this.scalar(beta)], dims), quad, lin], dims);
    }
    return this.sum(this.op('Mul', [per, weights], dims));
  }

  /**
   * Bilinear taps: rows of `data` `[R, C]` at `cells` (int64 `[M·4]`) weighted by `tapWeights` `[M,4,1]`
   * and summed over the 4 taps → `[M, C]`.
   */
  taps(data: string, cells: string, tapWeights: string, channels: number): string {
    const gathered = this.op('Gather', [data, cells], [-1, channels], { axis: { i: 0 } });
    const grouped = this.op('Reshape', [gathered, this.g.constInt64([-1, 4, channels])], [-1, 4, channels]);
    return this.op('ReduceSum', [this.op('Mul', [grouped, tapWeights], [-1, 4, channels]), this.g.constInt64([1])], [-1, channels], { keepdims: { i: 0 } });
  }

  add(a: string, b: string): string {
    return this.op('Add', [a, b], []);
  }
}
