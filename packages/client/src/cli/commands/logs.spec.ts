import { TailLines } from './logs';

describe('logs --tail: TailLines', () => {
  const lines = (t: TailLines) => t.take().map((l) => `${l.stream}:${l.data.toString()}`);

  it('keeps the last N lines across chunks, each with the stream that wrote it', () => {
    const t = new TailLines(3);
    t.push('stdout', Buffer.from('a\nb'));
    t.push('stderr', Buffer.from('x\n'));
    t.push('stdout', Buffer.from('c\nd\n'));
    expect(lines(t)).toEqual(['stderr:x\n', 'stdout:bc\n', 'stdout:d\n']);
  });

  it('counts an unfinished last line; 0 keeps nothing', () => {
    const t = new TailLines(2);
    t.push('stdout', Buffer.from('1\n2\n3'));
    expect(lines(t)).toEqual(['stdout:2\n', 'stdout:3']);
    const none = new TailLines(0);
    none.push('stdout', Buffer.from('1\n2'));
    expect(none.take()).toEqual([]);
  });
});
