import { describe, expect, it } from 'vitest';
import { judgeRedrive, letterOf, letterTopicsOf, matchesFilter, parseLetterId, redriveMessageOf } from './dead-letters';

const letter = (topic: string, headers: Record<string, string> = {}) =>
  letterOf(topic, 2, { offset: '17', key: Buffer.from('ord-1'), value: Buffer.from('{'), headers: { 'trace-id': 'abc', ...headers } });

describe('dead letters', () => {
  it('names a letter by its own position and parses the name back', () => {
    expect(letter('order.placed.dlq').id).toBe('order.placed.dlq:2:17');
    expect(parseLetterId('order.placed.parked:2:17')).toEqual({ topic: 'order.placed.parked', kind: 'parked', partition: 2, offset: '17' });
    expect(() => parseLetterId('order.placed:2:17')).toThrow(/not a dead-letter id/);
  });

  it('finds the source topic in its header, or else in its own topic name', () => {
    expect(letter('order.placed.dlq', { 'dlq-original-topic': 'order.confirmed' }).sourceTopic).toBe('order.confirmed');
    expect(letter('order.placed.parked')).toMatchObject({ kind: 'parked', sourceTopic: 'order.placed' });
  });

  it('redrives the original key, value and headers without the dead-letter and parking ones', () => {
    const sent = redriveMessageOf(letter('order.placed.parked', { 'dlq-reason': 'x', 'dlq-parked-after': '3 restarts', 'dlq-error-code': 'E' }));
    expect(sent).toEqual({ topic: 'order.placed', key: Buffer.from('ord-1'), value: Buffer.from('{'), headers: { 'trace-id': 'abc' } });
  });

  it('matches every given criterion: topic (source or its own), reason or code, kind, ids', () => {
    const l = letter('order.placed.dlq', { 'dlq-reason': 'data.items: Required', 'dlq-error-code': 'INVALID_EVENT' });
    expect(matchesFilter(l, { topic: 'order.placed', reason: 'required' })).toBe(true);
    expect(matchesFilter(l, { topic: 'order.placed.dlq', reason: 'invalid_event' })).toBe(true);
    expect(matchesFilter(l, { topic: 'order.cancelled' })).toBe(false);
    expect(matchesFilter(l, { kind: 'parked' })).toBe(false);
    expect(matchesFilter(l, { ids: ['order.placed.dlq:2:18'] })).toBe(false);
  });

  it('reads only the topics a filter can match', () => {
    const sources = ['order.placed', 'order.cancelled'];
    expect(letterTopicsOf(sources, {})).toEqual(['order.placed.dlq', 'order.placed.parked', 'order.cancelled.dlq', 'order.cancelled.parked']);
    expect(letterTopicsOf(sources, { topic: 'order.placed', kind: 'parked' })).toEqual(['order.placed.parked']);
    expect(letterTopicsOf(sources, { topic: 'order.cancelled.dlq' })).toEqual(['order.cancelled.dlq']);
    expect(letterTopicsOf(sources, { ids: ['order.placed.dlq:0:1'] })).toEqual(['order.placed.dlq']);
  });
});

describe('judgeRedrive', () => {
  const now = new Date('2030-01-01T12:00:00.000Z');
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const claim = (claimedBy: string, claimedAt: Date) => ({ claimToken: `token-of-${claimedBy}`, claimedBy, claimedAt });

  it('sends a letter nobody claimed, under a new claim', () => {
    expect(judgeRedrive(null, null, 'redrive-b', now, 60_000)).toEqual({ kind: 'send', takeOverToken: null });
  });

  it('refuses a letter sent already (whatever its claim), or being sent by a run within its lease', () => {
    expect(judgeRedrive({ sentAt: ago(4_000) }, claim('redrive-a', ago(5_000)), 'redrive-b', now, 60_000)).toEqual({ kind: 'refused', outcome: { outcome: 'already redriven', at: ago(4_000) } });
    expect(judgeRedrive(null, claim('redrive-a', ago(59_999)), 'redrive-b', now, 60_000)).toEqual({ kind: 'refused', outcome: { outcome: 'being redriven elsewhere', since: ago(59_999) } });
  });

  it('takes over the claim of a run whose lease is over (crashed), conditional on its token', () => {
    expect(judgeRedrive(null, claim('redrive-a', ago(60_000)), 'redrive-b', now, 60_000)).toEqual({ kind: 'send', takeOverToken: 'token-of-redrive-a' });
  });
});
