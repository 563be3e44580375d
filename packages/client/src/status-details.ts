import { Root, type Type } from 'protobufjs';
import { dirname, join } from 'node:path';
import type { BadRequest__Output, ErrorInfo__Output, ResourceInfo__Output, RetryInfo__Output, Status__Output } from './gen';
import { execProtoPath, PROTO_LOADER_OPTIONS } from './proto';

/** The trailer that carries a google.rpc.Status with the details of a gRPC error (gRPC's rich error model). */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

/** One invalid field of a request (google.rpc.BadRequest.FieldViolation). */
export interface FieldViolation {
  /** The field's path in the request, e.g. `start.memory_bytes`, `labels`, `x-request-id` (metadata). */
  field: string;
  description: string;
}

/** The object an error is about (google.rpc.ResourceInfo). */
export interface ResourceInfo {
  type: string;
  name: string;
  /** The object that holds it, e.g. the container of a path. */
  owner?: string;
}

/** The details exec-stream sends with an error (AIP-193): ErrorInfo, ResourceInfo, RetryInfo and BadRequest, flattened. */
export interface ErrorDetails {
  reason?: string;
  domain?: string;
  /** ErrorInfo.metadata: facts about the error as strings (a setting's name, a scope, a registry, …). */
  metadata: Record<string, string>;
  resource?: ResourceInfo;
  /** RetryInfo.retry_delay in ms: set when retrying the same call may succeed. */
  retryDelayMs?: number;
  fieldViolations: FieldViolation[];
}

const TYPE_URL_PREFIX = 'type.googleapis.com/';

/**
 * The google.rpc message types, loaded from proto/google/rpc (beside exec.proto; google/protobuf comes
 * with protobufjs) when this module is: encoding or decoding an error never reads a file, so a process
 * out of file descriptors can still send and read the error that says so.
 */
const types = loadRpcTypes();

function loadRpcTypes(): Record<'Status' | 'ErrorInfo' | 'ResourceInfo' | 'RetryInfo' | 'BadRequest', Type> {
  const root = new Root();
  const protoDir = dirname(execProtoPath());
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : join(protoDir, target));
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
  const t = (name: string) => root.lookupType(`google.rpc.${name}`);
  return { Status: t('Status'), ErrorInfo: t('ErrorInfo'), ResourceInfo: t('ResourceInfo'), RetryInfo: t('RetryInfo'), BadRequest: t('BadRequest') };
}

const toObject = <T>(type: Type, bytes: Uint8Array): T => type.toObject(type.decode(bytes), PROTO_LOADER_OPTIONS) as T;
const any = (type: Type, message: object) => ({
  type_url: `${TYPE_URL_PREFIX}${type.fullName.slice(1)}`,
  value: type.encode(type.fromObject(message)).finish(),
});

/** A google.rpc.Status of `code` and `message` carrying `details`, encoded for the grpc-status-details-bin trailer. */
export function encodeStatusDetails(code: number, message: string, details: ErrorDetails): Buffer {
  const t = types;
  const parts = [];
  if (details.reason) parts.push(any(t.ErrorInfo, { reason: details.reason, domain: details.domain ?? '', metadata: details.metadata }));
  if (details.resource) {
    const r = details.resource;
    parts.push(any(t.ResourceInfo, { resource_type: r.type, resource_name: r.name, owner: r.owner ?? '', description: '' }));
  }
  if (details.retryDelayMs !== undefined) {
    const ms = Math.max(0, Math.round(details.retryDelayMs));
    parts.push(any(t.RetryInfo, { retry_delay: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 } }));
  }
  if (details.fieldViolations.length) parts.push(any(t.BadRequest, { field_violations: details.fieldViolations }));
  return Buffer.from(t.Status.encode(t.Status.fromObject({ code, message, details: parts })).finish());
}

/**
 * The details of a grpc-status-details-bin trailer; undefined when it is not a google.rpc.Status.
 * Detail messages of other types are skipped, as AIP-193 asks of clients.
 */
export function decodeStatusDetails(bytes: Uint8Array): (ErrorDetails & { code: number; message: string }) | undefined {
  const t = types;
  let status: Status__Output;
  try {
    status = toObject<Status__Output>(t.Status, bytes);
  } catch {
    return undefined;
  }
  const out: ErrorDetails & { code: number; message: string } = { code: status.code ?? 0, message: status.message ?? '', metadata: {}, fieldViolations: [] };
  for (const d of status.details ?? []) {
    const name = (d.type_url ?? '').slice((d.type_url ?? '').lastIndexOf('/') + 1);
    const value = d.value ?? Buffer.alloc(0);
    try {
      if (name === 'google.rpc.ErrorInfo') {
        const e = toObject<ErrorInfo__Output>(t.ErrorInfo, value);
        Object.assign(out, { reason: e.reason ?? '', domain: e.domain ?? '', metadata: { ...e.metadata } });
      } else if (name === 'google.rpc.ResourceInfo') {
        const r = toObject<ResourceInfo__Output>(t.ResourceInfo, value);
        out.resource = { type: r.resource_type ?? '', name: r.resource_name ?? '', ...(r.owner ? { owner: r.owner } : {}) };
      } else if (name === 'google.rpc.RetryInfo') {
        const r = toObject<RetryInfo__Output>(t.RetryInfo, value);
        out.retryDelayMs = Number(r.retry_delay?.seconds ?? 0) * 1000 + Math.round((r.retry_delay?.nanos ?? 0) / 1_000_000);
      } else if (name === 'google.rpc.BadRequest') {
        const b = toObject<BadRequest__Output>(t.BadRequest, value);
        out.fieldViolations.push(...(b.field_violations ?? []).map((v) => ({ field: v.field ?? '', description: v.description ?? '' })));
      }
    } catch {
      // A detail that does not decode is skipped; the others still count.
    }
  }
  return out;
}
