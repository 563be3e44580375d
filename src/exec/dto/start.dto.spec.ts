import { ExecError } from '../../common/errors';
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
  ])('refuses %j with INVALID_ARGUMENT', (start) => {
    try {
      parseStart(start);
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(ExecError);
      expect((err as ExecError).kind).toBe('invalid');
    }
  });
});
