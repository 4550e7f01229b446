// The package's public surface: every subpath export loads and offers its main entry points, and the
// CLI lists its commands.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, string | { types: string; default: string }>; bin: Record<string, string> };

/** The source module behind a subpath export (`./dist/x/index.js` → `src/x/index.ts`); test/package runs the built ones. */
function sourceOf(sub: string): string {
  const entry = pkg.exports[sub]!;
  const js = typeof entry === 'string' ? entry : entry.default;
  return js.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
}

describe('package', () => {
  it('every subpath export loads with its entry points', async () => {
    const expected: Record<string, string[]> = {
      '.': ['createDensePose', 'saveModel', 'loadModel', 'DensePoseError'],
      './train': ['train', 'distill', 'mergeShards', 'validateRcnn'],
      './eval': ['evaluateDetections', 'evaluateDensePose', 'loadSmplBodyModel', 'encodeMask', 'readMat'],
      './synth': ['generateDataset', 'renderScene', 'flipSymmetry'],
      './vis': ['drawParts', 'drawUvIsolines', 'paintAtlas', 'plotCurves'],
      './browser': ['createDensePose', 'browserPixels', 'DensePoseError'],
    };
    expect(Object.keys(pkg.exports).filter((k) => k !== './package.json').sort()).toEqual(Object.keys(expected).sort());
    for (const [sub, names] of Object.entries(expected)) {
      const mod = (await import(`../${sourceOf(sub)}`)) as Record<string, unknown>;
      for (const n of names) expect(typeof mod[n], `${sub} exports ${n}`).not.toBe('undefined');
    }
  });

  it('the densepose command lists its subcommands and rejects unknown ones by name', () => {
    const help = execFileSync(process.execPath, [pkg.bin.densepose!, '--help'], { encoding: 'utf8' });
    for (const c of ['synth', 'train', 'distill', 'eval', 'infer', 'bench', 'demo', 'convert', 'texture']) expect(help).toContain(c);
    let err = '';
    try {
      execFileSync(process.execPath, [pkg.bin.densepose!, 'trian'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      err = String((e as { stderr: string }).stderr);
    }
    expect(err).toContain('unknown command "trian"');
    expect(err).toContain('Expected one of: synth');
  });
});
