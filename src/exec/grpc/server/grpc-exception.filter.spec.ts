import { status } from '@grpc/grpc-js';
import { ExecError, MAX_STATUS_MESSAGE_BYTES } from '../../../common/errors';
import { grpcErrorBody } from './grpc-exception.filter';

describe('grpcErrorBody', () => {
  it('keeps the code and bounds the message, like every path to the client', () => {
    const body = grpcErrorBody(new ExecError('invalid', 'y'.repeat(50_000)));
    expect(body.code).toBe(status.INVALID_ARGUMENT);
    expect(Buffer.byteLength(body.details)).toBeLessThanOrEqual(MAX_STATUS_MESSAGE_BYTES);
  });
});
