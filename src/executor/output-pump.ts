import type { Readable } from 'node:stream';
import { ExecError } from '../common/errors';
import { CoalescingSink } from './coalescing-sink';
import type { OutputSink } from './container-runtime';
import { FrameDemuxer, RawPassThrough } from './frame-demuxer';

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
      if (!err) {
        try {
          joined.flush();
        } catch (flushErr) {
          err = flushErr;
        }
      }
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
    stream.on('error', (err) => finish(err));
  });
}
