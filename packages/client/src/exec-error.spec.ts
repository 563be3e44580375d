import { Metadata, status } from '@grpc/grpc-js';
import { Code, ExecError, toExecError } from './exec-error';
import { decodeStatusDetails, encodeStatusDetails, STATUS_DETAILS_KEY } from './status-details';

const trailers = (bin?: Buffer) => {
  const md = new Metadata();
  if (bin) md.set(STATUS_DETAILS_KEY, bin);
  return md;
};

describe('status details (google.rpc.Status in grpc-status-details-bin)', () => {
  it('round-trip: ErrorInfo, ResourceInfo, RetryInfo and BadRequest', () => {
    const details = {
      reason: 'CLIENT_LIMIT',
      domain: 'exec-stream',
      metadata: { setting: 'EXEC_MAX_CLIENTS_PER_SESSION' },
      resource: { type: 'session', name: 'r.1', owner: 'c1' },
      retryDelayMs: 1500,
      fieldViolations: [{ field: 'start.labels', description: 'too many' }],
    };
    expect(decodeStatusDetails(encodeStatusDetails(8, 'full', details))).toEqual({ code: 8, message: 'full', ...details });
  });

  it('bytes that are no Status decode to undefined; an ExecError from them has no reason', () => {
    expect(decodeStatusDetails(Buffer.from([0xff, 0xff, 0xff]))).toBeUndefined();
    const e = new ExecError(Code.NOT_FOUND, 'x', trailers(Buffer.from([0xff, 0xff, 0xff])));
    expect(e.reason).toBeUndefined();
    expect(e.fieldViolations).toEqual([]);
  });
});

describe('ExecError', () => {
  it('keeps what grpc-js gives (code, details, metadata, message) and decodes the details', () => {
    const bin = encodeStatusDetails(status.NOT_FOUND, 'session r.1 not found', {
      reason: 'SESSION_NOT_FOUND',
      domain: 'exec-stream',
      metadata: {},
      resource: { type: 'session', name: 'r.1' },
      fieldViolations: [],
    });
    const raw = Object.assign(new Error('5 NOT_FOUND: session r.1 not found'), {
      code: status.NOT_FOUND,
      details: 'session r.1 not found',
      metadata: trailers(bin),
    });
    const e = toExecError(raw) as ExecError;
    expect(e).toBeInstanceOf(ExecError);
    expect(e).toMatchObject({
      code: Code.NOT_FOUND,
      details: 'session r.1 not found',
      message: '5 NOT_FOUND: session r.1 not found',
      reason: 'SESSION_NOT_FOUND',
      domain: 'exec-stream',
      resource: { type: 'session', name: 'r.1' },
      retryable: false,
    });
    expect(e.cause).toBe(raw);
  });

  it('retryable: RetryInfo when the server sent details; UNAVAILABLE without any', () => {
    const retry = encodeStatusDetails(status.UNAVAILABLE, 'x', {
      reason: 'SHUTTING_DOWN',
      domain: 'exec-stream',
      metadata: {},
      retryDelayMs: 1000,
      fieldViolations: [],
    });
    expect(new ExecError(Code.UNAVAILABLE, 'x', trailers(retry))).toMatchObject({ retryable: true, retryDelayMs: 1000 });
    const lost = encodeStatusDetails(status.UNAVAILABLE, 'x', { reason: 'OUTCOME_LOST', domain: 'exec-stream', metadata: {}, fieldViolations: [] });
    expect(new ExecError(Code.UNAVAILABLE, 'x', trailers(lost)).retryable).toBe(false);
    expect(new ExecError(Code.UNAVAILABLE, 'connection refused').retryable).toBe(true);
    expect(new ExecError(Code.INVALID_ARGUMENT, 'bad').retryable).toBe(false);
  });

  it('leaves an error without a numeric code as it is (a call that ended without exit or status)', () => {
    const plain = new Error('session call ended without an exit code');
    expect(toExecError(plain)).toBe(plain);
  });
});
