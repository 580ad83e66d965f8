import { describe, expect, it } from 'vitest';
import { CONSUMER_MODULE_NAMES } from '../consumers/modules';
import { newGeneration, replayableModule, REPLAYABLE, SIDE_EFFECTS } from './replay';

describe('replay', () => {
  it('knows of every consumer module whether it can be replayed, or why not', () => {
    for (const name of CONSUMER_MODULE_NAMES) expect(Boolean(REPLAYABLE[name]) !== Boolean(SIDE_EFFECTS[name]), name).toBe(true);
  });

  it('refuses a module with side effects, saying which, and an unknown one, naming those it can replay', () => {
    expect(() => replayableModule('transactions')).toThrow(/transactions cannot be replayed: it charges and refunds payments.*orders-projector, analytics/);
    expect(() => replayableModule('confirmations')).toThrow(/emails customers/);
    expect(() => replayableModule('kitchen')).toThrow(/no consumer module "kitchen"; modules that can be replayed: orders-projector, analytics/);
    expect(replayableModule('analytics').readModel).toBe('analytics');
  });

  it('names generations by time, usable in a collection name', () => {
    expect(newGeneration(new Date('2030-01-02T03:04:05.678Z'))).toBe('r20300102t030405');
  });
});
