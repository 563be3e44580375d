// The exec-stream CLI (docs/CLI.md), built, run as a child process against the real service (real gRPC
// on loopback, real Docker): each command, exit codes, byte-exact output, resume after a dropped
// connection, the Start flags, and its connection over TLS / mTLS with a token.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { makeCa, makeCert } from '../support/certs';
import { buildCli, CLI, cliEnv, NODE, runCli, startCli } from '../support/cli';
import { inspectContainer, waitUntil } from '../support/conditions';
import { CUES, cue, GO, GO_DONE } from '../support/cues';
import { dockerAsync, sha256 } from '../support/helpers';
import { BASE_IMAGE, startTestServer, type TestServer } from '../support/server';
import { TcpProxy } from '../support/tcp-proxy';

/** A session id: the replica that owns it, a dot, a UUID (docs/SCALING.md). */
const SESSION_ID = /^[a-z0-9-]+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** `seq a b` as the container prints it. */
const seqText = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${from + i}\n`).join('');
/**
 * How long a wait for a condition may take in a test that runs several CLIs and sessions side by side:
 * each competes with the others for the machine (and, in a full run, with another test file).
 */
const SIDE_BY_SIDE_MS = 60_000;
/**
 * The container of a session, by the label the service puts on it. Docker is asked asynchronously here
 * and below: the service runs in this process and must go on reading its containers' streams meanwhile.
 */
const containerOf = (sessionId: string) =>
  waitUntil(
    `the container of session ${sessionId}`,
    async () => (await dockerAsync('ps', '-aq', '--no-trunc', '--filter', `label=exec-stream.session=${sessionId}`)) || undefined,
    SIDE_BY_SIDE_MS,
  );

beforeAll(() => buildCli());

describe('exec-stream CLI against the service', () => {
  let server: TestServer;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[], input?: string) => runCli(args, env, input);
  beforeAll(async () => {
    server = await startTestServer();
    env = cliEnv({ EXEC_ADDR: server.address });
  });
  afterAll(() => server?.close());

  it("run: the exit code is the process's, stdout and stderr stay apart", async () => {
    const r = await cli(['run', BASE_IMAGE, 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect({ code: r.code, stdout: r.stdout.toString(), stderr: r.stderr.toString() }).toEqual({ code: 7, stdout: 'out\n', stderr: 'err\n' });
  });

  it('run: 8 MiB of stdout and interleaved stderr arrive byte-exact (sha256), each on its own stream', async () => {
    const line = 'abcdefghijklmnopqrstuvwxyz0123456789\n';
    // 8 MiB: at least 16 chunks of the 512 KiB largest, twice the client's 4 MiB window, and 128 times the
    // pipe the CLI writes into; 100,000 lines of stderr meanwhile.
    const size = 8 * 1024 * 1024;
    const expected = line.repeat(Math.ceil(size / line.length)).slice(0, size);
    const r = await cli(['run', BASE_IMAGE, '--', 'sh', '-c', `seq 1 100000 >&2 & yes abcdefghijklmnopqrstuvwxyz0123456789 | head -c ${size}; wait`]);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(size);
    expect(sha256(r.stdout)).toBe(sha256(expected));
    expect(sha256(r.stderr)).toBe(sha256(seqText(1, 100000)));
  });

  it('run -i / -e / -w: stdin (then its EOF), environment and working directory reach the process', async () => {
    const r = await cli(
      ['run', '-i', '-e', 'GREETING=hello there', '-w', '/tmp', BASE_IMAGE, 'sh', '-c', 'echo "$GREETING in $(pwd)"; cat; echo eof'],
      'line one\nline two\n',
    );
    expect({ code: r.code, stdout: r.stdout.toString() }).toEqual({ code: 0, stdout: 'hello there in /tmp\nline one\nline two\neof\n' });
  });

  it("the CLI's own failures: 125 with one line naming the cause and the gRPC code; 127 / 126 for a command not found / not executable", async () => {
    // Independent of each other: run side by side.
    const [unreachable, noImage, badFlag, notFound, notExecutable, unknownSession] = await Promise.all([
      runCli(['--addr', '127.0.0.1:1', 'run', BASE_IMAGE, 'true'], env),
      cli(['run', 'exec-stream/no-such-image:1', 'true']),
      cli(['run', '--memory', 'lots', BASE_IMAGE, 'true']),
      cli(['run', BASE_IMAGE, 'no-such-command']),
      cli(['run', BASE_IMAGE, '/etc/passwd']),
      cli(['attach', '00000000-0000-4000-8000-000000000000']),
    ]);
    expect(unreachable.code).toBe(125);
    expect(unreachable.stderr.toString()).toMatch(/^exec-stream: cannot start the command: UNAVAILABLE \(14\): .*ECONNREFUSED.*\n$/);
    expect(noImage.code).toBe(125);
    expect(noImage.stderr.toString()).toMatch(/^exec-stream: cannot start the command: NOT_FOUND \(5\): image exec-stream\/no-such-image:1 .*\n$/);
    expect(badFlag.code).toBe(125);
    expect(badFlag.stderr.toString()).toContain('expected a size');
    expect(notFound.code).toBe(127);
    expect(notExecutable.code).toBe(126);
    expect(unknownSession.code).toBe(125);
    expect(unknownSession.stderr.toString()).toMatch(/^exec-stream: cannot attach to 0{8}-.*: NOT_FOUND \(5\): .*\n$/);
  });

  it('run -d prints the session id; logs prints what it holds and exits 0 while it runs; attach [--from] follows it to its exit code', async () => {
    const started = await cli(['run', '-d', BASE_IMAGE, 'sh', '-c', `echo one; echo two >&2; until ${GO_DONE}; do sleep 0.05; done; echo three; exit 4`]);
    expect(started.code).toBe(0);
    const sessionId = started.stdout.toString().trim();
    expect(sessionId).toMatch(SESSION_ID);
    // While the process waits for its cue (/tmp/go): a follower attaches, and logs is read until it holds
    // both lines; the logs run that first shows them is the one checked.
    const follower = startCli(['attach', sessionId], env);
    const [containerId, held] = await Promise.all([
      containerOf(sessionId),
      waitUntil(
        'both lines held',
        async () => {
          const r = await cli(['logs', sessionId]);
          return r.stderr.toString() === 'two\n' && r;
        },
        SIDE_BY_SIDE_MS,
      ),
      follower.until('one\n', SIDE_BY_SIDE_MS),
    ]);
    expect({ code: held.code, stdout: held.stdout.toString(), stderr: held.stderr.toString() }).toEqual({ code: 0, stdout: 'one\n', stderr: 'two\n' });

    await dockerAsync('exec', containerId, ...GO);
    const followed = await follower.done;
    expect({ code: followed.code, stdout: followed.stdout.toString(), stderr: followed.stderr.toString() }).toEqual({
      code: 4,
      stdout: 'one\nthree\n',
      stderr: 'two\n',
    });

    // Reads of the ended session: side by side.
    const [fromThird, all] = await Promise.all([cli(['attach', '--from', '3', sessionId]), cli(['logs', sessionId])]);
    expect({ code: fromThird.code, stdout: fromThird.stdout.toString(), stderr: fromThird.stderr.toString() }).toEqual({
      code: 4,
      stdout: 'three\n',
      stderr: '',
    });
    expect({ code: all.code, stdout: all.stdout.toString(), stderr: all.stderr.toString() }).toEqual({ code: 0, stdout: 'one\nthree\n', stderr: 'two\n' });
  });

  it('exec [-i], status [--usage] [--json], pause, resume, kill [-s] [--exec], and events [--since-id] [--json] seeing them', async () => {
    const sessionId = (await cli(['run', '-d', BASE_IMAGE, 'sleep', '60'])).stdout.toString().trim();
    const containerId = await containerOf(sessionId);

    // Two execs and two status reads of the running container, independent of each other: side by side.
    const [ran, piped, status, plainStatus] = await Promise.all([
      cli(['exec', containerId.slice(0, 12), 'sh', '-c', 'echo in-exec; exit 9']),
      cli(['exec', '-i', containerId, 'wc', '-c'], 'twelve bytes'),
      cli(['status', '--usage', '--json', containerId]),
      cli(['status', containerId]),
    ]);
    expect({ code: ran.code, stdout: ran.stdout.toString() }).toEqual({ code: 9, stdout: 'in-exec\n' });
    expect({ code: piped.code, stdout: piped.stdout.toString().trim() }).toEqual({ code: 0, stdout: '12' });

    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout.toString()) as { containerId: string; status: string; resourceUsage: { memoryLimit: number } };
    expect(s).toMatchObject({ containerId, status: 'running' });
    expect(s.resourceUsage.memoryLimit).toBeGreaterThan(0);
    expect(plainStatus.stdout.toString()).toMatch(/^container: +[0-9a-f]{64}\nstatus: +running\n/);

    expect(await cli(['pause', containerId])).toMatchObject({ code: 0 });
    expect(inspectContainer(containerId).State.Status).toBe('paused');
    expect(await cli(['resume', containerId])).toMatchObject({ code: 0 });
    expect(inspectContainer(containerId).State.Status).toBe('running');

    // An exec's own process: kill --exec signals it, not the container.
    const exec = server.client.exec(containerId, { command: ['sleep', '60'] });
    const { execId } = await exec.ready;
    expect(await cli(['kill', '-s', 'SIGTERM', '--exec', execId, containerId])).toMatchObject({ code: 0 });
    expect(await exec.wait()).toBe(143);
    expect(inspectContainer(containerId).State.Status).toBe('running');

    expect(await cli(['kill', '-s', 'SIGTERM', containerId])).toMatchObject({ code: 0 });
    expect((await cli(['attach', sessionId])).code).toBe(143);

    // The held events (--since-id 0), as JSON and as lines: two streams side by side.
    const events = startCli(['events', '--since-id', '0', '--container', containerId, '--json'], env);
    const lines = startCli(['events', '--since-id', '0', '--container', containerId], env);
    await Promise.all([events.until('"type":"exited"', SIDE_BY_SIDE_MS), lines.until(' exited ', SIDE_BY_SIDE_MS)]);
    events.proc.kill('SIGINT');
    lines.proc.kill('SIGTERM');
    const [ended, lined] = await Promise.all([events.done, lines.done]);
    expect(ended.code).toBe(0);
    const types = ended.stdout
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; containerId: string; exitCode: number })
      .filter((e) => e.containerId === containerId)
      .map((e) => (e.type === 'exited' ? `exited(${e.exitCode})` : e.type));
    expect(types).toEqual(expect.arrayContaining(['started', 'paused', 'resumed', 'killed', 'exited(143)']));
    expect(types.indexOf('paused')).toBeLessThan(types.indexOf('resumed'));
    expect(lined.stdout.toString()).toMatch(
      new RegExp(`^\\S+Z #\\d+ exited container=${containerId.slice(0, 12)} status=exited session=${sessionId} exit=143$`, 'm'),
    );
  });

  it('run flags: --user, --label, --memory, --cpus, --pids-limit, --read-only reach the container; --timeout ends the process', async () => {
    // Three runs independent of each other, side by side: the flags' container, --timeout 500ms, --timeout 600h.
    const flagged = async () => {
      const sessionId = (
        await cli([
          'run',
          '-d',
          '-u',
          '1000:1000',
          '-l',
          'team=cli',
          '-m',
          '64m',
          '--cpus',
          '0.5',
          '--pids-limit',
          '50',
          '--read-only',
          BASE_IMAGE,
          'sleep',
          '60',
        ])
      ).stdout
        .toString()
        .trim();
      return inspectContainer(await containerOf(sessionId));
    };
    // `exec-stream run --timeout 600h` (PROTOCOL.md, RELIABILITY.md): over Node's 2^31-1 ms timer limit, it must not fire at once
    // (an overflowing timer fires after 1 ms: a process that outlives it by a second shows it did not).
    const [c, timedOut, long] = await Promise.all([
      flagged(),
      cli(['run', '--timeout', '500ms', BASE_IMAGE, 'sleep', '30']),
      cli(['run', '--timeout', '600h', '--idle-timeout', '600h', BASE_IMAGE, 'sh', '-c', 'sleep 1; echo done']),
    ]);
    expect({
      user: c.Config.User,
      label: c.Config.Labels.team,
      memory: c.HostConfig.Memory,
      cpus: c.HostConfig.NanoCpus,
      pids: c.HostConfig.PidsLimit,
      ro: c.HostConfig.ReadonlyRootfs,
    }).toEqual({
      user: '1000:1000',
      label: 'cli',
      memory: 64 * 1024 * 1024,
      cpus: 500_000_000,
      pids: 50,
      ro: true,
    });
    expect(await cli(['kill', c.Id])).toMatchObject({ code: 0 });
    expect(timedOut.code).toBe(143);
    expect({ code: long.code, stdout: long.stdout.toString() }).toEqual({ code: 0, stdout: 'done\n' });
  });

  it('ls [--label] [--state] [--container] [--json]: the sessions the service holds, filtered', async () => {
    const label = `cli-ls-${process.pid}`;
    // The two sessions started side by side (the listings below are checked regardless of order).
    const [running, finished] = (
      await Promise.all([
        cli(['run', '-d', '-l', `suite=${label}`, BASE_IMAGE, 'sleep', '60']),
        cli(['run', '-d', '-l', `suite=${label}`, BASE_IMAGE, 'sh', '-c', 'exit 2']),
      ])
    ).map((r) => r.stdout.toString().trim());
    const [finishedRun, containerId] = await Promise.all([cli(['attach', finished]), containerOf(running)]);
    expect(finishedRun.code).toBe(2);
    const list = async (...flags: string[]) => {
      const r = await cli(['ls', '--json', '-l', `suite=${label}`, ...flags]);
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout.toString()) as Array<{ session_id: string; state: string; outcome?: { exit_code?: number } }>).map((x) => x.session_id);
    };
    const [all, runningOnly, finishedOnly, ofContainer, listed] = await Promise.all([
      list(),
      list('--state', 'running'),
      list('--state', 'finished'),
      list('--container', containerId),
      cli(['ls', '-l', `suite=${label}`]),
    ]);
    expect(all.sort()).toEqual([running, finished].sort());
    expect({ runningOnly, finishedOnly, ofContainer }).toEqual({ runningOnly: [running], finishedOnly: [finished], ofContainer: [running] });
    const table = listed.stdout.toString().split('\n');
    expect(table[0]).toMatch(/^SESSION +CONTAINER +MODE +STATE +EXIT +CREATED +COMMAND$/);
    expect(table.find((l) => l.startsWith(finished))).toMatch(/ run +finished +2 +\S+ +sh -c exit 2$/);
    expect(await cli(['kill', containerId])).toMatchObject({ code: 0 });
  });

  it('run: -e K alone passes our value; --idle-timeout ends a silent process; --pull never names the image; --request-id twice is one process', async () => {
    const id = `cli-request-${process.pid}`;
    // Four independent parts side by side; the --request-id pair in order (the second run is the repeat).
    const [withOurs, idle, never, [first, again]] = await Promise.all([
      runCli(['run', '-e', 'FROM_US', BASE_IMAGE, 'sh', '-c', 'echo "[$FROM_US]"'], { ...env, FROM_US: 'our value' }),
      // A silent process ended by --idle-timeout (SIGTERM through the init: 143), a duration in seconds.
      cli(['run', '--idle-timeout', '1s', BASE_IMAGE, 'sh', '-c', 'echo before; sleep 60']),
      cli(['run', '--pull', 'never', 'exec-stream/not-pulled:1', 'true']),
      (async () => {
        const one = await cli(['run', '--request-id', id, BASE_IMAGE, 'sh', '-c', 'cat /proc/sys/kernel/random/uuid; exit 3']);
        return [one, await cli(['run', '--request-id', id, BASE_IMAGE, 'sh', '-c', 'cat /proc/sys/kernel/random/uuid; exit 3'])];
      })(),
    ]);
    expect({ code: withOurs.code, stdout: withOurs.stdout.toString() }).toEqual({ code: 0, stdout: '[our value]\n' });
    expect({ code: idle.code, stdout: idle.stdout.toString() }).toEqual({ code: 143, stdout: 'before\n' });
    expect({ code: never.code, stderr: never.stderr.toString() }).toEqual({
      code: 125,
      stderr: expect.stringMatching(/NOT_FOUND \(5\): image exec-stream\/not-pulled:1/),
    });
    expect(first.code).toBe(3);
    expect({ code: again.code, stdout: again.stdout.toString() }).toEqual({ code: 3, stdout: first.stdout.toString() }); // the same process's output
  });

  it('exec -t and -d; attach -i and --no-stdin; logs by container id', async () => {
    // Four parts on sessions of their own, independent of each other: side by side.
    const execs = async () => {
      const sessionId = (await cli(['run', '-d', BASE_IMAGE, 'sleep', '60'])).stdout.toString().trim();
      const containerId = await containerOf(sessionId);
      const [tty, detached] = await Promise.all([
        cli(['exec', '-t', containerId, 'sh', '-c', 'tty; exit 4']),
        cli(['exec', '-d', containerId, 'sh', '-c', 'echo from-detached > /tmp/detached']),
      ]);
      expect({ code: tty.code, stdout: tty.stdout.toString() }).toEqual({ code: 4, stdout: expect.stringMatching(/^\/dev\/pts\/\d+\r?\n$/) });
      expect({ code: detached.code, id: detached.stdout.toString().trim() }).toEqual({ code: 0, id: expect.stringMatching(SESSION_ID) });
      await waitUntil(
        'the detached exec to have written',
        async () => (await cli(['exec', containerId, 'cat', '/tmp/detached'])).stdout.toString() === 'from-detached\n',
        SIDE_BY_SIDE_MS,
      );
      expect(await cli(['kill', containerId])).toMatchObject({ code: 0 });
    };
    // attach -i: our stdin (and its EOF) to a session that keeps stdin open.
    const attachInput = async () => {
      const cat = (await cli(['run', '-d', '-i', BASE_IMAGE, 'sh', '-c', 'cat; echo eof'])).stdout.toString().trim();
      const fed = await cli(['attach', '-i', cat], 'typed in\n');
      expect({ code: fed.code, stdout: fed.stdout.toString() }).toEqual({ code: 0, stdout: 'typed in\neof\n' });
    };
    // attach --no-stdin on a tty session: follows it to its exit code, sending nothing. The process reads
    // only once the attach shows it (its cue): what the attach would have typed is waiting by then, or
    // comes within the 2 s the read gives it.
    const attachNoStdin = async () => {
      const ttySession = (await cli(['run', '-d', '-t', BASE_IMAGE, 'sh', '-c', `${CUES}echo up; gate 1; read -t 2 x || echo nothing-typed; exit 5`])).stdout
        .toString()
        .trim();
      const attached = startCli(['attach', '--no-stdin', ttySession], env, 'would be typed\n');
      const [containerId] = await Promise.all([containerOf(ttySession), attached.until('up', SIDE_BY_SIDE_MS)]);
      await cue(containerId);
      const watched = await attached.done;
      expect({ code: watched.code, stdout: watched.stdout.toString() }).toEqual({ code: 5, stdout: expect.stringContaining('nothing-typed') });
    };
    // logs CONTAINER: the container's run session.
    const logsByContainer = async () => {
      const byContainer = await cli(['run', BASE_IMAGE, 'echo', 'by-container']);
      expect(byContainer.code).toBe(0);
      const ran = (await cli(['ls', '--json'])).stdout.toString();
      const session = (JSON.parse(ran) as Array<{ container_id: string; command: string[] }>).find((x) => x.command.join(' ') === 'echo by-container')!;
      const logs = await cli(['logs', session.container_id]);
      expect({ code: logs.code, stdout: logs.stdout.toString() }).toEqual({ code: 0, stdout: 'by-container\n' });
    };
    await Promise.all([execs(), attachInput(), attachNoStdin(), logsByContainer()]);
  });

  it('exit codes: 141 when our stdout is closed by its reader, 125 for -it without a terminal; signals to run go to the process, attach leaves on Ctrl-C (130)', async () => {
    // Each part on a CLI process and session of its own, independent of the others: side by side.
    const closedStdout = async () => {
      // 2 MB: 32 times the 64 KiB pipe into `head -c 5`, so the CLI still has output to write once head has gone.
      const piped = await promisify(execFile)(
        'bash',
        ['-c', `"${NODE}" "${CLI}" run ${BASE_IMAGE} sh -c 'yes | head -c 2000000' | head -c 5 >/dev/null; echo "\${PIPESTATUS[0]}"`],
        { env, encoding: 'utf8' },
      );
      expect(piped.stdout.trim()).toBe('141');
    };
    const noTerminal = async () => {
      const r = await cli(['run', '-it', BASE_IMAGE, 'sh']);
      expect({ code: r.code, stderr: r.stderr.toString() }).toEqual({ code: 125, stderr: expect.stringMatching(/terminal/) });
    };
    // sig-proxy: SIGINT, SIGTERM and SIGHUP to `run` reach the process as ContainerSignal; its exit code follows.
    const sigProxy = async (sig: 'INT' | 'TERM' | 'HUP', code: number) => {
      const run = startCli(['run', BASE_IMAGE, 'sh', '-c', `trap 'echo got-${sig}; exit ${code}' ${sig}; echo up; while :; do sleep 0.1; done`], env);
      await run.until('up\n', SIDE_BY_SIDE_MS);
      run.proc.kill(`SIG${sig}`);
      const r = await run.done;
      expect({ sig, code: r.code, stdout: r.stdout.toString() }).toEqual({ sig, code, stdout: `up\ngot-${sig}\n` });
    };
    // attach: Ctrl-C leaves the session (130); the process goes on.
    const ctrlC = async () => {
      const sessionId = (await cli(['run', '-d', BASE_IMAGE, 'sh', '-c', 'echo up; sleep 60'])).stdout.toString().trim();
      const follower = startCli(['attach', sessionId], env);
      const [containerId] = await Promise.all([containerOf(sessionId), follower.until('up\n', SIDE_BY_SIDE_MS)]);
      follower.proc.kill('SIGINT');
      expect((await follower.done).code).toBe(130);
      expect((await cli(['status', containerId])).stdout.toString()).toMatch(/status: +running/);
      expect(await cli(['kill', containerId])).toMatchObject({ code: 0 });
    };
    await Promise.all([closedStdout(), noTerminal(), sigProxy('INT', 7), sigProxy('TERM', 8), sigProxy('HUP', 9), ctrlC()]);
  });

  it('after a dropped connection, stdin goes on to the process (the same client_id writes again)', async () => {
    const [host, port] = server.address.split(':');
    const proxy = new TcpProxy({ host, port: Number(port) });
    const address = await proxy.listen();
    try {
      // After the cut the process prints a marker (on our cue): the CLI shows it only once it is attached again.
      const script = 'read l; echo "got $l"; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo back; while read l; do echo "got $l"; done; echo eof';
      const run = startCli(['--addr', address, 'run', '-i', '-l', 'cli-stdin-resume=1', BASE_IMAGE, 'sh', '-c', script], env);
      run.proc.stdin!.write('one\n');
      await run.until('got one\n');
      expect(proxy.cutAll()).toBeGreaterThan(0);
      const id = execFileSync(
        'docker',
        ['ps', '-q', '--filter', `label=exec-stream.replica=${server.config.EXEC_REPLICA_ID}`, '--filter', 'label=cli-stdin-resume=1'],
        { encoding: 'utf8' },
      ).trim();
      execFileSync('docker', ['exec', id, 'touch', '/tmp/go']);
      await run.until('back\n');
      run.proc.stdin!.end('two\n');
      await run.until('got two\n');
      const r = await run.done;
      expect({ code: r.code, stdout: r.stdout.toString() }).toEqual({ code: 0, stdout: 'got one\nback\ngot two\neof\n' });
    } finally {
      await proxy.close();
    }
  });

  it('events ends when the service ends the stream', async () => {
    const other = await startTestServer();
    const events = startCli(['events', '--since-id', '0', '--json'], cliEnv({ EXEC_ADDR: other.address }));
    const run = other.client.run(BASE_IMAGE, { command: ['true'] });
    await run.ready;
    await events.until('"exited"');
    await other.close();
    // The stream ended by the service (its shutdown) is an end, as CLI.md says: exit 0, nothing on stderr.
    const r = await events.done;
    expect({ code: r.code, stderr: r.stderr.toString() }).toEqual({ code: 0, stderr: '' });
  });

  it('a dropped connection resumes by sequence: the output is whole, once, byte-exact', async () => {
    const [host, port] = server.address.split(':');
    const proxy = new TcpProxy({ host, port: Number(port) });
    const address = await proxy.listen();
    try {
      const run = startCli(
        ['--addr', address, 'run', '-l', 'cli-resume=1', BASE_IMAGE, 'sh', '-c', `seq 1 20000; until ${GO_DONE}; do sleep 0.05; done; seq 20001 40000; exit 6`],
        env,
      );
      await run.until('\n20000\n');
      expect(proxy.cutAll()).toBeGreaterThan(0);
      const id = await dockerAsync('ps', '-q', '--filter', `label=exec-stream.replica=${server.config.EXEC_REPLICA_ID}`, '--filter', 'label=cli-resume=1');
      await dockerAsync('exec', id, ...GO);
      const r = await run.done;
      expect(r.code).toBe(6);
      expect(sha256(r.stdout)).toBe(sha256(seqText(1, 40000)));
    } finally {
      await proxy.close();
    }
  });
});

