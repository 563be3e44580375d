/**
 * docs/CLIENTS.md, "Testing your service": the fakes of @exec-stream/client/testing put where a Nest
 * application injects ExecClient and ControlClient (Test.createTestingModule(...).overrideProvider), and
 * one scenario of a consumer's service played against them and against the real service (in-process,
 * real Docker): what the consumer observes must be the same (output and its order, exit code, Outcome,
 * a late attach, a resume from a sequence, stdin, a signal, status, ListSessions, RemoveSession, an error).
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { ControlClient, ExecClient, ResumingSession, type ExecError } from '@exec-stream/client';
import { ExecClientModule } from '@exec-stream/client/nest';
import type { SessionResponse__Output } from '@exec-stream/client/wire';
import { FakeControlClient, FakeExecClient, FakeExecService } from '@exec-stream/client/testing';
import { waitUntil } from './support/conditions';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';

jest.setTimeout(60_000);

/** A consumer's service, as it would be written against the package. */
@Injectable()
class Jobs {
  constructor(
    readonly exec: ExecClient,
    readonly control: ControlClient,
  ) {}
}

/** The scenario's commands on the real service, and the scripts that stand for them on the fake. */
const REAL = {
  greet: ['sh', '-c', 'echo hello; sleep 0.3; echo oops >&2; exit 3'],
  echoLine: ['sh', '-c', 'read line; echo "got $line"'],
  sleeper: ['sleep', '60'],
};
function scripted(service: FakeExecService): void {
  service
    .when((s) => s.command?.[2] === REAL.greet[2], { output: [{ stdout: 'hello\n' }, { stderr: 'oops\n', delayMs: 300 }], exitCode: 3 })
    .when((s) => s.command?.[2] === REAL.echoLine[2], { output: [{ untilStdin: '\n' }, { stdout: 'got hi\n' }] })
    .when((s) => s.command?.[0] === 'sleep', { output: [{ untilStdin: 'never' }] });
}

/** Everything the consumer observes, as plain data (ids replaced by what they are). */
async function scenario(jobs: Jobs) {
  const seen: Record<string, unknown> = {};
  // 1. A run: Ready before any output, the messages in order, then collect()'s result and the Outcome.
  const kinds: string[] = [];
  const run = jobs.exec.run(BASE_IMAGE, { command: REAL.greet });
  run.call.on('data', (m: SessionResponse__Output) => kinds.push(m.msg ?? ''));
  const { sessionId, containerId } = await run.ready;
  seen.run = { ...(await run.collect()), kinds };
  seen.outcome = { exit_code: run.outcome?.exit_code, reason: run.outcome?.reason, signal: run.outcome?.signal, stdout_bytes: run.outcome?.stdout_bytes };
  // 2. A late client, by session id: the same bytes and exit code.
  seen.attach = await jobs.exec.attach({ sessionId }).collect();
  // 3. A resume from the second chunk on.
  const resumed = ResumingSession.attach(jobs.exec, { sessionId, fromSequence: 2 });
  seen.resume = await resumed.collect();
  // 4. stdin.
  const interactive = jobs.exec.run(BASE_IMAGE, { command: REAL.echoLine, openStdin: true });
  await interactive.ready;
  await interactive.write(Buffer.from('hi\n'));
  seen.stdin = await interactive.collect();
  // 5. A signal, status before and after, ListSessions, and RemoveSession refused then done.
  const sleeper = jobs.exec.run(BASE_IMAGE, { command: REAL.sleeper, labels: { scenario: 'kit' } });
  const s = await sleeper.ready;
  const ended = sleeper.wait();
  seen.statusRunning = (await jobs.control.status(s.containerId)).status;
  const listed = await jobs.control.listSessions({ session_id: s.sessionId });
  seen.listed = listed.sessions?.map((x) => ({ state: x.state, mode: x.mode, labels: x.labels, command: x.command }));
  const refused = await jobs.control.removeSession(s.sessionId).catch((e: ExecError) => e);
  seen.removeRunning = { code: (refused as ExecError).code, reason: (refused as ExecError).reason };
  await jobs.control.signal(s.containerId, 'SIGTERM');
  seen.signalled = { exit: await ended, reason: sleeper.outcome?.reason, signal: sleeper.outcome?.signal };
  const after = await waitUntil('the status says exited', async () => {
    const st = await jobs.control.status(s.containerId);
    return st.status === 'exited' ? st : undefined;
  });
  seen.statusAfter = { status: after.status, exitCode: after.exitCode };
  seen.removed = (await jobs.control.removeSession(s.sessionId)).killed;
  // 6. An error as an ExecError: an image that is not there.
  const missing = await jobs.exec
    .run('exec-stream/not-there:latest', { command: ['true'] })
    .ready.catch((e: ExecError) => ({ code: e.code, reason: e.reason, resource: e.resource?.type }));
  seen.missing = missing;
  seen.ids = { session: sessionId.includes('.'), container: /^[0-9a-f]{64}$/.test(containerId) };
  return seen;
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

/** The consumer's application: ExecClientModule and its Jobs, with the clients overridden when given. */
async function application(fakes?: { exec: FakeExecClient; control: FakeControlClient }): Promise<TestingModule> {
  @Module({ imports: [ExecClientModule.forRoot({ address: server.address })], providers: [Jobs] })
  class AppModule {}
  let builder = Test.createTestingModule({ imports: [AppModule] });
  if (fakes) builder = builder.overrideProvider(ExecClient).useValue(fakes.exec).overrideProvider(ControlClient).useValue(fakes.control);
  const app = await builder.compile();
  await app.init();
  return app;
}

it('a consumer observes the same from the fakes as from the real service, in the same scenario', async () => {
  const real = await application();
  let fromReal;
  try {
    fromReal = await scenario(real.get(Jobs));
  } finally {
    await real.close();
  }
  const service = new FakeExecService();
  scripted(service);
  const fake = await application({ exec: new FakeExecClient(service), control: new FakeControlClient(service) });
  let fromFake;
  try {
    expect(fake.get(Jobs).exec).toBeInstanceOf(FakeExecClient);
    fromFake = await scenario(fake.get(Jobs));
  } finally {
    await fake.close();
  }
  // What the real service gives, for the record; then the fakes give the same.
  expect(fromReal).toMatchObject({
    run: { stdout: Buffer.from('hello\n'), stderr: Buffer.from('oops\n'), exitCode: 3, kinds: ['ready', 'stdout', 'stderr', 'outcome', 'exit'] },
    outcome: { exit_code: 3, reason: 'exited', signal: 0, stdout_bytes: '6' },
    attach: { stdout: Buffer.from('hello\n'), stderr: Buffer.from('oops\n'), exitCode: 3 },
    resume: { stdout: Buffer.from(''), stderr: Buffer.from('oops\n'), exitCode: 3 },
    stdin: { stdout: Buffer.from('got hi\n'), exitCode: 0 },
    statusRunning: 'running',
    removeRunning: { code: 9, reason: 'SESSION_RUNNING' },
    signalled: { exit: 143, reason: 'killed_by_request', signal: 15 },
    statusAfter: { status: 'exited', exitCode: 143 },
    removed: false,
    missing: { code: 5, reason: 'IMAGE_NOT_FOUND', resource: 'image' },
    ids: { session: true, container: true },
  });
  expect(fromFake).toEqual(fromReal);
});
