import { applyDecorators } from '@nestjs/common';
import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateBy, validateSync } from 'class-validator';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { tlsProblems } from './tls-files';
import { dockerHostProblems } from './docker-tls';
import { tokensFileProblems } from './tokens-file';
import { registryAuthFileProblems } from './registry-auth-file';
import { limitsProblems } from './limits-config';
import { logOptionsProblems } from './log-options';
import { REPLICA_ID } from '../patterns';
import { HOST_PORT, splitHostPort, type HostPort } from './host-port';
import { parseSettings, type ParsedSettings } from './parsed-settings';
import { peerListProblem } from './peer-list';

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
const toNumber = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value;
/** The ceiling of the settings that arm one Node timer each (far below its 2^31 − 1 ms limit). */
const ONE_DAY_MS = 86_400_000;
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);
/** 'true' / 'false' as booleans; anything else (empty too) stays a string, which IsBoolean refuses. */
const toBoolean = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);
const BOOLEAN = { message: ({ property }: { property: string }) => `${property} must be true or false` };
/** Unset when empty; else without surrounding whitespace (all-whitespace stays a string, '' then, which MinLength refuses). */
const trimmedToken = ({ value }: { value: unknown }) => (value === '' ? undefined : typeof value === 'string' ? value.trim() : value);

/**
 * Decorators as if written one above the other, in this order: TypeScript applies a stack bottom-up,
 * applyDecorators in its order, and the order is the order of the messages.
 */
const setting = (...decorators: PropertyDecorator[]) => applyDecorators(...decorators.reverse());
/** A whole number of at least `min` (at most `max`). */
const IntSetting = (min: number, max?: number) => setting(Transform(toInt), IsInt(), Min(min), ...(max === undefined ? [] : [Max(max)]));
/** A finite number of at least `min`. */
const NumberSetting = (min: number) => setting(Transform(toNumber), IsNumber({ allowNaN: false, allowInfinity: false }), Min(min));
/** `true` or `false`. */
const BooleanSetting = () => setting(Transform(toBoolean), IsBoolean(BOOLEAN));
/** A string, unset when empty (a path, a flag Docker's CLI reads as set or not). */
const OptionalString = () => setting(IsOptional(), Transform(emptyToUndefined), IsString());

/** Settings whose surrounding whitespace loadConfig dropped (a token file's newline): their names, never their values. */
export const TRIMMED_SETTINGS = ['EXEC_AUTH_TOKEN'] as const;
export function trimmedSettings(env: Record<string, string | undefined> = process.env): string[] {
  return TRIMMED_SETTINGS.filter((name) => {
    const v = env[name];
    return v !== undefined && v !== '' && v !== v.trim();
  });
}

/**
 * Every setting the service reads, from environment variables of the same name. Validated once at
 * start-up; a bad value stops the process with a message naming the variable.
 */
export class ExecConfig implements ParsedSettings {
  /** host:port the gRPC server listens on. */
  @Matches(HOST_PORT, { message: 'EXEC_LISTEN must be host:port' })
  EXEC_LISTEN = '127.0.0.1:50051';

  /**
   * When set, every RPC needs `authorization: Bearer <token>` (or Basic base64(":"+token)). Surrounding
   * whitespace is dropped (a file's or Secret's trailing newline); main.ts logs that it was.
   */
  @IsOptional()
  @Transform(trimmedToken)
  @IsString()
  @MinLength(16, { message: 'EXEC_AUTH_TOKEN must be at least 16 characters' })
  EXEC_AUTH_TOKEN?: string = undefined;

  /**
   * A JSON file of scoped tokens `[{"name","sha256","scopes"}]` (tokens-file.ts), re-read on change; works
   * beside EXEC_AUTH_TOKEN (docs/PROTOCOL.md, "Scoped tokens").
   */
  @OptionalString()
  EXEC_AUTH_TOKENS_FILE?: string = undefined;

  /**
   * A Docker config.json with "auths" (a Secret) whose credentials pulls use when Start.registry_auth is
   * unset; re-read at every pull (registry-auth-file.ts, docs/PROTOCOL.md "Images from a registry").
   */
  @OptionalString()
  EXEC_REGISTRY_AUTH_FILE?: string = undefined;

