import type { Logger } from '../../common/logger';
import { OutputLog, type SessionFiles, type TailBudget, type TeeWriterFactory } from '../output';
import { Session, type SessionInfo } from './session';
import { auditSessionEnd, type SessionAuditTrail } from './session-audit';

/**
 * Puts one session together over its files: the output log (with its tail window), the TeeWriter that
 * records into it and then wakes its readers, and the Session. The one way a session is made, whether
 * new (SessionManager) or loaded at start-up (SessionRecovery); its end is recorded in `audit`.
 */
export function assembleSession(
  info: SessionInfo,
  files: SessionFiles,
  tail: TailBudget,
  tees: TeeWriterFactory,
  logger: Logger,
  audit?: SessionAuditTrail,
): Session {
  const output = new OutputLog(files, tail);
  if (info.outputLimitBytes) output.limitBytes = info.outputLimitBytes;
  const tee = tees.create(output, logger);
  output.sentTally = tees.sent;
  tee.addListener({ onRecorded: () => output.notify() });
  const session = new Session(info, files, output, tee, logger);
  auditSessionEnd(audit, session);
  return session;
}
