import { loadSync } from '@grpc/proto-loader';
import { randomBytes } from 'node:crypto';
import { execProtoPath, PROTO_LOADER_OPTIONS } from '@exec-stream/client/wire';
import { encodeOutputChunk, encodePlain, encodePlainParts } from './session-response-encoder';

// The generated (protobufjs) decoder of the real proto is the judge of the hand-written encoder.
const pkg = loadSync(execProtoPath(), PROTO_LOADER_OPTIONS);
const decode = (b: Buffer) =>
  (pkg['dagger.exec.Exec'] as unknown as { Session: { responseDeserialize: (b: Buffer) => Record<string, unknown> } }).Session.responseDeserialize(b);

describe('session response encoder', () => {
  it.each([0, 1, 127, 128, 300, 70000, 600 * 1024])('plain stdout/stderr of %d bytes decodes to the same bytes', (n) => {
    const data = randomBytes(n);
    expect((decode(encodePlain('stdout', data)).stdout as Buffer).equals(data)).toBe(true);
    expect((decode(encodePlain('stderr', data)).stderr as Buffer).equals(data)).toBe(true);
  });

  it.each([[[0]], [[1, 2, 3]], [[127, 1]], [[70000, 300, 64 * 1024]]])('plain from pieces %j equals plain of the joined bytes', (sizes) => {
    const parts = sizes.map((n) => randomBytes(n));
    const joined = Buffer.concat(parts);
    const bytes = joined.length;
    const m = encodePlainParts('stderr', parts, bytes);
    expect(m.equals(encodePlain('stderr', joined))).toBe(true);
    expect(m.subarray(m.length - bytes).equals(joined)).toBe(true);
  });

  it.each([
    [1, 1795676079014123456n, false, 0, 'stdout', 10],
    [2 ** 40 + 5, 1n, true, 3, 'stderr', 200],
    [129, 0n, true, 2 ** 33, 'stdout', 0],
  ] as const)('output_chunk seq %d ts %d replay %s gap %d (%s, %d bytes)', (sequence, timestampNs, isReplay, gap, stream, n) => {
    const data = randomBytes(n);
    const m = decode(encodeOutputChunk({ sequence, timestampNs, stream, data }, isReplay, gap)) as { output_chunk: Record<string, unknown> };
    const c = m.output_chunk;
    expect(c.sequence ?? '0').toBe(String(sequence));
    expect(c.timestamp ?? '0').toBe(String(timestampNs));
    expect(((c[stream] as Buffer) ?? Buffer.alloc(0)).equals(data)).toBe(true);
    expect(c.is_replay ?? false).toBe(isReplay);
    expect(c.gap_before ?? '0').toBe(String(gap));
  });
});
