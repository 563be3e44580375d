import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type CallOptions as GrpcCallOptions,
  type ChannelCredentials,
  type Interceptor,
  type ChannelOptions,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { readFileSync } from 'node:fs';
import { deadlineOf, hookInterceptor, mergedMetadata, type CallHook, type CallOptions } from './call-options';
import type { ExecClient as ExecStub, ProtoGrpcType } from './gen';
import { execProtoPath, PROTO_LOADER_OPTIONS } from './proto';

export interface ConnectionOptions {
  /** host:port of the exec-stream server. */
  address: string;
  /** EXEC_AUTH_TOKEN of the server, if it has one (surrounding whitespace, e.g. a file's newline, is dropped). */
  token?: string;
  /** How the token is sent: `Bearer <token>` (default) or the reference client's Basic form. */
  authScheme?: 'bearer' | 'basic';
  channelOptions?: ChannelOptions;
  /**
   * Connect over TLS (the server has EXEC_TLS_CERT): `true` trusts the system's roots, an object names
   * the files; unset, or an object with no field set (`{ ca: process.env.UNSET }`), is plaintext.
   */
  tls?: ClientTlsOptions | true;
  /** Metadata sent with every call (a call's own CallOptions.metadata goes over it). */
  defaultMetadata?: Record<string, string | string[]>;
  /** Runs before every call and may see its end (call-options.ts): trace headers, logging, metrics. */
  onCall?: CallHook;
}

/** Each value is PEM text (a string holding `-----BEGIN`, or a Buffer) or the path of a PEM file. */
export interface ClientTlsOptions {
  /** CA that signed the server's certificate; unset = the system's roots. */
  ca?: string | Buffer;
  /** Client certificate (chain) and its key, for a server with EXEC_TLS_CLIENT_CA (mTLS). */
  cert?: string | Buffer;
  key?: string | Buffer;
}

const pem = (v: string | Buffer | undefined): Buffer | null =>
  v === undefined ? null : Buffer.isBuffer(v) ? v : v.includes('-----BEGIN') ? Buffer.from(v) : readFileSync(v);

/**
 * Channel credentials for the options: TLS (with a client certificate for mTLS) or plaintext. An object
 * whose fields are all unset is plaintext, like no object: an optional CA read from an unset variable
 * must not turn TLS on against a plaintext server.
 */
export function channelCredentials(tls?: ClientTlsOptions | true): ChannelCredentials {
  if (tls === true) return credentials.createSsl();
  if (!tls || (tls.ca === undefined && tls.cert === undefined && tls.key === undefined)) return credentials.createInsecure();
  if (!tls.cert !== !tls.key) throw new Error('tls.cert and tls.key go together');
  return credentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert));
}

/** The `authorization` value for a token: `Bearer <token>` or the Basic form; the token's surrounding whitespace is dropped. */
export function authorizationValue(token: string, scheme: 'bearer' | 'basic' = 'bearer'): string {
  const t = token.trim();
  return scheme === 'basic' ? `Basic ${Buffer.from(`:${t}`).toString('base64')}` : `Bearer ${t}`;
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

/** grpc-js's channel option for the connection's and each stream's HTTP/2 receive window, and our default. */
export const CLIENT_FLOW_CONTROL_WINDOW_OPTION = 'grpc-node.flow_control_window';
export const CLIENT_FLOW_CONTROL_WINDOW = 4 * 1024 * 1024;

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
      this.client = new (execClientCtor())(this.options.address, channelCredentials(this.options.tls), {
        'grpc.max_receive_message_length': 16 * 1024 * 1024,
        // HTTP/2 flow-control window of 4 MiB (default 64 KiB): the server sends bulk output with far
        // fewer window updates and writes (docs/BENCHMARKS.md "CPU per byte", change 2).
        [CLIENT_FLOW_CONTROL_WINDOW_OPTION]: CLIENT_FLOW_CONTROL_WINDOW,
        ...this.options.channelOptions,
        ...(this.options.onCall ? { interceptors: [...channelInterceptors(this.options.channelOptions), hookInterceptor(this.options.onCall)] } : {}),
      }) as RawExecClient;
    }
    return this.client;
  }

  /** Metadata for every call (built once: the token does not change for a manager's life). */
  getMetadata(): Metadata {
    if (!this.metadata) {
      this.metadata = mergedMetadata(new Metadata(), this.options.defaultMetadata);
      const { token, authScheme = 'bearer' } = this.options;
      if (token?.trim()) this.metadata.set('authorization', authorizationValue(token, authScheme));
    }
    return this.metadata;
  }

  /** The metadata of one call (a copy, its own to change): the connection's, with the call's own over it. */
  metadataFor(call?: CallOptions): Metadata {
    return mergedMetadata(this.getMetadata(), call?.metadata);
  }

  /** grpc-js's options of a call that its deadline bounds as a whole (unary calls, CopyTo, CopyFrom, ContainerLifecycle). */
  grpcOptionsFor(call?: CallOptions): GrpcCallOptions {
    const deadline = deadlineOf(call);
    return deadline === undefined ? {} : { deadline };
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
    this.metadata = undefined;
  }
}

function channelInterceptors(options: ChannelOptions | undefined): Interceptor[] {
  const given = (options as { interceptors?: unknown } | undefined)?.interceptors;
  return Array.isArray(given) ? (given as Interceptor[]) : [];
}
