import { status } from '@grpc/grpc-js';
import { decodeStatusDetails, STATUS_DETAILS_KEY } from '@exec-stream/client/wire';
import { boundMessage, detailOfTrailers, ExecError, MAX_STATUS_MESSAGE_BYTES, toGrpcStatus, withDetail } from './errors';

describe('status messages are bounded', () => {
  it('keeps a short message as it is', () => {
    expect(boundMessage('container abc not found')).toBe('container abc not found');
  });

  it.each([
    ['ASCII', 'x'.repeat(100_000)],
    ['multi-byte text, cut on a character boundary', 'é€😀'.repeat(20_000)],
  ])('cuts a long %s to MAX_STATUS_MESSAGE_BYTES, saying how long it was', (_n, long) => {
    const cut = boundMessage(long);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(MAX_STATUS_MESSAGE_BYTES);
    expect(cut).toMatch(new RegExp(`… \\(${Buffer.byteLength(long)} bytes, cut\\)$`));
    expect(cut).not.toContain('\uFFFD');
    expect(long.startsWith(cut.slice(0, cut.indexOf('…')))).toBe(true);
  });

  it('on every path through toGrpcStatus: ExecError and unexpected errors', () => {
    const long = 'y'.repeat(50_000);
    expect(Buffer.byteLength(toGrpcStatus(new ExecError('not_found', long)).details)).toBeLessThanOrEqual(MAX_STATUS_MESSAGE_BYTES);
    expect(Buffer.byteLength(toGrpcStatus(new Error(long)).details)).toBeLessThanOrEqual(MAX_STATUS_MESSAGE_BYTES + 100);
  });
});

describe('status details (docs/PROTOCOL.md, "Errors")', () => {
  const decoded = (s: { metadata: { get(k: string): unknown[] } }) => decodeStatusDetails(s.metadata.get(STATUS_DETAILS_KEY)[0] as Buffer);

  it('carry the reason, the resource, the field and a retry delay for a retryable reason', () => {
    const s = toGrpcStatus(new ExecError('exhausted', 'too many running sessions', { reason: 'SESSION_LIMIT', metadata: { setting: 'EXEC_MAX_SESSIONS' } }));
    expect(decoded(s)).toEqual({
      code: s.code,
      message: 'too many running sessions',
      reason: 'SESSION_LIMIT',
      domain: 'exec-stream',
      metadata: { setting: 'EXEC_MAX_SESSIONS' },
      retryDelayMs: 1000,
      fieldViolations: [],
    });
    const field = toGrpcStatus(new ExecError('invalid', 'signal is empty', { reason: 'FIELD_INVALID', field: 'signal' }));
    expect(decoded(field)).toMatchObject({ reason: 'FIELD_INVALID', fieldViolations: [{ field: 'signal', description: 'signal is empty' }] });
    expect(decoded(field)).not.toHaveProperty('retryDelayMs');
    const missing = toGrpcStatus(new ExecError('not_found', 'no', { reason: 'SESSION_NOT_FOUND', resource: { type: 'session', name: 'r.1' } }));
    expect(decoded(missing)).toMatchObject({ reason: 'SESSION_NOT_FOUND', resource: { type: 'session', name: 'r.1' } });
  });

  it('unexpected errors are INTERNAL with reason INTERNAL; out of descriptors or disk has its own reason', () => {
    expect(decoded(toGrpcStatus(new Error('boom')))).toMatchObject({ reason: 'INTERNAL' });
    expect(decoded(toGrpcStatus(Object.assign(new Error('x'), { code: 'EMFILE' })))).toMatchObject({ reason: 'FILE_DESCRIPTORS_EXHAUSTED' });
    expect(decoded(toGrpcStatus(Object.assign(new Error('x'), { code: 'ENOSPC' })))).toMatchObject({ reason: 'DATA_DIR_FULL' });
    // The same errno sets as the data directory's and the Docker adapter's: ENFILE and EDQUOT too.
    const enfile = toGrpcStatus(Object.assign(new Error('ENFILE: file table overflow'), { code: 'ENFILE' }));
    expect({ code: enfile.code, reason: decoded(enfile)?.reason }).toEqual({ code: status.RESOURCE_EXHAUSTED, reason: 'FILE_DESCRIPTORS_EXHAUSTED' });
    expect(enfile.details).toContain('raise its limit (ulimit -n)');
    expect(decoded(toGrpcStatus(Object.assign(new Error('x'), { code: 'EDQUOT' })))).toMatchObject({ reason: 'DATA_DIR_FULL' });
  });

  it('a status whose details cannot be encoded is still answered, without them (a thrown encoder would leave the call unanswered)', () => {
    const s = toGrpcStatus(new ExecError('exhausted', 'out of something', { reason: 'NOT_A_REASON' as never }));
    expect({ code: s.code, details: s.details }).toEqual({ code: 8, details: 'out of something' });
    expect(s.metadata.get(STATUS_DETAILS_KEY)).toEqual([]);
  });

  it('an error raised without details gets those its caller knows for its kind (withDetail), and keeps its own otherwise', () => {
    const bare = withDetail(new ExecError('precondition', 'container x is paused'), {
      precondition: { reason: 'CONTAINER_NOT_RUNNING', resource: { type: 'container', name: 'x' } },
    });
    expect(bare.detail).toEqual({ reason: 'CONTAINER_NOT_RUNNING', resource: { type: 'container', name: 'x' } });
    const own = withDetail(new ExecError('precondition', 'p', { reason: 'CONTAINER_PAUSED' }), { precondition: { reason: 'CONTAINER_NOT_RUNNING' } });
    expect(own.detail).toEqual({ reason: 'CONTAINER_PAUSED' });
    expect(toGrpcStatus(new ExecError('invalid', 'no detail')).metadata.get(STATUS_DETAILS_KEY)).toEqual([]);
  });

  it('a forwarded status keeps the details the owner sent (detailOfTrailers), but not a reason that is not ours or not of its code', () => {
    const owner = toGrpcStatus(new ExecError('not_found', 'gone', { reason: 'SESSION_NOT_FOUND', resource: { type: 'session', name: 'r.1' } }));
    expect(detailOfTrailers(owner.code, owner.metadata)).toMatchObject({ reason: 'SESSION_NOT_FOUND', resource: { type: 'session', name: 'r.1' } });
    expect(detailOfTrailers(owner.code + 1, owner.metadata)).toBeUndefined();
    expect(detailOfTrailers(owner.code, undefined)).toBeUndefined();
  });

  it('a reason must go with its kind (checked by tsc)', () => {
    // @ts-expect-error IMAGE_NOT_FOUND comes with NOT_FOUND, not INVALID_ARGUMENT
    const wrong = new ExecError('invalid', 'x', { reason: 'IMAGE_NOT_FOUND' });
    expect(wrong.kind).toBe('invalid');
  });
});
