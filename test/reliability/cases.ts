// The cases of the hostile-input corpus, by category (see corpus.ts for the files they use).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { loadCocoDensePoseJson } from '../../src/data/coco-densepose.ts';
import { DensePoseError, ioError } from '../../src/errors.ts';
import { asDensePoseError } from '../../src/cli/exit-codes.ts';
import { createDensePose } from '../../src/infer/densepose.ts';
import { readImage } from '../../src/infer/image-io.ts';
import { readJsonFile, writeFileAtomic, writeFileAtomicSync } from '../../src/io.ts';
import { fromConfig } from '../../src/model/config.ts';
import { initBackend } from '../../src/runtime/backend.ts';
import { LAYOUT_KEY, loadCheckpoint, OUR_LAYOUT, tensorsToNdArrays, writeSafetensors } from '../../src/runtime/checkpoint/index.ts';
import { generateDataset } from '../../src/synth/index.ts';
import { resolveTrainConfig } from '../../src/train/config.ts';
import { loadTrainingSet } from '../../src/train/datasets.ts';
import { assertBatchHasImages, assertFiniteStep } from '../../src/train/loop.ts';
import { buildDensePoseRcnn } from '../../src/model/densepose-rcnn.ts';
import type { Case, Fixtures } from './corpus.ts';
import { poisonedModel } from './corpus.ts';

/** Every case; `f` holds the shared files. */
export function buildCases(f: Fixtures): Case[] {
  return [
    ...usageCases(f),
    ...numberCases(f),
    ...choiceCases(f),
    ...trainConfigCases(f),
    ...modelConfigCases(f),
    ...gtDensePoseCases(f),
    ...gtCocoCases(f),
    ...resultsCases(f),
    ...weightsCases(f),
    ...numericsCases(f),
    ...outputCases(f),
    ...libraryCases(f),
    ...imageCases(f),
  ];
}

function usageCases(f: Fixtures): Case[] {
  const u = (name: string, argv: string[], says: (string | RegExp)[]): Case => ({ category: 'usage', name, argv, code: 'BAD_OPTION', says });
  return [
    u('unknown command', ['trian'], ['unknown command "trian"', 'Did you mean "train"']),
    u('unknown option of synth', ['synth', '--imgs', '3', '--out', f.dir], ['--imgs', 'Did you mean "--images"']),
    u('unknown option of train', ['train', '--confg', 'x.json'], ['--confg', 'Did you mean "--config"']),
    u('unknown option of eval', ['eval', '--gt', f.gtPath, '--preds', f.pred], ['--preds', '--pred']),
    u('unknown option of infer', ['infer', 'x.png', '--outdir', 'o'], ['--outdir']),
    u('unknown option of distill', ['distill', '--teachr', 'm'], ['--teachr', 'Did you mean "--teacher"']),
    u('unknown option of convert', ['convert', 'a.pkl', '--output', 'b'], ['--output']),
    u('unknown option of texture', ['texture', 'a.png', '--atlass', 'x'], ['--atlass']),
    u('unknown option of backend', ['backend', '--thread', '2'], ['--thread']),
    u('value missing at the end', ['synth', '--images', '2', '--out'], ['--out needs a value']),
    u('value missing before a flag', ['synth', '--out', '--force', '--images', '2'], ['--out needs a value']),
    u('train without --config', ['train', '--out', join(f.dir, 'r')], ['--config and --out are required']),
    u('train without --out', ['train', '--config', f.trainConfig('cfg-ok.json')], ['--config and --out are required']),
    u('eval without --pred', ['eval', '--gt', f.gtPath], ['--gt and --pred are required']),
    u('infer without inputs', ['infer', '--out', join(f.dir, 'o')], ['needs at least one INPUT']),
    u('synth without --images', ['synth', '--out', join(f.dir, 's0')], ['--out and --images are required']),
    u('synth with a stray argument', ['synth', 'extra', '--out', join(f.dir, 's1'), '--images', '1'], ['unexpected argument "extra"']),
    u('distill without --teacher', ['distill', '--images', f.synth, '--out', join(f.dir, 'p.json')], ['--teacher is required']),
    u('distill with an unknown sub-command', ['distill', 'mrege', '--out', 'x'], ['unexpected argument "mrege"']),
    u('distill merge without shards', ['distill', 'merge', '--out', join(f.dir, 'm.json')], ['give the shard files and --out']),
    u('convert without input', ['convert', '--out', join(f.dir, 'c.safetensors')], ['expected one input']),
    u('convert from an unknown format', ['convert', 'a.pkl', '--from', 'caffe2'], ['--from "caffe2"', 'detectron2']),
    u('infer --model pointing at a folder', ['infer', 'x.png', '--out', join(f.dir, 'o'), '--model', f.synth], [f.synth, 'not a folder']),
  ];
}

