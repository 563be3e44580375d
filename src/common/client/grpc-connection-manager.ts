import { credentials, loadPackageDefinition, Metadata, type ChannelOptions } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { ExecClient as ExecStub, ProtoGrpcType } from '../gen';
import { execProtoPath, PROTO_LOADER_OPTIONS } from '../proto-path';

export interface ConnectionOptions {
  /** host:port of the exec-stream server. */
  address: string;
  /** EXEC_AUTH_TOKEN of the server, if it has one. */
  token?: string;
  /** How the token is sent: `Bearer <token>` (default) or the reference client's Basic form. */
  authScheme?: 'bearer' | 'basic';
  channelOptions?: ChannelOptions;
}

/**
 * The raw grpc-js client of dagger.exec.Exec, as loaded from proto/exec.proto: typed by the generated
 * stub (src/common/gen), and indexable by method name for callers that send hand-made messages.
 */
export type RawExecClient = ExecStub & Record<string, (...args: unknown[]) => unknown>;

type ExecClientCtor = ProtoGrpcType['dagger']['exec']['Exec'];
let ctor: ExecClientCtor | undefined;

function execClientCtor(): ExecClientCtor {
  if (!ctor) {
    const pkg = loadPackageDefinition(loadSync(execProtoPath(), PROTO_LOADER_OPTIONS)) as unknown as ProtoGrpcType;
    ctor = pkg.dagger.exec.Exec;
  }
  return ctor;
}

/**
 * Owns one channel to the server. The channel and the auth metadata are made on first use and reused
 * by every call; close() drops both, and the next call makes them again.
 */
export class GRPCConnectionManager {
  private client?: RawExecClient;
  private metadata?: Metadata;

  constructor(private readonly options: ConnectionOptions) {}

  get address(): string {
    return this.options.address;
  }

  getClient(): RawExecClient {
    if (!this.client) {
      this.client = new (execClientCtor())(this.options.address, credentials.createInsecure(), {
        'grpc.max_receive_message_length': 16 * 1024 * 1024,
        ...this.options.channelOptions,
      }) as RawExecClient;
    }
    return this.client;
  }

  /** Metadata for every call (built once: the token does not change for a manager's life). */
  getMetadata(): Metadata {
    if (!this.metadata) {
      this.metadata = new Metadata();
      const { token, authScheme = 'bearer' } = this.options;
      if (token) {
        this.metadata.set('authorization', authScheme === 'basic' ? `Basic ${Buffer.from(`:${token}`).toString('base64')}` : `Bearer ${token}`);
      }
    }
    return this.metadata;
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
    this.metadata = undefined;
  }
}
