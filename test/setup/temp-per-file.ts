// vitest setupFiles: each test file's temporary files (mkdtemp(os.tmpdir()…), and those of the child
// processes it starts) go in a folder of its own, removed after the file's last test.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const root = process.env['DENSEPOSE_TEST_TMP_ROOT'];
if (root !== undefined) {
  const dir = mkdtempSync(join(root, 'file-'));
  process.env['TMPDIR'] = dir;
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    process.env['TMPDIR'] = root;
  });
}
