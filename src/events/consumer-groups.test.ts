import { describe, expect, it } from 'vitest';
import { CONSUMER_MODULES } from '../consumers/modules';
import { CONSUMER_GROUP_TOPICS } from './consumer-groups';

describe('CONSUMER_GROUP_TOPICS', () => {
  it('names every consumer module\'s group and exactly the topics the module reads', () => {
    const fromModules = Object.fromEntries(Object.values(CONSUMER_MODULES).map((create) => {
      const module = create();
      return [module.name, [...module.topics].sort()];
    }));
    const fromTable = Object.fromEntries(Object.entries(CONSUMER_GROUP_TOPICS).map(([group, topics]) => [group, [...topics].sort()]));
    expect(fromTable).toEqual(fromModules);
  });
});
