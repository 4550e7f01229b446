// Vite config of the browser demo: `npx vite build --config web/vite.config.ts` → web/dist.
// ONNX Runtime Web's wasm runtime (node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.wasm)
// is referenced by the ORT bundle through `new URL(…, import.meta.url)`, so Vite serves it in dev and
// emits it into dist/assets on build. The exported model goes in web/public/model/
// (scripts/export-web-model.ts).
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  publicDir: 'public',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});
