import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('layer rules (.dependency-cruiser.cjs)', () => {
  it('hold for everything in src/', async () => {
    const result = await run('npx', ['depcruise', 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
      cwd: `${__dirname}/..`,
    }).catch((error: { stdout: string; stderr: string }) => error);
    // depcruise exits non-zero and lists each violation when a rule is broken.
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/error|✘/i);
  }, 60_000);
});
