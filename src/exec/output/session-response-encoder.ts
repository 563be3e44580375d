import type { StreamName } from '../../common/streams';
import { allocFramed, framedBytesMessage } from '../../common/grpc-frames';

/**
 * Hand-written protobuf encoding of the SessionResponse messages that carry output: a chunk is encoded
 * once, with its gRPC frame (allocFramed), and grpc-js writes those bytes to every client as they are
 * (passPreEncoded in src/exec/grpc/server/grpc-options.ts, src/exec/grpc/wire/framed-serializer.ts; docs/BENCHMARKS.md "What the
 * profile showed", change 2).
 *
 * Field numbers are those of proto/exec.proto (checked against protobufjs in the spec):
 *   SessionResponse: stdout = 1, stderr = 2, output_chunk = 5   (all length-delimited)
 *   OutputChunk: sequence = 1 (varint), timestamp = 2 (varint), stdout = 3, stderr = 4 (bytes),
 *                is_replay = 5 (varint), gap_before = 6 (varint)
 */
const LEN = 2;
const VARINT = 0;
const tag = (field: number, wire: number) => (field << 3) | wire;

const PLAIN_FIELD: Record<StreamName, number> = { stdout: 1, stderr: 2 };
const CHUNK_DATA_TAG: Record<StreamName, number> = { stdout: tag(3, LEN), stderr: tag(4, LEN) };
const OUTPUT_CHUNK_TAG = tag(5, LEN);

function varintSize(v: bigint): number {
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

function writeVarint(buf: Buffer, pos: number, v: bigint): number {
  while (v >= 0x80n) {
    buf[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[pos++] = Number(v);
  return pos;
}

/** SessionResponse{stdout|stderr: data}. */
export function encodePlain(stream: StreamName, data: Buffer): Buffer {
  const out = plainMessageFor(stream, data.length);
  data.copy(out, out.length - data.length);
  return out;
}

/**
 * SessionResponse{stdout|stderr: the pieces joined}, built by copying each piece once into the message:
 * the chunk's data is then `message.subarray(message.length - bytes)` (see OutputLog.recordParts).
 */
export function encodePlainParts(stream: StreamName, parts: readonly Buffer[], bytes: number): Buffer {
  const out = plainMessageFor(stream, bytes);
  let pos = out.length - bytes;
  for (const p of parts) pos += p.copy(out, pos);
  return out;
}

/** SessionResponse{stdout|stderr} of `bytes` bytes whose data is still to be filled in: its last `bytes` bytes. */
export function plainMessageFor(stream: StreamName, bytes: number): Buffer {
  return framedBytesMessage(PLAIN_FIELD[stream], bytes);
}

export interface EncodableChunk {
  sequence: number;
  stream: StreamName;
  timestampNs: bigint;
  data: Buffer;
}

/** SessionResponse{output_chunk: {sequence, timestamp, stdout|stderr, is_replay, gap_before}}; zero fields omitted. */
export function encodeOutputChunk(chunk: EncodableChunk, isReplay: boolean, gapBefore: number): Buffer {
  const seq = BigInt(chunk.sequence);
  const ts = chunk.timestampNs > 0n ? chunk.timestampNs : 0n;
  const gap = BigInt(gapBefore);
  const dataLen = BigInt(chunk.data.length);
  const inner =
    (seq ? 1 + varintSize(seq) : 0) +
    (ts ? 1 + varintSize(ts) : 0) +
    1 +
    varintSize(dataLen) +
    chunk.data.length +
    (isReplay ? 2 : 0) +
    (gap ? 1 + varintSize(gap) : 0);
  const innerLen = BigInt(inner);
  const out = allocFramed(1 + varintSize(innerLen) + inner);
  let pos = 0;
  out[pos++] = OUTPUT_CHUNK_TAG;
  pos = writeVarint(out, pos, innerLen);
  if (seq) {
    out[pos++] = tag(1, VARINT);
    pos = writeVarint(out, pos, seq);
  }
  if (ts) {
    out[pos++] = tag(2, VARINT);
    pos = writeVarint(out, pos, ts);
  }
  out[pos++] = CHUNK_DATA_TAG[chunk.stream];
  pos = writeVarint(out, pos, dataLen);
  pos += chunk.data.copy(out, pos);
  if (isReplay) {
    out[pos++] = tag(5, VARINT);
    out[pos++] = 1;
  }
  if (gap) {
    out[pos++] = tag(6, VARINT);
    writeVarint(out, pos, gap);
  }
  return out;
}
