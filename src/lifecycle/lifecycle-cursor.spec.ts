import { LifecycleBus } from './lifecycle-bus';
import { LifecycleCursor } from './lifecycle-cursor';
import type { LifecycleEvent, LifecycleEventType, NewLifecycleEvent } from './lifecycle-event';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
/** Each call a distinct type (none a source publishes), so that no two reports are one transition to the bus's dedupe. */
let seq = 0;
const ev = (containerId: string, extra: Partial<NewLifecycleEvent> = {}): NewLifecycleEvent => ({
  containerId,
  type: `t${++seq}` as LifecycleEventType,
  status: 'running',
  ...extra,
});

/** A bus holding `limit` events, with `count` published (containers as `pick(i)` says, i from 1). */
function busWith(limit: number, count: number, pick: (i: number) => string = () => A): LifecycleBus {
  const bus = new LifecycleBus();
  bus.historyLimit = limit;
  for (let i = 1; i <= count; i++) bus.publish(ev(pick(i)));
  return bus;
}

function readAll(cursor: LifecycleCursor): LifecycleEvent[] {
  const out: LifecycleEvent[] = [];
  for (let e = cursor.read(); e; e = cursor.read()) out.push(e);
  return out;
}

/** Whether `p` has settled once pending reactions ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('LifecycleCursor', () => {
  describe('where it starts', () => {
    it('without a resume id reads only what is published after it opened', () => {
      const bus = busWith(8, 3);
      const c = bus.open();
      expect(c.position).toBe(4);
      expect(c.read()).toBeUndefined();
      const e4 = bus.publish(ev(A))!;
      expect(readAll(c)).toEqual([e4]);
    });

    it('resumes right after the given id, reading every held event after it in order', () => {
      const bus = busWith(8, 5);
      expect(readAll(bus.open({ resumeAfterId: 2 })).map((e) => e.id)).toEqual([3, 4, 5]);
      expect(readAll(bus.open({ resumeAfterId: 0 })).map((e) => e.id)).toEqual([1, 2, 3, 4, 5]);
      const atEnd = bus.open({ resumeAfterId: 5 });
      expect(atEnd.read()).toBeUndefined();
      bus.publish(ev(A));
      expect(readAll(atEnd).map((e) => e.id)).toEqual([6]);
    });

    it('resuming on an empty bus from 0 is no gap', () => {
      const bus = new LifecycleBus();
      const c = bus.open({ resumeAfterId: 0 });
      expect(c.read()).toBeUndefined();
      expect(c.droppedTotal).toBe(0);
    });
  });

  describe('a gap before the oldest held event', () => {
    it('is reported first, as one `dropped` event naming the ids and the exact count', () => {
      const bus = busWith(4, 10); // holds 7..10
      const c = bus.open({ resumeAfterId: 2 });
      const [notice, ...rest] = readAll(c);
      expect(notice).toMatchObject({ type: 'dropped', id: 6, dropped: 4, containerId: '', source: 'service', status: '' });
      expect(notice.message).toBe('4 event(s) with ids 3..6 were dropped: this subscriber fell behind the bus history (4 events)');
      expect(typeof notice.timestampNs).toBe('bigint');
      expect(rest.map((e) => e.id)).toEqual([7, 8, 9, 10]);
      expect(c.droppedTotal).toBe(4);
    });

    it('with a container filter is an upper bound, and says so', () => {
      const bus = busWith(4, 10, (i) => (i % 2 ? A : B)); // holds 7..10; A has 7 and 9
      const c = bus.open({ resumeAfterId: 2, containerId: A });
      const [notice, ...rest] = readAll(c);
      expect(notice).toMatchObject({ type: 'dropped', id: 6, dropped: 4, containerId: A });
      expect(notice.message).toMatch(/^up to 4 event\(s\) with ids 3\.\.6 were dropped: .*; some of those ids may not have matched the container filter$/);
      expect(rest.map((e) => e.id)).toEqual([7, 9]);
    });

    it('with an empty container filter (every container) is exact', () => {
      const bus = busWith(4, 10);
      const [notice] = readAll(bus.open({ resumeAfterId: 2, containerId: '' }));
      expect(notice.message).toMatch(/^4 event\(s\)/);
    });
  });

  describe('events evicted before it read them', () => {
    it('are counted when they match its filter, and the reader moves past them', () => {
      const bus = busWith(3, 0);
      const onlyA = bus.open({ containerId: A });
      for (let i = 1; i <= 8; i++) bus.publish(ev(i <= 4 ? A : B)); // A: 1..4, B: 5..8; holds 6..8
      const got = readAll(onlyA);
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({ type: 'dropped', dropped: 4, id: 4, containerId: A });
      expect(got[0].message).toMatch(/^4 event\(s\) with ids 1\.\.4/);
      expect(onlyA.position).toBe(9);
    });

    it('a filtered reader counts service-wide events it lost too', () => {
      const bus = busWith(2, 0);
      const onlyA = bus.open({ containerId: A });
      bus.publish({ containerId: '', type: 'events_disconnected', status: '', source: 'service' });
      bus.publish(ev(B));
      bus.publish(ev(B));
      bus.publish(ev(B));
      expect(readAll(onlyA)).toEqual([expect.objectContaining({ type: 'dropped', dropped: 1, id: 1 })]);
    });

    it('already read events are not counted', () => {
      const bus = busWith(2, 0);
      const c = bus.open();
      bus.publish(ev(A));
      bus.publish(ev(A));
      expect(readAll(c).map((e) => e.id)).toEqual([1, 2]);
      bus.publish(ev(A));
      bus.publish(ev(A)); // evicts 1 and 2, both read
      expect(readAll(c).map((e) => e.id)).toEqual([3, 4]);
      expect(c.droppedTotal).toBe(0);
    });

    it('a gap before the oldest and later evictions make one notice; the next loss is a notice of its own', () => {
      const bus = busWith(2, 4, (i) => (i % 2 ? A : B)); // holds 3..4
      const c = bus.open({ resumeAfterId: 0, containerId: A }); // 1..2 gone (upper bound)
      bus.publish(ev(A)); // 5, evicts 3 (A)
      bus.publish(ev(A)); // 6, evicts 4 (B)
      const first = readAll(c);
      expect(first[0]).toMatchObject({ type: 'dropped', dropped: 3, id: 3 });
      expect(first[0].message).toMatch(/^up to 3 event\(s\) with ids 1\.\.3/);
      expect(first.slice(1).map((e) => e.id)).toEqual([5, 6]);
      for (let i = 0; i < 3; i++) bus.publish(ev(A)); // 7..9, evicts 5, 6 (read) and 7 (not)
      const second = readAll(c);
      expect(second[0]).toMatchObject({ type: 'dropped', dropped: 1, id: 7 });
      expect(second[0].message).toMatch(/^1 event\(s\) with ids 7\.\.7 /); // exact again
      expect(second.slice(1).map((e) => e.id)).toEqual([8, 9]);
      expect(c.droppedTotal).toBe(4);
    });

    it('ids a reader sees stay strictly increasing through every loss', () => {
      const bus = busWith(5, 0);
      const slow = bus.open();
      const slowA = bus.open({ containerId: A });
      const seen: number[] = [];
      const seenA: number[] = [];
      for (let i = 1; i <= 200; i++) {
        bus.publish(ev(i % 3 ? A : B));
        if (i % 7 === 0) seen.push(...readAll(slow).map((e) => e.id));
        if (i % 11 === 0) seenA.push(...readAll(slowA).map((e) => e.id));
      }
      seen.push(...readAll(slow).map((e) => e.id));
      seenA.push(...readAll(slowA).map((e) => e.id));
      for (const ids of [seen, seenA]) {
        expect(ids.length).toBeGreaterThan(10);
        for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]);
      }
      expect(seen[seen.length - 1]).toBe(200);
      expect(slow.droppedTotal).toBeGreaterThan(0);
    });
  });

  describe('over any EventHistory', () => {
    /** History with ids 1..lastId of which `held` are present (a hole reads undefined). */
    const history = (lastId: number, held: Record<number, LifecycleEvent>) => ({ lastId, oldestId: 1, historyLimit: 16, get: (id: number) => held[id] });
    const at = (id: number, containerId = A): LifecycleEvent => ({ id, containerId, type: 'started', status: 'running', timestampNs: 0n, source: 'docker' });

    it('skips ids the history does not hold', () => {
      const c = new LifecycleCursor(history(4, { 2: at(2), 4: at(4) }), { resumeAfterId: 0 }, () => undefined);
      expect(readAll(c).map((e) => e.id)).toEqual([2, 4]);
      expect(c.position).toBe(5);
    });

    it('takes an empty container filter for every container', () => {
      const c = new LifecycleCursor(history(0, {}), { containerId: '' }, () => undefined);
      expect(c.containerId).toBeUndefined();
      expect(new LifecycleCursor(history(0, {}), { containerId: 'abc' }, () => undefined).containerId).toBe('abc');
    });
  });

  describe('waiting and closing', () => {
    it('waitForEvent waits for a publish, and resolves at once while something is unread', async () => {
      const bus = busWith(8, 0);
      const c = bus.open();
      const waiting = c.waitForEvent();
      expect(await settled(waiting)).toBe(false);
      bus.publish(ev(A));
      expect(await settled(waiting)).toBe(true);
      expect(await settled(c.waitForEvent())).toBe(true); // not read yet
      readAll(c);
      expect(await settled(c.waitForEvent())).toBe(false);
    });

    it('waitForEvent resolves at once while a `dropped` notice is pending, even with nothing newer to read', async () => {
      const history = { lastId: 0, oldestId: 1, historyLimit: 1, get: (): LifecycleEvent | undefined => undefined };
      const c = new LifecycleCursor(history, {}, () => undefined);
      expect(await settled(c.waitForEvent())).toBe(false);
      // Event 1 is published and at once pushed out of a history too small to hold it.
      history.lastId = 1;
      history.oldestId = 2;
      c.evicted({ id: 1, containerId: A, type: 'started', status: 'running', timestampNs: 0n, source: 'docker' });
      expect(c.position).toBe(2);
      expect(await settled(c.waitForEvent())).toBe(true);
      expect(c.read()).toMatchObject({ type: 'dropped', dropped: 1, id: 1 });
      expect(await settled(c.waitForEvent())).toBe(false);
    });

    it('every pending waitForEvent is woken, by a publish or by close(), not only the last one', async () => {
      const bus = busWith(8, 0);
      const c = bus.open();
      const first = c.waitForEvent();
      const second = c.waitForEvent();
      bus.publish(ev(A));
      expect([await settled(first), await settled(second)]).toEqual([true, true]);
      readAll(c);
      const third = c.waitForEvent();
      const fourth = c.waitForEvent();
      c.close();
      expect([await settled(third), await settled(fourth)]).toEqual([true, true]);
    });

    it('close() resolves whenClosed, aborts signal, ends a wait, tells the bus once, and is final', async () => {
      const bus = busWith(8, 0);
      const c = bus.open();
      const onAbort = jest.fn();
      c.signal.addEventListener('abort', onAbort);
      const waiting = c.waitForEvent();
      expect(await settled(c.whenClosed)).toBe(false);
      expect(c.signal.aborted).toBe(false);
      expect(bus.openCursors).toBe(1);
      c.close();
      expect(c.isClosed).toBe(true);
      expect(c.signal.aborted).toBe(true);
      expect(onAbort).toHaveBeenCalledTimes(1);
      expect(await settled(c.whenClosed)).toBe(true);
      expect(await settled(waiting)).toBe(true);
      expect(await settled(c.waitForEvent())).toBe(true);
      expect(bus.openCursors).toBe(0);
      const onClose = jest.fn();
      const direct = new LifecycleCursor(bus, {}, onClose);
      direct.close();
      direct.close();
      expect(onClose).toHaveBeenCalledTimes(1);
    });
  });
});
