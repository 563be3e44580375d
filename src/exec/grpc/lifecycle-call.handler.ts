import { Inject, Injectable } from '@nestjs/common';
import { Observable } from 'rxjs';
import { ExecError } from '../../common/errors';
import type { ContainerLifecycleEvent, ContainerLifecycleRequest__Output } from '@exec-stream/client/wire';
import type { Logger } from '../../common/logger';
import { ROOT_LOGGER } from '../../common/tokens';
import { LifecycleBus } from '../../lifecycle/lifecycle-bus';
import type { LifecycleCursor } from '../../lifecycle/lifecycle-cursor';
import type { LifecycleEvent } from '../../lifecycle/lifecycle-event';
import { optionalId } from '../../common/request-ids';
import { waitForDrain } from '@exec-stream/client/wire';
import { callContextOf } from './call-context';
import type { ServerStreamCall } from './server-stream-call';

/** What the handler needs of the raw grpc-js server-writable call. */
export type LifecycleCallStream = ServerStreamCall<ContainerLifecycleEvent>;

/**
 * One ContainerLifecycle call: a cursor into the lifecycle bus, written to the call one event at a time
 * with grpc-js's own flow control (write() false → wait for 'drain'). The server holds nothing for a
 * slow client but its cursor position; one that falls behind the bus history gets a `dropped` event.
 *
 * Nest's @GrpcStreamCall is only for client-streaming methods; for a server stream Nest passes the raw
 * call as the handler's third argument and writes whatever Observable the handler returns (buffering
 * without bound for a slow client). So the handler returns an Observable that emits nothing and
 * completes when the delivery loop ends, and the loop writes to the call itself.
 */
@Injectable()
export class LifecycleCallHandler {
  private readonly log: Logger;

  constructor(
    private readonly bus: LifecycleBus,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ component: 'lifecycle-call' });
  }

  /** resume_after_id is a decimal string (longs: String); absent = only new events. */
  handle(req: ContainerLifecycleRequest__Output, call: LifecycleCallStream): Observable<never> {
    const containerId = optionalId('container_id', req.container_id) || undefined;
    const resumeAfterId = parseResumeId(req.resume_after_id);
    let cursor: LifecycleCursor;
    try {
      cursor = this.bus.open({ containerId, resumeAfterId });
    } catch (err) {
      throw err instanceof RangeError ? new ExecError('invalid', `resume_after_id: ${err.message}`) : err;
    }
    return new Observable<never>((subscriber) => {
      this.deliver(cursor, call, callContextOf(call.metadata, this.log, 'ContainerLifecycle').log).then(
        () => subscriber.complete(),
        // The error as it is: the exception filter gives it its status (an ExecError keeps its code).
        (err) => subscriber.error(err),
      );
      return () => cursor.close();
    });
  }

  private async deliver(cursor: LifecycleCursor, call: LifecycleCallStream, log: Logger): Promise<void> {
    const gone = () => cursor.close();
    call.on('cancelled', gone);
    call.on('close', gone);
    call.on('error', gone);
    log.debug({ containerId: cursor.containerId, from: cursor.position }, 'lifecycle subscriber attached');
    try {
      if (call.cancelled) return;
      while (!cursor.isClosed) {
        const event = cursor.read();
        if (!event) {
          await cursor.waitForEvent();
          continue;
        }
        // A call that ends while blocked never drains: the cursor closing (on 'cancelled') ends the wait too.
        if (!call.write(toProto(event))) await waitForDrain(call, cursor.signal);
      }
    } finally {
      cursor.close();
      call.removeListener('cancelled', gone);
      call.removeListener('close', gone);
      call.removeListener('error', gone);
      log.debug({ dropped: cursor.droppedTotal }, 'lifecycle subscriber detached');
    }
  }
}

function parseResumeId(value: string | number | undefined): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const s = String(value);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw new ExecError('invalid', `resume_after_id ${s} is not an event id`);
  return Number(s);
}

export function toProto(e: LifecycleEvent): ContainerLifecycleEvent {
  return {
    container_id: e.containerId,
    event_type: e.type,
    status: e.status,
    timestamp: String(e.timestampNs),
    exit_code: e.exitCode ?? 0,
    message: e.message ?? '',
    id: String(e.id),
    dropped: String(e.dropped ?? 0),
    signal: e.signal ?? 0,
    session_id: e.sessionId ?? '',
    exec_id: e.execId ?? '',
    source: e.source,
  };
}
