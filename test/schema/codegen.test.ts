/**
 * test/generated/ holds the typed documents of test/operations/*.graphql. Regenerated here in
 * memory from the committed SDL: when an operation or the schema changed, run `npm run codegen`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../../codegen';

const root = resolve(__dirname, '../..');

describe('GraphQL Code Generator output', () => {
  it('is up to date with the schema and the operations', async () => {
    const outputs = await generate({ ...config, cwd: root, silent: true }, false);
    const expected = Object.fromEntries(outputs.map((o: { filename: string; content: string }) => [relative(root, resolve(root, o.filename)), o.content]));
    const onDisk = Object.fromEntries(
      readdirSync(join(root, 'test/generated')).map((name) => [`test/generated/${name}`, readFileSync(join(root, 'test/generated', name), 'utf8')]),
    );
    expect(Object.keys(onDisk).sort()).toEqual(Object.keys(expected).sort());
    for (const [file, content] of Object.entries(expected)) expect(onDisk[file], file).toBe(content);
  }, 120_000);
});
