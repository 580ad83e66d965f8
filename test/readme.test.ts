import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configOptions } from '../src/config';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

function section(title: string): string {
  const start = readme.indexOf(`## ${title}\n`);
  expect(start, `README has a "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const next = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, next === -1 ? undefined : next);
}

describe('README', () => {
  it('documents every configuration variable with its real default, and no others', () => {
    const rows = [...section('Configuration').matchAll(/^\| `([A-Z_]+)` \| (.+?) \|/gm)].map(([, name, value]) => [name!, value!]);
    expect(rows.map(([name]) => name).sort()).toEqual(Object.keys(configOptions).sort());
    for (const [name, shown] of rows) {
      const expected = configOptions[name as keyof typeof configOptions].default;
      expect(shown, name).toBe(expected === '' ? '(unset)' : `\`${expected}\``);
    }
  });

  it('has a quick start of exactly two commands: one brings the system up, one runs every test', () => {
    const block = /```sh\n([\s\S]*?)```/.exec(section('Quick start'))?.[1] ?? '';
    const commands = block.split('\n').map((line) => line.replace(/#.*/, '').trim()).filter(Boolean);
    expect(commands).toEqual(['./dev up', './dev test']);
  });
});
