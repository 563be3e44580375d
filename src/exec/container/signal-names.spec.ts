import { ExecError } from '../../common/errors';
import { parseSignal } from './signal-names';

describe('parseSignal', () => {
  it.each([
    ['SIGTERM', 'SIGTERM', 15],
    [' SIGTERM ', 'SIGTERM', 15],
    ['SigTerm', 'SIGTERM', 15],
    ['TERM', 'SIGTERM', 15],
    ['term', 'SIGTERM', 15],
    ['\tkill\n', 'SIGKILL', 9],
    ['9', 'SIGKILL', 9],
    ['15', 'SIGTERM', 15],
    ['usr1', 'SIGUSR1', 10],
    ['SIGIOT', 'SIGABRT', 6],
    ['34', 'SIGRTMIN', 34],
    ['64', 'SIGRTMIN+30', 64],
  ])('%j → %s (%d)', (input, name, number) => {
    expect(parseSignal(input)).toEqual({ name, number });
  });

  it.each(['', '   ', 'SIG', 'SIGFOO', 'TERMINATE', 'SIG TERM', '0', '32', '33', '65', '-9', '+9', '1.5', '0x0f', 'SIG15'])(
    '%j → INVALID_ARGUMENT naming the accepted forms',
    (input) => {
      let err: unknown;
      try {
        parseSignal(input);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ExecError);
      expect((err as ExecError).kind).toBe('invalid');
      expect((err as ExecError).message).toMatch(/SIGTERM, sigterm, TERM, SigTerm.*number 1-64/);
    },
  );

  it.each([
    ['a name', 'X'.repeat(100_000)],
    ['a number', '9'.repeat(100_000)],
  ])('%s of 100 KB → INVALID_ARGUMENT with a short message', (_n, input) => {
    expect(() => parseSignal(input)).toThrow(
      expect.objectContaining({ kind: 'invalid', message: expect.stringMatching(/^signal is 100000 bytes \(at most 128\).{0,200}$/) }),
    );
  });
});
