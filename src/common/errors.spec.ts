import { boundMessage, ExecError, MAX_STATUS_MESSAGE_BYTES, toGrpcStatus } from './errors';

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
