// One synthetic image: camera, background, 1–N people (shape, pose, clothes) placed on the ground
// with occlusion and truncation, rasterised with exact per-pixel (I, U, V) and instance ids, and
// the RGB image anti-aliased by a tent filter over a 2× sample grid whose odd samples are the
// pixel centres (so labels are exact at pixel centres and the image is not shifted).
import { DensePoseError, unknownValue } from '../errors.ts';
import { albedo, sampleStyle } from './appearance.ts';
import type { PersonStyle } from './appearance.ts';
import { BACKGROUND_KINDS, drawBackground } from './background.ts';
import type { BackgroundKind, ShadowDisc } from './background.ts';
import { bodyTemplate } from './body.ts';
import type { BodyTemplate } from './body.ts';
import { chartCoords } from './charts.ts';
import { eulerToMatrix, forwardKinematics, samplePose, validatePoseSet } from './pose.ts';
import type { KeyPoseName, Pose, PoseSet } from './pose.ts';
import { clearVisibilityBuffer, createVisibilityBuffer, perspectiveBarycentrics, projectVertices, rasterize } from './raster.ts';
import type { Camera, Projected, VisibilityBuffer } from './raster.ts';
import { Rng } from './rng.ts';
import { skinBody } from './skin.ts';
import type { BodyShape } from './skin.ts';
import { COCO_KEYPOINT_SOURCES } from './skeleton.ts';

/** Options of {@link renderScene}. */
export interface RenderSceneOptions {
  /** Image width in pixels. @default 320 */
  width?: number;
  /** Image height in pixels. @default 240 */
  height?: number;
  /** Data set seed. @default 0 */
  seed?: number;
  /** Image index within the data set; (seed, index) fixes the image. @default 0 */
  index?: number;
  /** Fewest people per image. @default 1 */
  minPeople?: number;
  /** Most people per image (≤ 6). @default 4 */
  maxPeople?: number;
  /** Key poses to draw from: 'all', 'upright', 'standing'. @default 'all' */
  poseSet?: PoseSet;
  /** Background kinds to draw from. @default all of BACKGROUND_KINDS */
  backgrounds?: readonly BackgroundKind[];
  /** Let people cross the image border. @default true */
  truncation?: boolean;
}

/** A person in a rendered scene. */
export interface ScenePerson {
  /** Instance id in `instance` (1-based, in placement order). */
  id: number;
  pose: Pose;
  poseName: KeyPoseName;
  shape: BodyShape;
  style: PersonStyle;
  /** `[17,3]` COCO keypoints: x, y (pixels, continuous), visibility 0 (outside the image) / 1 (hidden) / 2 (seen). */
  keypoints: Float64Array;
  /** Distance from the camera to the pelvis (metres). */
  depth: number;
  /** `[V,3]` posed vertices in world coordinates (metres), for independent checks. */
  vertices: Float32Array;
}

/** A rendered image with exact dense ground truth. */
export interface RenderedScene {
  width: number;
  height: number;
  /** `[H,W,3]` RGB. */
  rgb: Uint8Array;
  /** `[H,W]` fine part I at each pixel centre (0 = background). */
  partIndex: Uint8Array;
  /** `[H,W]` chart U in [0,1] (0 on background). */
  u: Float32Array;
  /** `[H,W]` chart V in [0,1]. */
  v: Float32Array;
  /** `[H,W]` person id (1-based) at each pixel centre, 0 = background. */
  instance: Uint16Array;
  people: ScenePerson[];
  camera: Camera;
  /** The template every person is skinned from (triangles, rest positions, part per triangle). */
  template: BodyTemplate;
}

