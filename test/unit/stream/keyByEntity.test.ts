import { count, map, mergeMap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { keyByEntity } from '../../../src/stream/keyByEntity.ts';
import { testScheduler } from './helpers.ts';

const recs = { a: { entityId: 'a' }, b: { entityId: 'b' } };

describe('keyByEntity', () => {
  it('completes a group after idleMs without a record and re-creates it on the next record', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-a-a------a---|', recs);
      // group 1: records at 1 and 3, idle from 3 → completes at 3 + 3 = 6.
      // group 2: record at 10 → completes at 13, before the source does.
      const summary = source.pipe(
        keyByEntity<{ entityId: string }>({ idleMs: 3 }),
        mergeMap((g) => g.pipe(count(), map((n) => `${g.key}:${n}`))),
      );
      expectObservable(summary).toBe('------x------y|', { x: 'a:2', y: 'a:1' });
    });
  });

  it('keeps entities apart, each with its own idle clock', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-ab-a--b------|', recs);
      const summary = source.pipe(
        keyByEntity<{ entityId: string }>({ idleMs: 6 }),
        mergeMap((g) => g.pipe(count(), map((n) => `${g.key}:${n}`))),
      );
      // a: records at 1 and 4 → completes at 10; b: records at 2 and 7 → completes at 13.
      expectObservable(summary).toBe('----------x--y|', { x: 'a:2', y: 'b:2' });
    });
  });

  it('completes open groups when the source completes', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-ab-|', recs);
      const summary = source.pipe(
        keyByEntity<{ entityId: string }>({ idleMs: 100 }),
        mergeMap((g) => g.pipe(count(), map((n) => `${g.key}:${n}`))),
      );
      expectObservable(summary).toBe('----(xy|)', { x: 'a:1', y: 'b:1' });
    });
  });

  it('starts the idle clock over while holdIdle says the silence is not idleness', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-a--------------|', recs);
      // held until virtual time 8 (a paused partition), then idle: checks at 4, 7 are held,
      // the check at 10 completes the group.
      let now = 0;
      const summary = source.pipe(
        map((r) => r),
        keyByEntity<{ entityId: string }>({ idleMs: 3, holdIdle: () => now < 8 }),
        mergeMap((g) => g.pipe(count(), map((n) => `${g.key}:${n}`))),
      );
      const clock = hot('0123456789abcdef', Object.fromEntries([...'0123456789abcdef'].map((c) => [c, parseInt(c, 16)])));
      clock.subscribe((t) => (now = t));
      expectObservable(summary).toBe('----------x-----|', { x: 'a:1' });
    });
  });

  it('completes at once the groups an eviction matches, and only those', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-ab-------a---|', recs);
      const evict = hot('----x---------', { x: (r: { entityId: string }) => r.entityId === 'a' });
      const summary = source.pipe(
        keyByEntity<{ entityId: string }>({ idleMs: 100, evict }),
        mergeMap((g) => g.pipe(count(), map((n) => `${g.key}:${n}`))),
      );
      // a is evicted at 4; b lives on until the source completes; a's next record opens a new group.
      expectObservable(summary).toBe('----x---------(yz|)', { x: 'a:1', y: 'b:1', z: 'a:1' });
    });
  });

  it('refuses records of a new entity while maxEntities groups are open, and an idle group frees its slot', () => {
    testScheduler().run(({ hot, expectObservable, flush }) => {
      const three = { ...recs, c: { entityId: 'c' } };
      // a opens at 1 (the cap is 1); b at 2 and 3 is refused; a is idle from 1 → completes at 5;
      // c at 7 takes the freed slot and completes with the source.
      const source = hot('-abb---c--|', three);
      const refused: string[] = [];
      const live: number[] = [];
      const summary = source.pipe(
        keyByEntity<{ entityId: string }>({ idleMs: 4, maxEntities: 1, onRefused: (r) => refused.push(r.entityId), onLiveCount: (n) => live.push(n) }),
        mergeMap((g) => g.pipe(count(), map((n) => `${g.key}:${n}`))),
      );
      expectObservable(summary).toBe('-----x----(y|)', { x: 'a:1', y: 'c:1' });
      flush();
      expect(refused).toEqual(['b', 'b']);
      expect(live).toEqual([1, 0, 1, 0]);
    });
  });

  it('keeps every record of an entity already open when the cap is reached', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-abab-|', recs);
      const summary = source.pipe(
        keyByEntity<{ entityId: string }>({ idleMs: 100, maxEntities: 2, onRefused: () => expect.fail('nothing refused under the cap') }),
        mergeMap((g) => g.pipe(count(), map((n) => `${g.key}:${n}`))),
      );
      expectObservable(summary).toBe('------(xy|)', { x: 'a:2', y: 'b:2' });
    });
  });
});