function numberCases(f: Fixtures): Case[] {
  const cfg = f.trainConfig('cfg-numbers.json');
  const n = (name: string, argv: string[], option: string, value: string, rule: RegExp): Case => ({
    category: 'numbers',
    name,
    argv,
    code: 'BAD_OPTION',
    says: [option, `got "${value}"`, rule],
  });
  const train = (v: string) => ['train', '--config', cfg, '--out', join(f.dir, 'run-n'), '--max-iter', v];
  const synth = (k: string, v: string) => ['synth', '--out', join(f.dir, 'synth-n'), '--images', k === 'images' ? v : '1', ...(k === 'images' ? [] : [`--${k}`, v])];
  const infer = (k: string, v: string) => ['infer', f.synth, '--out', join(f.dir, 'inf-n'), '--model', f.model, `--${k}`, v];
  const distill = (k: string, v: string) => ['distill', '--teacher', f.model, '--images', join(f.synth, 'images'), '--out', join(f.dir, 'd-n.json'), `--${k}`, v];
  return [
    ...['0', '-3', 'abc', '1.5', '1e400', '', '0x10', '3abc'].map((v) => n(`train --max-iter ${JSON.stringify(v)}`, train(v), '--max-iter', v, /an integer ≥ 1/)),
    ...['0', '-1', 'abc', '1e12', '2.5', 'Infinity', 'NaN'].map((v) => n(`synth --images ${v}`, synth('images', v), '--images', v, /an integer in 1\.\.1000000/)),
    n('synth --width 10', synth('width', '10'), '--width', '10', /16\.\.4096/),
    n('synth --height 5000', synth('height', '5000'), '--height', '5000', /16\.\.4096/),
    n('synth --seed -1', synth('seed', '-1'), '--seed', '-1', /0\.\.4294967295/),
    n('synth --min-people 0', synth('min-people', '0'), '--min-people', '0', /1\.\.6/),
    n('synth --max-people 7', synth('max-people', '7'), '--max-people', '7', /1\.\.6/),
    n('synth --points 0', synth('points', '0'), '--points', '0', /an integer/),
    n('synth --workers 65', synth('workers', '65'), '--workers', '65', /0\.\.64/),
    n('synth --body-rows 1', synth('body-rows', '1'), '--body-rows', '1', /≥ 2/),
    n('infer --score 1.5', infer('score', '1.5'), '--score', '1.5', /0\.\.1/),
    n('infer --score -0.1', infer('score', '-0.1'), '--score', '-0.1', /0\.\.1/),
    n('infer --score abc', infer('score', 'abc'), '--score', 'abc', /a number/),
    n('infer --batch 0', infer('batch', '0'), '--batch', '0', /1\.\.256/),
    n('infer --min-size 0', infer('min-size', '0'), '--min-size', '0', /8\.\.16384/),
    n('infer --max-size 1e9', infer('max-size', '1e9'), '--max-size', '1e9', /8\.\.16384/),
    n('infer --video-fps 0', infer('video-fps', '0'), '--video-fps', '0', /> 0/),
    n('distill --score 2', distill('score', '2'), '--score', '2', /0\.\.1/),
    n('distill --max-points 0', distill('max-points', '0'), '--max-points', '0', /1\.\.100000/),
    n('distill --max-size x', distill('max-size', 'x'), '--max-size', 'x', /an integer/),
    n('convert --box-pooler -1', ['convert', 'a.pkl', '--box-pooler', '-1'], '--box-pooler', '-1', /0\.\.64/),
    n('texture --min-score 3', ['texture', 'a.png', '--results', 'r.json', '--extract', '--out', 'o.png', '--min-score', '3'], '--min-score', '3', /0\.\.1/),
    n('demo --people 9', ['demo', '--model', f.model, '--people', '9'], '--people', '9', /1\.\.6/),
  ];
}

function choiceCases(f: Fixtures): Case[] {
  const cfg = f.trainConfig('cfg-choices.json');
  const c = (name: string, argv: string[], says: (string | RegExp)[]): Case => ({ category: 'choices', name, argv, code: 'BAD_OPTION', says: [...says, 'Expected one of'] });
  return [
    c('train --backend gpu', ['train', '--config', cfg, '--out', join(f.dir, 'r-c'), '--backend', 'gpu'], ['--backend "gpu"', 'wasm, cpu, tensorflow']),
    c('train --backend wsam (typo)', ['train', '--config', cfg, '--out', join(f.dir, 'r-c'), '--backend', 'wsam'], ['Did you mean "wasm"']),
    c('backend --backend webgl', ['backend', '--backend', 'webgl'], ['--backend "webgl"', 'wasm, cpu, tensorflow']),
    c('infer --backend torch', ['infer', f.synth, '--out', join(f.dir, 'o'), '--model', f.model, '--backend', 'torch'], ['--backend "torch"', 'onnx, tfjs']),
    c('infer --ep gpu', ['infer', f.synth, '--out', join(f.dir, 'o'), '--model', f.model, '--ep', 'gpu'], ['--ep "gpu"', 'cpu']),
    c('infer --vis skeleton', ['infer', f.synth, '--out', join(f.dir, 'o'), '--model', f.model, '--vis', 'parts,skeleton'], ['"skeleton"', 'parts, u, v, uv, boxes']),
    c('distill --backend onnx', ['distill', '--teacher', f.model, '--images', f.synth, '--out', join(f.dir, 'x.json'), '--backend', 'onnx'], ['--backend "onnx"']),
    c('eval --mode gsp', ['eval', '--gt', f.gtPath, '--pred', f.pred, '--mode', 'gsp'], ['--mode "gsp"', 'gps, gpsm, iou, bbox, segm, all', 'Did you mean "gps"']),
    c('synth --format bmp', ['synth', '--out', join(f.dir, 's-c'), '--images', '1', '--format', 'bmp'], ['--format "bmp"', 'png, jpg']),
    c('synth --poses yoga', ['synth', '--out', join(f.dir, 's-c'), '--images', '1', '--poses', 'yoga'], ['--poses "yoga"', 'upright']),
    c('synth --backgrounds space', ['synth', '--out', join(f.dir, 's-c'), '--images', '1', '--backgrounds', 'indoor,space'], ['"space"', 'indoor']),
  ];
}

