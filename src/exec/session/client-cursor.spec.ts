import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadSync } from '@grpc/proto-loader';
import { decodeStatusDetails, execProtoPath, PROTO_LOADER_OPTIONS, STATUS_DETAILS_KEY } from '@exec-stream/client/wire';
import type { Metadata } from '@grpc/grpc-js';
import { ExecError } from '../../common/errors';
import { ClientCursor, type ClientStream } from './client-cursor';
import { OutputLog } from '../output/output-log';
import { TailBudget } from '../output/tail-budget';
import { SessionFiles } from '../output/session-files';
import type { SessionOutcome } from './session';

// What a client would decode: pre-encoded chunks go through the proto's own deserializer.
const session = (
  loadSync(execProtoPath(), PROTO_LOADER_OPTIONS)['dagger.exec.Exec'] as unknown as {
    Session: { responseDeserialize: (b: Buffer) => Record<string, unknown> };
  }
).Session;
const asMessage = (m: Record<string, unknown> | Buffer) => {
  if (!Buffer.isBuffer(m)) return m;
  const { msg: _oneof, ...decoded } = session.responseDeserialize(m);
  return decoded;
};

/** A grpc-js-like call whose buffer holds `window` messages until the test reads them. */
class FakeCall extends EventEmitter implements ClientStream {
  sent: Array<Record<string, unknown>> = [];
  buffered = 0;
  ended = false;
  status?: { code: number; details: string; metadata?: Metadata };
  constructor(private readonly window: number) {
    super();
    this.on('error', (s) => (this.status = s));
  }
  cancelled = false;
  /** Write callbacks not yet called: HTTP/2 has not taken those messages. */
  untaken: Array<() => void> = [];
  holdCallbacks = false;
  write(message: Record<string, unknown> | Buffer, callback?: () => void): boolean {
    this.sent.push(asMessage(message));
    if (callback) {
      if (this.holdCallbacks) this.untaken.push(callback);
      else setImmediate(callback);
    }
    this.buffered++;
    return this.buffered < this.window;
  }
  end(): void {
    this.ended = true;
  }
  /** The client reads everything buffered. */
  readAll(): void {
    this.buffered = 0;
    this.emit('drain');
  }
}

const tick = () => new Promise((r) => setImmediate(r));
/** Proving nothing more happens: long enough for reads back from disk (the tiny tail below sends most chunks there). */
const settle = () => new Promise((r) => setTimeout(r, 100));
/** Waits (bounded) until `cond` holds. */
async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const logger = pino({ level: 'silent' });