/** Check and fill in scene options; throws BAD_OPTION naming the option and the valid values. */
export function resolveSceneOptions(o: RenderSceneOptions): Required<RenderSceneOptions> {
  const width = o.width ?? 320, height = o.height ?? 240;
  for (const [k, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < 16 || v > 4096) throw new DensePoseError('BAD_OPTION', `${k} must be an integer in 16..4096, got ${v}`, { where: `synth option "${k}"` });
  }
  const minPeople = o.minPeople ?? 1, maxPeople = o.maxPeople ?? 4;
  if (!Number.isInteger(minPeople) || !Number.isInteger(maxPeople) || minPeople < 1 || maxPeople > 6 || minPeople > maxPeople) {
    throw new DensePoseError('BAD_OPTION', `people per image must satisfy 1 ≤ minPeople ≤ maxPeople ≤ 6, got ${minPeople}..${maxPeople}`, { where: 'synth option "minPeople"/"maxPeople"' });
  }
  const seed = o.seed ?? 0, index = o.index ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new DensePoseError('BAD_OPTION', `seed must be an integer in 0..4294967295, got ${seed}`, { where: 'synth option "seed"' });
  if (!Number.isInteger(index) || index < 0) throw new DensePoseError('BAD_OPTION', `index must be a non-negative integer, got ${index}`, { where: 'synth option "index"' });
  const backgrounds = o.backgrounds ?? BACKGROUND_KINDS;
  if (backgrounds.length === 0) throw new DensePoseError('BAD_OPTION', `backgrounds must name at least one of: ${BACKGROUND_KINDS.join(', ')}`, { where: 'synth option "backgrounds"' });
  for (const b of backgrounds) if (!(BACKGROUND_KINDS as readonly string[]).includes(b)) throw unknownValue('background', b, BACKGROUND_KINDS);
  return { width, height, seed, index, minPeople, maxPeople, poseSet: validatePoseSet(o.poseSet ?? 'all'), backgrounds, truncation: o.truncation ?? true };
}

/** Reusable buffers for rendering many images of one size. */
export interface SceneRenderer {
  render(options: RenderSceneOptions): RenderedScene;
}

const normalize3 = (v: number[]): number[] => {
  const l = Math.hypot(v[0]!, v[1]!, v[2]!);
  return [v[0]! / l, v[1]! / l, v[2]! / l];
};
const cross = (a: number[], b: number[]): number[] => [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];

function sampleCamera(rng: Rng, width: number, height: number): Camera {
  const fov = rng.range(45, 70) * (Math.PI / 180);
  const f = width / 2 / Math.tan(fov / 2);
  const h = rng.range(0.7, 2.4);
  const pitch = rng.range(-4, 22) * (Math.PI / 180) + (h - 1.4) * 0.08;
  const roll = rng.range(-4, 4) * (Math.PI / 180);
  const fwd = [0, -Math.sin(pitch), Math.cos(pitch)];
  let right = normalize3(cross(fwd, [0, 1, 0]));
  let down = cross(fwd, right);
  const cr = Math.cos(roll), sr = Math.sin(roll);
  [right, down] = [right.map((x, i) => cr * x + sr * down[i]!), down.map((x, i) => -sr * right[i]! + cr * x)];
  const R = Float64Array.from([...right, ...down, ...fwd]);
  return { f, cx: width / 2, cy: height / 2, R, C: [0, h, 0] };
}

/** A renderer that keeps its sample buffers between images. */
export function createSceneRenderer(): SceneRenderer {
  let vis: VisibilityBuffer | undefined;
  let colour: Float32Array | undefined;
  return {
    render(options) {
      const o = resolveSceneOptions(options);
      if (!vis || vis.width !== 2 * o.width + 1 || vis.height !== 2 * o.height + 1) {
        vis = createVisibilityBuffer(o.width, o.height);
        colour = new Float32Array(vis.width * vis.height * 3);
      } else clearVisibilityBuffer(vis);
      return renderInto(o, vis, colour!);
    },
  };
}

let shared: SceneRenderer | undefined;

/** Render one synthetic image with its dense ground truth. Same options → same bytes. */
export function renderScene(options: RenderSceneOptions = {}): RenderedScene {
  shared ??= createSceneRenderer();
  return shared.render(options);
}

/** Fraction of the 17 keypoints, shifted by `t`, that project inside the image. */
function inViewFraction(kp: Float64Array, t: readonly number[], camera: Camera, W: number, H: number): number {
  const R = camera.R;
  let n = 0;
  for (let i = 0; i < 17; i++) {
    const X = kp[3 * i]! + t[0]! - camera.C[0], Y = kp[3 * i + 1]! + t[1]! - camera.C[1], Z = kp[3 * i + 2]! + t[2]! - camera.C[2];
    const zc = R[6]! * X + R[7]! * Y + R[8]! * Z;
    if (zc < 0.5) continue;
    const px = (camera.f * (R[0]! * X + R[1]! * Y + R[2]! * Z)) / zc + camera.cx, py = (camera.f * (R[3]! * X + R[4]! * Y + R[5]! * Z)) / zc + camera.cy;
    if (px >= 0 && px < W && py >= 0 && py < H) n++;
  }
  return n / 17;
}

