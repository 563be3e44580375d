import { EventEmitter } from 'node:events';
import { status } from '@grpc/grpc-js';
import pino from 'pino';
import { firstValueFrom } from 'rxjs';
import type { ExecConfig } from '../../common/config/exec-config';
import { ExecError } from '../../common/errors';
import type { PeerLifecycle, RoutedCalls } from '../cluster';
import { LifecycleBus } from '../../lifecycle/lifecycle-bus';
import { GrpcExceptionFilter } from './server/grpc-exception.filter';
import { LifecycleCallHandler, type LifecycleCallStream } from './lifecycle-call.handler';

/** A call whose write fails with `err`: the delivery loop ends with it. */
function failingCall(err: unknown): LifecycleCallStream {
  return Object.assign(new EventEmitter(), {
    write: () => {
      throw err;
    },
  });
}

/** What the client gets: the handler's Observable error, through the service's exception filter. */
async function statusOf(err: unknown): Promise<{ code: number; details: string }> {
  const bus = new LifecycleBus();
  // No peers: the routing is never asked (mergesPeers false), the peers never followed.
  const routed = { mergesPeers: () => false } as unknown as RoutedCalls;
  const handler = new LifecycleCallHandler(bus, routed, {} as PeerLifecycle, { EXEC_REPLICA_ID: 'r1' } as ExecConfig, pino({ level: 'silent' }));
  const events = handler.handle({ container_id: '' }, failingCall(err));
  const failure = firstValueFrom(events).catch((e: unknown) => e);
  bus.publish({ containerId: 'c1', type: 'started', status: 'running' });
  return firstValueFrom(new GrpcExceptionFilter().catch(await failure)).catch((e: { code: number; details: string }) => e);
}

describe('LifecycleCallHandler: a delivery that fails ends the call with that failure', () => {
  it("keeps an ExecError's code and message", async () => {
    expect(await statusOf(new ExecError('unavailable', 'the bus went away'))).toMatchObject({ code: status.UNAVAILABLE, details: 'the bus went away' });
  });

  it('says what an unexpected error was (INTERNAL with its message, not "[object Object]")', async () => {
    expect(await statusOf(new Error('encoder broke'))).toMatchObject({ code: status.INTERNAL, details: expect.stringContaining('encoder broke') });
  });
});
