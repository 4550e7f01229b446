// Colours for looking at IUV maps: one distinct colour per part, U and V as a ramp.

/** `[25,3]` RGB per part index (0 = background black). */
export const PART_COLOURS: Uint8Array = (() => {
  const c = new Uint8Array(25 * 3);
  for (let i = 1; i <= 24; i++) {
    // hues spread by the golden ratio so neighbouring indices differ
    const h = ((i * 0.618034) % 1) * 6, s = i % 2 ? 0.85 : 0.6, v = i % 3 ? 240 : 190;
    const k = Math.floor(h), f = h - k;
    const p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    const rgb = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][k % 6]!;
    c.set(rgb.map(Math.round), 3 * i);
  }
  return c;
})();

/** A blue→red ramp for U/V in [0,1]. */
export function rampColour(t: number, out: Uint8Array, o: number): void {
  const x = Math.max(0, Math.min(1, t));
  out[o] = Math.round(255 * Math.min(1, 2 * x));
  out[o + 1] = Math.round(255 * (1 - Math.abs(2 * x - 1)) * 0.9);
  out[o + 2] = Math.round(255 * Math.min(1, 2 * (1 - x)));
}
