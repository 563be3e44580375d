import type { SessionCensus } from '../../common/reporting';
import type { Session } from './session';

/** The sessions counted for /metrics: by state and kind, their clients, and their files' bytes. */
export function sessionCensus(sessions: Iterable<Session>): SessionCensus {
  const census: SessionCensus = { running: { run: 0, exec: 0 }, finished: { run: 0, exec: 0 }, clients: 0, behindTail: 0, diskBytes: 0 };
  for (const s of sessions) {
    census[s.running ? 'running' : 'finished'][s.info.kind]++;
    census.clients += s.clientCount;
    census.behindTail += s.clientsBehindTail;
    census.diskBytes += s.files.diskBytes;
  }
  return census;
}
