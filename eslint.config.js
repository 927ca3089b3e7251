// ESLint: typescript-eslint's recommended rules, plus one project rule:
// the kernel model (everything under src/ except the command line and the
// Node glue) must run in a browser, so it may not import Node's modules.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'tmp/**', 'dist/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', 'src/node/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ['fs', 'fs/promises', 'path', 'os', 'url', 'worker_threads', 'child_process', 'process', 'zlib'].map((name) => ({
          name, message: 'The kernel model runs in browsers too: Node APIs belong in src/cli or src/node.',
        })),
        patterns: [{ group: ['node:*'],
          message: 'The kernel model runs in browsers too: Node APIs belong in src/cli or src/node.' }],
      }],
    },
  },
);
