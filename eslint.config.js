// Lint: typescript-eslint's recommended rules, plus the one-way dependency rule of DESIGN.md §8.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Folders a layer must not import from (runtime ← model ← train|eval|infer ← cli; vis reads results only). */
const forbidden = {
  runtime: ['model', 'train', 'eval', 'infer', 'cli', 'vis', 'synth'],
  data: ['model', 'train', 'eval', 'infer', 'cli', 'vis'],
  synth: ['model', 'train', 'eval', 'infer', 'cli', 'vis'],
  model: ['train', 'eval', 'infer', 'cli', 'vis'],
  eval: ['train', 'infer', 'cli'],
  vis: ['train', 'cli', 'model', 'runtime'],
  infer: ['train', 'cli'],
  train: ['cli'],
  zoo: ['train', 'eval', 'cli', 'vis'],
};

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'web/dist', 'demo-out', '**/*.js', '!eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  ...Object.entries(forbidden).map(([layer, bad]) => ({
    files: [`src/${layer}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: bad.map((b) => ({ group: [`**/${b}/*`, `../${b}`, `../../${b}`], message: `src/${layer} must not import from src/${b} (DESIGN.md §8)` })),
      }],
    },
  })),
);
