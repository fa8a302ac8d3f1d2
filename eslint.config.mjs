// typescript-eslint's recommended rules over our code; formatting is prettier's job, not the linter's.
import eslint from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tap/', 'coverage/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // A promise nobody awaits loses its error and its ordering: in a daemon that is a silent hang
    // or an unhandled rejection. These two rules need types, so they read src/ with the compiler.
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error', '@typescript-eslint/no-misused-promises': 'error' },
  },
  {
    languageOptions: { globals: globals.node },
    rules: {
      // `_name` marks a value deliberately unused (a destructured secret dropped, a handler's signature).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
);
