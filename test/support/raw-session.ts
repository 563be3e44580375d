import type { ServiceError } from '@grpc/grpc-js';
import type { GRPCConnectionManager } from '@exec-stream/client';
import type { ListSessionsRequest, ListSessionsResponse__Output, SessionResponse__Output, Start } from '@exec-stream/client/wire';

/** Every message of one Session call, in order, and how it ended (OK after `exit`, else its error). */
export interface RawSessionResult {
  messages: SessionResponse__Output[];
  /** The oneof case of each message, in order ('ready', 'stdout', 'output_chunk', 'outcome', 'exit', …). */
  kinds: string[];
  error?: ServiceError;
}

/** Opens a Session call with `start` and collects everything it receives until the call ends. */
export function rawSession(connection: GRPCConnectionManager, start: Start): Promise<RawSessionResult> {
  const call = connection.getClient().Session(connection.getMetadata());
  const messages: SessionResponse__Output[] = [];
  return new Promise((resolve) => {
    let settled = false;
    const done = (error?: ServiceError) => {
      if (settled) return;
      settled = true;
      resolve({ messages, kinds: messages.map((m) => m.msg ?? ''), error });
    };
    call.on('data', (m: SessionResponse__Output) => messages.push(m));
    call.on('error', (err: ServiceError) => done(err));
    call.on('end', () => done());
    call.write({ start });
  });
}

/** ListSessions through the generated client. */
export function listSessions(connection: GRPCConnectionManager, req: ListSessionsRequest = {}): Promise<ListSessionsResponse__Output> {
  return new Promise((resolve, reject) =>
    connection
      .getClient()
      .ListSessions(req, connection.getMetadata(), (err: ServiceError | null, res?: ListSessionsResponse__Output) => (err ? reject(err) : resolve(res!))),
  );
}
