import { InterceptingCall, Metadata, status as Code, type Interceptor } from '@grpc/grpc-js';
import { ExecError } from './exec-error';

/**
 * Options of one call, the last argument of every ExecClient, ControlClient and FileClient method (as
 * grpc-js's own calls take them). A deadline bounds a unary call, a CopyTo / CopyFrom and a
 * ContainerLifecycle stream as a whole; for a Session (run, exec, attach) it bounds the set-up only
 * (until Ready): the output that follows may take as long as the process runs.
 */
export interface CallOptions {
  /** When the call must have finished: a Date or Unix ms. */
  deadline?: Date | number;
  /** The same, relative to now (ignored when `deadline` is given). */
  timeoutMs?: number;
  /** Aborting cancels the call on the wire (HTTP/2 RST_STREAM); it then rejects with CANCELLED. */
  signal?: AbortSignal;
  /** Metadata of this call (`x-request-id`, `traceparent`, …), over the connection's defaults. */
  metadata?: Metadata | Record<string, string | string[]>;
}

/** One call as a CallHook sees it, before it starts: `metadata` may still be changed (added to). */
export interface CallInfo {
  /** The RPC, e.g. `/dagger.exec.Exec/ContainerStatus`. */
  readonly method: string;
  readonly metadata: Metadata;
}

/**
 * Runs before every call of a connection (an interceptor-like hook): it may add metadata (a trace
 * header, a request id) and may return a function called once when the call ends, with its error if it
 * failed (logging, metrics). It sees every call, whichever client makes it.
 */
export type CallHook = (call: CallInfo) => void | ((end: { error?: ExecError }) => void);

/** The absolute deadline of `options` (Unix ms), if any. */
export function deadlineOf(options?: CallOptions): number | undefined {
  if (options?.deadline !== undefined) return options.deadline instanceof Date ? options.deadline.getTime() : options.deadline;
  return options?.timeoutMs !== undefined ? Date.now() + options.timeoutMs : undefined;
}

/** `base` with `extra` set over it (a key in `extra` replaces that key's values), as a new Metadata. */
export function mergedMetadata(base: Metadata, extra?: CallOptions['metadata']): Metadata {
  const out = base.clone();
  if (!extra) return out;
  const entries = extra instanceof Metadata ? Object.keys(extra.getMap()).map((k) => [k, extra.get(k)] as const) : Object.entries(extra);
  for (const [key, value] of entries) {
    out.remove(key);
    for (const v of Array.isArray(value) ? value : [value]) out.add(key, v);
  }
  return out;
}

/** The error a call aborted through its signal rejects with. */
export function abortedError(signal: AbortSignal): ExecError {
  return new ExecError(Code.CANCELLED, 'the call was aborted by its AbortSignal', undefined, { cause: signal.reason });
}

/**
 * Cancels `call` when `signal` aborts (at once if it already has); returns the unbinding. `onAbort` runs
 * first, so the caller can record why the call ends.
 */
export function cancelOnAbort(signal: AbortSignal | undefined, call: { cancel(): void }, onAbort?: () => void): () => void {
  if (!signal) return () => undefined;
  const abort = () => {
    onAbort?.();
    call.cancel();
  };
  if (signal.aborted) {
    queueMicrotask(abort);
    return () => undefined;
  }
  signal.addEventListener('abort', abort, { once: true });
  return () => signal.removeEventListener('abort', abort);
}

/** The grpc-js interceptor that runs a CallHook around every call of a channel. */
export function hookInterceptor(hook: CallHook): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        const end = hook({ method: options.method_definition.path, metadata });
        if (!end) return next(metadata, listener);
        next(metadata, {
          onReceiveStatus(status, nextStatus) {
            try {
              end(status.code === Code.OK ? {} : { error: ExecError.fromStatus(status) });
            } finally {
              nextStatus(status);
            }
          },
        });
      },
    });
}
