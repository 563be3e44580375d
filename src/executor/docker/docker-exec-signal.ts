import type Docker from 'dockerode';
import { readFileSync, readlinkSync } from 'node:fs';
import { ExecError, type ErrorDetail } from '../../common/errors';
import type { DockerCall } from './docker-call';
import { FrameDemuxer } from './frame-demuxer';
import { sleep } from '../../common/sleep';

/** How long a just-started exec may take to show as running in Docker's inspect, and how often it is asked meanwhile. */
export const EXEC_START_WAIT_MS = 5000;
const EXEC_START_POLL_MS = 50;

/**
 * Signalling an exec's process. Docker can kill a container's main process but has no API to signal an
 * exec (moby#9098), so this:
 *
 *  1. asks Docker for the exec (its container, whether it runs, and its Pid — in the HOST pid namespace),
 *     again while it shows as not yet started (up to EXEC_START_WAIT_MS);
 *  2. finds the process's pid INSIDE the container:
 *     a. when this service sees the host's /proc (it runs on the host, or with --pid=host), the
 *        `NSpid:` line of /proc/<Pid>/status lists the pid in every namespace, the last being the
 *        container's; checked to be in the container's pid namespace (same /proc/<pid>/ns/pid as the
 *        container's main process), so a recycled host pid is never signalled;
 *     b. otherwise, a helper exec in the container lists the exec roots — processes whose parent is
 *        outside the container (PPid 0) other than pid 1 — with their command lines, and the one whose
 *        command line is the exec's is it; if several are, the request fails (FAILED_PRECONDITION)
 *        rather than guess;
 *  3. runs `kill -<n> <pid>` as a second exec in the container, so the signal is sent from inside the
 *     container's own pid namespace with the container's own privileges, whatever this service's are.
 *     Needs a `kill` in the image (busybox has one); without it, when step 2a worked, the service
 *     signals the host pid itself.
 *
 * Every Docker request, and each step of a helper's run, has `call`'s deadline (EXEC_DOCKER_TIMEOUT_MS).
 */
export async function signalExecProcess(docker: Docker, execId: string, signal: number, call: DockerCall): Promise<number> {
  const inspect = () => call(`inspect of exec ${execId}`, (abortSignal) => docker.getExec(execId).inspect({ abortSignal }), { what: `exec ${execId}` });
  let exec = await inspect();
  // Just started, Docker shows an exec as not running (or running without a pid) and with no exit code, for
  // a moment (longer on a busy engine): a signal then (an output limit reached at once, an early timeout, a
  // ContainerSignal right after the exec's Ready) waits for it to run.
  for (const until = Date.now() + EXEC_START_WAIT_MS; (!exec.Running || !exec.Pid) && exec.ExitCode == null && Date.now() < until;) {
    await sleep(EXEC_START_POLL_MS);
    exec = await inspect();
  }
  if (!exec.Running || !exec.Pid) {
    throw new ExecError('precondition', `exec ${execId.slice(0, 12)} is not running (exit code ${exec.ExitCode ?? 'unknown'})`, {
      reason: 'EXEC_NOT_RUNNING',
      resource: { type: 'exec', name: execId },
    });
  }
  const container = await call(
    `inspect of container ${exec.ContainerID.slice(0, 12)}`,
    (abortSignal) => docker.getContainer(exec.ContainerID).inspect({ abortSignal }),
    { what: `container ${exec.ContainerID}` },
  );
  const hostPid = exec.Pid;
  let pid = pidInContainerFromHostProc(hostPid, container.State?.Pid);
  if (pid === undefined) {
    const command = [exec.ProcessConfig?.entrypoint, ...(exec.ProcessConfig?.arguments ?? [])].filter(Boolean).join(' ');
    pid = await pidInContainerByCommand(docker, exec.ContainerID, command, execId, call);
  }
  const kill = await runHelper(docker, exec.ContainerID, ['kill', `-${signal}`, String(pid)], call).catch((err: unknown) => err as Error);
  if (kill instanceof Error || kill.exitCode !== 0) {
    const why = kill instanceof Error ? kill.message : `kill exited ${kill.exitCode}: ${kill.output.trim()}`;
    if (pidInContainerFromHostProc(hostPid, container.State?.Pid) === pid) {
      try {
        process.kill(hostPid, signal); // the image has no usable `kill`: signal it from here
        return pid;
      } catch (err) {
        throw new ExecError('precondition', `could not signal exec ${execId.slice(0, 12)}: ${why}; direct: ${(err as Error).message}`, unsignallable(execId));
      }
    }
    throw new ExecError('precondition', `could not signal exec ${execId.slice(0, 12)} (pid ${pid} in its container): ${why}`, unsignallable(execId));
  }
  return pid;
}

