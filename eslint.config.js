// Lint, plus the layering rule from STYLE.md: only src/kube/ talks to the API server, and the pure stages
// (detect, slack/format) import nothing that does I/O. A change that breaks the corridor fails CI here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = ['node:http', 'node:https', 'node:net', 'node:fs', 'node:fs/promises', 'node:child_process', 'pino', 'prom-client', '@slack/webhook'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tools/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Plain JavaScript that any Node.js can load (bin/require-node.js says which version is needed).
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/kube/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: '@kubernetes/client-node', message: 'Only src/kube/ talks to the API server.' }] }],
    },
  },
  {
    files: ['src/detect/**/*.ts', 'src/slack/format.ts', 'src/slack/escape.ts', 'src/slack/evidence-blocks.ts', 'src/slack/actions.ts', 'src/route/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ['@kubernetes/client-node', ...ioModules].map((name) => ({ name, message: 'This stage is pure: no I/O.' })),
      }],
    },
  },
);
