import { requestFingerprint } from '../../session';
import type { StartDto, StartMode } from './start.dto';

/** Fields that belong to one call, not to what it asks for: a retry may change them. */
const PER_CALL: ReadonlySet<string> = new Set(['client_id', 'sequenced', 'replay_from_sequence', 'request_id', 'registry_auth', 'session_id', 'exec_id']);

/** What a run or exec Start asks for (every other validated field), for the request_id check: a retry must repeat it. */
export function startFingerprint(dto: StartDto, mode: StartMode): string {
  return requestFingerprint({ mode, ...Object.fromEntries(Object.entries(dto).filter(([k]) => !PER_CALL.has(k))) });
}
