import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * A layer's rule: files matching `files` import none of `patterns` (gitignore-style), nor
 * vscode if they are the runner's (a later rule for the same files replaces an earlier one).
 */
function layer(files, message, patterns) {
  const paths = files.startsWith('runner/') ? ['vscode'] : [];
  return {
    files: [files],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: paths.map((name) => ({ name, message })),
          patterns: patterns.length ? [{ group: patterns, message }] : [],
        },
      ],
    },
  };
}

export default tseslint.config(
  {
    ignores: [
      'out/**',
      'node_modules/**',
      '.cache/**',
      'bench/.work/**',
      'test/.tmp/**',
      'test/fixtures/**',
      'examples/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.mjs', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it'] },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Every case of a union is named: a new state or message is a compile error where it is not handled.
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { allowDefaultCaseForExhaustiveSwitch: false, requireDefaultForNonUnion: false },
      ],
      'no-restricted-imports': 'off',
    },
  },
  // The layers (docs/architecture.md): what may import what.
  layer('runner/**/*.ts', 'runner/ never imports vscode.', []),
  layer(
    'runner/protocol/**/*.ts',
    'runner/protocol is the contract: it imports nothing of ours outside it.',
    ['../*'],
  ),
  layer('runner/worker/**/*.ts', 'the worker runtime never imports the arbiter or the CLI.', [
    '**/arbiter',
    '**/arbiter/*',
    '**/cli/*',
  ]),
  layer(
    'runner/{config,log,fs,util,watch,typescript,errors,proc}/**/*.ts',
    'the layers below the arbiter never import it, the CLI or the worker runtime.',
    ['**/arbiter/*', '**/cli/*', '**/worker/*'],
  ),
  layer('extension/**/*.ts', 'the extension imports only runner/protocol of the runner.', [
    '**/runner/*',
    '!**/runner/protocol',
    '**/runner/*/**',
    '!**/runner/protocol/*',
  ]),
  { files: ['**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.mjs'], languageOptions: { globals: globals.node } },
);
