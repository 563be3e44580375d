import type { StreamName } from '../../common/streams';
import { LogSkipper } from './log-skipper';

function sink() {
  const got: Array<[StreamName, string]> = [];
  return { got, write: (s: StreamName, d: Buffer) => got.push([s, d.toString()]) };
}
const B = (s: string) => Buffer.from(s);

describe('LogSkipper', () => {
  it('passes on exactly the bytes after what was recorded, per stream, in Docker order, across chunk boundaries', () => {
    const out = sink();
    // recorded: stdout "line1\nli" (8), stderr "e1\n" (3)
    const k = new LogSkipper(out, { stdout: 8, stderr: 3 }, { stdout: B('line1\nli'), stderr: B('e1\n') }, 't');
    k.write('stdout', B('line1\n'));
    k.write('stderr', B('e1\ne2\n'));
    k.write('stdout', B('line2\nline3\n'));
    k.verifyComplete();
    expect(out.got).toEqual([
      ['stderr', 'e2\n'],
      ['stdout', 'ne2\nline3\n'],
    ]);
    expect(k.recorded).toEqual({ stdout: 18, stderr: 6 });
  });

  it('fails with data_loss when Docker holds fewer bytes than were recorded (its log was rotated away)', () => {
    const k = new LogSkipper(sink(), { stdout: 100, stderr: 0 }, { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) }, 't');
    k.write('stdout', B('x'.repeat(50)));
    expect(() => k.verifyComplete()).toThrow(/holds 50 bytes of stdout but 100 were recorded/);
  });

  it('fails with data_loss when the bytes before the skip point differ from the recorded tail', () => {
    const out = sink();
    const k = new LogSkipper(out, { stdout: 6, stderr: 0 }, { stdout: B('line1\n'), stderr: Buffer.alloc(0) }, 't');
    expect(() => k.write('stdout', B('line7\nline8\n'))).toThrow(/differs from the recorded stdout at bytes 0..6/);
    expect(out.got).toEqual([]);
  });

  it('a second pass from the start skips what the first passed on', () => {
    const out = sink();
    const k = new LogSkipper(out, { stdout: 2, stderr: 0 }, { stdout: B('ab'), stderr: Buffer.alloc(0) }, 't');
    k.write('stdout', B('abcd'));
    k.rewind();
    k.write('stdout', B('abcdef'));
    expect(out.got).toEqual([
      ['stdout', 'cd'],
      ['stdout', 'ef'],
    ]);
  });

  it('skipTo: a source whose oldest bytes are gone resumes where it says, when those bytes were recorded', () => {
    const out = sink();
    const k = new LogSkipper(out, { stdout: 10, stderr: 4 }, { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) }, 't');
    k.skipTo({ stdout: 8, stderr: 4 });
    k.write('stdout', B('89abc'));
    k.write('stderr', B('ef'));
    k.verifyComplete();
    expect(out.got).toEqual([
      ['stdout', 'abc'],
      ['stderr', 'ef'],
    ]);
  });

  it('skipTo past what was recorded is data_loss naming the missing bytes', () => {
    const k = new LogSkipper(sink(), { stdout: 10, stderr: 0 }, { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) }, 'the record');
    expect(() => k.skipTo({ stdout: 25, stderr: 0 })).toThrow(/bytes 10\.\.25 of stdout were written while exec-stream was down and are no longer kept/);
  });
});
