import { ExecClient, GRPCConnectionManager } from '@exec-stream/client';
import { buildService, childService, type ChildService, type ChildServiceOptions } from '../../support/child-service';
import { BASE_IMAGE } from '../../support/server';
import { RawExecChannel } from './raw-rpc';
import { alive } from './figures';

/** The token the reliability scenarios run the service with (auth is part of what they attack). */
export const TOKEN = 'reliability-token-0123456789';

export interface ServiceUnderTest {
  svc: ChildService;
  /** Our typed client, with the token. */
  client: ExecClient;
  connection: GRPCConnectionManager;
  raw: RawExecChannel;
  /** The service process's pid (scripts/serve.sh execs node, so the spawned pid is the service). */
  pid(): number;
  dispose(): Promise<void>;
}

/** Starts the built service as a child process with a token and returns clients for it. */
export async function serviceUnderTest(env: Record<string, string> = {}, options: ChildServiceOptions = {}): Promise<ServiceUnderTest> {
  const svc = await childService({ EXEC_AUTH_TOKEN: TOKEN, ...env }, options);
  await svc.start();
  const connection = new GRPCConnectionManager({
    address: svc.address,
    token: TOKEN,
    channelOptions: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500 },
  });
  const raw = new RawExecChannel(svc.address, TOKEN);
  return {
    svc,
    client: new ExecClient(connection),
    connection,
    raw,
    pid: () => svc.proc!.pid!,
    async dispose() {
      raw.close();
      connection.close();
      await svc.dispose();
    },
  };
}

/**
 * The suite's service: builds dist/ and starts the service under test before the file's tests
 * (beforeAll, within 120 s), disposes of it after them (afterAll). The object returned is filled in by
 * then: tests use it as serviceUnderTest's.
 */
export function serviceForSuite(env: Record<string, string> = {}, options: ChildServiceOptions = {}): ServiceUnderTest {
  const s = {} as ServiceUnderTest;
  beforeAll(async () => {
    buildService();
    Object.assign(s, await serviceUnderTest(env, options));
  }, 120_000);
  afterAll(() => s.dispose?.());
  return s;
}

/** A deterministic output the test can compute: `seq 1 n` on stdout, then exit 3. */
export const PROBE_LINES = 20_000;
export const PROBE_EXPECTED = Array.from({ length: PROBE_LINES }, (_, i) => `${i + 1}\n`).join('');

/** Runs the probe session on a fresh channel: is the service alive and serving byte-exact output? */
export async function probeSession(s: ServiceUnderTest): Promise<{ alive: boolean; exact: boolean; exitCode: number }> {
  const connection = new GRPCConnectionManager({ address: s.svc.address, token: TOKEN });
  try {
    const r = await new ExecClient(connection).run(BASE_IMAGE, { command: ['sh', '-c', `seq 1 ${PROBE_LINES}; exit 3`] }).collect();
    return { alive: alive(s.pid()), exact: r.stdout.toString() === PROBE_EXPECTED && r.stderr.length === 0, exitCode: r.exitCode };
  } finally {
    connection.close();
  }
}

/** Polls `check` every 100 ms until it is true or `timeoutMs` passed; returns its last value. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
