// What people look like: skin tone, hair, a top and a bottom with sleeve/leg lengths and a
// pattern each (solid, stripes, checks, noise), shoes, simple face marks. Patterns are solid
// textures over the template's rest-pose coordinates, so they run on across part borders the
// way cloth does, and they move with the body.
import { G } from './charts.ts';
import type { Rng } from './rng.ts';
import { valueNoise2 } from './rng.ts';

export const PATTERNS = ['solid', 'stripes', 'checks', 'noise'] as const;
type Pattern = (typeof PATTERNS)[number];

interface Garment {
  a: [number, number, number];
  b: [number, number, number];
  pattern: Pattern;
  /** Pattern period in metres. */
  period: number;
  seed: number;
}

/** Appearance of one person. */
export interface PersonStyle {
  skin: [number, number, number];
  hair: [number, number, number];
  /** 0 bald, 1 short, 2 long. */
  hairLength: number;
  top: Garment;
  bottom: Garment;
  shoes: [number, number, number];
  /** 0 sleeveless, 1 short, 2 long. */
  sleeves: number;
  /** 1 shorts, 2 long trousers. */
  legs: number;
}

const SKIN: [number, number, number][] = [
  [255, 224, 196], [241, 194, 160], [224, 172, 135], [198, 134, 96], [161, 102, 68], [120, 74, 48], [88, 54, 36],
];
const HAIR: [number, number, number][] = [[25, 20, 18], [60, 40, 25], [110, 75, 40], [200, 165, 100], [140, 60, 30], [170, 170, 170]];

function colour(rng: Rng): [number, number, number] {
  // Saturated or muted cloth colours, plus greys and dark tones.
  const kind = rng.next();
  if (kind < 0.2) {
    const g = rng.range(20, 235);
    return [g, g, g];
  }
  const h = rng.next() * 6, s = kind < 0.6 ? rng.range(0.3, 0.9) : rng.range(0.1, 0.4), v = rng.range(60, 240);
  const i = Math.floor(h), f = h - i;
  const p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  const rgb: [number, number, number][] = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]];
  return rgb[i % 6]!;
}

function garment(rng: Rng): Garment {
  return { a: colour(rng), b: colour(rng), pattern: rng.pick(PATTERNS), period: rng.range(0.03, 0.12), seed: rng.int(0, 1 << 30) };
}

export function sampleStyle(rng: Rng): PersonStyle {
  const skin = rng.pick(SKIN).map((c) => Math.min(255, Math.max(0, c * rng.range(0.92, 1.06)))) as [number, number, number];
  return {
    skin,
    hair: rng.pick(HAIR),
    hairLength: rng.chance(0.08) ? 0 : rng.chance(0.5) ? 1 : 2,
    top: garment(rng),
    bottom: garment(rng),
    shoes: rng.chance(0.5) ? [30, 28, 26] : colour(rng),
    sleeves: rng.int(0, 2),
    legs: rng.chance(0.3) ? 1 : 2,
  };
}

function garmentColour(g: Garment, x: number, y: number, z: number, out: Float64Array): void {
  let t = 0;
  switch (g.pattern) {
    case 'solid': t = 0; break;
    case 'stripes': t = Math.floor(y / g.period) & 1; break;
    case 'checks': t = (Math.floor(x / g.period) + Math.floor(y / g.period) + Math.floor(z / g.period)) & 1; break;
    case 'noise': t = valueNoise2((x + 0.7 * z) / g.period, y / g.period, g.seed); break;
  }
  out[0] = g.a[0] + (g.b[0] - g.a[0]) * t;
  out[1] = g.a[1] + (g.b[1] - g.a[1]) * t;
  out[2] = g.a[2] + (g.b[2] - g.a[2]) * t;
}

const setRgb = (out: Float64Array, c: readonly number[]) => { out[0] = c[0]!; out[1] = c[1]!; out[2] = c[2]!; };

/**
 * Unlit colour (0..255) of a body point: coarse part `group`, chart V (along limbs), rest-pose
 * template position (x, y, z). Writes RGB to `out`.
 */
export function albedo(style: PersonStyle, group: number, v: number, x: number, y: number, z: number, out: Float64Array): void {
  switch (group) {
    case G.torso:
      if (y < 0.9) garmentColour(style.bottom, x, y, z, out);
      else garmentColour(style.top, x, y, z, out);
      return;
    case G.lUpperArm: case G.rUpperArm:
      if (style.sleeves === 2 || (style.sleeves === 1 && v < 0.55)) garmentColour(style.top, x, y, z, out);
      else setRgb(out, style.skin);
      return;
    case G.lLowerArm: case G.rLowerArm:
      if (style.sleeves === 2 && v < 0.93) garmentColour(style.top, x, y, z, out);
      else setRgb(out, style.skin);
      return;
    case G.lUpperLeg: case G.rUpperLeg:
      if (style.legs === 2 || v < 0.6) garmentColour(style.bottom, x, y, z, out);
      else setRgb(out, style.skin);
      return;
    case G.lLowerLeg: case G.rLowerLeg:
      if (style.legs === 2 && v < 0.95) garmentColour(style.bottom, x, y, z, out);
      else setRgb(out, style.skin);
      return;
    case G.lFoot: case G.rFoot:
      setRgb(out, style.shoes);
      return;
    case G.head: {
      const dx = x, dy = y - 1.645, dz = z + 0.005;
      const back = dz < 0 ? -dz : 0;
      if (style.hairLength > 0 && (dy > 0.04 - back * (style.hairLength === 2 ? 3.2 : 1.4) || (style.hairLength === 2 && dz < -0.03 && dy > -0.16 && Math.abs(dx) < 0.09))) {
        setRgb(out, style.hair);
        return;
      }
      // eyes, brows, mouth on the face
      if (dz > 0.04) {
        const ex = Math.abs(dx) - 0.033, ey = y - 1.665;
        if (ex * ex + ey * ey < 0.0105 * 0.0105) { setRgb(out, [35, 30, 30]); return; }
        if (Math.abs(ex) < 0.016 && Math.abs(y - 1.684) < 0.0035) { setRgb(out, style.hair); return; }
        if (Math.abs(dx) < 0.022 && Math.abs(y - 1.598) < 0.0045) { setRgb(out, [style.skin[0] * 0.7, style.skin[1] * 0.45, style.skin[2] * 0.45]); return; }
      }
      setRgb(out, style.skin);
      return;
    }
    default:
      setRgb(out, style.skin);
  }
}
