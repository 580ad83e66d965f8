import { describe, expect, it } from 'vitest';
import { partitionLags } from './consumer-lag';

const ends = (...highs: [number, number][]) => highs.map(([high, low], partition) => ({ partition, high: String(high), low: String(low) }));

describe('partitionLags', () => {
  it('is the end offset less the committed offset, per partition', () => {
    expect(partitionLags(ends([10, 0], [7, 0]), [{ partition: 0, offset: '4' }, { partition: 1, offset: '7' }])).toEqual([
      { partition: 0, lag: 6 },
      { partition: 1, lag: 0 },
    ]);
  });

  it('counts everything still kept on a partition the group never committed on (-1, or not listed)', () => {
    expect(partitionLags(ends([10, 3], [5, 0]), [{ partition: 0, offset: '-1' }])).toEqual([
      { partition: 0, lag: 7 },
      { partition: 1, lag: 5 },
    ]);
  });

  it('is never negative when the committed offset was read after the end offset moved on', () => {
    expect(partitionLags(ends([4, 0]), [{ partition: 0, offset: '6' }])).toEqual([{ partition: 0, lag: 0 }]);
  });
});
