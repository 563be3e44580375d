import type { AuditEventsResponse } from '@exec-stream/client/wire';
import { mergeByTime } from './merged-audit';

const ev = (replica: string, seq: number, t: number): AuditEventsResponse => ({
  event: { id: `${replica}:${seq}`, replica, seq: String(seq), time: String(t) },
});

async function* source(items: AuditEventsResponse[], live: Promise<AuditEventsResponse[]> = Promise.resolve([])): AsyncGenerator<AuditEventsResponse> {
  yield* items;
  yield* await live;
}

describe('mergeByTime', () => {
  it('merges the held events by time, says caught_up once when all have, then passes live events as they come', async () => {
    let release!: (v: AuditEventsResponse[]) => void;
    const later = new Promise<AuditEventsResponse[]>((r) => (release = r));
    const merged = mergeByTime([
      source([ev('a', 1, 10), ev('a', 2, 30), { caught_up: true }], later),
      source([ev('b', 7, 20), { replica_unreachable: 'c' }, ev('b', 8, 30), { caught_up: true }]),
    ]);
    const out: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { value } = await merged.next();
      out.push(value!.event ? String(value!.event.id) : Object.keys(value).join());
    }
    expect(out).toEqual(['a:1', 'b:7', 'replica_unreachable', 'a:2', 'b:8', 'caught_up']);
    release([ev('a', 3, 5)]);
    expect((await merged.next()).value?.event?.id).toBe('a:3');
    expect((await merged.next()).done).toBe(true);
  });
});
