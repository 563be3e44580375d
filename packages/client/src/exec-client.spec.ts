import { EventEmitter } from 'node:events';
import { Metadata, status as Code, type ClientDuplexStream } from '@grpc/grpc-js';
import { ExecClient, ExecSession, type OutputPiece } from './exec-client';
import { ExecError } from './exec-error';
import type { SessionRequest, SessionResponse__Output, Start } from './gen';
import type { GRPCConnectionManager } from './grpc-connection-manager';

/** The client half of a Session call, driven by the test: what the session writes, and what the "server" sends. */
class FakeCall extends EventEmitter {
  written: SessionRequest[] = [];
  /** What write() answers: false = the call's buffer is full (flow control). */
  room = true;
  halfClosed = false;
  cancelled = false;
  private paused = false;
  write(m: SessionRequest): boolean {
    this.written.push(m);
    return this.room;
  }
  end(): void {
    this.halfClosed = true;
  }
  cancel(): void {
    this.cancelled = true;
    this.fail(Code.CANCELLED, 'Cancelled on client');
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  isPaused(): boolean {
    return this.paused;
  }
  send(m: SessionResponse__Output): void {
    this.emit('data', m);
  }
  fail(code: Code, details: string): void {
    this.emit('error', Object.assign(new Error(`${code} ${details}`), { code, details, metadata: new Metadata() }));
    this.emit('status', { code, details });
  }
  close(): void {
    this.emit('status', { code: Code.OK, details: '' });
    this.emit('end');
  }
}

const sessionOf = (call: FakeCall, options?: ConstructorParameters<typeof ExecSession>[1]) =>
  new ExecSession(call as unknown as ClientDuplexStream<SessionRequest, SessionResponse__Output>, options);
const ready: SessionResponse__Output['ready'] = { session_id: 's1', container_id: 'c1', exec_id: '', replay_complete: true };
const out = (text: string) => ({ stdout: Buffer.from(text) }) as SessionResponse__Output;
const err = (text: string) => ({ stderr: Buffer.from(text) }) as SessionResponse__Output;
const exit = (code: number) => ({ exit: code }) as SessionResponse__Output;
const tick = () => new Promise((r) => setImmediate(r));

describe('ExecSession', () => {
  it('resolves ready with the ids, yields the output in order per stream, then the exit code', async () => {
    const call = new FakeCall();
    const s = sessionOf(call);
    call.send({ ready });
    expect(await s.ready).toEqual({ sessionId: 's1', containerId: 'c1', execId: '', replayComplete: true, terminalSize: undefined });
    call.send(out('a'));
    call.send(err('b'));
    call.send(out('c'));
    call.send({ outcome: { reason: 'exited' } });
    call.send(exit(3));
    call.close();
    expect(await s.collect()).toEqual({ stdout: Buffer.from('ac'), stderr: Buffer.from('b'), exitCode: 3 });
    expect(s.outcome).toMatchObject({ reason: 'exited' });
  });

  it('keeps a sequenced chunk’s sequence, time, replay mark and gap', async () => {
    const call = new FakeCall();
    const s = sessionOf(call);
    call.send({ ready });
    call.send({ output_chunk: { stderr: Buffer.from('x'), sequence: '7', timestamp: '1700000000000000000', is_replay: true, gap_before: '2' } });
    call.send(exit(0));
    call.close();
    const pieces: OutputPiece[] = [];
    for await (const p of s.output()) pieces.push(p);
    expect(pieces).toEqual([{ stream: 'stderr', data: Buffer.from('x'), sequence: 7, timestampNs: 1700000000000000000n, isReplay: true, gapBefore: 2 }]);
  });

  it('pauses the call while the reader is 32 pieces behind and resumes it once it has caught up to half', async () => {
    const call = new FakeCall();
    const s = sessionOf(call);
    call.send({ ready });
    for (let i = 0; i < 32; i++) call.send(out(String(i % 10)));
    expect(call.isPaused()).toBe(true);
    const reader = s.output();
    for (let i = 0; i < 16; i++) await reader.next();
    expect(call.isPaused()).toBe(true); // 16 still queued
    await reader.next();
    expect(call.isPaused()).toBe(false);
  });

  it('a failed call rejects ready, the output and exit with an ExecError carrying the status code', async () => {
    const call = new FakeCall();
    const s = sessionOf(call);
    call.fail(Code.NOT_FOUND, 'no session s9');
    await expect(s.ready).rejects.toMatchObject({ code: Code.NOT_FOUND, details: 'no session s9' });
    await expect(s.wait()).rejects.toBeInstanceOf(ExecError);
    await expect(s.exit).rejects.toMatchObject({ code: Code.NOT_FOUND });
  });

  it('a call that ends without an exit code is an error, never exit 0', async () => {
    const call = new FakeCall();
    const s = sessionOf(call);
    call.send({ ready });
    call.send(out('partial'));
    call.close();
    await expect(s.collect()).rejects.toThrow('session call ended without an exit code');
  });

  it('a deadline bounds the set-up only: no Ready by then is DEADLINE_EXCEEDED and cancels; after Ready it never fires', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const late = new FakeCall();
      const s = sessionOf(late, { timeoutMs: 1000 });
      jest.advanceTimersByTime(1000);
      expect(late.cancelled).toBe(true);
      await expect(s.ready).rejects.toMatchObject({ code: Code.DEADLINE_EXCEEDED, details: expect.stringContaining('no Ready') });

      const prompt = new FakeCall();
      const t = sessionOf(prompt, { timeoutMs: 1000 });
      prompt.send({ ready });
      await t.ready;
      jest.advanceTimersByTime(5000);
      expect(prompt.cancelled).toBe(false);
    } finally {
      jest.useRealTimers();
    }
  });