function trainConfigCases(f: Fixtures): Case[] {
  const run = join(f.dir, 'run-cfg');
  const t = (name: string, cfgPath: string, code: Case['code'], says: (string | RegExp)[], extra: string[] = []): Case => ({
    category: 'train-config',
    name,
    argv: ['train', '--config', cfgPath, '--out', run, ...extra],
    code,
    says: [cfgPath, ...says],
  });
  const cfg = (name: string, change: (c: Record<string, unknown>) => void) => f.trainConfig(name, change);
  const solver = (c: Record<string, unknown>) => c.solver as Record<string, unknown>;
  const input = (c: Record<string, unknown>) => c.input as Record<string, unknown>;
  return [
    t('top-level typo "sovler"', cfg('tc-sovler.json', (c) => { c.sovler = c.solver; delete c.solver; }), 'BAD_CONFIG', ['"sovler"', 'Did you mean "solver"']),
    t('solver typo "maxIters"', cfg('tc-maxiters.json', (c) => { solver(c).maxIters = 5; }), 'BAD_CONFIG', ['"solver.maxIters"', 'Did you mean "maxIter"']),
    t('input typo "minSizeTrian"', cfg('tc-minsize-typo.json', (c) => { input(c).minSizeTrian = [64]; }), 'BAD_CONFIG', ['input.minSizeTrian', 'Did you mean "minSizeTrain"']),
    t('data entry typo "pth"', cfg('tc-pth.json', (c) => { c.data = [{ pth: f.synth }]; }), 'BAD_CONFIG', ['data[0].pth', 'Did you mean "path"']),
    t('missing config file', join(f.dir, 'no-such-config.json'), 'NOT_FOUND', ['training config not found']),
    t('config is a folder', f.synth, 'BAD_FILE', ['is a folder']),
    t('JSON syntax error', f.write('tc-syntax.json', '{\n  "model": "x",\n  "mode": "head",,\n}\n'), 'BAD_FILE', ['malformed JSON at line 3']),
    t('empty file', f.write('tc-empty.json', ''), 'BAD_FILE', ['malformed JSON']),
    t('truncated JSON', f.write('tc-trunc.json', '{"model": {"backbone": {'), 'BAD_FILE', ['malformed JSON at line 1']),
    t('config is an array', f.write('tc-array.json', '[]'), 'BAD_CONFIG', ['must be a JSON object']),
    t('"model" missing', cfg('tc-nomodel.json', (c) => { delete c.model; }), 'BAD_CONFIG', ['"model" is required']),
    t('"model" is a number', cfg('tc-model-num.json', (c) => { c.model = 5; }), 'BAD_CONFIG', ['"model" must be']),
    { ...t('model file missing', cfg('tc-model-missing.json', (c) => { c.model = 'nope/model.json'; }), 'NOT_FOUND', ['model config not found']), says: ['nope/model.json', 'model config not found'] },
    { ...t('model file with a syntax error', cfg('tc-model-syntax.json', (c) => { c.model = f.write('bad-model.json', '{"backbone": {"depth": 18,}}'); }), 'BAD_FILE', []), says: ['bad-model.json', 'malformed JSON at line 1'] },
    t('"data" is not an array', cfg('tc-data-num.json', (c) => { c.data = 7; }), 'BAD_CONFIG', ['"data" must be a list']),
    t('"data" entry is a number', cfg('tc-data-entry.json', (c) => { c.data = [3]; }), 'BAD_CONFIG', ['data[0] must be']),
    t('"data" path is empty', cfg('tc-data-empty-path.json', (c) => { c.data = [{ path: '' }]; }), 'BAD_CONFIG', ['data[0].path']),
    t('"data" ratio is 0', cfg('tc-data-ratio.json', (c) => { c.data = [{ path: f.synth, ratio: 0 }]; }), 'BAD_CONFIG', ['data[0].ratio must be a number > 0']),
    t('minSizeTrain empty', cfg('tc-minsize-empty.json', (c) => { input(c).minSizeTrain = []; }), 'BAD_CONFIG', ['input.minSizeTrain must list at least one']),
    t('minSizeTrain [0]', cfg('tc-minsize-0.json', (c) => { input(c).minSizeTrain = [0]; }), 'BAD_CONFIG', ['input.minSizeTrain[0] must be an integer in 8..16384']),
    t('minSizeTrain ["240"]', cfg('tc-minsize-str.json', (c) => { input(c).minSizeTrain = ['240']; }), 'BAD_CONFIG', ['input.minSizeTrain[0]', 'got "240"']),
    t('minSizeTrain a number', cfg('tc-minsize-num.json', (c) => { input(c).minSizeTrain = 240; }), 'BAD_CONFIG', ['input.minSizeTrain must list']),
    t('solver.maxIter 0', cfg('tc-maxiter0.json', (c) => { solver(c).maxIter = 0; }), 'BAD_CONFIG', ['solver.maxIter must be an integer ≥ 1']),
    t('solver.baseLr -1', cfg('tc-lr.json', (c) => { solver(c).baseLr = -1; }), 'BAD_CONFIG', ['solver.baseLr must be a number > 0']),
    t('solver.imsPerBatch 1.5', cfg('tc-ims.json', (c) => { solver(c).imsPerBatch = 1.5; }), 'BAD_CONFIG', ['solver.imsPerBatch must be an integer']),
    t('solver.steps a string', cfg('tc-steps.json', (c) => { solver(c).steps = '1000'; }), 'BAD_CONFIG', ['solver.steps must be a list']),
    t('solver.momentum 2', cfg('tc-momentum.json', (c) => { solver(c).momentum = 2; }), 'BAD_CONFIG', ['solver.momentum must be a number in [0, 1]']),
    t('solver.optimizer "adam"', cfg('tc-optimizer.json', (c) => { solver(c).optimizer = 'adam'; }), 'BAD_CONFIG', ['Unknown solver.optimizer "adam"', 'sgd, adamw']),
    t('solver.lrSchedule "poly"', cfg('tc-schedule.json', (c) => { solver(c).lrSchedule = 'poly'; }), 'BAD_CONFIG', ['Unknown solver.lrSchedule "poly"', 'multistep, cosine']),
    t('solver.betas [0.9]', cfg('tc-betas.json', (c) => { solver(c).betas = [0.9]; }), 'BAD_CONFIG', ['solver.betas must be [beta1, beta2]']),
    t('input.flipProbability 2', cfg('tc-flip.json', (c) => { input(c).flipProbability = 2; }), 'BAD_CONFIG', ['input.flipProbability']),
    t('"solver" not an object', cfg('tc-solver-arr.json', (c) => { c.solver = [1]; }), 'BAD_CONFIG', ['"solver" must be an object']),
    t('unknown mode', cfg('tc-mode.json', (c) => { c.mode = 'heads'; }), 'BAD_CONFIG', ['Unknown mode "heads"', 'end2end, head']),
    t('seed -1', cfg('tc-seed.json', (c) => { c.seed = -1; }), 'BAD_CONFIG', ['seed must be an integer ≥ 0']),
    t('"val" a number', cfg('tc-val.json', (c) => { c.val = 3; }), 'BAD_CONFIG', ['"val" must be a path']),
    { ...t('data set folder missing', cfg('tc-data-missing.json', (c) => { c.data = [{ path: join(f.dir, 'no-such-set') }]; }), 'NOT_FOUND', ['data set not found']), says: [join(f.dir, 'no-such-set'), 'data set not found'], timeout: 60_000 },
    { ...t('data set folder without annotations.json', cfg('tc-data-noann.json', (c) => { c.data = [{ path: join(f.synth, 'images') }]; }), 'NOT_FOUND', []), says: [join(f.synth, 'images'), 'has no annotations.json'], timeout: 60_000 },
    { ...t('no data sets', cfg('tc-data-none.json', (c) => { c.data = []; }), 'BAD_CONFIG', []), says: ['lists no data sets'], timeout: 60_000 },
    {
      ...t('a data set whose images are all missing', cfg('tc-data-noimages.json', (c) => {
        const copy = structuredClone(f.gt);
        for (const im of copy.images) im.file_name = `missing-${String(im.id)}.png`;
        c.data = [{ path: f.json('noimages/annotations.json', copy) }];
      }), 'NOT_FOUND', []),
      says: ['none of the 3 images could be read', 'noimages'],
      timeout: 120_000,
    },
  ];
}

