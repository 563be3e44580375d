// docs/CLI.md, "Beside docker": the commands a docker user reaches for, the built CLI run as a child process
// against the real service (in-process, real gRPC on loopback, real Docker): logs -f / --tail / --since,
// ps (running by default, -a, -q, --filter, newest first), stop [-t], wait, rm [-f], a session id
// wherever a container id goes, and status --usage of a container that has just started.
import { buildCli, cliEnv, runCli, startCli } from '../support/cli';
import { backgroundReader } from '../support/conditions';
import { CUES, cue } from '../support/cues';
import { DockerSocketProxy } from '../support/docker-socket-proxy';
import { BASE_IMAGE, startTestServer, type TestServer } from '../support/server';

jest.setTimeout(60_000);

let server: TestServer;
let env: NodeJS.ProcessEnv;
const cli = (args: string[], input?: string) => runCli(args, env, input);
/** `run -d …` → the session id it printed. */
async function detached(...args: string[]): Promise<string> {
  const r = await cli(['run', '-d', ...args]);
  expect({ code: r.code, stderr: r.stderr.toString() }).toEqual({ code: 0, stderr: '' });
  return r.stdout.toString().trim();
}
const text = (r: { code: number | null; stdout: Buffer; stderr: Buffer }) => ({ code: r.code, stdout: r.stdout.toString(), stderr: r.stderr.toString() });
/**
 * The test's own view of a session, to time its cues: an attach of the in-process client (no CLI start)
 * from the first chunk, `until(text)` resolving once the service has recorded that output (both streams
 * as one text), and the session's container.
 */
function watch(sessionId: string) {
  const session = server.client.attach({ sessionId });
  const output = backgroundReader(session.output());
  return { containerId: async () => (await session.ready).containerId, until: output.until, done: output.done };
}

beforeAll(async () => {
  buildCli();
  server = await startTestServer();
  env = cliEnv({ EXEC_ADDR: server.address });
});
afterAll(() => server?.close());

describe('logs', () => {
  it('--tail N: the last N lines, each on its own stream; --since SEQ: from that chunk on', async () => {
    // Lines written to two streams at once may be recorded in either order (two pipes, as with Docker's
    // own log): before each stream change the script waits for a cue, sent once the service has recorded
    // the lines before it, which makes the order the test counts lines in certain.
    const id = await detached(BASE_IMAGE, 'sh', '-c', `${CUES}echo a; echo b; gate 1; echo c >&2; gate 2; echo d`);
    const recorded = watch(id);
    await recorded.until('a\nb\n');
    const containerId = await recorded.containerId();
    await cue(containerId);
    await recorded.until('a\nb\nc\n');
    await cue(containerId);
    expect(text(await cli(['wait', id]))).toEqual({ code: 0, stdout: '0\n', stderr: '' });
    // Reads of the ended session: side by side.
    const [all, tail, none, listed] = await Promise.all([
      cli(['logs', id]),
      cli(['logs', '--tail', '2', id]),
      cli(['logs', '-n', '0', id]),
      cli(['ls', '--json']),
      recorded.done,
    ]);
    expect(text(all)).toEqual({ code: 0, stdout: 'a\nb\nd\n', stderr: 'c\n' });
    expect(text(tail)).toEqual({ code: 0, stdout: 'd\n', stderr: 'c\n' });
    expect(text(none)).toEqual({ code: 0, stdout: '', stderr: '' });
    // "d" came alone, after its cue: the session's last chunk, whose number `ls --json` gives.
    const [info] = JSON.parse(listed.stdout.toString()).filter((s: any) => s.session_id === id);
    expect(text(await cli(['logs', '--since', String(info.last_sequence), id]))).toEqual({ code: 0, stdout: 'd\n', stderr: '' });
  });

  it('-f follows a running session to its end, then exits 0 (whatever the exit code)', async () => {
    // The second line waits for a cue, sent once the follower has shown the first: it follows a running session.
    const id = await detached(BASE_IMAGE, 'sh', '-c', `${CUES}echo one; gate 1; echo two; exit 3`);
    const f = startCli(['logs', '-f', id], env);
    const [containerId] = await Promise.all([watch(id).containerId(), f.until('one\n')]);
    await cue(containerId);
    expect(text(await f.done)).toEqual({ code: 0, stdout: 'one\ntwo\n', stderr: '' });
  });
});

