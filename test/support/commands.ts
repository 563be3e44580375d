import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

export interface CommandRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A command of the repository (an npm script, a script) in the background: its output so far, and its end. */
export interface RunningCommand {
  proc: ChildProcess;
  output(): string;
  /** It has ended (and its output is all there). */
  exited(): boolean;
  done: Promise<CommandRun>;
}

/**
 * The environment a user's shell would give a command: this process's, without jest's Node flags, with
 * `extra` on top.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  return env;
}

/**
 * Starts `cmd args` in `cwd` (asynchronously: an in-process service keeps running meanwhile); with
 * `group`, as the leader of a process group of its own, which process.kill(-pid) signals whole.
 */
export function startCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv = userEnv(), cwd = ROOT, group = false): RunningCommand {
  const proc = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: group });
  let stdout = '';
  let stderr = '';
  let ended = false;
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CommandRun>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', (code, signal) => {
      ended = true;
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { proc, output: () => stdout + stderr, exited: () => ended, done };
}

/** Runs `cmd args` to its end. */
export function runCommand(cmd: string, args: string[], env?: NodeJS.ProcessEnv, cwd?: string): Promise<CommandRun> {
  return startCommand(cmd, args, env, cwd).done;
}

/** A failed run's exit and the end of its output, for an expectation's message. */
export const summary = (r: CommandRun) => ({ code: r.code, signal: r.signal, tail: (r.stdout + r.stderr).slice(-3000) });
