import {
  Client,
  type ChannelCredentials,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientWritableStream,
  type Deadline,
  type Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync, type MethodDefinition } from '@grpc/proto-loader';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { channelCredentials } from '@exec-stream/client';
import { execProtoPath, PROTO_LOADER_OPTIONS } from '@exec-stream/client/wire';
import type { ExecConfig } from '../../common/config/exec-config';
import { EXEC_CONFIG } from '../../common/tokens';

/** The Exec methods, as proto-loader defines them (path, serializers). */
type ExecMethods = Record<string, MethodDefinition<unknown, unknown>>;

/** Responses as the peer's bytes, undecoded: a forwarded stream passes them on as they are (byte-exact, no copy). */
const raw = (b: Buffer): Buffer => b;

/** Keepalive ping interval, and how long a ping may go unanswered, on the channels to peers. */
export const PEER_KEEPALIVE_MS = 2_000;

/** HTTP/2 receive window of a peer channel (per stream and per connection). */
export const PEER_FLOW_CONTROL_WINDOW = 1024 * 1024;

/**
 * Channels to the other replicas, one per address, reused by every forwarded call. Their HTTP/2 window
 * is 1 MiB: a forwarding replica holds at most that (and one message) per call, the owner's flow control
 * reaches through it to the client, and bulk output is not held back by window updates (docs/BENCHMARKS.md
 * "Through a forwarding replica").
 *
 * Credentials: TLS when this replica serves TLS (EXEC_TLS_CERT), trusting EXEC_PEER_TLS_CA and presenting
 * its own certificate (mTLS between replicas); plaintext otherwise. Auth is the caller's own metadata,
 * passed on by the forwarder: the owner checks the same token the caller sent.
 */
@Injectable()
export class PeerChannels implements OnApplicationShutdown {
  private readonly clients = new Map<string, Client>();
  private readonly methods: ExecMethods;
  private creds?: ChannelCredentials;

  constructor(@Inject(EXEC_CONFIG) private readonly config: ExecConfig) {
    const pkg = loadSync(execProtoPath(), PROTO_LOADER_OPTIONS);
    this.methods = pkg['dagger.exec.Exec'] as unknown as ExecMethods;
  }

  /**
   * A unary call, decoded; `deadlineMs` bounds it (a peer that hangs does not hang the caller), and so
   * does `callerDeadline`, the deadline of the call being answered, when it is sooner.
   */
  unary<Res>(address: string, method: string, req: unknown, metadata: Metadata, deadlineMs: number, callerDeadline?: Deadline): Promise<Res> {
    const m = this.method(method);
    const caller = callerDeadline === undefined ? Infinity : callerDeadline instanceof Date ? callerDeadline.getTime() : callerDeadline;
    return new Promise((resolve, reject) => {
      this.client(address).makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        req,
        metadata,
        { deadline: Math.min(Date.now() + deadlineMs, caller) },
        (err: ServiceError | null, res?: unknown) => (err ? reject(err) : resolve(res as Res)),
      );
    });
  }

  /** A server stream; responses decoded unless `undecoded` (then each is the peer's encoded message). */
  serverStream(address: string, method: string, req: unknown, metadata: Metadata, undecoded: boolean): ClientReadableStream<unknown> {
    const m = this.method(method);
    return this.client(address).makeServerStreamRequest(m.path, m.requestSerialize, undecoded ? raw : m.responseDeserialize, req, metadata, {});
  }

  /** A bidirectional stream whose responses arrive encoded (Buffers), to be written on unchanged. */
  bidiUndecoded(address: string, method: string, metadata: Metadata): ClientDuplexStream<unknown, Buffer> {
    const m = this.method(method);
    return this.client(address).makeBidiStreamRequest(m.path, m.requestSerialize, raw, metadata, {});
  }

  /** A client stream with a decoded response. */
  clientStream<Res>(address: string, method: string, metadata: Metadata, done: (err: ServiceError | null, res?: Res) => void): ClientWritableStream<unknown> {
    const m = this.method(method);
    return this.client(address).makeClientStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, metadata, {}, (err, res) => done(err, res as Res));
  }

  /** After the server closed: a draining replica's forwarded calls are ended by CallForwarder first, with their own message. */
  onApplicationShutdown(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private method(name: string): MethodDefinition<unknown, unknown> {
    const m = this.methods[name];
    if (!m) throw new Error(`no method Exec.${name}`);
    return m;
  }

  private client(address: string): Client {
    let c = this.clients.get(address);
    if (!c) {
      c = new Client(address, this.credentials(), {
        'grpc.max_receive_message_length': 16 * 1024 * 1024,
        'grpc-node.flow_control_window': PEER_FLOW_CONTROL_WINDOW,
        // A restarted owner is reachable again within a second, not after grpc-js's minutes of back-off.
        'grpc.initial_reconnect_backoff_ms': 200,
        'grpc.max_reconnect_backoff_ms': 2000,
        // A hung owner (stopped, partitioned) fails its calls UNAVAILABLE within PEER_KEEPALIVE_MS × 2 instead
        // of stalling them: its calls' clients can then resume elsewhere (docs/SCALING.md).
        'grpc.keepalive_time_ms': PEER_KEEPALIVE_MS,
        'grpc.keepalive_timeout_ms': PEER_KEEPALIVE_MS,
        'grpc.keepalive_permit_without_calls': 1,
      });
      this.clients.set(address, c);
    }
    return c;
  }

  private credentials(): ChannelCredentials {
    // The client package's own TLS rules (PEM paths read once); plaintext without EXEC_TLS_CERT.
    const { EXEC_TLS_CERT: cert, EXEC_TLS_KEY: key, EXEC_PEER_TLS_CA: ca } = this.config;
    this.creds ??= channelCredentials(cert && key ? { ca, cert, key } : undefined);
    return this.creds;
  }
}
