import { describe, expect, it } from 'vitest';
import { deadLetterTopic, parkingTopic, setAsideTopicOf } from './topics';

describe('set-aside topics', () => {
  it('names the dead-letter and parking topics of a topic, and reads them back', () => {
    expect(deadLetterTopic('order.placed')).toBe('order.placed.dlq');
    expect(parkingTopic('order.placed')).toBe('order.placed.parked');
    expect(setAsideTopicOf(deadLetterTopic('order.placed'))).toEqual({ kind: 'dead-letter', source: 'order.placed' });
    expect(setAsideTopicOf(parkingTopic('order.placed'))).toEqual({ kind: 'parked', source: 'order.placed' });
  });

  it('knows no other topic as set aside', () => {
    expect(setAsideTopicOf('order.placed')).toBeNull();
    expect(setAsideTopicOf('.dlq')).toBeNull();
  });
});
