import { ExecError } from '../../../common/errors';
import { parseStart } from './start.dto';
import { labelProblems, USER_PATTERN } from './start-fields';

function refusal(start: object): string {
  try {
    parseStart(start);
  } catch (err) {
    expect((err as ExecError).kind).toBe('invalid');
    return (err as ExecError).message;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('Start limits, user, labels and timeouts', () => {
  it('decodes the uint64 fields proto-loader gives as strings', () => {
    const { dto } = parseStart({ image: 'busybox', memory_bytes: '67108864', pids_limit: '64', timeout_ms: '1000', cpus: 0.5, read_only_rootfs: true });
    expect(dto).toMatchObject({ memory_bytes: 67108864, pids_limit: 64, timeout_ms: 1000, idle_timeout_ms: 0, cpus: 0.5, read_only_rootfs: true });
  });

  it('user: a name or uid, optionally :group or :gid', () => {
    for (const ok of ['root', '1000', '1000:1000', 'app:staff', '_svc.x-1']) expect(USER_PATTERN.test(ok)).toBe(true);
    for (const bad of ['', '1000:', ':1000', 'a b', 'root;x', 'a:b:c', 'x'.repeat(65)]) expect(USER_PATTERN.test(bad)).toBe(false);
  });

  it('labels: printable, bounded, never the service own prefix', () => {
    expect(labelProblems({ team: 'a', 'app.kubernetes.io/name': 'x y' })).toEqual([]);
    expect(labelProblems({ 'Exec-Stream.managed': 'false' })[0]).toMatch(/service's own/);
    expect(labelProblems({ '': 'v' })[0]).toMatch(/1-128 bytes/);
    expect(labelProblems({ k: '\u0007' })[0]).toMatch(/printable/);
  });

  it('an exec takes user and timeouts but no container limits; an attach takes none', () => {
    expect(parseStart({ container_id: 'abc', command: ['true'], user: '1000', timeout_ms: '5', read_only_rootfs: false }).mode).toBe('exec');
    expect(refusal({ container_id: 'abc', command: ['true'], pids_limit: '5', cpus: 1 })).toMatch(/cpus, pids_limit: limits apply to a run's container/);
    expect(refusal({ container_id: 'abc', command: ['true'], read_only_rootfs: true })).toMatch(/read_only_rootfs/);
    expect(refusal({ session_id: 'abc', idle_timeout_ms: '5' })).toMatch(/idle_timeout_ms: an attach joins/);
  });

  it.each([
    [{ image: 'busybox', memory_bytes: '-1' }, /memory_bytes must be a whole number/],
    [{ image: 'busybox', memory_bytes: '18446744073709551615' }, /memory_bytes is too large/],
    [{ image: 'busybox', cpus: 0.001 }, /cpus must be 0/],
    [{ image: 'busybox', cpus: Number.NaN }, /cpus must be 0/],
    [{ image: 'busybox', kill_grace_ms: '600001' }, /kill_grace_ms must be at most 600000/],
    [{ image: 'busybox', user: 'a b' }, /user must be a name or uid/],
    [{ image: 'busybox', labels: { 'exec-stream.session': 'x' } }, /exec-stream\.session.*service's own/],
  ])('refuses %j naming the field', (start, message) => {
    expect(refusal(start)).toMatch(message);
  });
});
