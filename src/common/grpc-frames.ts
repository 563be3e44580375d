/** gRPC's message prefix: a compressed flag (0) and the message length, big-endian u32. */
export const GRPC_PREFIX_BYTES = 5;

const frames = new WeakMap<Buffer, Buffer>();

/**
 * A message buffer of `bytes` whose gRPC frame (prefix + message, one allocation) is made with it: the
 * caller fills the message, and a server whose serializer takes frames (src/exec/grpc/wire/framed-serializer.ts)
 * writes that frame as it is, instead of allocating a new one and copying the message into it for every
 * client. The message must not be changed once it has been written to a call.
 */
export function allocFramed(bytes: number): Buffer {
  const frame = Buffer.allocUnsafe(GRPC_PREFIX_BYTES + bytes);
  frame[0] = 0;
  frame.writeUInt32BE(bytes, 1);
  const message = frame.subarray(GRPC_PREFIX_BYTES);
  frames.set(message, frame);
  return message;
}

/** The frame made with `message` by allocFramed, or undefined for any other buffer. */
export function frameOf(message: Buffer): Buffer | undefined {
  return frames.get(message);
}

/**
 * A framed protobuf message (allocFramed) whose one field is `field`, length-delimited, of `bytes`
 * bytes: the tag and length are written, the caller fills `message.subarray(message.length - bytes)`.
 * SessionResponse{stdout|stderr} and CopyFromResponse{tar} are such messages.
 */
export function framedBytesMessage(field: number, bytes: number): Buffer {
  let lengthBytes = 1;
  for (let v = bytes; v >= 0x80; v = Math.floor(v / 128)) lengthBytes++;
  const message = allocFramed(1 + lengthBytes + bytes);
  message[0] = (field << 3) | 2;
  let pos = 1;
  let v = bytes;
  while (v >= 0x80) {
    message[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  message[pos] = v;
  return message;
}

/**
 * Framed one-bytes-field messages (framedBytesMessage) of one size, reused: a message goes back with
 * give() once grpc-js has written it (the write callback; Node's HTTP/2 holds a written buffer until
 * then) and is filled again, so a long stream of messages allocates nothing per message. At most `keep`
 * are kept; take() makes a new one when none is free.
 */
export class FramedMessagePool {
  private readonly free: Buffer[] = [];

  constructor(
    private readonly field: number,
    readonly bytes: number,
    private readonly keep: number,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? framedBytesMessage(this.field, this.bytes);
  }

  give(message: Buffer): void {
    if (this.free.length < this.keep) this.free.push(message);
  }
}
