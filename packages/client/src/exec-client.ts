import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { abortedError, cancelOnAbort, deadlineOf, type CallOptions } from './call-options';
import { Code, ExecError, toExecError } from './exec-error';
import type { Outcome__Output, PullProgress__Output, SessionRequest, SessionResponse__Output, Start } from './gen';
import { waitForDrain } from './wait-for-drain';
import type { GRPCConnectionManager } from './grpc-connection-manager';

export type OutputStreamName = 'stdout' | 'stderr';

/** All of `output` joined per stream, then `exit`'s code: collect() of ExecSession and ResumingSession. */
export async function collectOutput(output: AsyncIterable<OutputPiece>, exit: Promise<number>): Promise<{ stdout: Buffer; stderr: Buffer; exitCode: number }> {
  const parts: Record<OutputStreamName, Buffer[]> = { stdout: [], stderr: [] };
  for await (const p of output) parts[p.stream].push(p.data);
  return { stdout: Buffer.concat(parts.stdout), stderr: Buffer.concat(parts.stderr), exitCode: await exit };
}

export interface OutputPiece {
  stream: OutputStreamName;
  data: Buffer;
  /** Set when the session was started with `sequenced`. */
  sequence?: number;
  timestampNs?: bigint;
  isReplay?: boolean;
  gapBefore?: number;
}

export interface ReadyInfo {
  sessionId: string;
  containerId: string;
  execId: string;
  replayComplete: boolean;
  terminalSize?: { width: number; height: number };
}

export interface ProcessOptions {
  command?: string[];
  env?: Record<string, string>;
  workingDir?: string;
  tty?: boolean;
  sequenced?: boolean;
  /** Keep the process's stdin open for write() (a tty always has it). */
  openStdin?: boolean;
  /** Names this client; an attach with the same id may write stdin after a reconnect. */
  clientId?: string;
  /** The user the process runs as (name or uid[:gid]); empty = the image's. */
  user?: string;
  /** Labels kept with the session (and on a run's container). */
  labels?: Record<string, string>;
  /** Run limits; 0 or unset = the service's defaults. */
  memoryBytes?: number;
  cpus?: number;
  pidsLimit?: number;
  /** Hard and idle timeouts in ms (0 or unset = none). */
  timeoutMs?: number;
  idleTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace when a timeout expires, in ms (0 or unset = the service's EXEC_KILL_GRACE_MS). */
  killGraceMs?: number;
  /** Idempotency key: a second Start with it attaches to the session it created. */
  requestId?: string;
  /** Image pull policy of a run: never (default), if_missing or always. */
  pull?: 'never' | 'if_missing' | 'always';
  /** Credentials for that pull; unset = the service's (EXEC_REGISTRY_AUTH_FILE). */
  registryAuth?: { username?: string; password?: string; serverAddress?: string; identityToken?: string };
  /** Read-only root filesystem (run); unset = the service's default. */
  readOnlyRootfs?: boolean;
  /** The most output (both streams) the session records; reaching it ends the process (Outcome.reason output_limit). 0 or unset = the service's EXEC_SESSION_OUTPUT_BYTES. */
  outputLimitBytes?: number;
}

export interface AttachOptions {
  sessionId?: string;
  containerId?: string;
  execId?: string;
  /** First chunk to receive (sequenced sessions); 0 = from the first. */
  fromSequence?: number;
  sequenced?: boolean;
  /** The starter's client_id, to take over stdin and resize. */
  clientId?: string;
}

const HIGH_WATER = 32;

/**
 * One Session call seen from the client: `ready`, the output as an async iterable read at the caller's
 * pace (the call is paused while the caller is behind, so gRPC flow control reaches the server), and
 * the exit code. The output must be consumed (iterate `output()` or call `wait()`) for `exit` to settle.
 * A failed call rejects `ready`, `exit` and the output with an ExecError.
 */
export class ExecSession {
  readonly ready: Promise<ReadyInfo>;
  readonly exit: Promise<number>;
  /** Why the process ended (SessionResponse.outcome, sent right before `exit`), when the server sent one. */
  outcome?: Outcome__Output;
  /** The pull_progress messages of a run's image pull (Start.pull), received before Ready; a slow client may miss some. */
  readonly pullProgress: PullProgress__Output[] = [];
  private readonly queue: OutputPiece[] = [];
  private ended = false;
  private error?: Error;
  private wakeReader?: () => void;
  private resolveReady!: (r: ReadyInfo) => void;
  private rejectReady!: (e: unknown) => void;
  private resolveExit!: (code: number) => void;
  private rejectExit!: (e: unknown) => void;
  private consuming = false;
  /** Aborted when the call ends (a write blocked on flow control stops waiting). */
  private readonly ending = new AbortController();

