import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pilResizeBilinear } from '../../src/infer/pil-resize.ts';
import { readNpy } from '../../src/runtime/checkpoint/npy.ts';

const DIR = 'test/infer/testdata';

describe("Pillow's BILINEAR resize (detectron2 DefaultPredictor on uint8 images)", () => {
  const input = readNpy(`${DIR}/pil_input.npy`);
  const [h, w] = input.shape as [number, number, number];
  const goldens = readdirSync(DIR).filter((f) => /^pil_\d+x\d+\.npy$/.test(f));

  it('has goldens for down-, up- and one-axis scaling', () => expect(goldens.length).toBe(6));
  for (const file of goldens) {
    it(`equals Pillow byte for byte: ${w}x${h} → ${file}`, () => {
      const ref = readNpy(`${DIR}/${file}`);
      const [oh, ow] = ref.shape as [number, number, number];
      const ours = pilResizeBilinear(input.data as Uint8Array, w, h, 3, ow, oh);
      let diff = 0;
      for (let i = 0; i < ours.length; i++) if (ours[i] !== (ref.data as Uint8Array)[i]) diff++;
      expect(ours.length).toBe(ref.data.length);
      expect(diff).toBe(0);
    });
  }
});
