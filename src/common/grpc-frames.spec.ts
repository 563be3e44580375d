import { loadSync } from '@grpc/proto-loader';
import { randomBytes } from 'node:crypto';
import { execProtoPath, PROTO_LOADER_OPTIONS } from '@exec-stream/client/wire';
import { allocFramed, frameOf, framedBytesMessage, FramedMessagePool, GRPC_PREFIX_BYTES } from './grpc-frames';

// The generated (protobufjs) decoders of the real proto judge the hand-made messages.
const exec = loadSync(execProtoPath(), PROTO_LOADER_OPTIONS)['dagger.exec.Exec'] as unknown as Record<
  string,
  { responseDeserialize: (b: Buffer) => Record<string, unknown> }
>;

describe('grpc frames', () => {
  it('makes the frame with the message: prefix 0 and the length, then the message bytes, in one buffer', () => {
    const message = allocFramed(300);
    message.fill(7);
    const frame = frameOf(message)!;
    expect(frame.length).toBe(GRPC_PREFIX_BYTES + 300);
    expect([frame[0], frame.readUInt32BE(1)]).toEqual([0, 300]);
    expect(frame.buffer).toBe(message.buffer);
    expect(frame.subarray(GRPC_PREFIX_BYTES).equals(message)).toBe(true);
    expect(frameOf(Buffer.from(message))).toBeUndefined();
  });

  it.each([0, 1, 127, 128, 16383, 16384, 2 ** 21 + 3])(
    'a one-bytes-field message of %d bytes decodes as CopyFromResponse.tar and SessionResponse.stderr',
    (n) => {
      const data = randomBytes(n);
      const tar = framedBytesMessage(1, n);
      data.copy(tar, tar.length - n);
      expect(((exec.CopyFrom.responseDeserialize(tar).tar as Buffer) ?? Buffer.alloc(0)).equals(data)).toBe(true);
      const stderr = framedBytesMessage(2, n);
      data.copy(stderr, stderr.length - n);
      expect(((exec.Session.responseDeserialize(stderr).stderr as Buffer) ?? Buffer.alloc(0)).equals(data)).toBe(true);
    },
  );

  it('a pool hands a given-back message out again, keeps at most `keep`, and makes new ones when none is free', () => {
    const pool = new FramedMessagePool(1, 1024, 1);
    const a = pool.take();
    const b = pool.take();
    expect(a).not.toBe(b);
    expect(frameOf(a)?.length).toBe(GRPC_PREFIX_BYTES + a.length);
    expect(exec.CopyFrom.responseDeserialize(a.fill(9, a.length - 1024)).tar).toEqual(Buffer.alloc(1024, 9));
    pool.give(a);
    pool.give(b); // beyond keep: dropped
    expect(pool.take()).toBe(a);
    expect([a, b]).not.toContain(pool.take());
  });
});
