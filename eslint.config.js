import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', 'coverage/**', 'test-artifacts/**', '.snippets/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name=/^(skip|only|todo)$/][callee.object.name=/^(it|test|describe)$/]",
          message: 'No skipped, focused or todo tests in the tree.',
        },
      ],
    },
  },
  {
    // The CommonJS consumer fixture is a user's plain-JS application.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Adapters, providers and fakes speak to the core only through its public entry.
    files: ['packages/{express,koa,nest,providers,testing}/**/*.ts', 'examples/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@formsecurity/*/src/*', '@formsecurity/*/dist/*'], message: 'Import the package entry, not its files.' },
            { group: ['**/core/src/**', '../../core/**'], message: 'Import @formsecurity/core, never its internal files.' },
          ],
        },
      ],
    },
  },
  {
    // The core stays framework-neutral.
    files: ['packages/core/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['express', 'koa', '@nestjs/common', '@nestjs/core'], patterns: ['@formsecurity/*'] },
      ],
    },
  },
);
