// Regenerate configs/densepose_rcnn_<NAME>.json for every row of models/zoo.json from detectron2's own
// yaml files (projects/DensePose/configs in a detectron2 checkout), through the same converter
// `densepose convert --config X.yaml` uses.
//   npx tsx scripts/zoo-configs.ts --detectron2 /path/to/detectron2
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadDetectron2Config } from '../src/model/detectron2-config.ts';
import { shippedZooIndex } from '../src/zoo/index.ts';

const { values } = parseArgs({ options: { detectron2: { type: 'string' } } });
if (!values.detectron2) throw new Error('usage: tsx scripts/zoo-configs.ts --detectron2 DETECTRON2_CHECKOUT');
for (const m of shippedZooIndex().models) {
  const yaml = join(values.detectron2, 'projects/DensePose/configs', `${m.detectron2Config}.yaml`);
  const config = loadDetectron2Config(yaml);
  const out = {
    name: m.detectron2Config,
    detectron2: m.detectron2Config,
    comment: `detectron2 model zoo ${m.name} (converted from projects/DensePose/configs/${m.detectron2Config}.yaml by scripts/zoo-configs.ts).`,
    backbone: config.backbone,
    fpn: config.fpn,
    rpn: config.rpn,
    roiHeads: config.roiHeads,
    input: config.input,
    densepose: config.densepose,
  };
  writeFileSync(m.config, JSON.stringify(out, null, 2) + '\n');
  console.log(`${m.config}`);
}
