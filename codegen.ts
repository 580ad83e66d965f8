import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * `npm run codegen`: typed documents for the operations the tests send
 * (test/operations/*.graphql), checked against the committed SDL that type-graphql emits.
 * Offline by construction: both inputs are local files. A test regenerates in memory and
 * fails when test/generated/ is stale.
 */
const config: CodegenConfig = {
  schema: 'src/schema/schema.graphql',
  documents: ['test/operations/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'test/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: 'string', SafeInt: 'number' },
        enumsAsTypes: true,
        useTypeImports: true,
        skipTypename: true,
      },
    },
  },
};

export default config;