function modelConfigCases(f: Fixtures): Case[] {
  const tiny = JSON.parse(readFileSync(f.tiny, 'utf8')) as Record<string, Record<string, unknown>>;
  const model = (name: string, change: (m: Record<string, Record<string, unknown>>) => void) => {
    const m = structuredClone(tiny);
    change(m);
    return f.json(name, m);
  };
  const viaTrain = (name: string, m: string, says: (string | RegExp)[]): Case => ({
    category: 'model-config',
    name,
    argv: ['train', '--config', f.trainConfig(`mc-train-${name.replace(/\W+/g, '-')}.json`, (c) => { c.model = m; }), '--out', join(f.dir, 'run-mc')],
    code: 'BAD_CONFIG',
    says: [m, ...says],
  });
  const viaLib = (name: string, json: unknown, says: (string | RegExp)[]): Case => ({
    category: 'model-config',
    name,
    call: () => fromConfig(json, 'my-model.json'),
    code: 'BAD_CONFIG',
    says: ['my-model.json', ...says],
  });
  return [
    viaTrain('backbone typo "dept"', model('mc-dept.json', (m) => { m.backbone!.dept = 18; }), ['backbone.dept', 'Did you mean "depth"']),
    viaTrain('top-level typo "backbon"', model('mc-backbon.json', (m) => { m.backbon = m.backbone!; delete m.backbone; }), ['"backbon"', 'Did you mean "backbone"']),
    viaTrain('densepose typo "haed"', model('mc-haed.json', (m) => { m.densepose!.haed = 'aspp'; }), ['densepose.haed', 'Did you mean "head"']),
    viaTrain('unknown head kind', model('mc-head.json', (m) => { m.densepose!.head = 'unet'; }), ['"unet"', 'aspp']),
    viaTrain('backbone depth 19', model('mc-depth.json', (m) => { m.backbone!.depth = 19; }), ['backbone depth "19"', '18, 34, 50']),
    viaTrain('fpn outChannels -1', model('mc-fpn.json', (m) => { m.fpn!.outChannels = -1; }), ['"outChannels" must be a positive integer']),
    viaLib('rpn typo "nmsThres"', { rpn: { nmsThres: 0.7 } }, ['rpn.nmsThres', 'Did you mean "nmsThresh"']),
    viaLib('roiHeads "scoreThreshTest" 2', { roiHeads: { scoreThreshTest: 2 } }, ['"scoreThreshTest" must be a number in [0, 1]']),
    viaLib('input pixelMean of 2 values', { input: { pixelMean: [1, 2] } }, ['"pixelMean" must be 3 numbers']),
    viaLib('not an object', [1, 2], ['must be a JSON object']),
  ];
}

/** Ground-truth faults specific to DensePose; each runs through eval and through the training reader. */
function gtDensePoseCases(f: Fixtures): Case[] {
  const faults: { name: string; change: (a: Parameters<Parameters<Fixtures['gtWith']>[1]>[0]) => void; code: Case['code']; says: (string | RegExp)[] }[] = [
    { name: 'dp_* arrays of different lengths', change: (a) => a.dp_U!.pop(), code: 'SHAPE_MISMATCH', says: ['field "dp_U"', /has \d+ values, dp_x has \d+/] },
    { name: 'dp_I 0', change: (a) => (a.dp_I![0] = 0), code: 'BAD_INPUT', says: ['field "dp_I"', '[0] = 0', 'an integer 1..24'] },
    { name: 'dp_I 25', change: (a) => (a.dp_I![1] = 25), code: 'BAD_INPUT', says: ['field "dp_I"', '[1] = 25'] },
    { name: 'dp_I 1.5', change: (a) => (a.dp_I![2] = 1.5), code: 'BAD_INPUT', says: ['field "dp_I"', '1.5'] },
    { name: 'dp_U 1.2', change: (a) => (a.dp_U![0] = 1.2), code: 'BAD_INPUT', says: ['field "dp_U"', 'in [0, 1]'] },
    { name: 'dp_V -0.1', change: (a) => (a.dp_V![0] = -0.1), code: 'BAD_INPUT', says: ['field "dp_V"', '-0.1'] },
    { name: 'dp_U null', change: (a) => ((a.dp_U as unknown[])[3] = null), code: 'BAD_INPUT', says: ['field "dp_U"', '[3] = null'] },
    { name: 'dp_V a string', change: (a) => ((a.dp_V as unknown[])[0] = '0.5'), code: 'BAD_INPUT', says: ['field "dp_V"', '"0.5"'] },
    { name: 'dp_x outside the box frame', change: (a) => (a.dp_x![0] = 300), code: 'BAD_INPUT', says: ['field "dp_x"', '300'] },
    { name: 'dp_y null (NaN written by Python)', change: (a) => ((a.dp_y as unknown[])[0] = null), code: 'BAD_INPUT', says: ['field "dp_y"', 'null'] },
    { name: 'dp_x not an array', change: (a) => ((a as Record<string, unknown>).dp_x = 5), code: 'BAD_INPUT', says: ['field "dp_x"'] },
    { name: 'dp_V missing while others present', change: (a) => delete a.dp_V, code: 'MISSING_KEY', says: ['but not dp_V'] },
    { name: '13 dp_masks', change: (a) => a.dp_masks!.pop(), code: 'SHAPE_MISMATCH', says: ['field "dp_masks"', 'got 13'] },
    { name: '15 dp_masks', change: (a) => a.dp_masks!.push([]), code: 'SHAPE_MISMATCH', says: ['field "dp_masks"', 'got 15'] },
    { name: 'dp_masks entry a string', change: (a) => (a.dp_masks![0] = 'abc'), code: 'BAD_INPUT', says: ['dp_masks[0]', 'an RLE must be an object'] },
    { name: 'dp_masks entry a number', change: (a) => (a.dp_masks![1] = 5), code: 'BAD_INPUT', says: ['dp_masks[1]', 'an RLE must be an object'] },
    { name: 'dp_masks entry without size', change: (a) => (a.dp_masks![2] = { counts: 'abc' }), code: 'BAD_INPUT', says: ['dp_masks[2]', 'needs "size"'] },
    { name: 'dp_masks entry of the wrong size', change: (a) => (a.dp_masks![3] = { size: [10, 10], counts: [100] }), code: 'SHAPE_MISMATCH', says: ['dp_masks[3]', 'expected 256×256'] },
    { name: 'dp_masks counts with a bad character', change: (a) => (a.dp_masks![4] = { size: [256, 256], counts: 'ab~cd' }), code: 'BAD_INPUT', says: ['dp_masks[4]', 'not in the RLE alphabet'] },
    { name: 'dp_masks counts not covering the mask', change: (a) => (a.dp_masks![5] = { size: [256, 256], counts: [10, 20] }), code: 'SHAPE_MISMATCH', says: ['dp_masks[5]', 'runs cover 30 pixels'] },
    { name: 'dp_masks counts negative', change: (a) => (a.dp_masks![6] = { size: [256, 256], counts: [-1, 65537] }), code: 'BAD_INPUT', says: ['dp_masks[6]', 'not a non-negative integer'] },
    { name: 'dp_masks not a list', change: (a) => ((a as Record<string, unknown>).dp_masks = {}), code: 'SHAPE_MISMATCH', says: ['field "dp_masks"', 'must be 14 entries'] },
  ];
  const cases: Case[] = [];
  faults.forEach((fault, k) => {
    const path = f.gtWith(`gt-dp-${k}.json`, fault.change);
    const says = [path, `annotation id ${f.dpId}`, ...fault.says];
    cases.push({ category: 'gt-densepose', name: `eval: ${fault.name}`, argv: ['eval', '--gt', path, '--pred', f.pred, '--mode', 'bbox'], code: fault.code, says });
    cases.push({ category: 'gt-densepose', name: `train reader: ${fault.name}`, call: () => loadTrainingSet(path), code: fault.code, says });
  });
  return cases;
}

