import type { Metadata } from '@grpc/grpc-js';

/**
 * What a server-streaming handler needs of the raw grpc-js server-writable call (Nest passes it as the
 * handler's third argument): write with flow control (write() false → wait for 'drain'), the call's
 * end, and the request metadata that carries the CallContext the auth interceptor bound (auth/call-context.ts).
 */
export interface ServerStreamCall<T> {
  /** `written` is called once grpc-js has handed the message to HTTP/2 and no longer holds it. */
  write(message: T, written?: () => void): boolean;
  once(event: 'drain', fn: () => void): unknown;
  on(event: 'cancelled' | 'close' | 'error', fn: () => void): unknown;
  removeListener(event: string, fn: () => void): unknown;
  cancelled?: boolean;
  metadata?: Metadata;
  /** Sends the response headers now (grpc-js sends them with the first message otherwise). */
  sendMetadata?(headers: Metadata): void;
}