  it('write() sends stdin and waits for room when flow control says the call is full; closeStdin half-closes; resize sends the size', async () => {
    const call = new FakeCall();
    const s = sessionOf(call);
    call.send({ ready });
    await s.write(Buffer.from('in'));
    call.room = false;
    let written = false;
    const w = s.write(Buffer.from('more')).then(() => (written = true));
    await tick();
    expect(written).toBe(false);
    call.emit('drain');
    await w;
    s.resize(80, 24);
    s.closeStdin();
    expect(call.written).toEqual([{ stdin: Buffer.from('in') }, { stdin: Buffer.from('more') }, { resize: { Width: 80, Height: 24 } }]);
    expect(call.halfClosed).toBe(true);
  });

  it('output() can be consumed once, and write() after the call ended says so', async () => {
    const call = new FakeCall();
    const s = sessionOf(call);
    call.send(exit(0));
    call.close();
    await s.wait();
    await expect(s.output().next()).rejects.toThrow('output() can be consumed once');
    await expect(s.write(Buffer.from('late'))).rejects.toThrow('the session call has ended');
  });
});

describe('ExecClient', () => {
  const clientWith = (call: FakeCall, metadata = new Metadata()) => {
    const connection = { getClient: () => ({ Session: () => call }), metadataFor: () => metadata } as unknown as GRPCConnectionManager;
    return new ExecClient(connection);
  };
  const startOf = (call: FakeCall) => (call.written[0] as { start: Start }).start;

  it('run() sends one Start with every option in its wire field, and unset options as their zero values', () => {
    const call = new FakeCall();
    clientWith(call).run('img:1', {
      command: ['sh', '-c', 'x'],
      env: { A: '1' },
      workingDir: '/w',
      tty: true,
      openStdin: true,
      labels: { job: 'n' },
      memoryBytes: 1 << 20,
      timeoutMs: 5,
      requestId: 'r1',
      pull: 'if_missing',
      registryAuth: { username: 'u' },
      readOnlyRootfs: false,
    });
    expect(call.written).toHaveLength(1);
    expect(startOf(call)).toEqual({
      image: 'img:1',
      command: ['sh', '-c', 'x'],
      env: { A: '1' },
      working_dir: '/w',
      tty: true,
      sequenced: false,
      open_stdin: true,
      client_id: '',
      user: '',
      labels: { job: 'n' },
      memory_bytes: 1 << 20,
      cpus: 0,
      pids_limit: 0,
      timeout_ms: 5,
      idle_timeout_ms: 0,
      kill_grace_ms: 0,
      request_id: 'r1',
      pull: 'if_missing',
      registry_auth: { username: 'u', password: '', server_address: '', identity_token: '' },
      read_only_rootfs: false,
      output_limit_bytes: 0,
    });
    const bare = new FakeCall();
    clientWith(bare).run('img');
    expect(startOf(bare)).not.toHaveProperty('registry_auth');
    expect(startOf(bare)).not.toHaveProperty('read_only_rootfs'); // unset: the service's default
  });

  it('exec() names the container, attach() the session and where to replay from', () => {
    const e = new FakeCall();
    clientWith(e).exec('c1', { command: ['ls'] });
    expect(startOf(e)).toMatchObject({ container_id: 'c1', command: ['ls'] });
    expect(startOf(e)).not.toHaveProperty('image');
    const a = new FakeCall();
    clientWith(a).attach({ sessionId: 's1', fromSequence: 12, sequenced: true, clientId: 'me' });
    expect(startOf(a)).toEqual({ session_id: 's1', container_id: '', exec_id: '', replay_from_sequence: '12', sequenced: true, client_id: 'me' });
  });
});
