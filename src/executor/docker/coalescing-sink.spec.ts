import type { OutputSink, StreamName } from '../../common/streams';
import { CoalescingSink, MAX_CHUNK_BYTES } from './coalescing-sink';

class Recorder implements OutputSink {
  writes: Array<[StreamName, string]> = [];
  write(stream: StreamName, data: Buffer) {
    this.writes.push([stream, data.toString('latin1')]);
  }
}
const turn = () => new Promise((r) => setImmediate(r));

describe('CoalescingSink', () => {
  it('joins one turn of same-stream writes, keeping stream order, and flushes at the end of the turn', async () => {
    const rec = new Recorder();
    const sink = new CoalescingSink(rec);
    sink.write('stdout', Buffer.from('a'));
    sink.write('stdout', Buffer.from('b'));
    sink.write('stderr', Buffer.from('c'));
    sink.write('stdout', Buffer.from('d'));
    expect(rec.writes).toEqual([
      ['stdout', 'ab'],
      ['stderr', 'c'],
    ]);
    await turn();
    expect(rec.writes).toEqual([
      ['stdout', 'ab'],
      ['stderr', 'c'],
      ['stdout', 'd'],
    ]);
  });

  it('never makes a chunk larger than MAX_CHUNK_BYTES plus one write', () => {
    const rec = new Recorder();
    const sink = new CoalescingSink(rec);
    const piece = Buffer.alloc(64 * 1024, 'x');
    for (let i = 0; i < 20; i++) sink.write('stdout', piece);
    sink.flush();
    expect(rec.writes.map(([, d]) => d.length)).toEqual([MAX_CHUNK_BYTES, MAX_CHUNK_BYTES, 4 * 64 * 1024]);
  });

  it('reports a failed deferred flush instead of losing it', async () => {
    const sink = new CoalescingSink({
      write: () => {
        throw new Error('ENOSPC');
      },
    });
    const seen: unknown[] = [];
    sink.onError = (e) => seen.push(e);
    sink.write('stdout', Buffer.from('x'));
    await turn();
    expect(seen).toEqual([new Error('ENOSPC')]);
  });
});

describe('CoalescingSink pieces (one copy per byte)', () => {
  class PartsRecorder extends Recorder {
    parts: Array<[StreamName, Buffer[], number]> = [];
    writeParts(stream: StreamName, parts: readonly Buffer[], bytes: number) {
      this.parts.push([stream, [...parts], bytes]);
    }
  }

  it('hands a target that takes pieces the very buffers it was given, not a joined copy', () => {
    const rec = new PartsRecorder();
    const sink = new CoalescingSink(rec);
    const a = Buffer.from('ab');
    const b = Buffer.from('cde');
    sink.write('stdout', a);
    sink.writeParts('stdout', [b.subarray(0, 1), b.subarray(1)], 3);
    sink.write('stderr', Buffer.from('x'));
    sink.flush();
    expect(rec.parts).toHaveLength(1);
    const [stream, parts, bytes] = rec.parts[0];
    expect([stream, bytes, Buffer.concat(parts).toString()]).toEqual(['stdout', 5, 'abcde']);
    expect(parts[0]).toBe(a);
    expect(parts[1].buffer).toBe(b.buffer);
    // A single piece goes through write() as it is; other streams are not mixed in.
    expect(rec.writes).toEqual([['stderr', 'x']]);
  });

  it('joins the pieces for a target without writeParts', () => {
    const rec = new Recorder();
    const sink = new CoalescingSink(rec);
    sink.writeParts('stdout', [Buffer.from('a'), Buffer.from('b')], 2);
    sink.write('stdout', Buffer.from('c'));
    sink.flush();
    expect(rec.writes).toEqual([['stdout', 'abc']]);
  });
});
