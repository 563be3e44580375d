import { Catch, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { GrpcException, RpcException } from '@nestjs/microservices';
import { Metadata, status as GrpcCode } from '@grpc/grpc-js';
import { throwError, type Observable } from 'rxjs';
import { boundMessage, toGrpcStatus } from '../../../common/errors';

export interface GrpcErrorBody {
  code: GrpcCode;
  message: string;
  details: string;
  /** Trailers grpc-js sends with the status: the error's details (grpc-status-details-bin), if any. */
  metadata: Metadata;
}

/**
 * Global filter for @GrpcMethod handlers: whatever a handler throws reaches the client with a real
 * status code. Nest's default filter turns anything but an RpcException into UNKNOWN ("Internal server
 * error"); here an ExecError keeps its kind's code, Nest's Grpc*Exception and RpcException({code})
 * keep theirs, and anything else is INTERNAL with its message — never UNKNOWN.
 */
@Catch()
export class GrpcExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host?: ArgumentsHost): Observable<never> {
    return throwError(() => grpcErrorBody(exception));
  }
}

export function grpcErrorBody(exception: unknown): GrpcErrorBody {
  if (exception instanceof GrpcException) return body(exception.getCode() as number, exception.message);
  if (exception instanceof RpcException) {
    const e = exception.getError() as { code?: unknown; message?: unknown } | string;
    if (typeof e === 'object' && e && typeof e.code === 'number' && e.code !== (GrpcCode.UNKNOWN as number)) {
      return body(e.code, typeof e.message === 'string' ? e.message : exception.message);
    }
    return body(GrpcCode.INTERNAL, `internal error: ${typeof e === 'string' ? e : exception.message}`);
  }
  const s = toGrpcStatus(exception);
  return { code: s.code, message: s.details, details: s.details, metadata: s.metadata };
}

function body(code: GrpcCode, raw: string): GrpcErrorBody {
  // grpc-js reads `details` (falling back to `message`) for the status message; bounded, as every one.
  const message = boundMessage(raw);
  return { code, message, details: message, metadata: new Metadata() };
}