describe('exec-stream CLI over TLS and mTLS with a token', () => {
  const TOKEN = 'cli-tls-token-0123456789abcdef';
  const ca = makeCa();
  const serverCert = makeCert(ca, { cn: 'exec-stream', sans: ['IP:127.0.0.1', 'DNS:localhost'] });
  const clientCert = makeCert(ca, { cn: 'cli-client', client: true });
  let server: TestServer;
  beforeAll(
    async () =>
      (server = await startTestServer({
        EXEC_TLS_CERT: serverCert.certPath,
        EXEC_TLS_KEY: serverCert.keyPath,
        EXEC_TLS_CLIENT_CA: ca.certPath,
        EXEC_AUTH_TOKEN: TOKEN,
      })),
  );
  afterAll(() => server?.close());

  it('--tls-ca, --tls-cert, --tls-key and --token (or EXEC_TLS_CA, EXEC_TLS_CLIENT_CERT/KEY, EXEC_AUTH_TOKEN) connect', async () => {
    // By flags and by environment: two CLIs side by side.
    const [flags, fromEnv] = await Promise.all([
      runCli(
        [
          '--addr',
          server.address,
          '--tls-ca',
          ca.certPath,
          '--tls-cert',
          clientCert.certPath,
          '--tls-key',
          clientCert.keyPath,
          '--token',
          TOKEN,
          'run',
          BASE_IMAGE,
          'sh',
          '-c',
          'seq 1 1000; exit 3',
        ],
        cliEnv(),
      ),
      runCli(
        ['run', BASE_IMAGE, 'echo', 'over tls'],
        cliEnv({
          EXEC_ADDR: server.address,
          EXEC_TLS_CA: ca.certPath,
          EXEC_TLS_CLIENT_CERT: clientCert.certPath,
          EXEC_TLS_CLIENT_KEY: clientCert.keyPath,
          EXEC_AUTH_TOKEN: TOKEN,
        }),
      ),
    ]);
    expect({ code: flags.code, stderr: flags.stderr.toString() }).toEqual({ code: 3, stderr: '' });
    expect(sha256(flags.stdout)).toBe(sha256(seqText(1, 1000)));
    expect({ code: fromEnv.code, stdout: fromEnv.stdout.toString() }).toEqual({ code: 0, stdout: 'over tls\n' });
  });

  it('refused: without a client certificate, in plaintext, or without the token, each with exit 125 and one line', async () => {
    const base = ['--addr', server.address, '--token', TOKEN];
    // Three refusals, independent of each other: side by side.
    const [noCert, plain, noToken] = await Promise.all([
      runCli([...base, '--tls-ca', ca.certPath, 'status', 'abc'], cliEnv()),
      runCli([...base, 'status', 'abc'], cliEnv()),
      runCli(
        ['--addr', server.address, '--tls-ca', ca.certPath, '--tls-cert', clientCert.certPath, '--tls-key', clientCert.keyPath, 'status', 'abc'],
        cliEnv(),
      ),
    ]);
    for (const r of [noCert, plain]) {
      expect(r.code).toBe(125);
      expect(r.stderr.toString()).toMatch(/^exec-stream: cannot get the status of abc: UNAVAILABLE \(14\): [^\n]*\n$/);
    }
    expect(noToken.code).toBe(125);
    expect(noToken.stderr.toString()).toMatch(/^exec-stream: cannot get the status of abc: UNAUTHENTICATED \(16\): [^\n]*\n$/);
  });
});

