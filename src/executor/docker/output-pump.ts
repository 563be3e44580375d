import type { Readable } from 'node:stream';
import { ExecError } from '../../common/errors';
import { CoalescingSink } from './coalescing-sink';
import { FrameDemuxer, RawPassThrough } from './frame-demuxer';
import type { OutputSink } from '../../common/streams';

/**
 * Reads one of Docker's output streams (attach, exec start, or logs) as fast as Docker gives it into the
 * sink: demultiplexed (or raw for a tty), joined per event-loop turn. Settles when the stream ends
 * with every byte in the sink; rejects when the stream failed, ended inside a frame, or the sink (the
 * session's record) failed. `what` names the stream in messages.
 */
export function pumpOutput(stream: Readable, tty: boolean, sink: OutputSink, what = 'output stream'): Promise<void> {
  const joined = new CoalescingSink(sink);
  const demux = tty ? new RawPassThrough(joined) : new FrameDemuxer(joined);
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      // What was read is valid output whatever ended the stream: record it before the session ends.
      try {
        joined.flush();
      } catch (flushErr) {
        err ??= flushErr;
      }
      if (!err && demux.systemError) err = new ExecError('aborted', `Docker reported an error in the ${what}: ${demux.systemError}`);
      if (err) reject(err instanceof ExecError ? err : new ExecError('unavailable', `${what} from Docker failed: ${(err as Error)?.message ?? err}`));
      else if (!demux.atFrameBoundary) reject(new ExecError('aborted', `${what} from Docker ended inside a frame: output is incomplete`));
      else resolve();
    };
    const recordFailed = (err: unknown) => {
      // The record (session files) failed: a real error for the session.
      finish(err);
      stream.destroy();
    };
    joined.onError = recordFailed;
    stream.on('data', (buf: Buffer) => {
      try {
        demux.push(buf);
      } catch (err) {
        recordFailed(err);
      }
    });
    stream.on('end', () => finish());
    stream.on('close', () => finish());
    stream.on('error', (err: NodeJS.ErrnoException) => {
      // Writing stdin to a process that already exited fails (EPIPE / ECONNRESET) after Docker sent all
      // output and EOF: that is a normal end of the output, not a failure of it.
      const readAll = stream as Readable & { readableEnded?: boolean; _readableState?: { ended?: boolean } };
      if ((err.code === 'EPIPE' || err.code === 'ECONNRESET') && (readAll.readableEnded || readAll._readableState?.ended)) return finish();
      finish(err);
    });
  });
}
