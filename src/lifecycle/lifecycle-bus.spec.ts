import { LifecycleBus } from './lifecycle-bus';
import type { LifecycleEvent, LifecycleEventType, NewLifecycleEvent } from './lifecycle-event';
import { TransitionDedupe } from './transition-dedupe';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
/** `type` may be made up (t1, b2 …): distinct transitions no source publishes, which the dedupe never merges. */
const ev = (containerId: string, type: string, extra: Partial<NewLifecycleEvent> = {}): NewLifecycleEvent => ({
  containerId,
  type: type as LifecycleEventType,
  status: 'running',
  ...extra,
});

function readAll(cursor: { read(): LifecycleEvent | undefined }): LifecycleEvent[] {
  const out: LifecycleEvent[] = [];
  for (let e = cursor.read(); e; e = cursor.read()) out.push(e);
  return out;
}

describe('LifecycleBus', () => {
  it('gives strictly increasing ids and delivers to a cursor only what came after it opened', () => {
    const bus = new LifecycleBus();
    bus.publish(ev(A, 'registered'));
    const c = bus.open();
    const e2 = bus.publish(ev(A, 'started'))!;
    const e3 = bus.publish(ev(B, 'started'))!;
    expect(e3.id).toBe(e2.id + 1);
    expect(readAll(c).map((e) => e.id)).toEqual([e2.id, e3.id]);
    expect(c.read()).toBeUndefined();
  });

  it('filters by container (full id or prefix) but lets service-wide events through', () => {
    const bus = new LifecycleBus();
    const onlyA = bus.open({ containerId: A.slice(0, 12) });
    bus.publish(ev(A, 'started'));
    bus.publish(ev(B, 'started'));
    bus.publish({ containerId: '', type: 'events_reconnected', status: '', source: 'service' });
    bus.publish(ev(B, 'exited', { source: 'docker' }));
    expect(readAll(onlyA).map((e) => `${e.containerId.slice(0, 1)}:${e.type}`)).toEqual([`a:started`, `:events_reconnected`]);
  });

  it('resumes after an id from history, missing nothing', () => {
    const bus = new LifecycleBus();
    const ids = [1, 2, 3, 4, 5].map((i) => bus.publish(ev(i % 2 ? A : B, `t${i}`))!.id);
    expect(readAll(bus.open({ resumeAfterId: ids[1] })).map((e) => e.id)).toEqual(ids.slice(2));
    expect(readAll(bus.open({ resumeAfterId: 0 })).map((e) => e.id)).toEqual(ids);
    expect(readAll(bus.open({ resumeAfterId: ids[0], containerId: A })).map((e) => e.type)).toEqual(['t3', 't5']);
    expect(() => bus.open({ resumeAfterId: 99 })).toThrow(RangeError);
  });

  it('a slow reader never holds the bus: past the history it gets one `dropped` event with the exact count', () => {
    const bus = new LifecycleBus();
    bus.historyLimit = 4;
    const slow = bus.open();
    const slowA = bus.open({ containerId: A });
    const fast = bus.open();
    const got: number[] = [];
    for (let i = 1; i <= 10; i++) {
      bus.publish(ev(i <= 6 ? A : B, `t${i}`)); // A: 1..6, B: 7..10
      got.push(...readAll(fast).map((e) => e.id));
    }
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // the fast reader lost nothing
    const s = readAll(slow);
    expect(s[0]).toMatchObject({ type: 'dropped', dropped: 6, id: 6 });
    expect(s[0].message).toMatch(/6 event\(s\) with ids 1\.\.6/);
    expect(s.slice(1).map((e) => e.id)).toEqual([7, 8, 9, 10]); // ids still strictly increasing
    const sa = readAll(slowA);
    expect(sa).toHaveLength(1);
    expect(sa[0]).toMatchObject({ type: 'dropped', dropped: 6, containerId: A }); // only A's lost events count
    expect(slow.droppedTotal).toBe(6);
  });

  it('a filtered reader is not charged for other containers’ evicted events', () => {
    const bus = new LifecycleBus();
    bus.historyLimit = 2;
    const onlyA = bus.open({ containerId: A });
    for (let i = 0; i < 5; i++) bus.publish(ev(B, `b${i}`));
    bus.publish(ev(A, 'started'));
    expect(readAll(onlyA).map((e) => e.type)).toEqual(['started']);
  });

  it('resuming from an id already out of history reports the gap as `dropped` first', () => {
    const bus = new LifecycleBus();
    bus.historyLimit = 3;
    for (let i = 1; i <= 6; i++) bus.publish(ev(A, `t${i}`)); // holds 4..6
    const got = readAll(bus.open({ resumeAfterId: 1 }));
    expect(got[0]).toMatchObject({ type: 'dropped', dropped: 2, id: 3 });
    expect(got.slice(1).map((e) => e.id)).toEqual([4, 5, 6]);
  });

  it('waitForEvent resolves on publish and on close; closed cursors are forgotten', async () => {
    const bus = new LifecycleBus();
    const c = bus.open();
    const waiting = c.waitForEvent();
    bus.publish(ev(A, 'started'));
    await waiting;
    expect(c.read()?.type).toBe('started');
    const w2 = c.waitForEvent();
    c.close();
    await w2;
    await c.whenClosed;
    expect(bus.openCursors).toBe(0);
  });

  it('publishes a transition reported by two sources once, and fills the session id in', () => {
    const bus = new LifecycleBus();
    const c = bus.open();
    bus.publish(ev(A, 'registered', { sessionId: 's1', status: 'created' }));
    expect(bus.publish(ev(A, 'started', { source: 'docker' }))).toBeDefined();
    expect(bus.publish(ev(A, 'started'))).toBeUndefined(); // executor, same transition
    expect(bus.publish(ev(A, 'exited', { exitCode: 0 }))).toBeDefined();
    expect(bus.publish(ev(A, 'exited', { source: 'docker', exitCode: 0 }))).toBeUndefined();
    expect(bus.publish(ev(A, 'unregistered', { status: 'removed' }))).toBeDefined();
    const got = readAll(c);
    expect(got.map((e) => `${e.type}/${e.source}`)).toEqual(['registered/executor', 'started/docker', 'exited/executor', 'unregistered/executor']);
    expect(got.every((e) => e.sessionId === 's1')).toBe(true);
  });
});

