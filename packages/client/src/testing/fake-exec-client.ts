import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { CallOptions } from '../call-options';
import { ExecClient, ExecSession } from '../exec-client';
import type { SessionRequest, SessionResponse__Output, Start } from '../gen';
import { GRPCConnectionManager } from '../grpc-connection-manager';
import { FakeSessionCall } from './fake-calls';
import { FakeExecService } from './fake-exec-service';

/**
 * An ExecClient without a service: each run, exec or attach is played from the scripts of its
 * FakeExecService (`onRun`, `onExec`), and the sessions are real ExecSessions over an in-memory call,
 * so they behave as the client does against exec-stream: Ready before any output, `exit` after the last
 * byte, collect(), attach by session id or container within "retention" (for ever here), resume from a
 * sequence (ResumingSession), flow control, and errors as ExecErrors with their reasons. Use it where an
 * ExecClient is injected: `Test.createTestingModule(...).overrideProvider(ExecClient).useValue(fake)`.
 */
export class FakeExecClient extends ExecClient {
  constructor(readonly service: FakeExecService = new FakeExecService()) {
    // Never dialled: every call goes to `service` (start() below).
    super(new GRPCConnectionManager({ address: 'fake-exec-service:0' }));
  }

  override start(start: Start, options?: CallOptions): ExecSession {
    const call = new FakeSessionCall(this.service);
    call.write({ start });
    return new ExecSession(call as unknown as ClientDuplexStream<SessionRequest, SessionResponse__Output>, options);
  }
}
