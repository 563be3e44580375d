// The CLI's -t path under a real pseudo-terminal (tmux): raw mode, a shell prompt, typed commands and
// their answers, a resize seen by `stty size`, the terminal restored after exit, and detach with
// Ctrl-P Ctrl-Q then attach again.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli, CLI, cliEnv, ensureTmux, NODE, TmuxPane } from '../support/cli';
import { waitUntil } from '../support/conditions';
import { BASE_IMAGE, startTestServer, type TestServer } from '../support/server';
import { ControlClient } from '@exec-stream/client';

const PROMPT = /^\/ # $/m;

describe('exec-stream CLI with a terminal (-t)', () => {
  let server: TestServer;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  const panes: TmuxPane[] = [];
  beforeAll(async () => {
    buildCli();
    ensureTmux();
    server = await startTestServer();
    env = cliEnv({ EXEC_ADDR: server.address });
    dir = mkdtempSync(join(tmpdir(), 'exec-stream-cli-tty-'));
  });
  afterEach(() => panes.splice(0).forEach((p) => p.kill()));
  afterAll(() => server?.close());

  const stty = (tty: string) => execFileSync('stty', ['-F', tty, '-g'], { encoding: 'utf8' }).trim();
  // The shell creates the file (empty) before the command writes it: only text counts as written.
  const fileText = (name: string) =>
    waitUntil(`${name} to be written`, () => (existsSync(join(dir, name)) && readFileSync(join(dir, name), 'utf8').trim()) || undefined);

  it('run -it: raw mode, a prompt, a typed command and its answer, a resize seen by stty size, the exit code, the terminal restored', async () => {
    const pane = TmuxPane.start(
      'cli-tty-run',
      `stty -g > ${dir}/before; "${NODE}" "${CLI}" run -it ${BASE_IMAGE} sh; echo "$?" > ${dir}/rc; stty -g > ${dir}/after; exec sleep 600`,
      env,
      { width: 100, height: 30 },
    );
    panes.push(pane);
    await pane.until(PROMPT);
    const before = await fileText('before');
    expect(stty(pane.tty())).not.toBe(before); // raw while the session is in front

    pane.type('echo hi-$((6*7))');
    await pane.until(/^hi-42$/m);
    // A size travels (Resize, the service's 50 ms folding, Docker; the CLI sends the initial one again
    // once the process runs, docs/CLI.md): ask until the shell sees it.
    const sizeSeen = (size: RegExp) =>
      waitUntil(`stty size to say ${size}`, async () => {
        pane.type('stty size');
        return pane.until(size, 1_000).catch(() => undefined);
      });
    await sizeSeen(/^30 100$/m);
    pane.resize(120, 40);
    await sizeSeen(/^40 120$/m);

    pane.type('exit 3');
    expect(await fileText('rc')).toBe('3');
    expect(await fileText('after')).toBe(before);
  });

  it('a signal to the CLI (SIGTERM) restores the terminal and exits 128 + n; the session goes on', async () => {
    // The CLI's own pid in a file: bash execs node, so $$ is the CLI's.
    const pane = TmuxPane.start(
      'cli-tty-signal',
      `stty -g > ${dir}/sig-before; bash -c 'echo $$ > ${dir}/sig-pid; exec "${NODE}" "${CLI}" run -it ${BASE_IMAGE} sh'; echo "$?" > ${dir}/sig-rc; stty -g > ${dir}/sig-after; exec sleep 600`,
      env,
    );
    panes.push(pane);
    await pane.until(PROMPT);
    const before = await fileText('sig-before');
    expect(stty(pane.tty())).not.toBe(before); // raw
    process.kill(Number(await fileText('sig-pid')), 'SIGTERM');
    expect(await fileText('sig-rc')).toBe('143');
    expect(await fileText('sig-after')).toBe(before);
    // The shell goes on: the session is still running.
    const sessions = (await new ControlClient(server.connection).listSessions({ state: 'running' })).sessions ?? [];
    expect(sessions.some((x) => x.tty && (x.command ?? []).join(' ') === 'sh')).toBe(true);
  });

  it('Ctrl-P Ctrl-Q detaches (exit 0, the session goes on, how to come back is printed); attach brings back the same shell', async () => {
    const pane = TmuxPane.start('cli-tty-detach', `"${NODE}" "${CLI}" run -it ${BASE_IMAGE} sh; echo "detach-rc=$?"; exec bash --norc`, env);
    panes.push(pane);
    await pane.until(PROMPT);
    pane.type('cd /tmp && echo first-$((2*3))');
    await pane.until(/^first-6$/m);
    pane.keys('C-p', 'C-q');
    const [, sessionId] = await pane.until(/exec-stream attach ([a-z0-9-]+\.[0-9a-f-]{36})/);
    await pane.until(/^detach-rc=0$/m);
    await pane.until(/^bash-[\d.]+# $/m);

    pane.type(`"${NODE}" "${CLI}" attach ${sessionId}; echo "attach-rc=$?"`);
    await pane.until(/^first-6\n\/tmp # $/m); // the replayed screen, then the same shell, still in /tmp
    pane.type('echo back-$((1+1)) in $(pwd)');
    // (Not anchored at ^: the replayed screen held the shell's cursor-position query, which the local
    // terminal answers; ash's line editor shows the answer before the line and ignores it.)
    await pane.until(/back-2 in \/tmp$/m);
    pane.type('exit 5');
    await pane.until(/^attach-rc=5$/m);
  });
});
