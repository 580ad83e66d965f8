import { describe, expect, it } from 'vitest';
import { roundsOf } from './rounds';

describe('roundsOf', () => {
  it('keeps a batch of distinct keys in one round', () => {
    expect(roundsOf(['a', 'b', 'c'])).toEqual([[0, 3]]);
  });

  it('starts a new round where a key comes again, so one order is decided in order', () => {
    expect(roundsOf(['a', 'b', 'a', 'c', 'b', 'b'])).toEqual([
      [0, 2],
      [2, 5],
      [5, 6],
    ]);
  });

  it('never lets a round exceed the limit, and messages without a key never collide', () => {
    expect(roundsOf([null, null, null, 'x', 'y'], 2)).toEqual([
      [0, 2],
      [2, 4],
      [4, 5],
    ]);
  });

  it('covers an empty batch with no round', () => {
    expect(roundsOf([])).toEqual([]);
  });
});
