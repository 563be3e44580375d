import { ExecError } from '../../../common/errors';
import { parseStart } from './start.dto';

describe('parseStart', () => {
  it('tells run, exec and attach apart', () => {
    expect(parseStart({ image: 'busybox', command: ['true'] }).mode).toBe('run');
    expect(parseStart({ image: 'busybox' }).mode).toBe('run');
    expect(parseStart({ container_id: 'abc', command: ['true'] }).mode).toBe('exec');
    expect(parseStart({ container_id: 'abc' }).mode).toBe('attach');
    expect(parseStart({ container_id: 'abc', exec_id: 'def' }).mode).toBe('attach');
    expect(parseStart({ session_id: 'abc', replay_from_sequence: '7' }).dto.replay_from_sequence).toBe(7);
  });

  it.each([
    [{}],
    [{ image: 'busybox', container_id: 'abc' }],
    [{ container_id: 'abc', command: ['x'], session_id: 's' }],
    [{ image: 'busybox', command: [''] }],
    [{ image: 'busybox', env: { '1BAD': 'x' } }],
    [{ image: 'busybox', working_dir: 'relative' }],
    [{ session_id: '../etc' }],
    [{ image: 'a/../b', command: ['true'] }],
    [{ image: '%2e%2e/x', command: ['true'] }],
    [{ container_id: '..', command: ['true'] }],
    [{ container_id: 'a b' }],
    [{ container_id: 'abc', exec_id: '../x' }],
    [{ session_id: 'abc', client_id: 'é'.repeat(65) }],
    [{ image: 'busybox', working_dir: '/tmp/' + 'd'.repeat(256) }],
    // Docker's uids and gids are 0-2147483647 (`-u 4294967295` was UNAVAILABLE from Docker's start).
    [{ image: 'busybox', user: '4294967295' }],
    [{ image: 'busybox', user: '2147483648' }],
    [{ image: 'busybox', user: '0:4294967296' }],
    [{ image: 'busybox', user: 'root:99999999999999999999' }],
  ])('refuses %j with INVALID_ARGUMENT', (start) => {
    try {
      parseStart(start);
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(ExecError);
      expect((err as ExecError).kind).toBe('invalid');
    }
  });

  it('accepts uids and gids up to 2147483647, and names', () => {
    for (const user of ['2147483647', '0:2147483647', '1000:1000', 'nobody', 'node:0']) expect(parseStart({ image: 'busybox', user }).dto.user).toBe(user);
  });

  it('accepts a working_dir component of 255 bytes', () => {
    expect(parseStart({ image: 'busybox', working_dir: '/' + 'd'.repeat(255) + '/x/' }).dto.working_dir).toHaveLength(259);
  });

  it('says which limit a 100 KB id broke, in a short message', () => {
    expect(() => parseStart({ container_id: 'a'.repeat(100_000) })).toThrow(/^invalid Start: .{0,300}$/);
  });

  it('keeps env and label names that are JavaScript object keys (toString, __proto__, constructor …) as ordinary names', () => {
    const names = ['toString', 'valueOf', 'hasOwnProperty', '__proto__', 'constructor', 'isPrototypeOf', '__defineGetter__'];
    // JSON.parse makes own properties of every name, as protobufjs does for a decoded map.
    const map = (prefix: string) => JSON.parse(JSON.stringify(Object.fromEntries(names.map((n) => [n, `${prefix}-${n}`])))) as Record<string, string>;
    const { dto } = parseStart({ image: 'busybox', command: ['true'], env: map('e'), labels: map('l') });
    expect(Object.entries(dto.env).sort()).toEqual(names.map((n) => [n, `e-${n}`]).sort());
    expect(Object.entries(dto.labels).sort()).toEqual(names.map((n) => [n, `l-${n}`]).sort());
    expect(Object.getPrototypeOf(dto.env)).toBeNull();
    expect(Object.getPrototypeOf(dto.labels)).toBeNull();
  });
});
