import type { LifecycleEventType, LifecycleSource } from './lifecycle-event';
import { DEDUPE_WINDOW_MS, TransitionDedupe } from './transition-dedupe';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
/** `type` may be made up (t1, t999 …): distinct transitions no source publishes. */
const report = (type: string, source: LifecycleSource | undefined, extra: { containerId?: string; signal?: number; execId?: string } = {}) => ({
  containerId: A,
  type: type as LifecycleEventType,
  source,
  ...extra,
});

describe('TransitionDedupe', () => {
  describe('first source wins', () => {
    it('drops the later report of a transition another source already reported, whichever source came first', () => {
      const d = new TransitionDedupe(1000);
      expect(d.isDuplicate(report('started', 'docker'), 0)).toBe(false);
      expect(d.isDuplicate(report('started', 'executor'), 5)).toBe(true);
      expect(d.isDuplicate(report('exited', 'executor'), 10)).toBe(false);
      expect(d.isDuplicate(report('exited', 'docker'), 15)).toBe(true);
    });

    it('merges one report from each other source into the first one', () => {
      const d = new TransitionDedupe(1000);
      expect(d.isDuplicate(report('killed', 'control', { signal: 15 }), 0)).toBe(false);
      expect(d.isDuplicate(report('killed', 'docker', { signal: 15 }), 1)).toBe(true);
      expect(d.isDuplicate(report('killed', 'service', { signal: 15 }), 2)).toBe(true);
      // Each of those sources has had its one match: a second report from either is a new kill.
      expect(d.isDuplicate(report('killed', 'docker', { signal: 15 }), 3)).toBe(false);
    });

    it('counts a report without a source as the executor’s', () => {
      const d = new TransitionDedupe(1000);
      expect(d.isDuplicate(report('started', undefined), 0)).toBe(false);
      expect(d.isDuplicate(report('started', 'executor'), 1)).toBe(false); // same source: a second start
      expect(d.isDuplicate(report('started', 'docker'), 2)).toBe(true);
      expect(d.isDuplicate(report('started', 'docker'), 3)).toBe(true);
      expect(d.isDuplicate(report('started', 'docker'), 4)).toBe(false);
    });
  });

  describe('what is never merged', () => {
    it('never merges two reports of the same source, however close', () => {
      const d = new TransitionDedupe(1000);
      for (let i = 0; i < 5; i++) expect(d.isDuplicate(report('started', 'executor'), 0)).toBe(false);
    });

    it('passes types only one source reports straight through', () => {
      const d = new TransitionDedupe(1000);
      expect(d.isDuplicate(report('oom', 'docker'), 0)).toBe(false);
      expect(d.isDuplicate(report('oom', 'docker'), 1)).toBe(false);
      expect(d.isDuplicate(report('registered', 'executor'), 2)).toBe(false);
      expect(d.isDuplicate(report('registered', 'executor'), 3)).toBe(false);
    });

    it('keeps containers apart, and different types apart', () => {
      const d = new TransitionDedupe(1000);
      expect(d.isDuplicate(report('started', 'executor'), 0)).toBe(false);
      expect(d.isDuplicate(report('started', 'docker', { containerId: B }), 1)).toBe(false);
      expect(d.isDuplicate(report('exited', 'docker'), 2)).toBe(false);
      expect(d.isDuplicate(report('started', 'docker'), 3)).toBe(true);
    });

    it('passes events without a container (service-wide) straight through and keeps no record of them', () => {
      const d = new TransitionDedupe(1000);
      expect(d.isDuplicate(report('events_reconnected', 'service', { containerId: '' }), 0)).toBe(false);
      expect(d.isDuplicate(report('events_reconnected', 'docker', { containerId: '' }), 1)).toBe(false);
      expect(d.trackedContainers).toBe(0);
    });

    it('tells kills apart by signal and by exec', () => {
      const d = new TransitionDedupe(1000);
      expect(d.isDuplicate(report('killed', 'control', { signal: 15 }), 0)).toBe(false);
      expect(d.isDuplicate(report('killed', 'docker', { signal: 9 }), 1)).toBe(false);
      expect(d.isDuplicate(report('killed', 'docker'), 2)).toBe(false);
      expect(d.isDuplicate(report('killed', 'docker', { signal: 15, execId: 'e1' }), 3)).toBe(false);
      expect(d.isDuplicate(report('killed', 'control', { signal: 15, execId: 'e2' }), 4)).toBe(false);
      expect(d.isDuplicate(report('killed', 'docker', { signal: 15, execId: 'e2' }), 5)).toBe(true);
      expect(d.isDuplicate(report('killed', 'control', { signal: 9 }), 6)).toBe(true);
      expect(d.isDuplicate(report('killed', 'docker', { signal: 15 }), 7)).toBe(true);
    });
  });

  describe('the window', () => {
    it('matches a report at most the window old, not one older', () => {
      const d = new TransitionDedupe(1000);
      expect(d.isDuplicate(report('started', 'executor'), 0)).toBe(false);
      expect(d.isDuplicate(report('started', 'docker'), 1000)).toBe(true);
      expect(d.isDuplicate(report('exited', 'executor'), 2000)).toBe(false);
      expect(d.isDuplicate(report('exited', 'docker'), 3001)).toBe(false);
    });

    it('is DEDUPE_WINDOW_MS by default', () => {
      const d = new TransitionDedupe();
      expect(d.isDuplicate(report('started', 'executor'), 0)).toBe(false);
      expect(d.isDuplicate(report('started', 'docker'), DEDUPE_WINDOW_MS)).toBe(true);
      expect(d.isDuplicate(report('exited', 'executor'), 0)).toBe(false);
      expect(d.isDuplicate(report('exited', 'docker'), DEDUPE_WINDOW_MS + 1)).toBe(false);
    });

    it('reads the clock when no time is given', () => {
      jest.useFakeTimers({ now: 1_000_000 });
      try {
        const d = new TransitionDedupe(1000);
        expect(d.isDuplicate(report('started', 'executor'))).toBe(false);
        jest.setSystemTime(1_000_500);
        expect(d.isDuplicate(report('started', 'docker'))).toBe(true);
        expect(d.isDuplicate(report('exited', 'executor'))).toBe(false);
        jest.setSystemTime(1_002_000);
        expect(d.isDuplicate(report('exited', 'docker'))).toBe(false);
      } finally {
        jest.useRealTimers();
      }
    });
  });

  describe('bounded memory', () => {
    it('prune() forgets containers whose reports are all older than the window, and keeps the others', () => {
      const d = new TransitionDedupe(1000);
      d.isDuplicate(report('started', 'docker', { containerId: 'old' }), 0);
      d.isDuplicate(report('started', 'docker', { containerId: 'mixed' }), 0);
      d.isDuplicate(report('exited', 'docker', { containerId: 'mixed' }), 900);
      d.isDuplicate(report('started', 'docker', { containerId: 'new' }), 1500);
      expect(d.trackedContainers).toBe(3);
      d.prune(1500);
      expect(d.trackedContainers).toBe(2); // 'old' (last report at 0) is forgotten
      d.prune(2501);
      expect(d.trackedContainers).toBe(0);
    });

    it('prunes by itself as reports keep coming, without prune() being called', () => {
      const d = new TransitionDedupe(1000);
      for (let i = 0; i < 255; i++) d.isDuplicate(report('started', 'docker', { containerId: `c${i}` }), 0);
      expect(d.trackedContainers).toBe(255);
      d.isDuplicate(report('started', 'docker', { containerId: 'late' }), 5000);
      expect(d.trackedContainers).toBe(1);
    });

    it('holds a bounded number of reports per container: a burst pushes the oldest out', () => {
      const d = new TransitionDedupe(1000);
      expect(d.isDuplicate(report('started', 'executor'), 0)).toBe(false);
      for (let i = 0; i < 1000; i++) d.isDuplicate(report(`t${i}`, 'executor'), 1);
      expect(d.isDuplicate(report('started', 'docker'), 2)).toBe(false);
      expect(d.isDuplicate(report('t999', 'docker'), 3)).toBe(true); // the newest are still held
    });
  });
});
