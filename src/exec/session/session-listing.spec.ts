import { listSessions, pageTokenAt } from './session-listing';
import type { Session } from './session';

/** The few fields of a Session the listing reads. */
const session = (
  id: string,
  createdAt: number,
  over: { kind?: 'run' | 'exec'; running?: boolean; containerId?: string; labels?: Record<string, string> } = {},
) =>
  ({
    id,
    info: { id, createdAt, kind: over.kind ?? 'run', labels: over.labels },
    containerId: over.containerId ?? 'c1',
    running: over.running ?? false,
  }) as unknown as Session;

describe('listSessions', () => {
  const all = [
    session('b', 2, { labels: { team: 'x' } }),
    session('a', 2, { kind: 'exec', running: true }),
    session('c', 1, { containerId: 'c2', labels: { team: 'x', env: 'prod' } }),
  ];
  const ids = (s: Session[]) => s.map((x) => x.id);

  it('orders by creation time, then id, and applies every filter given', () => {
    expect(ids(listSessions(all, { limit: 10 }).sessions)).toEqual(['c', 'a', 'b']);
    expect(ids(listSessions(all, { limit: 10, state: 'running' }).sessions)).toEqual(['a']);
    expect(ids(listSessions(all, { limit: 10, mode: 'run', labels: { team: 'x' } }).sessions)).toEqual(['c', 'b']);
    expect(ids(listSessions(all, { limit: 10, labels: { team: 'x', env: 'prod' } }).sessions)).toEqual(['c']);
    expect(ids(listSessions(all, { limit: 10, containerId: 'c1' }).sessions)).toEqual(['a', 'b']);
  });

  it('pages by position: a token stays valid across inserts and removals', () => {
    const p1 = listSessions(all, { limit: 2 });
    expect(ids(p1.sessions)).toEqual(['c', 'a']);
    const grown = [...all.filter((s) => s.id !== 'c'), session('d', 3), session('0', 0)];
    const p2 = listSessions(grown, { limit: 2, pageToken: p1.nextPageToken });
    expect(ids(p2.sessions)).toEqual(['b', 'd']);
    expect(p2.nextPageToken).toBe('');
  });

  it('a token it did not give out is INVALID_ARGUMENT', () => {
    expect(() => listSessions(all, { limit: 2, pageToken: 'bm9wZQ' })).toThrow(expect.objectContaining({ kind: 'invalid' }));
  });

  it('a made-up, altered or truncated token is INVALID_ARGUMENT; the one it gave out works', () => {
    const given = listSessions(all, { limit: 1 }).nextPageToken;
    expect(ids(listSessions(all, { limit: 5, pageToken: given }).sessions)).toEqual(['a', 'b']);
    expect(ids(listSessions(all, { limit: 5, pageToken: pageTokenAt(1, 'c') }).sessions)).toEqual(['a', 'b']);
    const text = Buffer.from(given, 'base64url').toString();
    const flip = (t: string, i: number) => t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
    const madeUp = [
      Buffer.from('1:c').toString('base64url'), // a position in the form tokens carry, without their check
      Buffer.from('0:0').toString('base64url'),
      Buffer.from(text.replace(/^1:/, '2:')).toString('base64url'), // another position, the same check
      flip(given, 2),
      flip(given, given.length - 1),
      given.slice(0, -2),
      `${given}==`, // the same bytes, not as given
      `${given.slice(0, 4)}*${given.slice(4)}`, // base64url decoding skips the '*'
      ` ${given}`,
      '',
    ].filter((t) => t !== given);
    for (const pageToken of madeUp.filter(Boolean)) {
      expect(() => listSessions(all, { limit: 2, pageToken })).toThrow(expect.objectContaining({ kind: 'invalid' }));
    }
  });
});
