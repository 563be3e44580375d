import { ExecError } from '../../common/errors';
import { MAX_SIGNAL, SIGNALS, signalName } from '../../common/signals';
import { LIMITS } from '../../common/limits';
import { quoted } from '../../common/request-ids';

export interface ParsedSignal {
  /** Canonical name: SIGTERM, SIGRTMIN+2 … */
  name: string;
  number: number;
}

export const ACCEPTED_SIGNAL_FORMS = 'a signal name with or without SIG, any case (SIGTERM, sigterm, TERM, SigTerm), or a number 1-64 (15)';

/**
 * ContainerSignalRequest.signal → a signal. Trimmed and case-insensitive; the SIG prefix optional;
 * decimal numbers 1..64 (the real-time ones included); anything else is INVALID_ARGUMENT naming the
 * accepted forms, so a caller never sends a signal it did not mean.
 */
export function parseSignal(input: string | undefined): ParsedSignal {
  const raw = (input ?? '').trim();
  const invalid = (message: string) => new ExecError('invalid', message, { reason: 'FIELD_INVALID', field: 'signal' });
  if (!raw) throw invalid(`signal is empty: give ${ACCEPTED_SIGNAL_FORMS}`);
  if (Buffer.byteLength(raw) > LIMITS.idBytes)
    throw invalid(`signal is ${Buffer.byteLength(raw)} bytes (at most ${LIMITS.idBytes}): give ${ACCEPTED_SIGNAL_FORMS}`);
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    const name = n >= 1 && n <= MAX_SIGNAL ? signalName(n) : undefined;
    if (!name) throw invalid(`signal ${quoted(raw)} is out of range: give ${ACCEPTED_SIGNAL_FORMS}`);
    return { name, number: n };
  }
  const upper = raw.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const n = SIGNALS[name];
  if (n === undefined) throw invalid(`unknown signal ${quoted(raw)}: give ${ACCEPTED_SIGNAL_FORMS}`);
  return { name: signalName(n)!, number: n };
}
