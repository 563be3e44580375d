import { Metadata, status as Code } from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { createRootLogger } from '../../common/logger';
import type { PeerChannels } from './peer-channels';
import type { PeerDirectory } from './peer-directory';
import { PeerLifecycle } from './peer-lifecycle';

/** A peer that is down: every stream opened to it fails as grpc-js reports it, 'error' and then 'end'. */
class DownPeer {
  opened = 0;
  cancelled = 0;
  serverStream() {
    this.opened++;
    const stream = Object.assign(new EventEmitter(), {
      cancel: () => this.cancelled++,
      pause: () => undefined,
      resume: () => undefined,
    });
    setImmediate(() => {
      stream.emit('error', Object.assign(new Error('connect ECONNREFUSED'), { code: Code.UNAVAILABLE, details: 'connect ECONNREFUSED' }));
      stream.emit('end');
    });
    return stream;
  }
}

describe('PeerLifecycle', () => {
  afterEach(() => jest.useRealTimers());

  it('opens a broken peer stream again once a second, not once per event of its end; says so once; stops with the call', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
    const peer = new DownPeer();
    const directory = { self: 'es-a', peers: () => new Map([['es-b', '10.0.0.2:50051']]) } as unknown as PeerDirectory;
    const written: Array<{ event_type?: string; replica?: string }> = [];
    const call = Object.assign(new EventEmitter(), { write: (e: never) => (written.push(e), true), end: () => undefined, metadata: new Metadata() });
    const ended = new AbortController();
    new PeerLifecycle(peer as unknown as PeerChannels, directory, createRootLogger('silent')).follow(undefined, call, ended.signal);
    for (let s = 0; s < 4; s++) {
      await new Promise((r) => setImmediate(r)); // the stream fails
      jest.advanceTimersByTime(1_000); // and is opened again
    }
    await new Promise((r) => setImmediate(r));
    // 1 + one reopen a second (a reopen per 'error' and per 'end' would double: 1, 2, 4, 8 …).
    expect(peer.opened).toBe(5);
    expect(written).toEqual([expect.objectContaining({ event_type: 'replica_unreachable', replica: 'es-b' })]);
    ended.abort();
    jest.advanceTimersByTime(5_000);
    await new Promise((r) => setImmediate(r));
    expect(peer.opened).toBe(5);
  });
});