  /** PEM certificate (chain) and private key files: when set, gRPC is served over TLS, re-read on change. */
  @OptionalString()
  EXEC_TLS_CERT?: string = undefined;

  @OptionalString()
  EXEC_TLS_KEY?: string = undefined;

  /** PEM CA bundle file: when set (with the two above), every client must present a certificate it signed (mTLS). */
  @OptionalString()
  EXEC_TLS_CLIENT_CA?: string = undefined;

  /**
   * PEM CA bundle file that signed the other replicas' certificates: with EXEC_TLS_CERT set, peers are
   * called over TLS, trusting this CA (unset = the system's roots) and presenting EXEC_TLS_CERT / KEY.
   */
  @OptionalString()
  EXEC_PEER_TLS_CA?: string = undefined;

  /**
   * host:port of the Prometheus /metrics HTTP server (docs/METRICS.md); unset = metrics off. Any host
   * is allowed: it serves counts only (no session ids, commands or output) and controls nothing.
   */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(HOST_PORT, { message: 'EXEC_METRICS_LISTEN must be host:port' })
  EXEC_METRICS_LISTEN?: string = undefined;

  /** Where session files live (output, index, exit). */
  @IsString()
  @MinLength(1)
  EXEC_DATA_DIR = join(tmpdir(), 'exec-stream');