interface Placed {
  person: ScenePerson;
  proj: Projected;
  normals: Float32Array;
}

function renderInto(o: Required<RenderSceneOptions>, vis: VisibilityBuffer, colour: Float32Array): RenderedScene {
  const { width: W, height: H } = o;
  const rng = new Rng(o.seed, o.index + 1);
  const tpl = bodyTemplate();
  const camera = sampleCamera(rng, W, H);
  const nPeople = rng.int(o.minPeople, o.maxPeople);
  const halfTan = W / 2 / camera.f;
  const placed: Placed[] = [];
  const ground: [number, number][] = [];
  const R = camera.R;
  for (let k = 0; k < nPeople; k++) {
    const sample = samplePose(rng, { poseSet: o.poseSet });
    const shape: BodyShape = { scale: rng.range(0.86, 1.09), torsoGirth: rng.range(0.85, 1.25), limbGirth: rng.range(0.85, 1.2) };
    const style = sampleStyle(rng);
    const fk = forwardKinematics(sample.pose, shape.scale);
    const yaw = rng.range(0, 2 * Math.PI);
    const Ry = eulerToMatrix(0, yaw, 0);
    let Rp = Ry;
    if (sample.lying) {
      const lie = rng.pick([[-Math.PI / 2, 0, 0], [Math.PI / 2, 0, 0], [0, 0, Math.PI / 2], [0, 0, -Math.PI / 2]] as const);
      const Rl = eulerToMatrix(lie[0], 0, lie[2]);
      Rp = new Float64Array(9);
      for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) Rp[3 * a + b] = Ry[3 * a]! * Rl[b]! + Ry[3 * a + 1]! * Rl[3 + b]! + Ry[3 * a + 2]! * Rl[6 + b]!;
    }
    const { positions, normals } = skinBody(tpl, shape, fk, { R: Rp, t: [0, 0, 0] });
    // keypoints relative to the body (placed below)
    const kp = new Float64Array(17 * 3);
    const tmp = new Float64Array(3);
    COCO_KEYPOINT_SOURCES.forEach((src, i) => {
      const b = 12 * src.joint, s = shape.scale;
      const x = src.rest[0] * s, y = src.rest[1] * s, z = src.rest[2] * s;
      tmp[0] = fk[b]! * x + fk[b + 1]! * y + fk[b + 2]! * z + fk[b + 9]!;
      tmp[1] = fk[b + 3]! * x + fk[b + 4]! * y + fk[b + 5]! * z + fk[b + 10]!;
      tmp[2] = fk[b + 6]! * x + fk[b + 7]! * y + fk[b + 8]! * z + fk[b + 11]!;
      for (let a = 0; a < 3; a++) kp[3 * i + a] = Rp[3 * a]! * tmp[0]! + Rp[3 * a + 1]! * tmp[1]! + Rp[3 * a + 2]! * tmp[2]!;
    });
    let minY = Infinity, cx = 0, cz = 0;
    for (let v = 0; v < tpl.numVertices; v++) {
      minY = Math.min(minY, positions[3 * v + 1]!);
      cx += positions[3 * v]!; cz += positions[3 * v + 2]!;
    }
    cx /= tpl.numVertices; cz /= tpl.numVertices;
    // a spot on the ground apart from the others where enough of the person is in view
    let tx = 0, tz = 0;
    const ty = -minY;
    for (let attempt = 0; attempt < 40; attempt++) {
      const depth = rng.range(2, nPeople > 2 ? 8 : 6.5);
      const lateral = rng.range(-1, 1) * depth * halfTan * (o.truncation ? 1.1 : 0.7);
      // the camera looks along +z; its right is −x
      tx = -lateral - cx;
      tz = depth - cz;
      if (!ground.every(([x, z]) => Math.hypot(x - tx - cx, z - tz - cz) > 0.7)) continue;
      if (inViewFraction(kp, [tx, ty, tz], camera, W, H) >= (o.truncation ? 0.5 : 1)) break;
    }
    ground.push([tx + cx, tz + cz]);
    for (let v = 0; v < tpl.numVertices; v++) {
      positions[3 * v]! += tx; positions[3 * v + 1]! += ty; positions[3 * v + 2]! += tz;
    }
    for (let i = 0; i < 17; i++) { kp[3 * i]! += tx; kp[3 * i + 1]! += ty; kp[3 * i + 2]! += tz; }
    const proj = projectVertices(positions, camera);
    const pelvis = [kp[3 * 11]! / 2 + kp[3 * 12]! / 2, kp[3 * 11 + 1]! / 2 + kp[3 * 12 + 1]! / 2, kp[3 * 11 + 2]! / 2 + kp[3 * 12 + 2]! / 2];
    const depth = Math.hypot(pelvis[0]! - camera.C[0], pelvis[1]! - camera.C[1], pelvis[2]! - camera.C[2]);
    placed.push({ person: { id: k + 1, pose: sample.pose, poseName: sample.name, shape, style, keypoints: kp, depth, vertices: positions }, proj, normals });
  }
  const T = tpl.numTriangles;
  placed.forEach((p, k) => rasterize(vis, p.proj, tpl.triangles, k * T));

  // background, with contact shadows under the people
  const rgb = new Uint8Array(W * H * 3);
  const shadows: ShadowDisc[] = ground.map(([x, z]) => [x, z, 0.45]);
  drawBackground(rng, rng.pick(o.backgrounds), W, H, camera, shadows, rgb);

  // light: a sun-like direction from above, ambient from everywhere
  const el = rng.range(25, 80) * (Math.PI / 180), az = rng.range(0, 2 * Math.PI);
  const Lx = Math.cos(el) * Math.sin(az), Ly = Math.sin(el), Lz = Math.cos(el) * Math.cos(az);
  const ambient = rng.range(0.35, 0.6), diffuse = rng.range(0.45, 0.75);

  const partIndex = new Uint8Array(W * H), u = new Float32Array(W * H), vv = new Float32Array(W * H), instance = new Uint16Array(W * H);
  const SW = vis.width, SH = vis.height, TRI = vis.tri;
  const mu = new Float64Array(3), uv = new Float32Array(2), alb = new Float64Array(3);
  // pixels whose tent filter sees a person (the rest keep the background as is)
  const touched = new Uint8Array(W * H);
  const P = tpl.positions, TG = tpl.triGroup, TV = tpl.triangles;
  for (let sy = 0; sy < SH; sy++) {
    const centreRow = (sy & 1) === 1;
    for (let sx = 0; sx < SW; sx++) {
      const o3 = sy * SW + sx;
      const id = TRI[o3]!;
      if (id < 0) continue;
      const k = Math.floor(id / T), t = id - k * T;
      const pl = placed[k]!;
      const i0 = TV[3 * t]!, i1 = TV[3 * t + 1]!, i2 = TV[3 * t + 2]!;
      perspectiveBarycentrics(pl.proj, i0, i1, i2, sx, sy, mu);
      const m0 = mu[0]!, m1 = mu[1]!, m2 = mu[2]!;
      const rx = m0 * P[3 * i0]! + m1 * P[3 * i1]! + m2 * P[3 * i2]!;
      const ry = m0 * P[3 * i0 + 1]! + m1 * P[3 * i1 + 1]! + m2 * P[3 * i2 + 1]!;
      const rz = m0 * P[3 * i0 + 2]! + m1 * P[3 * i1 + 2]! + m2 * P[3 * i2 + 2]!;
      const group = TG[t]!;
      const I = chartCoords(group, rx, ry, rz, uv);
      // sample (sx, sy) is a tap of pixels x with 2x ≤ sx ≤ 2x+2
      const xa = (sx - 1) >> 1, ya = (sy - 1) >> 1;
      for (let py = ya < 0 ? 0 : ya; py <= sy >> 1 && py < H; py++) for (let px = xa < 0 ? 0 : xa; px <= sx >> 1 && px < W; px++) touched[py * W + px] = 1;
      if (centreRow && (sx & 1) === 1) {
        const pix = ((sy - 1) >> 1) * W + ((sx - 1) >> 1);
        partIndex[pix] = I; u[pix] = uv[0]!; vv[pix] = uv[1]!; instance[pix] = k + 1;
      }
      const N = pl.normals;
      let nx = m0 * N[3 * i0]! + m1 * N[3 * i1]! + m2 * N[3 * i2]!;
      let ny = m0 * N[3 * i0 + 1]! + m1 * N[3 * i1 + 1]! + m2 * N[3 * i2 + 1]!;
      let nz = m0 * N[3 * i0 + 2]! + m1 * N[3 * i1 + 2]! + m2 * N[3 * i2 + 2]!;
      const nl = 1 / (Math.hypot(nx, ny, nz) || 1);
      nx *= nl; ny *= nl; nz *= nl;
      const lambert = nx * Lx + ny * Ly + nz * Lz;
      const light = ambient + diffuse * (lambert > 0 ? lambert : 0) + 0.12 * (ny > 0 ? ny : 0);
      albedo(pl.person.style, group, uv[1]!, rx, ry, rz, alb);
      colour[3 * o3] = alb[0]! * light; colour[3 * o3 + 1] = alb[1]! * light; colour[3 * o3 + 2] = alb[2]! * light;
    }
  }
  // tent filter (1,2,1)² around each pixel centre; empty samples take the background pixel
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (!touched[y * W + x]) continue;
      const p3 = 3 * (y * W + x);
      const bgR = rgb[p3]!, bgG = rgb[p3 + 1]!, bgB = rgb[p3 + 2]!;
      let r = 0, g = 0, b = 0, any = false;
      for (let dy = 0; dy < 3; dy++) {
        const row = (2 * y + dy) * SW + 2 * x;
        const wy = dy === 1 ? 2 : 1;
        for (let dx = 0; dx < 3; dx++) {
          const w = wy * (dx === 1 ? 2 : 1);
          const s = row + dx;
          if (TRI[s]! >= 0) {
            any = true;
            r += w * colour[3 * s]!; g += w * colour[3 * s + 1]!; b += w * colour[3 * s + 2]!;
          } else {
            r += w * bgR; g += w * bgG; b += w * bgB;
          }
        }
      }
      if (!any) continue;
      rgb[p3] = Math.min(255, Math.round(r / 16)); rgb[p3 + 1] = Math.min(255, Math.round(g / 16)); rgb[p3 + 2] = Math.min(255, Math.round(b / 16));
    }
  }
  // keypoints to pixels, with visibility against the rendered instance map
  const people = placed.map((p) => p.person);
  for (const person of people) {
    const kp = person.keypoints;
    for (let i = 0; i < 17; i++) {
      const X = kp[3 * i]! - camera.C[0], Y = kp[3 * i + 1]! - camera.C[1], Z = kp[3 * i + 2]! - camera.C[2];
      const xc = R[0]! * X + R[1]! * Y + R[2]! * Z, yc = R[3]! * X + R[4]! * Y + R[5]! * Z, zc = R[6]! * X + R[7]! * Y + R[8]! * Z;
      const px = camera.f * xc / zc + camera.cx, py = camera.f * yc / zc + camera.cy;
      let vis2 = 0;
      if (zc > 0.05 && px >= 0 && px < W && py >= 0 && py < H) {
        const pix = Math.floor(py) * W + Math.floor(px);
        const s = (2 * Math.floor(py) + 1) * SW + 2 * Math.floor(px) + 1;
        // seen when the surface there is this person's and not much in front of the joint
        // face points lie on the surface; joints lie inside limbs, up to a limb's radius behind it
        const depthSlack = (i < 5 ? 0.04 : 0.16) * person.shape.scale;
        vis2 = instance[pix] === person.id && zc - 1 / vis.invDepth[s]! < depthSlack ? 2 : 1;
      }
      kp[3 * i] = vis2 ? px : 0; kp[3 * i + 1] = vis2 ? py : 0; kp[3 * i + 2] = vis2;
    }
  }
  return { width: W, height: H, rgb, partIndex, u, v: vv, instance, people, camera, template: tpl };
}