describe('exec-stream CLI over TLS trusting the system roots (--tls, EXEC_TLS=1)', () => {
  const TOKEN = 'cli-tls-roots-token-0123456789';
  const ca = makeCa();
  const serverCert = makeCert(ca, { cn: 'exec-stream', sans: ['IP:127.0.0.1', 'DNS:localhost'] });
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer({ EXEC_TLS_CERT: serverCert.certPath, EXEC_TLS_KEY: serverCert.keyPath, EXEC_AUTH_TOKEN: TOKEN })));
  afterAll(() => server?.close());

  // grpc-js takes "the system's roots" from GRPC_DEFAULT_SSL_ROOTS_FILE_PATH when set: here, a system whose roots hold the test CA.
  const roots = (file: string) => cliEnv({ EXEC_ADDR: server.address, EXEC_AUTH_TOKEN: TOKEN, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: file });

  it('--tls and EXEC_TLS=1 connect over TLS with the system roots; with roots that lack the CA, or without TLS, 125 UNAVAILABLE', async () => {
    // Four CLIs independent of each other: side by side.
    const [flag, env, otherRoots, plain] = await Promise.all([
      runCli(['--tls', 'run', BASE_IMAGE, 'echo', 'roots'], roots(ca.certPath)),
      runCli(['run', BASE_IMAGE, 'echo', 'roots'], { ...roots(ca.certPath), EXEC_TLS: '1' }),
      runCli(['--tls', 'status', 'abc'], roots('/etc/ssl/certs/ca-certificates.crt')),
      runCli(['status', 'abc'], roots(ca.certPath)),
    ]);
    expect({ code: flag.code, stdout: flag.stdout.toString() }).toEqual({ code: 0, stdout: 'roots\n' });
    expect({ code: env.code, stdout: env.stdout.toString() }).toEqual({ code: 0, stdout: 'roots\n' });
    for (const r of [otherRoots, plain])
      expect({ code: r.code, stderr: r.stderr.toString() }).toEqual({ code: 125, stderr: expect.stringMatching(/UNAVAILABLE \(14\)/) });
  });
});

describe('EXEC_CLIENT_ID', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer()));
  afterAll(() => server?.close());

  it("names this client: another user's CLI with the same EXEC_CLIENT_ID may write the session's stdin, one without may not", async () => {
    const owner = cliEnv({ EXEC_ADDR: server.address, EXEC_CLIENT_ID: 'cli-client-id-shared' });
    const sessionId = (await runCli(['run', '-d', '-i', BASE_IMAGE, 'sh', '-c', 'cat; echo eof'], owner)).stdout.toString().trim();
    // Each cliEnv() has a config folder of its own: a different default client id.
    const stranger = await runCli(['attach', '-i', sessionId], cliEnv({ EXEC_ADDR: server.address }), 'not allowed\n');
    expect({ code: stranger.code, stderr: stranger.stderr.toString() }).toEqual({ code: 125, stderr: expect.stringMatching(/PERMISSION_DENIED/) });
    const sameId = await runCli(['attach', '-i', sessionId], cliEnv({ EXEC_ADDR: server.address, EXEC_CLIENT_ID: 'cli-client-id-shared' }), 'allowed\n');
    expect({ code: sameId.code, stdout: sameId.stdout.toString() }).toEqual({ code: 0, stdout: 'allowed\neof\n' });
  });
});
