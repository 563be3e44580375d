import { RequestIdIndex, requestFingerprint } from './request-id-index';
import type { Session } from './session';

const session = (id: string, requestId: string, requestFingerprint: string) => ({ id, info: { id, requestId, requestFingerprint } }) as unknown as Session;

describe('RequestIdIndex', () => {
  it('gives the session a request_id created, while set up and once indexed; another request with it is ALREADY_EXISTS', async () => {
    const index = new RequestIdIndex();
    let resolve!: (s: Session) => void;
    const s = session('s1', 'r1', 'f1');
    index.track('r1', 'f1', new Promise<Session>((r) => (resolve = r)));
    const waiting = index.find('r1', 'f1');
    expect(waiting).toBeDefined();
    expect(() => index.find('r1', 'f2')).toThrow(expect.objectContaining({ kind: 'already_exists' }));
    resolve(s);
    expect(await waiting).toBe(s);
    await Promise.resolve();
    expect(await index.find('r1', 'f1')).toBe(s);
    index.remove(s);
    expect(index.find('r1', 'f1')).toBeUndefined();
  });

  it('frees the id when the set-up fails', async () => {
    const index = new RequestIdIndex();
    const failing = Promise.reject(new Error('no image'));
    index.track('r1', 'f1', failing);
    await failing.catch(() => undefined);
    expect(index.find('r1', 'f1')).toBeUndefined();
  });

  it('fingerprints ignore the order of map keys', () => {
    expect(requestFingerprint({ a: 1, env: { X: '1', Y: '2' } })).toBe(requestFingerprint({ env: { Y: '2', X: '1' }, a: 1 }));
    expect(requestFingerprint({ command: ['a', 'b'] })).not.toBe(requestFingerprint({ command: ['b', 'a'] }));
  });
});