  /** Docker endpoint (unix:///path or tcp://host:port); unset = dockerode's default socket. ssh:// is refused (docker-tls.ts). */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^(unix|tcp|http|https|npipe|ssh):\/\/.+/, { message: 'DOCKER_HOST must be unix://, tcp://, http(s):// or npipe://' })
  DOCKER_HOST?: string = undefined;

  /** 1: reach DOCKER_HOST (tcp://) over TLS, verifying the engine and presenting a client certificate (docker-tls.ts). */
  @OptionalString()
  DOCKER_TLS_VERIFY?: string = undefined;

  /** Folder of ca.pem, cert.pem and key.pem for a TLS engine; unset = ~/.docker, as for the docker CLI. */
  @OptionalString()
  DOCKER_CERT_PATH?: string = undefined;

  /**
   * Deadline of every Docker request that should complete (create, start, inspect, kill, remove…) and
   * of establishing a stream (attach, wait, stats); past it the call fails UNAVAILABLE naming it.
   */
  @IntSetting(100, 600_000)
  EXEC_DOCKER_TIMEOUT_MS = 30_000;

  /** Network mode for containers this service creates. */
  @IsString()
  EXEC_CONTAINER_NETWORK = 'none';

  /**
   * Docker log driver for containers this service creates. Restart recovery does not read it (a run's
   * output is recorded inside its container: docs/DURABILITY.md), and any driver but `none` makes
   * Docker throttle output written a line at a time; `local` or `json-file` only for `docker logs`.
   */
  @IsIn(['local', 'json-file', 'none'])
  EXEC_CONTAINER_LOG_DRIVER = 'none';

  /**
   * Options of that log driver, `key=value` joined by commas, as `docker run --log-opt` takes them:
   * `max-size`, `max-file` and `compress` only, checked at start (log-options.ts; ignored for `none`).
   */
  @IsString()
  EXEC_CONTAINER_LOG_OPTS = 'compress=false';

  /**
   * The newest output (bytes, both streams) a run's container keeps in its own record for restart
   * recovery: output the container wrote while the service was down is recovered if it is within this.
   */
  @IntSetting(1 << 20)
  EXEC_RECOVERY_RECORD_BYTES = 128 << 20;

  /**
   * Run containers with Docker's init (tini) as pid 1, like `docker run --init`: it forwards signals,
   * so a plain process dies of SIGTERM (exit 143) instead of pid 1 ignoring it, and it reaps zombies.
   */
  @BooleanSetting()
  EXEC_CONTAINER_INIT = true;

  /** Memory limit (bytes) of a run's container when Start.memory_bytes is 0; 0 = none (limits-config.ts checks these). */
  @IntSetting(0)
  EXEC_DEFAULT_MEMORY_BYTES = 0;

  /** The largest Start.memory_bytes accepted; 0 = no maximum. */
  @IntSetting(0)
  EXEC_MAX_MEMORY_BYTES = 0;

  /** CPUs (fractional) of a run's container when Start.cpus is 0; 0 = no limit. */
  @NumberSetting(0)
  EXEC_DEFAULT_CPUS = 0;

  /** The largest Start.cpus accepted; 0 = no maximum. */
  @NumberSetting(0)
  EXEC_MAX_CPUS = 0;

  /** Process (pids) limit of a run's container when Start.pids_limit is 0: a fork bomb stops there. 0 = none. */
  @IntSetting(0)
  EXEC_DEFAULT_PIDS_LIMIT = 1024;

  /** The largest Start.pids_limit accepted; 0 = no maximum. */
  @IntSetting(0)
  EXEC_MAX_PIDS_LIMIT = 32_768;

  /** Grace between SIGTERM and SIGKILL when a timeout ends a process (Start.kill_grace_ms = 0). */
  @IntSetting(0, 600_000)
  EXEC_KILL_GRACE_MS = 10_000;

  /** The largest Start.timeout_ms / idle_timeout_ms accepted; 0 = no maximum. */
  @IntSetting(0)
  EXEC_MAX_TIMEOUT_MS = 0;

  /** Run containers with a read-only root file system and a writable tmpfs /tmp, unless Start.read_only_rootfs says otherwise. */
  @BooleanSetting()
  EXEC_READ_ONLY_ROOTFS = false;

  /**
   * Capabilities a run's container keeps (comma-separated; all others dropped): Docker's default set or
   * fewer. Default: Docker's less NET_RAW, MKNOD, AUDIT_WRITE and SETFCAP.
   */
  @IsString()
  EXEC_CAPABILITIES = 'CHOWN,DAC_OVERRIDE,FSETID,FOWNER,SETGID,SETUID,SETPCAP,NET_BIND_SERVICE,SYS_CHROOT,KILL';

  /** Sessions whose process is still running, at once. */
  @IntSetting(1, 10_000)
  EXEC_MAX_SESSIONS = 64;

  /** Clients attached to one session, at once. */
  @IntSetting(1, 10_000)
  EXEC_MAX_CLIENTS_PER_SESSION = 64;

  /** How long a finished session stays attachable (output, exit code), in seconds. */
  @IntSetting(1)
  EXEC_RETENTION_SECONDS = 900;

  /**
   * Total disk the finished sessions' files may occupy, in bytes; over it, the sweeper removes finished
   * sessions oldest-finished first (never a running one, never one with a client attached).
   */
  @IntSetting(0)
  EXEC_RETENTION_BYTES = 10 * 1024 * 1024 * 1024;

  /**
   * The most output (stdout and stderr bytes) one session records; reaching it ends the process
   * (Outcome.reason output_limit). 0 = a quarter of the smaller of EXEC_RETENTION_BYTES and the data
   * directory's file system (src/exec/output/output-budget.ts). Start.output_limit_bytes may only lower it.
   */
  @IntSetting(0)
  EXEC_SESSION_OUTPUT_BYTES = 0;

  /**
   * Free space kept on the data directory's file system for running sessions: below it, finished
   * sessions' files are removed, oldest-finished first, readers or not. 0 = one session's output limit
   * (EXEC_SESSION_OUTPUT_BYTES as resolved), at most a quarter of the file system.
   */
  @IntSetting(0)
  EXEC_DATA_RESERVE_BYTES = 0;

  /** The audit trail (docs/AUDIT.md): `on` records every call and session end in EXEC_DATA_DIR/audit; `off` records nothing. */
  @IsIn(['on', 'off'])
  EXEC_AUDIT = 'on';

  /** An audit event is kept at least this long (seconds), and removed (with its segment) once older; session retention never removes it. */
  @IntSetting(1)
  EXEC_AUDIT_RETENTION_SECONDS = 30 * 86_400;

  /** The most disk the audit trail may take; reached with nothing past its retention, the calls it records are refused. */
  @IntSetting(64 * 1024)
  EXEC_AUDIT_MAX_BYTES = 1024 * 1024 * 1024;

  /** Size at which the trail's current file (segment) is closed and a new one begun (its head then recorded in the anchors file). */
  @IntSetting(16 * 1024)
  EXEC_AUDIT_SEGMENT_BYTES = 16 * 1024 * 1024;

  /** `interval`: events reach the disk within a second (fdatasync every second); `always`: each event is fdatasynced before its call is answered. */
  @IsIn(['interval', 'always'])
  EXEC_AUDIT_FSYNC = 'interval';

  /** `true`: every audit event is also written to standard output as one JSON line with "type":"audit" (for log shippers). */
  @BooleanSetting()
  EXEC_AUDIT_STDOUT = false;

  /** Newest output kept in memory per session; older output is read back from the session's files. */
  @IntSetting(64 * 1024)
  EXEC_TAIL_BYTES = 4 * 1024 * 1024;

  /**
   * Newest output kept in memory for all sessions together: each session holding output in memory
   * keeps min(EXEC_TAIL_BYTES, this / their number), at least 256 KiB (src/exec/output/tail-budget.ts).
   */
  @IntSetting(1024 * 1024)
  EXEC_TAIL_BUDGET_BYTES = 32 * 1024 * 1024;

  /**
   * The window over which a copy's progress is measured: Docker holds the container's lock while an
   * archive request is open, so a CopyTo client that sends, or a CopyFrom client that takes, less than
   * EXEC_COPY_MIN_BYTES_PER_SECOND over a window it kept the copy waiting ends the copy with ABORTED.
   */
  @IntSetting(100, ONE_DAY_MS)
  EXEC_COPY_STALL_MS = 30_000;

  /** The least a copy's client must move per second, averaged over EXEC_COPY_STALL_MS; 0 = any byte at all. */
  @IntSetting(0)
  EXEC_COPY_MIN_BYTES_PER_SECOND = 16 * 1024;

  /** The longest a CopyTo or CopyFrom may hold its container (Docker's lock), in ms. */
  @IntSetting(1000)
  EXEC_COPY_MAX_MS = 3_600_000;

  /** The most tar bytes one CopyTo unpacks into a container, counted after gzip; an entry that would end past it is refused. */
  @IntSetting(1024)
  EXEC_COPY_MAX_BYTES = 4 * 1024 * 1024 * 1024;

  /** Remove a run's container once its exit code and all its output are recorded. */
  @BooleanSetting()
  EXEC_REMOVE_CONTAINERS = true;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  EXEC_LOG_LEVEL = 'info';

  /**
   * This instance's id (DNS-1123 label: a-z, 0-9, '-', ≤ 63), carried by its containers as the label
   * exec-stream.replica: it sees, controls, re-adopts and removes only containers with its own id.
   * Unique per Docker engine; stable across restarts (default: the host name, i.e. the pod name).
   */
  @Matches(REPLICA_ID, {
    message: 'EXEC_REPLICA_ID must be a DNS-1123 label: 1-63 of a-z, 0-9 and -, starting and ending with a letter or digit',
  })
  EXEC_REPLICA_ID = defaultReplicaId();

  /**
   * Static peers, `id=host:port,id=host:port` (ids as EXEC_REPLICA_ID; an entry with this replica's own
   * id is ignored, so every replica can be given one list); empty = none.
   */
  @ValidateBy({
    name: 'peerList',
    validator: { validate: (value) => peerListProblem(value) === undefined, defaultMessage: (args) => peerListProblem(args?.value) ?? '' },
  })
  EXEC_PEERS = '';

  /** SRV name whose targets are the peers, e.g. `_grpc._tcp.<headless-service>.<ns>.svc.cluster.local`; empty = none. */
  @Matches(/^([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$|^$/, {
    message: 'EXEC_PEERS_DNS must be a DNS name (an SRV name such as _grpc._tcp.exec-stream-headless.default.svc.cluster.local)',
  })
  EXEC_PEERS_DNS = '';

  /** IP address (with :port) of the DNS server EXEC_PEERS_DNS is resolved through; empty = the system's resolvers. */
  @Matches(/^(\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?|\[[0-9a-fA-F:]+\](:\d{1,5})?|[0-9a-fA-F]*:[0-9a-fA-F:]*)$|^$/, {
    message: 'EXEC_DNS_SERVER must be an IP address with an optional port: 10.96.0.10, 127.0.0.1:5353 or [fd00::10]:53',
  })
  EXEC_DNS_SERVER = '';

  /** How often EXEC_PEERS_DNS is resolved again, in ms (a peer not known yet is also looked up when a call needs it). */
  @IntSetting(100, ONE_DAY_MS)
  EXEC_PEERS_REFRESH_MS = 10_000;

  // Set by loadConfig from the settings above (parsed-settings.ts); declared, so that they are no settings.
  declare readonly metricsListen?: HostPort;
  declare readonly capabilities: readonly string[];
  declare readonly logOptions: Readonly<Record<string, string>>;
  declare readonly peers: ReadonlyMap<string, string>;
}

/** The host name made a DNS-1123 label (lower case, other characters '-', ≤ 63), else `exec-stream`. */
export function defaultReplicaId(name = hostname()): string {
  const id = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return id || 'exec-stream';
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|localhost|::1)$/;

/** Reads and validates the environment; throws one Error listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): ExecConfig {
  // Every setting is an own property of a new ExecConfig (the optional ones initialised to undefined).
  const known = Object.keys(new ExecConfig());
  const picked: Record<string, string> = {};
  for (const key of known) if (env[key] !== undefined) picked[key] = env[key];
  const config = plainToInstance(ExecConfig, picked);
  const problems = validateSync(config).map((e) => `${e.property}=${JSON.stringify(e.value)}: ${Object.values(e.constraints ?? {}).join('; ')}`);
  problems.push(...tlsProblems(config));
  problems.push(...tokensFileProblems(config));
  problems.push(...registryAuthFileProblems(config));
  problems.push(...limitsProblems(config));
  problems.push(...logOptionsProblems(config));
  if (!problems.some((p) => p.startsWith('DOCKER_HOST='))) problems.push(...dockerHostProblems(config));
  // Split as they are, good or not, for the checks that compare them.
  const listen = splitHostPort(config.EXEC_LISTEN);
  const metricsPort = config.EXEC_METRICS_LISTEN ? splitHostPort(config.EXEC_METRICS_LISTEN).port : undefined;
  // Beyond loopback a caller must be authenticated: by the token, or by a client certificate (mTLS).
  if (!config.EXEC_AUTH_TOKEN && !config.EXEC_AUTH_TOKENS_FILE && !config.EXEC_TLS_CLIENT_CA && !LOOPBACK.test(listen.host)) {
    problems.push(
      `EXEC_LISTEN=${config.EXEC_LISTEN}: without EXEC_AUTH_TOKEN or EXEC_TLS_CLIENT_CA the service listens only on loopback ` +
        '(127.0.0.0/8, localhost, ::1), so that nobody else can run containers through it; set EXEC_AUTH_TOKEN (or mTLS)',
    );
  }
  if (config.EXEC_AUDIT_MAX_BYTES < 2 * config.EXEC_AUDIT_SEGMENT_BYTES) {
    problems.push(
      `EXEC_AUDIT_MAX_BYTES=${config.EXEC_AUDIT_MAX_BYTES}: the audit trail needs room for at least two segments of EXEC_AUDIT_SEGMENT_BYTES (${config.EXEC_AUDIT_SEGMENT_BYTES})`,
    );
  }
  if (metricsPort && metricsPort === listen.port) {
    problems.push(`EXEC_METRICS_LISTEN=${config.EXEC_METRICS_LISTEN}: metrics need a port of their own, not EXEC_LISTEN's (${config.EXEC_LISTEN})`);
  }
  if (problems.length) throw new Error(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return Object.assign(config, parseSettings(config));
}
