import type { Server } from '@grpc/grpc-js';
import type { Server as NetServer } from 'node:net';
import type { Logger } from '../../../common/logger';

/** The part of grpc-js's Server this relies on (1.14): it sets up each HTTP/2 server before it listens. */
type SettingUp = { _setupHandlers?: (this: unknown, http2Server: NetServer | null, ...rest: unknown[]) => void };

/**
 * grpc-js (1.14) listens for its listening sockets' `error` only while binding. One emitted later, an
 * accept that fails (EMFILE or ENFILE when the process's descriptors run out and libuv's spare-descriptor
 * trick loses its race to another thread), has no listener: an uncaught exception, the end of the
 * service and every session on it. This gives each of `server`'s HTTP/2 servers a listener that logs
 * such an error once it listens (Node's server goes on accepting); errors while binding stay grpc-js's
 * (a taken port still fails the bind). Returns false when grpc-js no longer has the hook (nothing done).
 */
export function logListeningErrors(server: Server, log: Logger): boolean {
  const target = server as unknown as SettingUp;
  const original = target._setupHandlers;
  if (typeof original !== 'function') return false;
  target._setupHandlers = function (this: unknown, http2Server, ...rest) {
    http2Server?.on('error', (err: NodeJS.ErrnoException) => {
      if (http2Server.listening) log.error({ err: err.message, code: err.code }, 'the gRPC listening socket reported an error: it goes on listening');
    });
    return original.call(this, http2Server, ...rest);
  };
  return true;
}