function gtCocoCases(f: Fixtures): Case[] {
  const g = (name: string, change: (gt: Fixtures['gt']) => void, code: Case['code'], says: (string | RegExp)[]): Case => {
    const copy = structuredClone(f.gt);
    change(copy);
    const path = f.json(`gt-coco-${name.replace(/\W+/g, '-')}.json`, copy);
    return { category: 'gt-coco', name, argv: ['eval', '--gt', path, '--pred', f.pred, '--mode', 'bbox'], code, says: [path, ...says] };
  };
  const a0 = (gt: Fixtures['gt']) => gt.annotations[0]!;
  const id0 = f.gt.annotations[0]!.id;
  return [
    g('annotations not an array', (gt) => ((gt as Record<string, unknown>).annotations = {}), 'MISSING_KEY', ['"annotations" must be an array']),
    g('images missing', (gt) => delete (gt as Record<string, unknown>).images, 'MISSING_KEY', ['"images" must be an array']),
    g('duplicate annotation id', (gt) => (gt.annotations[1]!.id = id0), 'BAD_INPUT', ['duplicate annotation id']),
    g('annotation of an unknown image', (gt) => (a0(gt).image_id = 999), 'BAD_INPUT', [`annotation id ${id0}`, '"image_id" 999']),
    g('negative box width', (gt) => (a0(gt).bbox = [1, 1, -5, 5]), 'BAD_INPUT', [`annotation id ${id0}`, 'bbox']),
    g('box of 3 numbers', (gt) => (a0(gt).bbox = [1, 1, 5]), 'BAD_INPUT', ['bbox must be [x, y, w, h]']),
    g('negative area', (gt) => (a0(gt).area = -1), 'BAD_INPUT', ['"area" must be a number ≥ 0']),
    g('iscrowd 2', (gt) => (a0(gt).iscrowd = 2), 'BAD_INPUT', ['"iscrowd" must be 0 or 1']),
    g('category_id a string', (gt) => (a0(gt).category_id = 'person'), 'BAD_INPUT', ['"category_id" must be an integer']),
    g('image width 0', (gt) => (gt.images[0]!.width = 0), 'BAD_INPUT', ['images[0]', '"width" must be a positive integer']),
    g('segmentation polygon of 5 numbers', (gt) => (a0(gt).segmentation = [[1, 2, 3, 4, 5]]), 'BAD_INPUT', [`annotation id ${id0}`, 'polygon 0']),
    g('segmentation RLE a string', (gt) => (a0(gt).segmentation = 'rle'), 'BAD_INPUT', [`annotation id ${id0}`, 'an RLE must be an object']),
    g('segmentation RLE counts too short', (gt) => (a0(gt).segmentation = { size: [96, 128], counts: [5] }), 'SHAPE_MISMATCH', [`annotation id ${id0}`, 'runs cover 5 pixels']),
    g('image id a string', (gt) => (gt.images[0]!.id = 'a'), 'BAD_INPUT', ['"id" must be an integer']),
    { category: 'gt-coco', name: 'ground truth file missing', argv: ['eval', '--gt', join(f.dir, 'nope.json'), '--pred', f.pred], code: 'NOT_FOUND', says: ['nope.json', 'not found'] },
    { category: 'gt-coco', name: 'ground truth is a folder', argv: ['eval', '--gt', f.synth, '--pred', f.pred], code: 'BAD_FILE', says: [f.synth, 'is a folder'] },
    { category: 'gt-coco', name: 'ground truth truncated', argv: ['eval', '--gt', f.write('gt-trunc.json', readFileSync(f.gtPath, 'utf8').slice(0, 300)), '--pred', f.pred], code: 'BAD_FILE', says: ['gt-trunc.json', 'malformed JSON at line 1, column'] },
    { category: 'gt-coco', name: 'ground truth is a JSON array', argv: ['eval', '--gt', f.json('gt-array.json', []), '--pred', f.pred], code: 'BAD_FILE', says: ['gt-array.json', 'expected a JSON object'] },
  ];
}

