import { Client, credentials, Metadata, status, type MethodDefinition, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { join } from 'node:path';
import { decodeStatusDetails, execProtoPath, PROTO_LOADER_OPTIONS, STATUS_DETAILS_KEY } from '@exec-stream/client/wire';

/** A call not answered within this is hung (a minute: far beyond any answer, busy machine or not). */
export const HUNG_MS = 60_000;

/** The Exec service's methods as proto-loader defines them (request encoders, response decoders). */
const EXEC = loadSync(execProtoPath(), PROTO_LOADER_OPTIONS)['dagger.exec.Exec'] as unknown as Record<string, MethodDefinition<object, object>>;
const HEALTH_PROTO = join(__dirname, '..', '..', '..', 'node_modules', 'grpc-health-check', 'proto', 'health', 'v1', 'health.proto');
const HEALTH = loadSync(HEALTH_PROTO, PROTO_LOADER_OPTIONS)['grpc.health.v1.Health'] as unknown as Record<string, MethodDefinition<object, object>>;

export type UnaryMethod = 'ContainerStatus' | 'ContainerPause' | 'ContainerResume' | 'ContainerSignal';

/** Encodes a request object of an Exec method with the proto's own encoder. */
export function encodeRequest(method: keyof typeof EXEC, request: object): Buffer {
  return EXEC[method].requestSerialize(request);
}

/** A failed call's outcome: its code's name, its message and its reason. */
function failed(err: { code: number; details: string; metadata?: Metadata | null }): CallOutcome {
  const bin = err.metadata?.get(STATUS_DETAILS_KEY)[0];
  const reason = Buffer.isBuffer(bin) ? decodeStatusDetails(bin)?.reason : undefined;
  return { outcome: codeName(err.code), details: err.details, ...(reason ? { reason } : {}) };
}

/** The name of a gRPC status code (14 → 'UNAVAILABLE'). */
export function codeName(code: number): string {
  return status[code] ?? `CODE_${code}`;
}

export interface CallOutcome {
  /** Status name, or 'READY' for a Session call that got its Ready (then left). */
  outcome: string;
  details: string;
  /** ErrorInfo.reason of the status details (docs/PROTOCOL.md, "Errors"), when the service sent them. */
  reason?: string;
  /** The Ready of a Session call that got one. */
  ready?: { session_id?: string; container_id?: string };
}

/**
 * A grpc-js client that sends request bytes exactly as given (so it can send what our typed client
 * would refuse to encode: wrong wire types, unknown fields, any bytes) and decodes responses.
 */
export class RawExecChannel {
  readonly client: Client;

  constructor(
    address: string,
    private readonly token?: string,
  ) {
    this.client = new Client(address, credentials.createInsecure(), {
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 500,
    });
  }

  metadata(authorization?: string | null): Metadata {
    const md = new Metadata();
    const auth = authorization === undefined ? (this.token ? `Bearer ${this.token}` : undefined) : authorization;
    if (auth) md.set('authorization', auth);
    return md;
  }

  /**
   * One unary call with these request bytes; settles with its status. The deadline only tells a hung
   * call (DEADLINE_EXCEEDED, which no scenario allows) from an answer: it is no claim about speed.
   */
  unary(method: UnaryMethod, body: Buffer, md = this.metadata(), deadlineMs = HUNG_MS): Promise<CallOutcome> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(
        `/dagger.exec.Exec/${method}`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        md,
        { deadline: Date.now() + deadlineMs },
        (err: ServiceError | null) => resolve(err ? failed(err) : { outcome: 'OK', details: '' }),
      );
    });
  }

  /**
   * One Session call: sends these request messages (raw bytes), then waits for Ready (the call is then
   * cancelled: the session goes on for others) or the call's status.
   */
  session(messages: Buffer[], md = this.metadata(), deadlineMs = HUNG_MS): Promise<CallOutcome> {
    const decode = EXEC.Session.responseDeserialize;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (o: CallOutcome) => {
        if (settled) return;
        settled = true;
        resolve(o);
      };
      const call = this.client.makeBidiStreamRequest(
        `/dagger.exec.Exec/Session`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        md,
        {
          deadline: Date.now() + deadlineMs,
        },
      );
      call.on('data', (b: Buffer) => {
        const msg = decode(b) as { ready?: CallOutcome['ready'] };
        if (msg.ready) {
          settle({ outcome: 'READY', details: '', ready: msg.ready });
          call.cancel();
        }
      });
      call.on('error', (err: ServiceError) => settle(failed(err)));
      call.on('status', (s: { code: number; details: string; metadata?: Metadata }) => settle(failed(s)));
      for (const m of messages) call.write(m);
    });
  }

  /**
   * One server-streaming call (ContainerLifecycle, CopyFrom) with these request bytes: 'DATA' once a first
   * message arrives (the call is then cancelled), its status otherwise; a stream that is open but quiet
   * when the deadline comes (a lifecycle stream with nothing to say yet) is 'OPEN'.
   */
  serverStream(method: 'ContainerLifecycle' | 'CopyFrom', body: Buffer, md = this.metadata(), deadlineMs = 2_000): Promise<CallOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (o: CallOutcome) => {
        if (settled) return;
        settled = true;
        resolve(o);
      };
      const call = this.client.makeServerStreamRequest(
        `/dagger.exec.Exec/${method}`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        md,
        {
          deadline: Date.now() + deadlineMs,
        },
      );
      call.on('data', () => {
        settle({ outcome: 'DATA', details: '' });
        call.cancel();
      });
      call.on('error', (err: ServiceError) => settle({ outcome: err.code === status.DEADLINE_EXCEEDED ? 'OPEN' : codeName(err.code), details: err.details }));
      call.on('status', (s: { code: number; details: string }) => settle({ outcome: codeName(s.code), details: s.details }));
    });
  }

  /** One client-streaming call (CopyTo): sends these messages (raw bytes), half-closes, settles with its status. */
  clientStream(method: 'CopyTo', messages: Buffer[], md = this.metadata(), deadlineMs = 15_000): Promise<CallOutcome> {
    return new Promise((resolve) => {
      const call = this.client.makeClientStreamRequest(
        `/dagger.exec.Exec/${method}`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        md,
        { deadline: Date.now() + deadlineMs },
        (err: ServiceError | null) => resolve(err ? { outcome: codeName(err.code), details: err.details } : { outcome: 'OK', details: '' }),
      );
      for (const m of messages) call.write(m);
      call.end();
    });
  }

  /** ListSessions with these request bytes; settles with its status. */
  listSessions(body: Buffer, md = this.metadata(), deadlineMs = 15_000): Promise<CallOutcome> {
    return this.unary('ListSessions' as UnaryMethod, body, md, deadlineMs);
  }

  /** grpc.health.v1 Check of the whole server ('' service): 'SERVING', 'NOT_SERVING', or the call's error code. */
  health(service = ''): Promise<string> {
    const m = HEALTH.Check;
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        m.requestSerialize,
        m.responseDeserialize,
        { service },
        new Metadata(),
        { deadline: Date.now() + 5000 },
        (err: ServiceError | null, res?: object) => resolve(err ? codeName(err.code) : String((res as { status?: string }).status)),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Minimal protobuf writer, to build messages with any field numbers and wire types. */
export const pb = {
  varint(n: bigint | number): Buffer {
    let v = BigInt.asUintN(64, BigInt(n));
    const out: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v) byte |= 0x80;
      out.push(byte);
    } while (v);
    return Buffer.from(out);
  },
  tag(field: number, wireType: number): Buffer {
    return pb.varint((BigInt(field) << 3n) | BigInt(wireType));
  },
  bytes(field: number, data: Buffer | string): Buffer {
    const b = Buffer.isBuffer(data) ? data : Buffer.from(data);
    return Buffer.concat([pb.tag(field, 2), pb.varint(b.length), b]);
  },
  uint(field: number, n: bigint | number): Buffer {
    return Buffer.concat([pb.tag(field, 0), pb.varint(n)]);
  },
};
