// eslint.config.js: typescript-eslint's type-aware recommended rules over every workspace.
import eslint from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.data/**',
      'coverage/**',
      'services/web/.build-*/**',
      'test-artifacts/**',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      // Fastify hooks and handlers are async by contract even when they do not await.
      '@typescript-eslint/require-await': 'off',
      'no-restricted-imports': ['error', { patterns: ['../../../*'] }],
    },
  },
  {
    // domain/ is the rules and use cases: it declares what it needs of the database in its
    // <service>-context.ts, and db/ implements that; it never sees HTTP, the broker or SQL.
    files: ['services/*/src/domain/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../../../*'], message: 'Import through a package subpath instead.' },
            {
              group: ['../db/*', '../http/*', '../messaging/*'],
              message: 'domain/ never imports db/, http/ or messaging/: arrows point into domain/.',
            },
            {
              group: ['fastify', '@fastify/*', '@nats-io/*', 'kysely', 'pg', '@electric-sql/*'],
              message: 'domain/ stays free of HTTP, broker and database libraries.',
            },
            {
              group: ['@microshop/platform/http/*'],
              message: 'domain/ stays free of HTTP.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
)
