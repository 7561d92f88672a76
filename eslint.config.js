import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules',
      'dist',
      'coverage',
      '.data',
      'scratch',
      '*.mjs',
      'test/*.mjs',
      'src/http/graphiql-assets/**',
      'src/graphql/generated/**',
      'operations/generated/**',
      'src/http/graphiql-assets/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Floors (docs/architecture.md): each layer imports only what lies below it. A new break fails lint.
  // Later blocks replace the rule for their files, so the general one comes first.
  ...floors({
    'src/**/*.ts': [],
    'src/domain/**/*.ts': ['db', 'graphql', 'http', 'jobs', 'repositories', 'services'],
    'src/repositories/**/*.ts': ['graphql', 'http', 'jobs', 'services'],
    'src/jobs/**/*.ts': ['http', 'graphql'],
  }),
);

/**
 * One `no-restricted-imports` block per folder: the folders (siblings under src/) it may not
 * import, and for every file of src/ the migrations, which only the migrator loads (by path).
 */
function floors(rules) {
  return Object.entries(rules).map(([files, forbidden]) => ({
    files: [files],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...(forbidden.length
              ? [
                  {
                    regex: `^(\\.\\./)+(${forbidden.join('|')})/`,
                    message: `${files.split('/')[1]}/ may not import ${forbidden.join(', ')} (layers: docs/architecture.md).`,
                  },
                ]
              : []),
            {
              regex: '(^|/)migrations/',
              message: 'Code does not import migrations: the migrator loads them.',
            },
          ],
        },
      ],
    },
  }));
}
