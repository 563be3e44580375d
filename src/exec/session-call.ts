import { Injectable, Inject } from '@nestjs/common';
import { ExecError, toGrpcStatus } from '../common/errors';
import type { Logger } from '../common/logger';
import { ROOT_LOGGER } from '../common/tokens';
import type { ClientStream } from './client-cursor';
import { parseStart, type StartDto, type StartMode } from './dto/start.dto';
import type { Session } from './session';
import { SessionManager } from './session-manager';

/** A Session call as the controller hands it over: the raw grpc-js duplex stream. */
export interface SessionCallStream extends ClientStream {
  on(event: 'data', fn: (msg: SessionRequestMessage) => void): unknown;
  on(event: 'end' | 'cancelled' | 'close' | 'error', fn: () => void): unknown;
  getPeer(): string;
}

export interface SessionRequestMessage {
  msg?: 'start' | 'stdin' | 'resize';
  start?: unknown;
  stdin?: Buffer;
  resize?: { Width?: number; Height?: number };
}

/**
 * Runs one Session call: the first message must be Start; it becomes a run, an exec or an attach;
 * then this call is one client of that session until the session's exit (or the client leaves).
 */
@Injectable()
export class SessionCallHandler {
  private readonly log: Logger;

  constructor(
    private readonly sessions: SessionManager,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ component: 'session-call' });
  }

  async handle(call: SessionCallStream): Promise<void> {
    let session: Session | undefined;
    let started = false;
    let ended = false;
    const fail = (err: unknown) => {
      if (ended) return;
      ended = true;
      const s = toGrpcStatus(err);
      this.log.info({ code: s.code, details: s.details, sessionId: session?.id, peer: call.getPeer() }, 'call rejected');
      call.emit('error', s);
    };
    const first = new Promise<{ dto: StartDto; mode: StartMode }>((resolve, reject) => {
      call.on('data', (msg: SessionRequestMessage) => {
        try {
          if (!started) {
            started = true;
            if (!msg.start) throw new ExecError('invalid', `first message must be start, got ${msg.msg ?? 'an empty message'}`);
            resolve(parseStart(msg.start));
            return;
          }
          if (msg.start) throw new ExecError('invalid', 'a call carries one Start; open a new call for another session');
          throw new ExecError('unimplemented', `${msg.msg} is not supported on this server yet`);
        } catch (err) {
          reject(err);
          fail(err);
        }
      });
      call.on('end', () => {
        if (!started) reject(new ExecError('invalid', 'call closed before a Start message'));
      });
      call.on('cancelled', () => reject(new ExecError('aborted', 'client cancelled before Start')));
    });
    let start: { dto: StartDto; mode: StartMode };
    try {
      start = await first;
    } catch (err) {
      fail(err);
      return;
    }
    const { dto, mode } = start;
    try {
      if (mode === 'attach') {
        session = dto.session_id ? this.sessions.get(dto.session_id) : this.sessions.findByContainer(dto.container_id!, dto.exec_id);
        if (dto.session_id && dto.container_id && !session.containerId.startsWith(dto.container_id)) {
          throw new ExecError('invalid', `session ${dto.session_id} does not belong to container ${dto.container_id}`);
        }
        if (dto.session_id && dto.exec_id && session.execId !== dto.exec_id) {
          throw new ExecError('invalid', `session ${dto.session_id} does not belong to exec ${dto.exec_id}`);
        }
        this.sessions.admitClient(session);
      } else {
        session = await this.sessions.start({
          image: mode === 'run' ? dto.image : undefined,
          containerId: mode === 'exec' ? dto.container_id : undefined,
          command: dto.command,
          env: dto.env,
          workingDir: dto.working_dir,
          tty: dto.tty,
        });
      }
    } catch (err) {
      fail(err);
      return;
    }
    if (ended) return; // a bad second message arrived while Docker was starting the process
    await session.attach(call, { fromSequence: dto.replay_from_sequence || 1, sequenced: dto.sequenced });
  }
}
