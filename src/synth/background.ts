// Backgrounds: a ground plane seen through the scene's camera (tiles, boards, grass, asphalt)
// with soft contact shadows under people, and above the horizon a wall or sky made of gradients,
// value noise and clutter shapes; or a flat abstract collage. All procedural, all from the seed.
import type { Camera } from './raster.ts';
import type { Rng } from './rng.ts';
import { hash3 } from './rng.ts';

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
  const noise = noiseImage(width, height, noiseScale, noiseSeed);
  const floorNoise = new Float32Array(64 * 64);
  for (let i = 0; i < floorNoise.length; i++) floorNoise[i] = hash3(i & 63, i >> 6, noiseSeed + 1) / 4294967296;
  // wall / sky: gradient, then clutter shapes painted over it
  const acc = new Float32Array(width * height * 3);
  for (let py = 0; py < height; py++) {
    const gy = py / height;
    const r = top[0] + (bottom[0] - top[0]) * gy, g = top[1] + (bottom[1] - top[1]) * gy, b = top[2] + (bottom[2] - top[2]) * gy;
    for (let px = 0, o = 3 * py * width; px < width; px++, o += 3) { acc[o] = r; acc[o + 1] = g; acc[o + 2] = b; }
  }
  for (const sh of shapes) {
    const x0 = Math.max(0, Math.floor(sh.x)), x1 = Math.min(width, Math.ceil(sh.x + sh.w));
    const y0 = Math.max(0, Math.floor(sh.y)), y1 = Math.min(height, Math.ceil(sh.y + sh.h));
    for (let py = y0; py < y1; py++) for (let px = x0; px < x1; px++) {
      const ux = (px - sh.x) / sh.w, uy = (py - sh.y) / sh.h;
      if (sh.kind === 0 ? ux >= 0 && ux < 1 && uy >= 0 && uy < 1 : (ux - 0.5) ** 2 + (uy - 0.5) ** 2 < 0.25) {
        const o = 3 * (py * width + px);
        acc[o] = sh.c[0]; acc[o + 1] = sh.c[1]; acc[o + 2] = sh.c[2];
      }
    }
  }
  for (let py = 0; py < height; py++) {
    const gy = py / height;
    const baseR = top[0] + (bottom[0] - top[0]) * gy, baseG = top[1] + (bottom[1] - top[1]) * gy, baseB = top[2] + (bottom[2] - top[2]) * gy;
    for (let px = 0; px < width; px++) {
      const o = 3 * (py * width + px);
      let r = acc[o]!, g = acc[o + 1]!, b = acc[o + 2]!;
      if (useFloor) {
        // ray through the pixel centre, camera → world (Rᵀ·d)
        const dx = (px + 0.5 - camera.cx) * invF, dy = (py + 0.5 - camera.cy) * invF;
        const wy = R[1]! * dx + R[4]! * dy + R[7]!;
        if (wy < -1e-4) {
          const wx = R[0]! * dx + R[3]! * dy + R[6]!, wz = R[2]! * dx + R[5]! * dy + R[8]!;
          const t = -Cy / wy;
          const X = Cx + t * wx, Z = Cz + t * wz;
          let k = 0;
          if (floorKind === 'tiles') k = (Math.floor(X / tile) + Math.floor(Z / tile)) & 1;
          else if (floorKind === 'boards') k = (Math.floor(X / (tile * 0.3)) & 1) * 0.5 + tiledNoise(floorNoise, X * 2, Z * 20) * 0.5;
          else k = tiledNoise(floorNoise, X * 4, Z * 4) * 0.6 + tiledNoise(floorNoise, X * 23 + 17.5, Z * 23) * 0.4;
          r = floorA[0] + (floorB[0] - floorA[0]) * k; g = floorA[1] + (floorB[1] - floorA[1]) * k; b = floorA[2] + (floorB[2] - floorA[2]) * k;
          let shade = 1;
          for (let q = 0; q < shadows.length; q++) {
            const sd = shadows[q]!;
            const d2 = ((X - sd[0]) ** 2 + (Z - sd[1]) ** 2) / (sd[2] * sd[2]);
            if (d2 < 1) shade *= 0.55 + 0.45 * d2;
          }
          // haze towards the horizon
          const fog = Math.min(1, t / 40);
          r = r * shade * (1 - fog) + baseR * fog; g = g * shade * (1 - fog) + baseG * fog; b = b * shade * (1 - fog) + baseB * fog;
        }
      }
      const n = noiseAmp * (noise[py * width + px]! - 0.5);
      out[o] = clamp255(r + n); out[o + 1] = clamp255(g + n); out[o + 2] = clamp255(b + n);
    }
  }
}

/** Value noise with period 64 from a 64×64 lattice table (cheap per-pixel floor texture). */
function tiledNoise(table: Float32Array, x: number, y: number): number {
  const xf = Math.floor(x), yf = Math.floor(y);
  const fx = x - xf, fy = y - yf, sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy);
  const xi = xf & 63, yi = yf & 63, xj = (xi + 1) & 63, yj = (yi + 1) & 63;
  const a = table[yi * 64 + xi]!, b = table[yi * 64 + xj]!, c = table[yj * 64 + xi]!, d = table[yj * 64 + xj]!;
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
}

/** Value noise over the image at `scale` pixels per lattice cell, from a lattice table (one hash per lattice point). */
function noiseImage(width: number, height: number, scale: number, seed: number): Float32Array {
  const lw = Math.ceil(width / scale) + 2, lh = Math.ceil(height / scale) + 2;
  const lattice = new Float32Array(lw * lh);
  for (let j = 0; j < lh; j++) for (let i = 0; i < lw; i++) lattice[j * lw + i] = hash3(i, j, seed) / 4294967296;
  const out = new Float32Array(width * height);
  for (let py = 0; py < height; py++) {
    const y = py / scale, yi = Math.floor(y), fy = y - yi, sy = fy * fy * (3 - 2 * fy);
    for (let px = 0; px < width; px++) {
      const x = px / scale, xi = Math.floor(x), fx = x - xi, sx = fx * fx * (3 - 2 * fx);
      const a = lattice[yi * lw + xi]!, b = lattice[yi * lw + xi + 1]!, c = lattice[(yi + 1) * lw + xi]!, d = lattice[(yi + 1) * lw + xi + 1]!;
      out[py * width + px] = a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
    }
  }
  return out;
}

function clamp255(x: number): number {
  return x < 0 ? 0 : x > 255 ? 255 : Math.round(x);
}
