import type { Server } from '@grpc/grpc-js';
import type { Server as NetServer } from 'node:net';
import type { Logger } from '../../../common/logger';

/**
 * The parts of grpc-js's Server this relies on (1.14): its HTTP/2 servers once bound (`http2Servers`),
 * and the set-up each gets before it listens (`_setupHandlers`), for servers bound later.
 */
type Internals = {
  http2Servers?: Map<NetServer, unknown>;
  _setupHandlers?: (this: unknown, http2Server: NetServer | null, ...rest: unknown[]) => void;
};

/**
 * grpc-js (1.14) listens for its listening sockets' `error` only while binding. One emitted later, an
 * accept that fails (EMFILE or ENFILE when the process's descriptors run out and libuv's spare-descriptor
 * trick loses its race to another thread), has no listener: an uncaught exception, the end of the
 * service and every session on it. This gives each of `server`'s HTTP/2 servers a listener that logs
 * such an error once it listens (Node's server goes on accepting): those bound already (Nest binds before
 * it hands the server to onLoadPackageDefinition) and any bound later. Errors while binding stay
 * grpc-js's (a taken port still fails the bind). Returns false when grpc-js no longer has these parts
 * (nothing done).
 */
export function logListeningErrors(server: Server, log: Logger): boolean {
  const internals = server as unknown as Internals;
  const setup = internals._setupHandlers;
  if (!(internals.http2Servers instanceof Map) || typeof setup !== 'function') return false;
  const listen = (http2Server: NetServer) =>
    http2Server.on('error', (err: NodeJS.ErrnoException) => {
      if (http2Server.listening) log.error({ err: err.message, code: err.code }, 'the gRPC listening socket reported an error: it goes on listening');
    });
  for (const bound of internals.http2Servers.keys()) listen(bound);
  internals._setupHandlers = function (this: unknown, http2Server, ...rest) {
    if (http2Server) listen(http2Server);
    return setup.call(this, http2Server, ...rest);
  };
  return true;
}
