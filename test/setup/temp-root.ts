// vitest globalSetup: the whole run writes its temporary files under one fresh folder of the system
// temp dir (TMPDIR, which os.tmpdir() reads and every worker and child process inherits). Each test
// file gets its own subfolder (temp-per-file.ts) that is removed when the file ends; at the end of the
// run the folder must be empty (anything left is named and fails the run) and is removed.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'densepose-test-run-'));
  const previous = process.env['TMPDIR'];
  process.env['TMPDIR'] = root;
  process.env['DENSEPOSE_TEST_TMP_ROOT'] = root;
  return () => {
    const left = readdirSync(root);
    rmSync(root, { recursive: true, force: true });
    if (previous === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previous;
    if (left.length > 0) throw new Error(`the test run left ${left.length} entries in its temp folder ${root}: ${left.slice(0, 10).join(', ')}`);
  };
}
