import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..');

describe('layer rules (.dependency-cruiser.cjs)', () => {
  it('hold for everything in src/, test/support/ and bench/support/: the checker exits 0', async () => {
    // dependency-cruiser exits with the number of violations; its report says which.
    const { code, report } = await new Promise<{ code: number; report: string }>((resolve) => {
      execFile('npx', ['depcruise', 'src', 'test/support', 'bench/support', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd: ROOT }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, report: `${stdout}${stderr}` }),
      );
    });
    expect({ code, report: code === 0 ? '' : report }).toEqual({ code: 0, report: '' });
  }, 60_000);
});

/** The README's layout table: each row's rung ('–' off the ladder) and the folders or files it names, as written. */
function layoutRows(): { rung: string; paths: string[] }[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Project layout')).split('\n').filter((line) => /^\| (\d+|–) \|/.test(line));
  return table.map((line) => {
    const [rung = '', paths = ''] = line.split('|').slice(1).map((cell) => cell.trim());
    return { rung, paths: [...paths.matchAll(/`([^`]+)`/g)].map((m) => m[1]!) };
  });
}

/** A path of the table as a name of src/ (`src/kafka/` and `errors.ts` → `kafka`, `errors`), or as written elsewhere. */
const srcName = (path: string): string => path.replace(/^src\//, '').replace(/\/$/, '').replace(/\.ts$/, '');

describe("the README's layout table", () => {
  const rows = layoutRows();
  const rungs = (createRequire(__filename)(join(ROOT, '.dependency-cruiser.cjs')) as { RUNGS: string[][] }).RUNGS;

  it('names every folder and top-level file of src/', () => {
    const entries = readdirSync(join(ROOT, 'src'), { withFileTypes: true });
    const inSrc = entries.filter((e) => e.isDirectory() || (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))).map((e) => srcName(e.name));
    const named = rows.flatMap((r) => r.paths.map(srcName));
    expect(inSrc.filter((name) => !named.includes(name)).sort()).toEqual([]);
  });

  it('puts each folder on the rung .dependency-cruiser.cjs gives it', () => {
    const fromTable = new Map(rows.flatMap((r) => r.paths.map((p) => [srcName(p), r.rung] as const)));
    const mismatched = rungs.flatMap((rung, i) => rung.filter((name) => fromTable.get(name) !== String(i)).map((name) => `${name}: rung ${i}, table ${fromTable.get(name) ?? 'missing'}`));
    expect(mismatched).toEqual([]);
  });

  it('names the support folders of the tests and benchmarks', () => {
    const named = rows.flatMap((r) => r.paths);
    expect(['test/support/', 'bench/support/'].filter((p) => !named.includes(p))).toEqual([]);
  });
});