function resultsCases(f: Fixtures): Case[] {
  const img = f.gt.images[0]!.id as number;
  const r = (name: string, results: unknown, code: Case['code'], says: (string | RegExp)[], mode = 'bbox'): Case => {
    const path = f.json(`pred-${name.replace(/\W+/g, '-')}.json`, results);
    return { category: 'results', name, argv: ['eval', '--gt', f.gtPath, '--pred', path, '--mode', mode, '--body', join(f.synth, 'body')], code, says: [path, ...says] };
  };
  const ok = { image_id: img, category_id: 1, bbox: [1, 1, 20, 30], score: 0.9 };
  return [
    r('not an array', { foo: 1 }, 'BAD_FILE', ['expected a JSON array of detections']),
    r('unknown image id', [{ ...ok, image_id: 12345 }], 'NOT_FOUND', ['result 0', 'image_id 12345']),
    r('score a string', [{ ...ok, score: 'high' }], 'BAD_INPUT', ['result 0', '"score" must be a finite number']),
    r('no bbox and no segmentation', [{ image_id: img, category_id: 1, score: 0.5 }], 'MISSING_KEY', ['needs "bbox"']),
    r('bbox with a negative width', [{ ...ok, bbox: [0, 0, -3, 4] }], 'BAD_INPUT', ['result 0', 'bbox']),
    r('segmentation RLE a number', [{ ...ok, segmentation: 7 }], 'BAD_INPUT', ['result 0 "segmentation"', 'an RLE must be an object']),
    r('segmentation counts bad character', [{ ...ok, segmentation: { size: [96, 128], counts: '~~' } }], 'BAD_INPUT', ['result 0 "segmentation"', 'RLE alphabet']),
    r('uv_shape wrong', [{ ...ok, uv_shape: [2, 10, 10], uv_data: 'x' }], 'SHAPE_MISMATCH', ['"uv_shape" must be [3, h, w]']),
    r('uv_data not a string', [{ ...ok, uv_shape: [3, 30, 20], uv_data: 5 }], 'BAD_INPUT', ['"uv_data" must be a base64 PNG string']),
    r('uv_data not a PNG', [{ ...ok, uv_shape: [3, 30, 20], uv_data: Buffer.from('not a png').toString('base64') }], 'BAD_INPUT', ['result 0', '"uv_data" is not a decodable base64 PNG'], 'gps'),
    r('DensePose mode without uv fields', [ok], 'MISSING_KEY', ['"uv_shape" and "uv_data"'], 'gps'),
    { category: 'results', name: 'results file missing', argv: ['eval', '--gt', f.gtPath, '--pred', join(f.dir, 'nope-pred.json')], code: 'NOT_FOUND', says: ['nope-pred.json', 'results file not found'] },
    { category: 'results', name: 'results file with a syntax error', argv: ['eval', '--gt', f.gtPath, '--pred', f.write('pred-syntax.json', '[{"image_id": 1,\n "score": }]')], code: 'BAD_FILE', says: ['pred-syntax.json', 'malformed JSON at line 2'] },
  ];
}

function weightsCases(f: Fixtures): Case[] {
  const out = join(f.dir, 'inf-w');
  const nan = poisonedModel(f, 'model-nan.safetensors', NaN);
  const inf = poisonedModel(f, 'model-inf.safetensors', Infinity);
  const bytes = readFileSync(f.model);
  const truncated = f.write('model-truncated.safetensors', bytes.subarray(0, Math.floor(bytes.length / 2)));
  const garbage = f.write('model-garbage.safetensors', 'hello, I am not a model');
  const infer = (name: string, model: string, code: Case['code'], says: (string | RegExp)[]): Case => ({
    category: 'weights',
    name,
    argv: ['infer', join(f.synth, 'images'), '--out', out, '--model', model, '--quiet'],
    code,
    says: [model, ...says],
    timeout: 60_000,
  });
  return [
    infer('NaN in a weight tensor', nan.path, 'BAD_FILE', [`"${nan.tensor}"`, 'NaN or Infinity']),
    infer('Infinity in a weight tensor', inf.path, 'BAD_FILE', [`"${inf.tensor}"`, 'NaN or Infinity']),
    infer('truncated model file', truncated, 'TRUNCATED_FILE', ['truncated']),
    infer('not a model file', garbage, 'BAD_FILE', ['not a safetensors file']),
    infer('model file missing', join(f.dir, 'no-model.safetensors'), 'NOT_FOUND', ['model file not found']),
    { ...infer('model is a folder', f.synth, 'BAD_OPTION', ['not a folder']) },
    {
      category: 'weights',
      name: 'library loadCheckpoint of NaN weights names the tensor',
      call: async () => {
        await initBackend({ backend: 'cpu' });
        const { readModelConfig } = await import('../../src/infer/model-file.ts');
        const rcnn = buildDensePoseRcnn(readModelConfig(nan.path));
        try {
          loadCheckpoint(nan.path, rcnn.model);
        } finally {
          rcnn.model.dispose();
        }
      },
      code: 'BAD_FILE',
      says: [nan.path, `"${nan.tensor}"`, '1 of'],
    },
    {
      category: 'weights',
      name: 'createDensePose on Inf weights',
      call: () => createDensePose({ model: inf.path, tfjsBackend: 'cpu' }),
      code: 'BAD_FILE',
      says: [inf.path, `"${inf.tensor}"`],
    },
    {
      category: 'weights',
      name: 'resume from a checkpoint with NaN refuses it by name',
      argv: ['train', '--config', f.trainConfig('cfg-resume-nan.json'), '--out', join(f.dir, 'run-nan'), '--resume', '--backend', 'cpu'],
      code: 'BAD_FILE',
      says: ['model_0000001.safetensors', 'NaN or Infinity'],
      before: async () => {
        await initBackend({ backend: 'cpu' });
        const dir = join(f.dir, 'run-nan', 'checkpoints');
        mkdirSync(dir, { recursive: true });
        const rcnn = buildDensePoseRcnn(fromConfig(JSON.parse(readFileSync(f.tiny, 'utf8'))));
        const arrays = await tensorsToNdArrays(rcnn.model.stateDict());
        rcnn.model.dispose();
        const first = [...arrays.values()].find((a) => a.data instanceof Float32Array)!;
        first.data[0] = NaN;
        writeSafetensors(join(dir, 'model_0000001.safetensors'), arrays, { iteration: '1', [LAYOUT_KEY]: OUR_LAYOUT });
        writeFileSync(join(dir, 'last_checkpoint'), 'model_0000001.safetensors');
      },
      timeout: 60_000,
    },
  ];
}

