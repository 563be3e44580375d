import { connect, type Socket } from 'node:net';

/** A TCP connection that sends nothing: whether it connected, and when (Date.now()) it closed, by either side. */
export interface IdleConnection {
  socket: Socket;
  connected: boolean;
  closedAt?: number;
}

/**
 * Opens `n` TCP connections to `host:port` that send nothing; resolves once each has connected or failed
 * (a failed one is closed, `connected` false). An error later (a reset) is a close too.
 */
export function idleConnections(port: number, n: number, host = '127.0.0.1'): Promise<IdleConnection[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<IdleConnection>((resolve) => {
          const c: IdleConnection = { socket: connect(port, host), connected: false };
          c.socket.on('error', () => undefined);
          c.socket.once('close', () => {
            c.closedAt = Date.now();
            resolve(c);
          });
          c.socket.once('connect', () => {
            c.connected = true;
            resolve(c);
          });
        }),
    ),
  );
}

/** Closes every one from this side (a test's `finally`). */
export function closeAll(connections: IdleConnection[]): void {
  for (const c of connections) c.socket.destroy();
}
