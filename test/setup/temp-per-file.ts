// vitest setupFiles: each test file's temporary files (mkdtemp(os.tmpdir()…), and those of the child
// processes it starts) go in a folder of its own, removed after the file's last test. The export cache
// ($DENSEPOSE_CACHE) goes there too: tests never write to the user's ~/.cache.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const root = process.env['DENSEPOSE_TEST_TMP_ROOT'];
if (root !== undefined) {
  const dir = mkdtempSync(join(root, 'file-'));
  process.env['TMPDIR'] = dir;
  process.env['DENSEPOSE_CACHE'] = join(dir, 'densepose-cache');
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    process.env['TMPDIR'] = root;
  });
}
