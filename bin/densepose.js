#!/usr/bin/env node
// The `densepose` command. Installed from npm it runs the built CLI in dist/. In a source checkout
// (src/ present and tsx installed as a dev dependency) it runs the TypeScript directly through tsx's
// loader, so `npm ci && npx densepose …` needs no build step.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let tsx;
if (existsSync(source)) tsx = await import('tsx/esm/api').catch(() => undefined);
let cli;
if (tsx) {
  tsx.register();
  cli = await import(source.href);
} else {
  cli = await import('../dist/cli/main.js');
}
await cli.runCli();
