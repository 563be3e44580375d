import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from './conditions';

const ROOT = join(__dirname, '..', '..');
/** The built CLI, as the package's `bin` runs it, on the project's Node. */
export const CLI = join(ROOT, 'packages', 'client', 'dist', 'cli', 'main.js');
export const NODE = join(ROOT, 'node_modules', '.bin', 'node');

/** Builds the client package (scripts/build-client.sh, incremental) unless the run's global setup did; a failed build stops the test. */
export function buildCli(): void {
  if (process.env.EXEC_STREAM_BUILT === '1') return;
  try {
    execFileSync('bash', [join(ROOT, 'scripts', 'build-client.sh')], { cwd: ROOT, stdio: 'pipe' });
  } catch (err) {
    const out = String((err as { stdout?: Buffer }).stdout ?? '') + String((err as { stderr?: Buffer }).stderr ?? '');
    throw new Error(`the client package does not build (scripts/build-client.sh):\n${out}`, { cause: err });
  }
}

/** Environment of a CLI child: its own config folder (so its own client id), no jest Node flags. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'exec-stream-cli-cfg-')) };
  for (const name of [
    'NODE_OPTIONS',
    'EXEC_ADDR',
    'EXEC_AUTH_TOKEN',
    'EXEC_TLS',
    'EXEC_TLS_CA',
    'EXEC_TLS_CLIENT_CERT',
    'EXEC_TLS_CLIENT_KEY',
    'EXEC_CLIENT_ID',
  ])
    delete env[name];
  return { ...env, ...extra };
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
}

/** A CLI process in the background: its output so far, and its end. */
export interface CliProcess {
  proc: ChildProcess;
  stdout(): Buffer;
  stderr(): Buffer;
  done: Promise<CliRun>;
  /** Waits until stdout holds `text`. */
  until(text: string, timeoutMs?: number): Promise<void>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv, input?: Buffer | string): CliProcess {
  const proc = spawn(NODE, [CLI, ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  proc.stdout.on('data', (d: Buffer) => out.push(d));
  proc.stderr.on('data', (d: Buffer) => err.push(d));
  if (input !== undefined) proc.stdin.end(input);
  const done = new Promise<CliRun>((resolve) =>
    proc.once('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) })),
  );
  const stdout = () => Buffer.concat(out);
  return {
    proc,
    stdout,
    stderr: () => Buffer.concat(err),
    done,
    until: (text, timeoutMs = 15_000) =>
      waitUntil(
        `CLI stdout to hold ${JSON.stringify(text)} (so far ${JSON.stringify(stdout().toString().slice(-200))}, stderr ${Buffer.concat(err).toString()})`,
        () => stdout().includes(text),
        timeoutMs,
      ).then(() => undefined),
  };
}

/** Runs the CLI to its end; stdin is `input` (or closed at once). */
export function runCli(args: string[], env: NodeJS.ProcessEnv, input: Buffer | string = ''): Promise<CliRun> {
  return startCli(args, env, input).done;
}

let tmuxChecked = false;
/** The tmux CLI; installed (Debian package `tmux`) when missing, so that a fresh machine can run these tests. */
export function ensureTmux(): void {
  if (tmuxChecked) return;
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
  } catch {
    execFileSync('bash', [join(__dirname, '..', '..', 'scripts', 'apt-install.sh'), 'tmux'], { stdio: 'inherit' });
  }
  tmuxChecked = true;
}

/** One tmux session on a tmux server of its own (-L): a real pseudo-terminal running `script` in bash. */
export class TmuxPane {
  private constructor(
    readonly socket: string,
    readonly name: string,
  ) {}

  /** Starts the tmux server with `env` (its sessions inherit it) and one window of the given size. */
  static start(name: string, script: string, env: NodeJS.ProcessEnv, size = { width: 100, height: 30 }): TmuxPane {
    ensureTmux();
    const pane = new TmuxPane(`exec-stream-${name}-${process.pid}`, name);
    pane.tmux(['new-session', '-d', '-s', name, '-x', String(size.width), '-y', String(size.height), 'bash', '-c', script], env);
    return pane;
  }

  /** Keys as tmux names them ('Enter', 'C-p'). */
  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', this.name, ...keys]);
  }

  /** Types a line of text literally, then Enter. */
  type(text: string): void {
    this.tmux(['send-keys', '-t', this.name, '-l', text]);
    this.keys('Enter');
  }

  /** The screen, wrapped lines joined. */
  screen(): string {
    return this.tmux(['capture-pane', '-p', '-J', '-t', this.name]);
  }

  /** The pane's pseudo-terminal device (to read its mode with `stty -F`). */
  tty(): string {
    return this.tmux(['display-message', '-p', '-t', this.name, '#{pane_tty}']).trim();
  }

  resize(width: number, height: number): void {
    this.tmux(['resize-window', '-t', this.name, '-x', String(width), '-y', String(height)]);
  }

  /** Waits until the screen matches. */
  async until(what: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    try {
      return await waitUntil(`the terminal to show ${what}`, () => this.screen().match(what) ?? undefined, timeoutMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}; screen:\n${this.screen()}`, { cause: err });
    }
  }

  kill(): void {
    try {
      this.tmux(['kill-server']);
    } catch {
      /* already gone */
    }
  }

  private tmux(args: string[], env?: NodeJS.ProcessEnv): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { cwd: ROOT, env: env ?? process.env, encoding: 'utf8' });
  }
}
