/** What waitForDrain needs of a writable gRPC call (grpc-js server and client calls both satisfy it). */
export interface DrainSource {
  once(event: 'drain', fn: () => void): unknown;
  removeListener(event: 'drain', fn: () => void): unknown;
}

/**
 * Resolves at the call's next 'drain', or as soon as `stop` is (or already was) aborted: a call that
 * ends while its writer is blocked never drains. Leaves no listener behind either way.
 */
export function waitForDrain(call: DrainSource, stop: AbortSignal): Promise<void> {
  if (stop.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      call.removeListener('drain', done);
      stop.removeEventListener('abort', done);
      resolve();
    };
    call.once('drain', done);
    stop.addEventListener('abort', done, { once: true });
  });
}
