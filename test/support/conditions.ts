import type { OutputPiece } from '@exec-stream/client';
import { execFileSync } from 'node:child_process';
import { sleep } from './helpers';

/** Polls `check` until it returns a value other than undefined/false; throws naming `what` after `timeoutMs`. */
export async function waitUntil<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** A session's output read in the background: `text()` so far, `until(s)` waits for it to appear. */
export function backgroundReader(output: AsyncGenerator<OutputPiece>) {
  const pieces: OutputPiece[] = [];
  let text = '';
  let failure: unknown;
  const done = (async () => {
    try {
      for await (const p of output) {
        pieces.push(p);
        text += p.data.toString('latin1');
      }
    } catch (err) {
      failure = err;
      throw err;
    }
  })();
  done.catch(() => undefined);
  return {
    pieces,
    done,
    text: () => text,
    until: (s: string, timeoutMs = 15_000) =>
      waitUntil(
        `output ${JSON.stringify(s)} (so far ${JSON.stringify(text.slice(-120))}${failure ? `, failed: ${failure instanceof Error ? failure.message : JSON.stringify(failure)}` : ''})`,
        () => text.includes(s) || (failure !== undefined && Promise.reject(failure instanceof Error ? failure : new Error(JSON.stringify(failure)))),
        timeoutMs,
      ),
  };
}

/** `docker inspect` of a container as JSON, or undefined when Docker has no such container. */
export function inspectContainer(id: string): any {
  try {
    return JSON.parse(execFileSync('docker', ['inspect', '--type', 'container', id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))[0];
  } catch {
    return undefined;
  }
}

/** Removes containers, ignoring those already gone. */
export function removeContainers(ids: string[]): void {
  for (const id of ids) {
    try {
      execFileSync('docker', ['rm', '-f', '-v', id], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
}