  /**
   * `options.signal` cancels the call whenever it aborts; `options.deadline` / `timeoutMs` cancels it
   * only if Ready has not come by then (DEADLINE_EXCEEDED): it bounds the set-up, not the output.
   */
  constructor(
    readonly call: ClientDuplexStream<SessionRequest, SessionResponse__Output>,
    options: Pick<CallOptions, 'signal' | 'deadline' | 'timeoutMs'> = {},
  ) {
    this.ready = new Promise((res, rej) => ((this.resolveReady = res), (this.rejectReady = rej)));
    this.exit = new Promise((res, rej) => ((this.resolveExit = res), (this.rejectExit = rej)));
    this.ready.catch(() => undefined);
    this.exit.catch(() => undefined);
    call.on('data', (msg: SessionResponse__Output) => this.onMessage(msg));
    call.on('error', (err: ServiceError) => {
      this.error ??= toExecError(err);
      this.finish();
    });
    call.on('end', () => this.finish());
    const signal = options.signal;
    const unbind = cancelOnAbort(signal, call, () => (this.error ??= abortedError(signal!)));
    const deadline = deadlineOf(options);
    const timer =
      deadline === undefined
        ? undefined
        : setTimeout(
            () => {
              this.error ??= new ExecError(
                Code.DEADLINE_EXCEEDED,
                `the session was not set up (no Ready) by its deadline, ${new Date(deadline).toISOString()}`,
              );
              call.cancel();
            },
            Math.max(0, deadline - Date.now()),
          );
    const settle = () => {
      if (timer) clearTimeout(timer);
    };
    this.ready.then(settle, settle);
    call.on('status', unbind);
  }

  /** Output pieces in order, at the pace the caller reads them. Throws the call's error, if any. */
  async *output(): AsyncGenerator<OutputPiece> {
    if (this.consuming) throw new Error('output() can be consumed once');
    this.consuming = true;
    for (;;) {
      if (this.queue.length) {
        const piece = this.queue.shift()!;
        if (this.queue.length < HIGH_WATER / 2 && this.call.isPaused()) this.call.resume();
        yield piece;
        continue;
      }
      if (this.ended) break;
      await new Promise<void>((r) => (this.wakeReader = r));
    }
    if (this.error) throw this.error;
  }

  /** Reads (and drops) the rest of the output; returns the exit code or throws the call's error. */
  async wait(): Promise<number> {
    if (!this.consuming) for await (const _ of this.output());
    return this.exit;
  }

  /** Collects all output per stream, then the exit code. */
  collect(): Promise<{ stdout: Buffer; stderr: Buffer; exitCode: number }> {
    return collectOutput(this.output(), this.exit);
  }

  /**
   * Sends bytes to the process's stdin, waiting while gRPC flow control says the server (and through it
   * the process) is not keeping up. An empty buffer is EOF, as is closeStdin().
   */
  async write(data: Buffer): Promise<void> {
    if (this.ended) throw this.error ?? new Error('the session call has ended');
    if (this.call.write({ stdin: data })) return;
    // Wait for room, or for the call to end (the process exited, or the server refused our input).
    await waitForDrain(this.call, this.ending.signal);
    if (this.ended) throw this.error ?? new Error('the session call has ended');
  }

  /** EOF on the process's stdin: half-closes this call; output goes on until exit. */
  closeStdin(): void {
    this.call.end();
  }

  /** Resizes the session's terminal (tty sessions; the server applies the latest of a burst). */
  resize(width: number, height: number): void {
    this.call.write({ resize: { Width: width, Height: height } });
  }

  /** Leaves the session (the process goes on; other clients are unaffected). */
  cancel(): void {
    this.call.cancel();
  }