describe('ClientCursor', () => {
  let dir: string;
  let files: SessionFiles;
  let log: OutputLog;
  let outcome: SessionOutcome | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cursor-'));
    files = SessionFiles.create(dir, {});
    log = new OutputLog(files, new TailBudget(1024, 1024)); // a tiny tail: older chunks come back from disk
    outcome = undefined;
  });
  afterEach(() => {
    files.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const append = (stream: 'stdout' | 'stderr', s: string) => {
    log.record(stream, Buffer.from(s));
    log.notify();
  };
  const cursor = (call: FakeCall, sequenced = false, fromSequence = 1) =>
    new ClientCursor(log, () => outcome, call, { fromSequence, sequenced, ready: { session_id: 's' } }, logger);
  const payloads = (call: FakeCall) => call.sent.filter((m) => m.stdout || m.stderr).map((m) => `${m.stdout ? 'o' : 'e'}:${(m.stdout ?? m.stderr) as Buffer}`);

  it('sends Ready, every chunk in order (from memory and from disk), then exit after the last', async () => {
    for (let i = 0; i < 50; i++) append(i % 3 ? 'stdout' : 'stderr', `chunk-${i}-${'x'.repeat(100)}`);
    const call = new FakeCall(1000);
    const done = cursor(call).run();
    await tick();
    append('stdout', 'late');
    outcome = { exitCode: 3 };
    log.finish();
    await done;
    expect(call.sent[0]).toEqual({ ready: { session_id: 's', replay_complete: true } });
    const expected = Array.from({ length: 50 }, (_, i) => `${i % 3 ? 'o' : 'e'}:chunk-${i}-${'x'.repeat(100)}`).concat('o:late');
    expect(payloads(call)).toEqual(expected);
    expect(call.sent.at(-1)).toEqual({ exit: 3 });
    expect(call.ended).toBe(true);
  });

  it('holds at most one chunk for a client that does not read, then catches up', async () => {
    const call = new FakeCall(4);
    const done = cursor(call).run();
    for (let i = 0; i < 200; i++) append('stdout', `${i};`);
    // Ready + 3 chunks fill the window; then the cursor waits for 'drain' (it listens for it), and no
    // write can come before that event: no queue.
    await until("the cursor waiting for 'drain'", () => call.sent.length >= 4 && call.listenerCount('drain') > 0);
    expect(call.sent.length).toBe(4);
    outcome = { exitCode: 0 };
    log.finish();
    while (!call.ended) {
      call.readAll();
      await tick();
    }
    await done;
    expect(payloads(call).join('')).toBe(Array.from({ length: 200 }, (_, i) => `o:${i};`).join(''));
  });

  it('ends with the error status, never an exit code, when the outcome is unknown', async () => {
    append('stdout', 'partial');
    outcome = { error: new ExecError('unavailable', 'Docker went away') };
    log.finish();
    const call = new FakeCall(100);
    await cursor(call).run();
    expect(payloads(call)).toEqual(['o:partial']);
    expect(call.sent.some((m) => 'exit' in m)).toBe(false);
    expect(call.status).toMatchObject({ code: 14, details: 'Docker went away' });
    // The status details say the outcome of this session is lost (docs/PROTOCOL.md, "Errors").
    const details = decodeStatusDetails(call.status!.metadata!.get(STATUS_DETAILS_KEY)[0] as Buffer);
    expect(details).toMatchObject({ code: 14, reason: 'OUTCOME_LOST', domain: 'exec-stream', resource: { type: 'session' } });
  });

  it('sequenced: output_chunk with sequence numbers, replay marked, then Ready{replay_complete}', async () => {
    append('stdout', 'a');
    append('stderr', 'b');
    append('stdout', 'c');
    const call = new FakeCall(100);
    const done = cursor(call, true, 2).run();
    await tick();
    append('stdout', 'live');
    outcome = { exitCode: 0 };
    log.finish();
    await done;
    const kinds = call.sent.map((m) => {
      if (m.ready) return `ready:${(m.ready as { replay_complete: boolean }).replay_complete}`;
      const c = m.output_chunk as { sequence: string; is_replay?: boolean; stdout?: Buffer; stderr?: Buffer } | undefined;
      if (c) return `${c.sequence}:${c.stdout ?? c.stderr}:${c.is_replay ? 'replay' : 'live'}`;
      return `exit:${m.exit}`;
    });
    expect(kinds).toEqual(['ready:false', '2:b:replay', '3:c:replay', 'ready:true', '4:live:live', 'exit:0']);
  });

  it('holds no more than about 1 MiB for a client whose HTTP/2 takes nothing, even when grpc-js says go on', async () => {
    const call = new FakeCall(10_000); // grpc-js' own buffer never reports full here
    call.holdCallbacks = true;
    const done = cursor(call).run();
    for (let i = 0; i < 64; i++) append('stdout', 'x'.repeat(64 * 1024));
    await until('the first chunks sent', () => payloads(call).length > 0);
    await settle(); // and then no more than the bound
    const sentBytes = payloads(call).join('').length;
    expect(sentBytes).toBeLessThanOrEqual(1024 * 1024 + 2 * 64 * 1024);
    expect(sentBytes).toBeGreaterThan(0);
    call.holdCallbacks = false;
    outcome = { exitCode: 0 };
    log.finish();
    while (!call.ended) {
      for (const cb of call.untaken.splice(0)) cb();
      await tick();
    }
    await done;
    expect(payloads(call).join('').length).toBe(64 * (64 * 1024 + 2));
  });

  it('a client that left before its cursor existed ends at once (no call left hanging)', async () => {
    append('stdout', 'x');
    const call = new FakeCall(1);
    call.cancelled = true;
    await cursor(call).run();
    expect(call.sent.filter((m) => m.stdout)).toEqual([]);
  });

  it('stops at once when the client goes away, leaving the log untouched', async () => {
    const call = new FakeCall(2);
    const c = cursor(call);
    const done = c.run();
    for (let i = 0; i < 10; i++) append('stdout', String(i));
    await tick();
    call.emit('cancelled');
    await done;
    expect(c.isClosed).toBe(true);
    expect(log.lastSequence).toBe(10);
  });
});