/** Step 2a; undefined when the host's /proc is not visible or the process is not the container's. */
export function pidInContainerFromHostProc(hostPid: number, containerMainPid: number | undefined): number | undefined {
  try {
    if (!containerMainPid) return undefined;
    if (readlinkSync(`/proc/${hostPid}/ns/pid`) !== readlinkSync(`/proc/${containerMainPid}/ns/pid`)) return undefined;
    const line = /^NSpid:\s*(.+)$/m.exec(readFileSync(`/proc/${hostPid}/status`, 'utf8'));
    const pids = line?.[1].trim().split(/\s+/).map(Number) ?? [];
    const inner = pids[pids.length - 1];
    return pids.length >= 2 && Number.isInteger(inner) && inner > 0 ? inner : undefined;
  } catch {
    return undefined;
  }
}

// Lists "pid cmdline" of every process whose parent is outside the container (exec roots), but pid 1
// and this script itself. POSIX sh + sed + tr: all in busybox.
const LIST_EXEC_ROOTS =
  'for d in /proc/[0-9]*; do p=${d#/proc/}; [ "$p" = 1 ] && continue; [ "$p" = $$ ] && continue; ' +
  'pp=$(sed -n "s/^PPid:[[:space:]]*//p" $d/status 2>/dev/null); [ "$pp" = 0 ] || continue; ' +
  'printf "%s " "$p"; tr "\\000" " " < $d/cmdline; echo; done';

/** Step 2b. */
async function pidInContainerByCommand(docker: Docker, containerId: string, command: string, execId: string, call: DockerCall): Promise<number> {
  const listed = await runHelper(docker, containerId, ['sh', '-c', LIST_EXEC_ROOTS], call).catch((err: unknown) => {
    throw new ExecError('precondition', `cannot find the process of exec ${execId.slice(0, 12)}: ${(err as Error).message}`, unsignallable(execId));
  });
  const found = listed.output
    .split('\n')
    .map((l) => /^(\d+) (.*)$/.exec(l.trimEnd()))
    .filter((m): m is RegExpExecArray => !!m && m[2].trim() === command.trim())
    .map((m) => Number(m[1]));
  if (found.length !== 1) {
    throw new ExecError(
      'precondition',
      `cannot tell which process is exec ${execId.slice(0, 12)} (${found.length} processes run "${command}") without the host's /proc`,
      unsignallable(execId),
    );
  }
  return found[0];
}

/** Runs a short command in the container (as `user`, default the container's) and collects its output and exit code; `call`'s deadline bounds each step. */
export async function runHelper(
  docker: Docker,
  containerId: string,
  cmd: string[],
  call: DockerCall,
  user?: string,
): Promise<{ exitCode: number; output: string }> {
  const what = `helper exec ${cmd[0]} in container ${containerId.slice(0, 12)}`;
  const exec = await call(`create of ${what}`, (abortSignal) =>
    docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, ...(user ? { User: user } : {}), abortSignal }),
  );
  const stream = await call(`start of ${what}`, (abortSignal) => exec.start({ hijack: true, stdin: false, abortSignal }), { onLate: (late) => late.destroy() });
  const parts: Buffer[] = [];
  // A helper's output is a few lines: reading it is bounded too, unlike a session's streams.
  await call(
    `output of ${what}`,
    (abortSignal) =>
      new Promise<void>((resolve, reject) => {
        abortSignal.addEventListener('abort', () => stream.destroy());
        stream.on('data', (b: Buffer) => parts.push(b));
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', reject);
      }),
  );
  for (let i = 0; i < 100; i++) {
    const info = await call(`inspect of ${what}`, (abortSignal) => exec.inspect({ abortSignal }));
    if (!info.Running && typeof info.ExitCode === 'number') return { exitCode: info.ExitCode, output: demuxText(Buffer.concat(parts)) };
    await sleep(i < 10 ? 5 : 20);
  }
  throw new Error(`helper ${cmd[0]} did not finish`);
}

/** Docker's multiplexed frames → their payload as text (stdout and stderr together, in order). */
function demuxText(buf: Buffer): string {
  const out: Buffer[] = [];
  new FrameDemuxer({ write: (_stream, data) => out.push(data) }).push(buf);
  return Buffer.concat(out).toString('utf8');
}

/** An exec whose process could not be found or signalled from inside its container. */
function unsignallable(execId: string): ErrorDetail<'precondition'> {
  return { reason: 'EXEC_NOT_SIGNALLABLE', resource: { type: 'exec', name: execId } };
}
