import type { ExecSession, OutputPiece } from './exec-client';
import type { SessionResponse__Output } from './gen';

/** Yielded by sessionLog() once every chunk the session held at the attach has been given. */
export const HELD_END = Symbol('held output given');

/**
 * The output a session holds now, from a sequenced attach: the replayed chunks up to its
 * Ready{replay_complete} (or its exit, for a finished session); live output after that mark is not
 * waited for. Call it right after the attach (it counts the chunks from the first message on); the
 * session call is cancelled when the generator ends.
 */
export function heldOutput(session: ExecSession): AsyncGenerator<OutputPiece> {
  const log = sessionLog(session, false); // counting starts now, not at the first next()
  return (async function* () {
    for await (const piece of log) if (piece !== HELD_END) yield piece;
  })();
}

/**
 * A sequenced attach's output in two parts: the chunks the session held at the attach (counted up to
 * its Ready{replay_complete}), then HELD_END once all of them have been given; with `follow`, the live
 * chunks after that until the process ends, else nothing more. A session whose exit comes instead of
 * the mark (it had finished) ends without HELD_END. Call it right after the attach; the session call is
 * cancelled when the generator ends.
 */
export function sessionLog(session: ExecSession, follow: boolean): AsyncGenerator<OutputPiece | typeof HELD_END> {
  // Registered at the call (a generator's body would only run at its first next(): chunks received
  // while the caller awaits something else first would go uncounted and cut the held output short).
  let received = 0;
  let held: number | undefined;
  let wake: () => void = () => undefined;
  session.call.on('data', (m: SessionResponse__Output) => {
    if (m.output_chunk) received++;
    else if (m.ready?.replay_complete && held === undefined) {
      held = received;
      wake();
    }
  });
  return logPieces(
    session,
    follow,
    () => held,
    (fn) => (wake = fn),
  );
}

async function* logPieces(
  session: ExecSession,
  follow: boolean,
  heldMark: () => number | undefined,
  onMark: (wake: () => void) => void,
): AsyncGenerator<OutputPiece | typeof HELD_END> {
  const output = session.output();
  let given = 0;
  let heldEnded = false;
  let pending: Promise<IteratorResult<OutputPiece>> | undefined;
  try {
    for (;;) {
      const held = heldMark();
      if (!heldEnded && held !== undefined && given >= held) {
        heldEnded = true;
        yield HELD_END;
        if (!follow) return;
      }
      const woken = new Promise<'woken'>((resolve) => onMark(() => resolve('woken')));
      pending ??= output.next();
      const next = await Promise.race([pending, woken]);
      if (next === 'woken') continue; // the mark came: look again whether everything before it is out
      pending = undefined;
      if (next.done) return;
      if (next.value.isReplay === false && heldMark() !== undefined && !follow) return; // live output: not ours to wait for
      given++;
      yield next.value;
    }
  } finally {
    pending?.catch(() => undefined);
    session.cancel();
  }
}
