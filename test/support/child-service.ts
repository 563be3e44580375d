import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecClient, GRPCConnectionManager } from '@exec-stream/client';
import { freePort } from './server';

const ROOT = join(__dirname, '..', '..');
/** How users start the built service (its Node flags included); it execs node, so its pid is the service's. */
const SERVE = join(ROOT, 'scripts', 'serve.sh');

/**
 * Builds dist/ (scripts/build.sh: tsc, incremental, stale outputs removed) unless this test run's global
 * setup (test/support/global-setup.js) already did. A build that fails stops the test: it never runs an
 * older dist/ in place of the code under test.
 */
export function buildService(): void {
  if (process.env.EXEC_STREAM_BUILT === '1') return;
  try {
    execFileSync('bash', [join(ROOT, 'scripts', 'build.sh')], { cwd: ROOT, stdio: 'pipe' });
  } catch (err) {
    const out = String((err as { stdout?: Buffer }).stdout ?? '') + String((err as { stderr?: Buffer }).stderr ?? '');
    throw new Error(`the service does not build (scripts/build.sh):\n${out}`, { cause: err });
  }
}

export interface ChildService {
  address: string;
  dataDir: string;
  /** Its EXEC_REPLICA_ID: the label `exec-stream.replica` of the containers it makes. */
  replicaId: string;
  /** Every log line (pino JSON) the current and earlier processes wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  proc?: ChildProcess;
  connection: GRPCConnectionManager;
  client: ExecClient;
  /** Starts the service process (again), same address and data dir; resolves once it listens. */
  start(extraEnv?: Record<string, string>): Promise<{ listeningMs: number }>;
  /** Date.now() when the current process was spawned. */
  spawnedAt: number;
  /** Sends a signal and waits for the process to exit; resolves with how it exited. */
  stop(signal: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  dispose(): Promise<void>;
}

export interface ChildServiceOptions {
  /** Open-file limit of the process (prlimit --nofile=n:n, which execs serve.sh, which execs node). */
  nofile?: number;
  /** Data directory to use instead of a new temporary one (e.g. a small tmpfs); it is emptied, not removed. */
  dataDir?: string;
  /** Port to listen on (127.0.0.1) instead of a free one picked now, e.g. one already published in DNS. */
  port?: number;
  /**
   * A file the process's stdout goes to (e.g. /dev/full, or a named pipe nobody reads: it is opened
   * read-write, so a pipe needs no reader) instead of the pipe its log is read from: `logs` stays empty and
   * start() resolves once the port takes a connection.
   */
  stdout?: string;
}

/** Resolves once 127.0.0.1:`port` takes a TCP connection (tried every 100 ms); rejects with `failed` if it settles first. */
async function accepting(port: number, failed: Promise<never>): Promise<void> {
  let settled = false;
  failed.catch(() => (settled = true));
  while (!settled) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await Promise.race([new Promise((r) => setTimeout(r, 100)), failed]);
  }
  await failed;
}

/** The real service as a child process (it must be able to die: kill -9, SIGTERM). */
export async function childService(env: Record<string, string> = {}, options: ChildServiceOptions = {}): Promise<ChildService> {
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'exec-stream-child-'));
  const address = `127.0.0.1:${port}`;
  // Its own replica id (kept across restarts): concurrent suites on the shared engine never touch each other's containers.
  const replicaId = env.EXEC_REPLICA_ID ?? `e2e-child-${port}-${process.pid}`;
  // grpc-js backs off reconnecting up to minutes by default; a restarting service is back in ~1 s.
  const connection = new GRPCConnectionManager({
    address,
    channelOptions: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500 },
  });
  const svc: ChildService = {
    address,
    dataDir,
    replicaId,
    logs: [],
    spawnedAt: 0,
    connection,
    client: new ExecClient(connection),
    start(extraEnv = {}) {
      const t0 = (svc.spawnedAt = Date.now());
      const childEnv: NodeJS.ProcessEnv = {
        ...process.env,
        EXEC_LISTEN: address,
        EXEC_DATA_DIR: dataDir,
        EXEC_LOG_LEVEL: 'info',
        EXEC_REPLICA_ID: replicaId,
        ...env,
        ...extraEnv,
      };
      delete childEnv.NODE_OPTIONS; // jest's vm-modules flags are not the service's
      const argv = options.nofile ? ['prlimit', `--nofile=${options.nofile}:${options.nofile}`, 'bash', SERVE] : ['bash', SERVE];
      if (options.stdout) {
        const out = openSync(options.stdout, 'r+');
        const proc = spawn(argv[0], argv.slice(1), { cwd: ROOT, env: childEnv, stdio: ['ignore', out, 'pipe'] });
        closeSync(out);
        svc.proc = proc;
        let stderr = '';
        proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        const exited = new Promise<never>((_, reject) =>
          proc.once('exit', (code, signal) => reject(new Error(`service exited before listening (code ${code}, signal ${signal}): ${stderr}`))),
        );
        return accepting(port, exited).then(() => ({ listeningMs: Date.now() - t0 }));
      }
      const proc = spawn(argv[0], argv.slice(1), { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      svc.proc = proc;
      return new Promise((resolve, reject) => {
        let buf = '';
        let stderr = '';
        proc.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            try {
              const entry = JSON.parse(line) as Record<string, unknown>;
              svc.logs.push(entry);
              if (entry.msg === 'exec-stream listening') resolve({ listeningMs: Date.now() - t0 });
            } catch {
              /* not a log line */
            }
          }
        });
        proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        proc.once('exit', (code, signal) => reject(new Error(`service exited before listening (code ${code}, signal ${signal}): ${stderr}`)));
      });
    },
    stop(signal, timeoutMs = 10_000) {
      const proc = svc.proc;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null)
        return Promise.resolve({ code: proc?.exitCode ?? null, signal: proc?.signalCode ?? null });
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`service did not exit within ${timeoutMs} ms of ${signal}`)), timeoutMs);
        proc.once('exit', (code, sig) => {
          clearTimeout(timer);
          resolve({ code, signal: sig });
        });
        proc.kill(signal);
      });
    },
    async dispose() {
      connection.close();
      await svc.stop('SIGKILL').catch(() => undefined);
      // Containers outlive the service by design; remove this suite's own.
      const ids = execFileSync('docker', ['ps', '-aq', '--filter', 'label=exec-stream.managed=true', '--filter', `label=exec-stream.replica=${replicaId}`], {
        encoding: 'utf8',
      })
        .split('\n')
        .filter(Boolean);
      for (const id of ids) {
        let session: string;
        try {
          session = execFileSync('docker', ['inspect', '-f', '{{index .Config.Labels "exec-stream.session"}}', id], { encoding: 'utf8', stdio: 'pipe' }).trim();
        } catch {
          continue; // removed meanwhile
        }
        if (existsSync(join(dataDir, 'sessions', session))) execFileSync('docker', ['rm', '-f', '-v', id], { stdio: 'ignore' });
      }
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
      else for (const f of readdirSync(dataDir)) rmSync(join(dataDir, f), { recursive: true, force: true });
    },
  };
  return svc;
}