function numericsCases(f: Fixtures): Case[] {
  const run = join(f.dir, 'run-diverge');
  return [
    {
      category: 'numerics',
      name: 'a run that diverges stops with exit 5 and writes no model_final',
      argv: ['train', '--config', f.trainConfig('cfg-diverge.json', (c) => {
        (c.solver as Record<string, unknown>).baseLr = 1e30;
        (c.solver as Record<string, unknown>).maxIter = 4;
        (c.solver as Record<string, unknown>).clipNorm = 0;
      }), '--out', run, '--backend', 'cpu'],
      code: 'NUMERIC',
      says: ['training diverged', /(loss|gradient norm) became/, 'no final model is written'],
      after: () => {
        expect(existsSync(join(run, 'model_final.safetensors'))).toBe(false);
        expect(readdirSync(join(run, 'checkpoints')).filter((n) => n.endsWith('.safetensors'))).toEqual([]);
      },
      timeout: 120_000,
    },
    { category: 'numerics', name: 'stop condition: loss NaN', call: () => assertFiniteStep({ iteration: 3, total: NaN, losses: { loss_s: NaN } }), code: 'NUMERIC', says: ['loss became NaN at iteration 3'] },
    { category: 'numerics', name: 'stop condition: loss Infinity', call: () => assertFiniteStep({ iteration: 0, total: Infinity, losses: {}, lastCheckpoint: 'ck.safetensors' }), code: 'NUMERIC', says: ['loss became Infinity', 'ck.safetensors'] },
    { category: 'numerics', name: 'stop condition: gradient norm NaN with a finite loss', call: () => assertFiniteStep({ iteration: 1, total: 2.5, gradNorm: NaN, losses: {} }), code: 'NUMERIC', says: ['gradient norm became NaN', 'loss 2.5'] },
    { category: 'numerics', name: 'stop condition: a batch with no images', call: () => assertBatchHasImages([], 7), code: 'BAD_INPUT', says: ['iteration 7', 'none of the images'] },
    {
      category: 'numerics',
      name: 'zero-area ground-truth boxes are dropped and reported',
      call: async () => {
        const path = f.gtWith('gt-zero-area.json', (a) => {
          const [x, y, w] = a.bbox as [number, number, number, number];
          a.bbox = [x, y, w, 0];
        });
        const skipped: string[] = [];
        const set = await loadTrainingSet(path, { onSkip: (_file, reason) => skipped.push(reason) });
        const people = set.images.reduce((n, im) => n + im.people.length, 0);
        expect(skipped.some((s) => s.includes(`annotation id ${f.dpId}`) && s.includes('dropped'))).toBe(true);
        expect(people).toBe(f.gt.annotations.length - 1);
        throw new DensePoseError('BAD_INPUT', `dropped: ${skipped.join('; ')}`, { where: path });
      },
      code: 'BAD_INPUT',
      says: [`annotation id ${f.dpId}`, 'under 1 pixel', 'dropped'],
    },
  ];
}

function outputCases(f: Fixtures): Case[] {
  const file = f.write('a-file.txt', 'I am a file');
  const cfg = f.trainConfig('cfg-out.json');
  const io = (name: string, argv: string[], says: (string | RegExp)[], timeout?: number): Case => ({ category: 'output-io', name, argv, code: 'IO', says, ...(timeout ? { timeout } : {}) });
  return [
    io('synth --out is a file', ['synth', '--out', file, '--images', '1', '--no-body'], [file, 'is a file, not a folder']),
    io('synth --out under a file', ['synth', '--out', join(file, 'sub'), '--images', '1', '--no-body'], [join(file, 'sub'), 'a file is in the way']),
    io('infer --out is a file', ['infer', join(f.synth, 'images'), '--out', file, '--model', f.model, '--quiet'], [file, 'a file is in the way'], 60_000),
    io('train --out is a file', ['train', '--config', cfg, '--out', file, '--backend', 'cpu'], [file, 'a file is in the way'], 60_000),
    io('train --out under a file', ['train', '--config', cfg, '--out', join(file, 'run'), '--backend', 'cpu'], [join(file, 'run'), 'a file is in the way'], 60_000),
    io('distill merge --out under a file', ['distill', 'merge', f.gtPath, '--out', join(file, 'x', 'm.json')], [join(file, 'x'), 'a file is in the way']),
    io('distill --out under a file', ['distill', '--teacher', f.model, '--images', join(f.synth, 'images'), '--out', join(file, 'p', 'pseudo.json'), '--backend', 'cpu'], [join(file, 'p'), 'a file is in the way']),
    {
      category: 'output-io',
      name: 'atomic write into a missing folder: the real error, not the cleanup one',
      call: () => writeFileAtomicSync(join(f.dir, 'missing-dir', 'x.bin'), [new Uint8Array(4)]),
      code: 'IO',
      says: ['missing-dir', 'cannot write', 'ENOENT'],
    },
    {
      category: 'output-io',
      name: 'atomic write where a folder part is a file (cleanup would throw ENOTDIR)',
      call: () => writeFileAtomicSync(join(file, 'x.bin'), [new Uint8Array(4)]),
      code: 'IO',
      says: ['a-file.txt', 'cannot write', 'ENOTDIR'],
    },
    {
      category: 'output-io',
      name: 'async atomic write onto a folder',
      call: async () => {
        mkdirSync(join(f.dir, 'a-folder', 'x.png'), { recursive: true });
        await writeFileAtomic(join(f.dir, 'a-folder', 'x.png'), new Uint8Array(4));
      },
      code: 'IO',
      says: ['x.png', 'cannot write'],
      after: () => expect(readdirSync(join(f.dir, 'a-folder')).filter((n) => n.includes('.tmp-'))).toEqual([]),
    },
    ...diskFullCases(f),
    {
      category: 'output-io',
      name: 'readJsonFile of a folder',
      call: () => readJsonFile(f.synth, 'training config'),
      code: 'BAD_FILE',
      says: [f.synth, 'is a folder, expected a training config'],
    },
  ];
}

/** ENOSPC: on a real full tmpfs where we may mount one, else through the error mapping every writer uses. */
function diskFullCases(f: Fixtures): Case[] {
  const disk = f.tinyDisk;
  if (!disk) {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    return [
      { category: 'output-io', name: 'disk full (ENOSPC) as a writer meets it', call: () => { throw ioError(enospc, '/data/out/x.png', 'write'); }, code: 'IO', says: ['/data/out/x.png', 'no space left on the device (ENOSPC)'] },
      { category: 'output-io', name: 'disk full (ENOSPC) escaping a command', call: () => { throw asDensePoseError(Object.assign(enospc, { path: '/data/out/y.json' })); }, code: 'IO', says: ['/data/out/y.json', 'ENOSPC'] },
    ];
  }
  const set = join(disk, 'set');
  return [
    {
      category: 'output-io',
      name: 'synth on a full disk: one line, exit 4, no partial image under a final name',
      argv: ['synth', '--out', set, '--images', '40', '--width', '320', '--height', '240', '--no-body', '--workers', '0'],
      code: 'IO',
      says: [disk, 'no space left on the device (ENOSPC)'],
      after: () => {
        expect(existsSync(join(set, 'annotations.json'))).toBe(false);
        for (const sub of ['images', 'iuv']) expect(readdirSync(join(set, sub)).filter((n) => n.includes('.tmp-'))).toEqual([]);
      },
      timeout: 60_000,
    },
    {
      category: 'output-io',
      name: 'atomic write on a full disk leaves no temporary file',
      call: () => writeFileAtomicSync(join(disk, 'big.bin'), [new Uint8Array(1 << 20)]),
      code: 'IO',
      says: ['big.bin', 'no space left on the device (ENOSPC)'],
      after: () => expect(readdirSync(disk).filter((n) => n.startsWith('big.bin'))).toEqual([]),
    },
  ];
}

