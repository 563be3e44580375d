import { constants } from 'node:os';
import type { ControlClient } from '../control-client';
import type { ReadyInfo } from '../exec-client';
import type { ResumingSession } from '../resuming-session';
import { DetachKeys } from './detach-keys';
import { LocalTerminal, writeOut } from './tty';

export interface FollowOptions {
  /** Forward local stdin to the process (run -i, a person attached to a tty session). */
  stdin: boolean;
  /** Local EOF becomes the process's EOF (run -i / exec -i with piped input). */
  forwardEof: boolean;
  /** The session is a tty: raw mode while stdin is forwarded, resizes, the detach keys. */
  tty: boolean;
  /** For non-tty sessions: SIGINT / SIGTERM / SIGHUP are sent on to the process (docker's sig-proxy). */
  control?: ControlClient;
}

export type FollowResult = { exitCode: number } | { detached: true };

const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Runs a started session in the foreground: its output to our stdout / stderr as they drain, our stdin
 * and terminal size to it, until it exits (its exit code) or the detach keys are typed. The local
 * terminal is back in its own mode when this returns or throws.
 */
export async function follow(session: ResumingSession, ready: ReadyInfo, o: FollowOptions): Promise<FollowResult> {
  const term = new LocalTerminal();
  const cleanups: Array<() => void> = [];
  let detach!: () => void;
  const detached = new Promise<void>((resolve) => (detach = resolve));
  let ended = false;
  let sizeOnFirstOutput = () => undefined as void;
  try {
    if (o.tty && o.stdin) {
      term.enterRaw();
      const resize = (s: { width: number; height: number }) => {
        if (!ended) safely(() => session.resize(s.width, s.height));
      };
      const sendSize = () => {
        const size = term.size();
        if (size) resize(size);
      };
      sendSize();
      // Again when the process is running (its first output, and a moment later): the service's own
      // initial 80x24 can land after our first resize (Docker answers them out of order under load).
      sizeOnFirstOutput = () => {
        sizeOnFirstOutput = () => undefined;
        sendSize();
        const again = setTimeout(sendSize, 300);
        cleanups.push(() => clearTimeout(again));
      };
      cleanups.push(term.onResize(resize));
    }
    if (o.stdin) cleanups.push(forwardStdin(session, o, term.isTty && o.tty ? new DetachKeys() : undefined, detach, () => ended));
    cleanups.push(handleSignals(session, ready, o, term));

    const pumping = (async () => {
      for await (const piece of session.output()) {
        sizeOnFirstOutput();
        await writeOut(piece.stream === 'stderr' ? process.stderr : process.stdout, piece.data);
      }
      return session.exit;
    })();
    pumping.catch(() => undefined);
    const result = await Promise.race([pumping.then((exitCode) => ({ exitCode })), detached.then(() => ({ detached: true as const }))]);
    if ('detached' in result) session.cancel();
    return result;
  } finally {
    ended = true;
    term.restore();
    for (const c of cleanups) c();
  }
}

function forwardStdin(session: ResumingSession, o: FollowOptions, keys: DetachKeys | undefined, detach: () => void, ended: () => boolean): () => void {
  const stdin = process.stdin;
  const onData = (chunk: Buffer) => {
    let data = chunk;
    if (keys) {
      const r = keys.feed(chunk);
      data = r.forward;
      if (r.detach) {
        if (data.length) session.write(data).catch(() => undefined);
        detach();
        return;
      }
    }
    if (!data.length || ended()) return; // an empty stdin message would be EOF
    stdin.pause(); // until the session takes it: gRPC flow control reaches whoever feeds us
    session.write(data).then(
      () => ended() || stdin.resume(),
      () => ended() || stdin.resume(), // the call dropped: output says what happens next
    );
  };
  const onEnd = () => {
    if (o.forwardEof && !ended()) safely(() => session.closeStdin());
  };
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  stdin.resume();
  return () => {
    stdin.removeListener('data', onData);
    stdin.removeListener('end', onEnd);
    stdin.pause();
    stdin.unref?.();
  };
}

/**
 * A tty in raw mode gets Ctrl-C as a byte; a signal to us then means we are being stopped: restore the
 * terminal, leave the session running, exit 128 + n. Otherwise signals go on to the process.
 */
function handleSignals(session: ResumingSession, ready: ReadyInfo, o: FollowOptions, term: LocalTerminal): () => void {
  const handlers = PROXIED.map((sig) => {
    const handler = () => {
      if (o.control && !(o.tty && o.stdin)) {
        o.control.signal(ready.containerId, sig, ready.execId || undefined).catch(() => leave(sig));
        return;
      }
      leave(sig);
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  const leave = (sig: NodeJS.Signals) => {
    term.restore();
    session.cancel();
    process.exit(128 + (constants.signals[sig] ?? 0));
  };
  return () => handlers.forEach(([sig, h]) => process.removeListener(sig, h));
}

function safely(f: () => void): void {
  try {
    f();
  } catch {
    /* the call has ended; its output loop reports why */
  }
}
