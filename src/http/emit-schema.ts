import { buildApiSchema, SCHEMA_FILE, schemaOnlyPubSub } from './build-schema';

/** `npm run schema`: rewrites the committed SDL from the code (run from the project root). */
async function main(): Promise<void> {
  const path = process.argv[2] ?? SCHEMA_FILE;
  await buildApiSchema({ pubSub: schemaOnlyPubSub, emitSchemaFile: path });
  process.stdout.write(`wrote ${path}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
