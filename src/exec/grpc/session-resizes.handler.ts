import { Injectable } from '@nestjs/common';
import type { SessionResizesRequest__Output, SessionResizesResponse } from '@exec-stream/client/wire';
import { ExecError } from '../../common/errors';
import { optionalId } from '../../common/request-ids';
import { SessionManager, unixNs } from '../session';

/** SessionResizes: a session's recorded terminal sizes (its `resizes` file), for its recording. */
@Injectable()
export class SessionResizesHandler {
  constructor(private readonly sessions: SessionManager) {}

  resizes(req: SessionResizesRequest__Output): SessionResizesResponse {
    const id = optionalId('session_id', req.session_id);
    if (!id) throw new ExecError('invalid', 'session_id is required');
    const session = this.sessions.get(id);
    return {
      tty: session.info.tty,
      started_at: unixNs(session.startedAt),
      resizes: session.files.readResizes().map((r) => ({
        timestamp: String(r.timestamp),
        width: r.width,
        height: r.height,
        after_sequence: String(r.after_sequence),
      })),
    };
  }
}
