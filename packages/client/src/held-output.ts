import type { ExecSession, OutputPiece } from './exec-client';
import type { SessionResponse__Output } from './gen';

/**
 * The output a session holds now, from a sequenced attach: the replayed chunks up to its
 * Ready{replay_complete} (or its exit, for a finished session); live output after that mark is not
 * waited for. Call it right after the attach (it counts the chunks from the first message on); the
 * session call is cancelled when the generator ends.
 */
export function heldOutput(session: ExecSession): AsyncGenerator<OutputPiece> {
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
  return pieces(
    session,
    () => held,
    (fn) => (wake = fn),
  );
}

async function* pieces(session: ExecSession, held: () => number | undefined, onMark: (wake: () => void) => void): AsyncGenerator<OutputPiece> {
  const output = session.output();
  let given = 0;
  let pending: Promise<IteratorResult<OutputPiece>> | undefined;
  try {
    for (;;) {
      const mark = held();
      if (mark !== undefined && given >= mark) return;
      const woken = new Promise<'woken'>((resolve) => onMark(() => resolve('woken')));
      pending ??= output.next();
      const next = await Promise.race([pending, woken]);
      if (next === 'woken') continue; // the mark came: look again whether everything before it is out
      pending = undefined;
      if (next.done) return;
      if (next.value.isReplay === false && held() !== undefined) return;
      given++;
      yield next.value;
    }
  } finally {
    pending?.catch(() => undefined);
    session.cancel();
  }
}
