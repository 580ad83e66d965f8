import { describe, expect, it } from 'vitest';
import { checkId, checkText } from './text-input';

describe('checkId', () => {
  it('accepts an ordinary id and refuses empty, over-long, NUL or other control characters', () => {
    expect(checkId('id', 'order-1')).toBe('order-1');
    for (const bad of ['', 'x'.repeat(201), 'a\u0000', 'a\nb', '\u007f']) expect(() => checkId('id', bad)).toThrow(/id must be 1 to 200 characters/);
  });
});

describe('checkText', () => {
  it('refuses a NUL and keeps anything else, newlines and emoji included', () => {
    expect(checkText('reason', 'line 1\nline 2 🍕')).toBe('line 1\nline 2 🍕');
    expect(() => checkText('reason', 'bad\u0000')).toThrow(/must not contain a NUL/);
  });
});