describe('TransitionDedupe', () => {
  it('merges one report per other source within the window; a source never merges with itself', () => {
    const d = new TransitionDedupe(1000);
    expect(d.isDuplicate({ containerId: A, type: 'started', source: 'executor' }, 0)).toBe(false);
    expect(d.isDuplicate({ containerId: A, type: 'started', source: 'executor' }, 10)).toBe(false); // a 2nd start
    expect(d.isDuplicate({ containerId: A, type: 'started', source: 'docker' }, 20)).toBe(true);
    expect(d.isDuplicate({ containerId: A, type: 'started', source: 'docker' }, 30)).toBe(true); // matches the 2nd
    expect(d.isDuplicate({ containerId: A, type: 'started', source: 'docker' }, 40)).toBe(false); // a 3rd, docker first
    expect(d.isDuplicate({ containerId: B, type: 'started', source: 'docker' }, 50)).toBe(false); // other container
  });

  it('does not merge reports further apart than the window, nor kills of different signals or execs', () => {
    const d = new TransitionDedupe(1000);
    expect(d.isDuplicate({ containerId: A, type: 'exited', source: 'executor' }, 0)).toBe(false);
    expect(d.isDuplicate({ containerId: A, type: 'exited', source: 'docker' }, 1500)).toBe(false);
    expect(d.isDuplicate({ containerId: A, type: 'killed', source: 'control', signal: 15 }, 2000)).toBe(false);
    expect(d.isDuplicate({ containerId: A, type: 'killed', source: 'docker', signal: 9 }, 2001)).toBe(false);
    expect(d.isDuplicate({ containerId: A, type: 'killed', source: 'docker', signal: 15 }, 2002)).toBe(true);
    expect(d.isDuplicate({ containerId: A, type: 'killed', source: 'docker', signal: 15, execId: 'e1' }, 2003)).toBe(false);
  });

  it('forgets containers once their reports are older than the window', () => {
    const d = new TransitionDedupe(1000);
    for (let i = 0; i < 100; i++) d.isDuplicate({ containerId: `c${i}`, type: 'started', source: 'docker' }, 0);
    expect(d.trackedContainers).toBe(100);
    d.prune(5000);
    expect(d.trackedContainers).toBe(0);
  });
});
