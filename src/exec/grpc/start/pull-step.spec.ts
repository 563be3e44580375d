import type { Logger } from '../../../common/logger';
import type { ImagePullService } from '../../container';
import { pullBeforeRun, pullRequestOf } from './pull-step';

describe('pullRequestOf', () => {
  const image = '127.0.0.1:5000/busybox:1';

  it('never (or unset) pulls nothing; the others name the policy, with per-request credentials when given', () => {
    expect(pullRequestOf({ image }, 'run')).toBeUndefined();
    expect(pullRequestOf({ image, pull: 'never' }, 'run')).toBeUndefined();
    expect(pullRequestOf({ image, pull: 'if_missing' }, 'run')).toEqual({ image, policy: 'if_missing', credentials: undefined });
    expect(pullRequestOf({ image, pull: 'always', registry_auth: { username: 'u', password: 'p', server_address: '', identity_token: '' } }, 'run')).toEqual({
      image,
      policy: 'always',
      credentials: { username: 'u', password: 'p', serverAddress: undefined, identityToken: '' },
    });
  });

  it('refuses unknown policies, pulls outside a run and credentials without a user or token', () => {
    expect(() => pullRequestOf({ image, pull: 'sometimes' }, 'run')).toThrow(/pull must be one of never, if_missing, always/);
    expect(() => pullRequestOf({ pull: 'always' }, 'exec')).toThrow(/apply to a run/);
    expect(() => pullRequestOf({ registry_auth: { username: 'u' } }, 'attach')).toThrow(/apply to a run/);
    expect(() => pullRequestOf({ image, pull: 'always', registry_auth: { password: 'p' } }, 'run')).toThrow(/needs username/);
    expect(() => pullRequestOf({ image, pull: 'always', registry_auth: { username: 'u'.repeat(5000) } }, 'run')).toThrow(/at most 4096 bytes/);
  });
});

describe('pullBeforeRun', () => {
  it('drops progress lines while the call is full, never queues them, and does not wait for the client to finish the pull', async () => {
    const lines = Array.from({ length: 100 }, (_, i) => ({ status: `line ${i}` }));
    // A pull that reports 100 lines at once and is done: a slow client must not hold it up.
    const pulls = { prepare: async (_req: unknown, onProgress: (l: { status: string }) => void) => lines.forEach(onProgress) } as unknown as ImagePullService;
    const written: string[] = [];
    let drain: (() => void) | undefined;
    // A call that takes 3 messages, then reports full (grpc-js write() → false) until 'drain'.
    const call = {
      write: (m: { pull_progress?: { status: string } }) => {
        written.push(m.pull_progress!.status);
        return written.length < 3;
      },
      once: (_e: 'drain', fn: () => void) => (drain = fn),
    };
    const log = { info: () => undefined, debug: () => undefined, child: () => log } as unknown as Logger;
    await pullBeforeRun(pulls, { image: 'registry.example:5000/busybox:1', pull: 'always' }, 'run', call, new AbortController().signal, log);
    expect(written).toEqual(['line 0', 'line 1', 'line 2']); // the other 97 were dropped, not kept for later
    drain!();
    // Once the client takes messages again, new lines go out.
    await pullBeforeRun(pulls, { image: 'registry.example:5000/busybox:1', pull: 'always' }, 'run', call, new AbortController().signal, log);
    expect(written.slice(3, 4)).toEqual(['line 0']);
  });
});
