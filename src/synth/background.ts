// Backgrounds: a ground plane seen through the scene's camera (tiles, boards, grass, asphalt)
// with soft contact shadows under people, and above the horizon a wall or sky made of gradients,
// value noise and clutter shapes; or a flat abstract collage. All procedural, all from the seed.
import type { Camera } from './raster.ts';
import type { Rng } from './rng.ts';
import { valueNoise2 } from './rng.ts';

export const BACKGROUND_KINDS = ['indoor', 'outdoor', 'abstract'] as const;
export type BackgroundKind = (typeof BACKGROUND_KINDS)[number];

/** A soft shadow disc on the ground: centre (x, z) and radius in metres. */
export type ShadowDisc = [number, number, number];

type RGB = [number, number, number];
const rgbOf = (rng: Rng, lo: number, hi: number): RGB => [rng.range(lo, hi), rng.range(lo, hi), rng.range(lo, hi)];

interface Shape { kind: 0 | 1; x: number; y: number; w: number; h: number; c: RGB }

/**
 * Draw the background into `out` (`[H,W,3]` RGB, row-major).
 * @param shadows discs on the ground plane y = 0 to darken
 */
export function drawBackground(rng: Rng, kind: BackgroundKind, width: number, height: number, camera: Camera, shadows: readonly ShadowDisc[], out: Uint8Array): void {
  const top = rgbOf(rng, 40, 230), bottom = rgbOf(rng, 40, 230);
  const noiseAmp = rng.range(0, 50), noiseScale = rng.range(8, 60), noiseSeed = rng.int(0, 1 << 30);
  const shapes: Shape[] = [];
  const nShapes = kind === 'outdoor' ? rng.int(0, 6) : rng.int(2, 14);
  for (let i = 0; i < nShapes; i++) {
    shapes.push({ kind: rng.chance(0.6) ? 0 : 1, x: rng.range(-0.1, 1.1) * width, y: rng.range(-0.1, 1) * height, w: rng.range(0.03, 0.35) * width, h: rng.range(0.03, 0.4) * height, c: rgbOf(rng, 10, 250) });
  }
  const floorA = rgbOf(rng, 50, 220), floorB = floorA.map((c) => c * rng.range(0.6, 0.95)) as RGB;
  const floorKind = kind === 'outdoor' ? rng.pick(['grass', 'asphalt'] as const) : rng.pick(['tiles', 'boards', 'plain'] as const);
  if (floorKind === 'grass') { floorA[0] = rng.range(40, 90); floorA[1] = rng.range(90, 150); floorA[2] = rng.range(30, 70); }
  if (floorKind === 'asphalt') { const g = rng.range(60, 120); floorA[0] = g; floorA[1] = g; floorA[2] = g * 1.05; }
  const tile = rng.range(0.3, 0.9);
  const useFloor = kind !== 'abstract';
  const R = camera.R, [Cx, Cy, Cz] = camera.C;
  const invF = 1 / camera.f;
  for (let py = 0; py < height; py++) {
    const gy = py / height;
    const baseR = top[0] + (bottom[0] - top[0]) * gy, baseG = top[1] + (bottom[1] - top[1]) * gy, baseB = top[2] + (bottom[2] - top[2]) * gy;
    for (let px = 0; px < width; px++) {
      let r = baseR, g = baseG, b = baseB;
      let onFloor = false;
      if (useFloor) {
        // ray through the pixel centre, camera → world (Rᵀ·d)
        const dx = (px + 0.5 - camera.cx) * invF, dy = (py + 0.5 - camera.cy) * invF;
        const wy = R[1]! * dx + R[4]! * dy + R[7]!;
        if (wy < -1e-4) {
          const wx = R[0]! * dx + R[3]! * dy + R[6]!, wz = R[2]! * dx + R[5]! * dy + R[8]!;
          const t = -Cy / wy;
          const X = Cx + t * wx, Z = Cz + t * wz;
          onFloor = true;
          let k = 0;
          if (floorKind === 'tiles') k = (Math.floor(X / tile) + Math.floor(Z / tile)) & 1;
          else if (floorKind === 'boards') k = (Math.floor(X / (tile * 0.3)) & 1) * 0.5 + valueNoise2(X * 2, Z * 20, noiseSeed) * 0.5;
          else k = valueNoise2(X * 4, Z * 4, noiseSeed) * 0.6 + valueNoise2(X * 23, Z * 23, noiseSeed + 1) * 0.4;
          r = floorA[0] + (floorB[0] - floorA[0]) * k; g = floorA[1] + (floorB[1] - floorA[1]) * k; b = floorA[2] + (floorB[2] - floorA[2]) * k;
          let shade = 1;
          for (const [sx, sz, sr] of shadows) {
            const d2 = ((X - sx) ** 2 + (Z - sz) ** 2) / (sr * sr);
            if (d2 < 1) shade *= 0.55 + 0.45 * d2;
          }
          // haze towards the horizon
          const fog = Math.min(1, t / 40);
          r = (r * shade) * (1 - fog) + baseR * fog; g = (g * shade) * (1 - fog) + baseG * fog; b = (b * shade) * (1 - fog) + baseB * fog;
        }
      }
      if (!onFloor) {
        for (let s = 0; s < shapes.length; s++) {
          const sh = shapes[s]!;
          const ux = (px - sh.x) / sh.w, uy = (py - sh.y) / sh.h;
          if (sh.kind === 0 ? ux >= 0 && ux < 1 && uy >= 0 && uy < 1 : (ux - 0.5) ** 2 + (uy - 0.5) ** 2 < 0.25) { r = sh.c[0]; g = sh.c[1]; b = sh.c[2]; }
        }
      }
      const n = noiseAmp * (valueNoise2(px / noiseScale, py / noiseScale, noiseSeed) - 0.5);
      const o = 3 * (py * width + px);
      out[o] = clamp255(r + n); out[o + 1] = clamp255(g + n); out[o + 2] = clamp255(b + n);
    }
  }
}

function clamp255(x: number): number {
  return x < 0 ? 0 : x > 255 ? 255 : Math.round(x);
}