function libraryCases(f: Fixtures): Case[] {
  const lib = (name: string, call: () => unknown, code: Case['code'], says: (string | RegExp)[]): Case => ({ category: 'library', name, call, code, says });
  // one instance for every estimate case (on tfjs: no ONNX export), disposed with the fixtures
  let shared: ReturnType<typeof createDensePose> | undefined;
  const withDp = async (fn: (dp: Awaited<ReturnType<typeof createDensePose>>) => Promise<unknown>) => {
    if (!shared) {
      shared = createDensePose({ model: f.model, backend: 'tfjs', tfjsBackend: 'cpu', minSize: 48, maxSize: 64 });
      f.disposers.push(async () => (await shared!).dispose());
    }
    return fn(await shared);
  };
  return [
    lib('estimate(null)', () => withDp((dp) => dp.estimate(null as never)), 'BAD_INPUT', ['image', 'got null']),
    lib('estimate(undefined)', () => withDp((dp) => dp.estimate(undefined as never)), 'BAD_INPUT', ['got undefined']),
    lib('estimate(42)', () => withDp((dp) => dp.estimate(42 as never)), 'BAD_INPUT', ['got number']),
    lib('estimate([null])', () => withDp((dp) => dp.estimate([null as never])), 'BAD_INPUT', ['got null']),
    lib('estimate of a missing file', () => withDp((dp) => dp.estimate(join(f.dir, 'none.png'))), 'BAD_FILE', ['none.png', 'no such file']),
    lib('estimate raw image with negative width', () => readImage({ width: -1, height: 2, data: new Uint8Array(6) }), 'BAD_INPUT', ['width and height must be positive integers']),
    lib('estimate raw image with too few bytes', () => readImage({ width: 4, height: 4, data: new Uint8Array(5) }), 'SHAPE_MISMATCH', [/bytes|values|length/]),
    lib('readImage of a text file', () => readImage(f.write('not-an-image.png', 'hello')), 'BAD_FILE', ['not-an-image.png', 'not a readable image']),
    lib('createDensePose({ model: null })', () => createDensePose({ model: null as never }), 'BAD_OPTION', ['"model" must be a model file path']),
    lib('createDensePose on a folder', () => createDensePose({ model: f.synth, tfjsBackend: 'cpu' }), 'BAD_FILE', [f.synth, 'is a folder']),
    lib('createDensePose scoreThreshold 2', () => createDensePose({ model: f.model, scoreThreshold: 2 }), 'BAD_OPTION', ['scoreThreshold must be in [0, 1]']),
    lib('createDensePose batchSize 0', () => createDensePose({ model: f.model, batchSize: 0 }), 'BAD_OPTION', ['batchSize must be a positive integer']),
    lib('createDensePose backend torch', () => createDensePose({ model: f.model, backend: 'torch' as never }), 'BAD_OPTION', ['"torch"', 'onnx, tfjs']),
    lib('initBackend with an unknown backend', () => initBackend({ backend: 'gpu' as never }), 'BAD_OPTION', ['Unknown backend "gpu"', 'wasm, cpu, tensorflow']),
    lib('generateDataset images 1e12', () => generateDataset({ out: join(f.dir, 'big'), images: 1e12 }), 'BAD_OPTION', ['images must be an integer in 1..1000000']),
    lib('generateDataset into a non-empty folder', () => generateDataset({ out: f.synth, images: 1 }), 'BAD_OPTION', ['not empty', 'force']),
    lib('resolveTrainConfig with a typo', () => resolveTrainConfig({ model: {}, solver: { maxIters: 3 } as never }, '.', 'mine.json'), 'BAD_CONFIG', ['mine.json', 'solver.maxIters', 'Did you mean "maxIter"']),
    lib('loadCocoDensePoseJson of a results file', () => loadCocoDensePoseJson(f.pred), 'BAD_FILE', ['pred-ok.json', 'expected a JSON object']),
  ];
}

function imageCases(f: Fixtures): Case[] {
  const dir = join(f.dir, 'mixed');
  mkdirSync(dir, { recursive: true });
  // the synth set's first two images, whatever synth names them
  const [first, second] = readdirSync(join(f.synth, 'images')).filter((n) => n.endsWith('.png')).sort();
  writeFileSync(join(dir, 'a.png'), readFileSync(join(f.synth, 'images', first!)));
  writeFileSync(join(dir, 'b.png'), 'not a png at all');
  writeFileSync(join(dir, 'c.png'), readFileSync(join(f.synth, 'images', second!)).subarray(0, 200));
  writeFileSync(join(dir, 'd.jpg'), '');
  const out = join(f.dir, 'mixed-out');
  return [
    {
      category: 'images',
      name: 'a folder with good, garbage, truncated and empty images: good ones done, bad ones listed, exit 1',
      argv: ['infer', dir, '--out', out, '--model', f.model, '--quiet', '--min-size', '48', '--max-size', '64', '--backend', 'tfjs'],
      exit: 1,
      code: 'OK',
      says: ['3 inputs failed', join(dir, 'b.png'), join(dir, 'c.png'), join(dir, 'd.jpg')],
      after: () => {
        const images = JSON.parse(readFileSync(join(out, 'images.json'), 'utf8')) as { images: { file_name: string }[]; failed: unknown[] };
        expect(images.images.map((i) => i.file_name)).toEqual([join(dir, 'a.png')]);
        expect(images.failed).toHaveLength(3);
      },
      timeout: 60_000,
    },
    {
      category: 'images',
      name: 'infer on a missing input',
      argv: ['infer', join(f.dir, 'no-such-photo.jpg'), '--out', out, '--model', f.model, '--quiet'],
      exit: 1,
      code: 'OK',
      says: ['1 input failed', `${join(f.dir, 'no-such-photo.jpg')}: cannot read image: no such file`],
      timeout: 60_000,
    },
  ];
}
