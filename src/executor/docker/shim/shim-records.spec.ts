import type { StreamName } from '../../../common/streams';
import { ShimRecordParser } from './shim-records';

function rec(type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h.writeUInt32LE(payload.length, 4);
  return Buffer.concat([h, payload]);
}
const segment = (out: number, err: number) => {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(BigInt(out), 0);
  b.writeBigUInt64LE(BigInt(err), 8);
  return rec(4, b);
};
const end = (code: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(code, 0);
  return rec(3, b);
};

function collect() {
  const events: Array<[string, ...unknown[]]> = [];
  const parser = new ShimRecordParser({
    output: (s: StreamName, d: Buffer) => events.push(['out', s, d.toString()]),
    segment: (before) => events.push(['segment', before]),
    end: (code) => events.push(['end', code]),
  });
  return { events, parser };
}

describe('ShimRecordParser', () => {
  const record = Buffer.concat([segment(0, 0), rec(1, Buffer.from('hello\n')), rec(2, Buffer.from('oops\n')), rec(1, Buffer.from('bye\n')), end(7)]);

  it.each([1, 3, 7, 8, 9, 64, record.length])('gives the same records in order whatever the pieces (%i bytes each)', (size) => {
    const { events, parser } = collect();
    for (let at = 0; at < record.length; at += size) parser.push(record.subarray(at, at + size));
    const text = (s: string) =>
      events
        .filter((e) => e[0] === 'out' && e[1] === s)
        .map((e) => e[2])
        .join('');
    expect(text('stdout')).toBe('hello\nbye\n');
    expect(text('stderr')).toBe('oops\n');
    expect(events[0]).toEqual(['segment', { stdout: 0, stderr: 0 }]);
    expect(events.at(-1)).toEqual(['end', 7]);
    expect(parser.ended).toBe(true);
    expect(parser.partial).toBe(false);
  });

  it('reports a torn last record as partial, and ignores whatever follows the end record', () => {
    const { events, parser } = collect();
    parser.push(Buffer.concat([rec(1, Buffer.from('abc')), rec(1, Buffer.from('defgh')).subarray(0, 10)]));
    expect(parser.partial).toBe(true);
    expect(parser.ended).toBe(false);
    parser.reset();
    parser.push(Buffer.concat([end(0), rec(1, Buffer.from('late'))]));
    expect(events.map((e) => e[0])).toEqual(['out', 'out', 'end']);
  });

  it('a segment header says where each stream resumes', () => {
    const { events, parser } = collect();
    parser.push(segment(2 ** 33, 5));
    expect(events).toEqual([['segment', { stdout: 2 ** 33, stderr: 5 }]]);
  });

  it('an unknown record type is data_loss, never bytes', () => {
    const { parser } = collect();
    expect(() => parser.push(rec(9, Buffer.from('x')))).toThrow(/output record is damaged: unknown record type 9/);
  });
});