  private onMessage(msg: SessionResponse__Output): void {
    if (msg.ready) {
      this.resolveReady({
        sessionId: msg.ready.session_id ?? '',
        containerId: msg.ready.container_id ?? '',
        execId: msg.ready.exec_id ?? '',
        replayComplete: !!msg.ready.replay_complete,
        terminalSize: msg.ready.terminal_size ? { width: msg.ready.terminal_size.Width ?? 0, height: msg.ready.terminal_size.Height ?? 0 } : undefined,
      });
      return;
    }
    if (msg.outcome) {
      this.outcome = msg.outcome;
      return;
    }
    if (msg.pull_progress) {
      this.pullProgress.push(msg.pull_progress);
      return;
    }
    if (msg.exit !== undefined && msg.exit !== null) {
      this.resolveExit(msg.exit);
      return;
    }
    let piece: OutputPiece | undefined;
    if (msg.stdout) piece = { stream: 'stdout', data: msg.stdout };
    else if (msg.stderr) piece = { stream: 'stderr', data: msg.stderr };
    else if (msg.output_chunk) {
      const c = msg.output_chunk;
      piece = {
        stream: c.stderr ? 'stderr' : 'stdout',
        data: c.stderr ?? c.stdout ?? Buffer.alloc(0),
        sequence: Number(c.sequence ?? 0),
        timestampNs: BigInt(c.timestamp ?? 0),
        isReplay: !!c.is_replay,
        gapBefore: Number(c.gap_before ?? 0),
      };
    }
    if (!piece) return;
    this.queue.push(piece);
    if (this.queue.length >= HIGH_WATER) this.call.pause();
    this.wakeReader?.();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    // No code: a call that ended with neither exit nor status (a dropped connection, for ResumingSession).
    const err = this.error ?? new Error('session call ended without an exit code');
    this.rejectReady(err);
    this.rejectExit(err); // no-op when exit already resolved
    this.wakeReader?.();
    this.ending.abort();
  }
}

/**
 * The TypeScript client of exec-stream: start a run, an exec, or attach to a session. Each method takes
 * CallOptions last: metadata, a signal that cancels the call, and a deadline for the set-up (until Ready).
 */
export class ExecClient {
  constructor(private readonly connection: GRPCConnectionManager) {}

  run(image: string, options: ProcessOptions = {}, call?: CallOptions): ExecSession {
    return this.start({ image, ...this.processFields(options) }, call);
  }

  exec(containerId: string, options: ProcessOptions & { command: string[] }, call?: CallOptions): ExecSession {
    return this.start({ container_id: containerId, ...this.processFields(options) }, call);
  }

  attach(options: AttachOptions, call?: CallOptions): ExecSession {
    return this.start(
      {
        session_id: options.sessionId ?? '',
        container_id: options.containerId ?? '',
        exec_id: options.execId ?? '',
        replay_from_sequence: String(options.fromSequence ?? 0),
        sequenced: !!options.sequenced,
        client_id: options.clientId ?? '',
      },
      call,
    );
  }

  /** Opens a Session call and sends a raw Start message (for callers that need every field). */
  start(start: Start, options?: CallOptions): ExecSession {
    const call = this.connection.getClient().Session(this.connection.metadataFor(options));
    call.write({ start });
    return new ExecSession(call, options);
  }

  private processFields(o: ProcessOptions): Start {
    return {
      command: o.command ?? [],
      env: o.env ?? {},
      working_dir: o.workingDir ?? '',
      tty: !!o.tty,
      sequenced: !!o.sequenced,
      open_stdin: !!o.openStdin,
      client_id: o.clientId ?? '',
      user: o.user ?? '',
      labels: o.labels ?? {},
      memory_bytes: o.memoryBytes ?? 0,
      cpus: o.cpus ?? 0,
      pids_limit: o.pidsLimit ?? 0,
      timeout_ms: o.timeoutMs ?? 0,
      idle_timeout_ms: o.idleTimeoutMs ?? 0,
      kill_grace_ms: o.killGraceMs ?? 0,
      request_id: o.requestId ?? '',
      pull: o.pull ?? '',
      ...(o.registryAuth
        ? {
            registry_auth: {
              username: o.registryAuth.username ?? '',
              password: o.registryAuth.password ?? '',
              server_address: o.registryAuth.serverAddress ?? '',
              identity_token: o.registryAuth.identityToken ?? '',
            },
          }
        : {}),
      ...(o.readOnlyRootfs === undefined ? {} : { read_only_rootfs: o.readOnlyRootfs }),
      output_limit_bytes: o.outputLimitBytes ?? 0,
    };
  }
}
