import type { OutputSink, StreamName } from '../../common/streams';
import { randomBytes } from 'node:crypto';
import { FrameDemuxer } from './frame-demuxer';

function frame(type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

class Recorder implements OutputSink {
  writes: Array<[StreamName, Buffer]> = [];
  write(stream: StreamName, data: Buffer) {
    this.writes.push([stream, Buffer.from(data)]);
  }
  joined(stream: StreamName) {
    return Buffer.concat(this.writes.filter(([s]) => s === stream).map(([, d]) => d));
  }
}

describe('FrameDemuxer', () => {
  const out = [randomBytes(5000), randomBytes(1), randomBytes(70000)];
  const err = [randomBytes(300), randomBytes(0), randomBytes(9)];
  const wire = Buffer.concat([
    frame(1, out[0]),
    frame(2, err[0]),
    frame(1, out[1]),
    frame(1, out[2]),
    frame(2, err[1]),
    frame(0, Buffer.from('stdin echo')),
    frame(2, err[2]),
  ]);

  it.each([1, 3, 7, 8, 9, 4096, wire.length])('splits streams byte-exact whatever the read size (%d)', (size) => {
    const rec = new Recorder();
    const d = new FrameDemuxer(rec);
    for (let i = 0; i < wire.length; i += size) d.push(wire.subarray(i, i + size));
    expect(rec.joined('stdout')).toEqual(Buffer.concat(out));
    expect(rec.joined('stderr')).toEqual(Buffer.concat(err));
    expect(d.atFrameBoundary).toBe(true);
  });

  it('joins consecutive same-stream frames of one read into one write', () => {
    const rec = new Recorder();
    new FrameDemuxer(rec).push(Buffer.concat([frame(1, Buffer.from('a')), frame(1, Buffer.from('b')), frame(2, Buffer.from('c')), frame(1, Buffer.from('d'))]));
    expect(rec.writes.map(([s, d]) => `${s}:${d}`)).toEqual(['stdout:ab', 'stderr:c', 'stdout:d']);
  });

  it('passes a partial frame on at once and knows it is inside a frame', () => {
    const rec = new Recorder();
    const d = new FrameDemuxer(rec);
    const f = frame(1, Buffer.from('hello world'));
    d.push(f.subarray(0, 12));
    expect(rec.joined('stdout').toString()).toBe('hell');
    expect(d.atFrameBoundary).toBe(false);
    d.push(f.subarray(12));
    expect(rec.joined('stdout').toString()).toBe('hello world');
    expect(d.atFrameBoundary).toBe(true);
  });
});