describe('ps', () => {
  it('running sessions by default, newest first, with docker ps columns; -a adds finished ones; -q ids only; --filter label= / status=', async () => {
    const label = `ps-${process.pid}-${Date.now()}`;
    const up = await detached('-l', `job=${label}`, BASE_IMAGE, 'sleep', '30');
    const done = await detached('-l', `job=${label}`, BASE_IMAGE, 'sh', '-c', 'exit 4');
    await watch(done).done; // ended (the CLI's wait is checked in the stop test)
    // Listings only, of the state just made: side by side.
    const [ps, psAll, psQuiet, psExited, psBadFilter] = (
      await Promise.all([
        cli(['ps', '--filter', `label=job=${label}`]),
        cli(['ps', '-a', '--filter', `label=job=${label}`]),
        cli(['ps', '-q', '--filter', `label=job=${label}`]),
        cli(['ps', '-aq', '--filter', 'status=exited', '--filter', `label=job=${label}`]),
        cli(['ps', '--filter', 'colour=red']),
      ])
    ).map(text);
    const [header, ...rows] = ps.stdout.trimEnd().split('\n');
    expect(header.split(/\s{2,}/)).toEqual(['SESSION', 'CONTAINER', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS']);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(new RegExp(`^${up.replace(/\./g, '\\.')}\\s+[0-9a-f]{12}\\s+${BASE_IMAGE}\\s+"sleep 30"\\s+.+ ago\\s+Up `));
    const all = psAll.stdout.trimEnd().split('\n').slice(1);
    expect(all.map((r) => r.split(/\s+/)[0])).toEqual([done, up]); // newest first
    expect(all[0]).toMatch(/"sh -c exit 4"\s+.+ ago\s+Exited \(4\) .+ ago$/);
    expect(psQuiet).toEqual({ code: 0, stdout: `${up}\n`, stderr: '' });
    expect(psExited.stdout).toBe(`${done}\n`);
    expect(psBadFilter).toMatchObject({ code: 125, stderr: expect.stringContaining('label=KEY=VALUE') });
    await cli(['stop', '-t', '0', up]);
  });
});

describe('stop, wait, rm', () => {
  it('stop: SIGTERM, and SIGKILL after -t seconds for a process that ignores it; wait prints the exit code', async () => {
    const [polite, stubborn] = await Promise.all([
      detached(BASE_IMAGE, 'sleep', '30'),
      detached(BASE_IMAGE, 'sh', '-c', 'trap "" TERM; echo ignoring; while :; do sleep 0.1; done'),
    ]);
    // Stopped only once it says it ignores SIGTERM (its trap is set): a SIGTERM before that would end it.
    await watch(stubborn).until('ignoring\n');
    const started = Date.now();
    expect(text(await cli(['stop', '-t', '1', polite, stubborn]))).toEqual({ code: 0, stdout: `${polite}\n${stubborn}\n`, stderr: '' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // the stubborn one had its grace
    // Both have ended: wait, and stopping what has ended (no error, as docker stop of a stopped container), side by side.
    const [waited, again] = await Promise.all([cli(['wait', polite, stubborn]), cli(['stop', polite])]);
    expect(text(waited)).toEqual({ code: 0, stdout: '143\n137\n', stderr: '' });
    expect(text(again)).toEqual({ code: 0, stdout: `${polite}\n`, stderr: '' });
  });

  it('rm forgets a finished session; refuses a running one without -f; -f kills it first', async () => {
    // Two sessions, started side by side: one that ends at once, one that runs on.
    const [finished, alive] = await Promise.all([detached(BASE_IMAGE, 'true'), detached(BASE_IMAGE, 'sleep', '30')]);
    // The two sessions' steps, independent of each other: side by side.
    const forgetFinished = async () => {
      await watch(finished).done; // ended
      expect(text(await cli(['rm', finished]))).toEqual({ code: 0, stdout: `${finished}\n`, stderr: '' });
      expect(text(await cli(['logs', finished]))).toMatchObject({ code: 125, stderr: expect.stringContaining('NOT_FOUND (5)') });
    };
    const forceAlive = async () => {
      expect(text(await cli(['rm', alive]))).toMatchObject({ code: 125, stderr: expect.stringMatching(/FAILED_PRECONDITION \(9\): session .* is running/) });
      expect(text(await cli(['rm', '-f', alive]))).toEqual({ code: 0, stdout: `${alive}\n`, stderr: '' });
      expect(text(await cli(['ps', '-aq'])).stdout.split('\n')).not.toContain(alive);
    };
    await Promise.all([forgetFinished(), forceAlive()]);
  });
});

describe('a session id wherever a container goes', () => {
  it('status, pause, resume, exec, kill, events --container; kill of an exec session signals its exec only', async () => {
    const id = await detached(BASE_IMAGE, 'sleep', '30');
    // From the held events on (--since-id 0): a stream that is still subscribing when the kill happens misses nothing.
    const events = startCli(['events', '--container', id, '--since-id', '0', '--json'], env);
    // The status read, and the start of an exec session (detached) to be killed below: side by side.
    const [status, execStarted] = (await Promise.all([cli(['status', id]), cli(['exec', '-d', id, 'sleep', '30'])])).map(text);
    expect(status).toMatchObject({ code: 0, stdout: expect.stringMatching(/^container: +[0-9a-f]{64}\nstatus: +running\n/) });
    const containerId = /container: +([0-9a-f]{64})/.exec(status.stdout)![1];
    expect(text(await cli(['pause', id]))).toEqual({ code: 0, stdout: `${id}\n`, stderr: '' });
    expect(text(await cli(['status', id])).stdout).toMatch(/status: +paused/);
    expect(text(await cli(['resume', id]))).toEqual({ code: 0, stdout: `${id}\n`, stderr: '' });
    const execSession = execStarted.stdout.trim();
    // An exec in the resumed container, and the kill of the exec session, side by side.
    const execInside = async () => expect(text(await cli(['exec', id, 'echo', 'inside']))).toEqual({ code: 0, stdout: 'inside\n', stderr: '' });
    const killExec = async () => {
      expect(text(await cli(['kill', '-s', 'SIGTERM', execSession]))).toEqual({ code: 0, stdout: `${execSession}\n`, stderr: '' });
      expect(text(await cli(['wait', execSession])).stdout).toBe('143\n');
      expect(text(await cli(['status', containerId])).stdout).toMatch(/status: +running/); // the container goes on
    };
    await Promise.all([execInside(), killExec()]);
    await events.until('"type":"killed"');
    expect(events.stdout().toString()).toContain(containerId);
    events.proc.kill('SIGTERM');
    await Promise.all([events.done, cli(['kill', id])]);
  });

  it('status --usage of a container Docker has given no reading of yet answers at once, saying so', async () => {
    // Docker's stats of the new container held back for 8 s (a proxy in front of the engine): the
    // service's status call finds no reading, as in a container's first seconds on a busy engine.
    const proxy = new DockerSocketProxy();
    const slow = await startTestServer({ DOCKER_HOST: await proxy.listen() });
    const slowEnv = cliEnv({ EXEC_ADDR: slow.address });
    try {
      proxy.delay(/^GET \S*\/containers\/[0-9a-f]+\/stats/, 8000);
      const id = text(await runCli(['run', '-d', BASE_IMAGE, 'sleep', '30'], slowEnv)).stdout.trim();
      const r = text(await runCli(['status', '--usage', id], slowEnv));
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^status: +running$/m);
      expect(r.stdout).toMatch(/^cpu: +\(needs a second reading\)$/m);
      expect(r.stdout).toMatch(/^memory: +\(no reading yet\)$/m);
    } finally {
      await slow.close();
      await proxy.close();
    }
  });
});
