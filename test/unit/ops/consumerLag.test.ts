import { describe, expect, it } from 'vitest';
import type { Admin } from 'kafkajs';
import { fetchConsumerLag, lagOf } from '../../../src/ops/consumerLag.ts';

describe('lagOf', () => {
  const ends = new Map([['t', [{ partition: 0, high: '10', low: '0' }, { partition: 1, high: '7', low: '3' }, { partition: 2, high: '5', low: '0' }]]]);

  it('is the log end minus the committed offset, for owned partitions only', () => {
    const committed = new Map([['t', new Map([[0, '4'], [1, '-1'], [2, '5']])]]);
    expect(lagOf([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }, { topic: 't', partition: 2 }], ends, committed)).toEqual([
      { topic: 't', partition: 0, lag: 6 },
      // nothing committed: everything the partition still holds
      { topic: 't', partition: 1, lag: 4 },
      { topic: 't', partition: 2, lag: 0 },
    ]);
    expect(lagOf([{ topic: 't', partition: 9 }, { topic: 'other', partition: 0 }], ends, committed)).toEqual([]);
  });
});

describe('fetchConsumerLag', () => {
  it('asks the admin for the ends of each owned topic and the group offsets', async () => {
    const calls: string[] = [];
    const admin = {
      fetchTopicOffsets: async (topic: string) => {
        calls.push(`ends ${topic}`);
        return [{ partition: 0, offset: '3', high: '3', low: '0' }];
      },
      fetchOffsets: async ({ groupId, topics }: { groupId: string; topics: string[] }) => {
        calls.push(`offsets ${groupId} ${topics.join(',')}`);
        return [{ topic: 'a', partitions: [{ partition: 0, offset: '1', metadata: null }] }];
      },
    } as unknown as Admin;
    expect(await fetchConsumerLag(admin, 'g', [{ topic: 'a', partition: 0 }])).toEqual([{ topic: 'a', partition: 0, lag: 2 }]);
    expect(calls).toEqual(['ends a', 'offsets g a']);
    expect(await fetchConsumerLag(admin, 'g', [])).toEqual([]);
  });
});
