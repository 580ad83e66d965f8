import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('layer rules (.dependency-cruiser.cjs)', () => {
  it('hold for everything in src/: the checker exits 0', async () => {
    // dependency-cruiser exits with the number of violations; its report says which.
    const { code, report } = await new Promise<{ code: number; report: string }>((resolve) => {
      execFile('npx', ['depcruise', 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd: `${__dirname}/..` }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, report: `${stdout}${stderr}` }),
      );
    });
    expect({ code, report: code === 0 ? '' : report }).toEqual({ code: 0, report: '' });
  }, 60_000);
});
