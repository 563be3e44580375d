import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient, ExecClient, GRPCConnectionManager } from '@exec-stream/client';
import { buildService } from '../support/child-service';
import { sha256 } from '../support/helpers';
import { BASE_IMAGE } from '../support/server';
import { alive, processUsage, recordFigures, tally, type ProcessUsage } from './support/figures';
import { fuzzedStart, hostileString, HOSTILE_SIGNALS, mustRefuse, PROTOTYPE_KEYS, quotedInFull, stringsOf } from './support/hostile';
import { Prng } from './support/prng';
import { encodeRequest, pb, type CallOutcome, type UnaryMethod } from './support/raw-rpc';
import { runPool } from './support/pool';
import { probeSession, serviceUnderTest, TOKEN, waitFor, type ServiceUnderTest } from './support/service';

/** Codes a hostile request may get: each names the caller's mistake. */
const REFUSALS = ['INVALID_ARGUMENT', 'NOT_FOUND', 'PERMISSION_DENIED', 'FAILED_PRECONDITION', 'RESOURCE_EXHAUSTED'];
/** ... and OK / READY where the request may have been legitimate. */
const ALLOWED = new Set(['OK', 'READY', ...REFUSALS]);
/** A request that breaks a documented limit: INVALID_ARGUMENT and nothing else (docs/PROTOCOL.md, limits on requests). */
const INVALID = new Set(['INVALID_ARGUMENT']);
/** A Session call whose first message is not a Start: INVALID_ARGUMENT. */
const NOT_A_START = INVALID;
/** Authorization values that are not one of the two documented forms: always UNAUTHENTICATED. */
const BAD_AUTH = [
  `Bearer ${TOKEN} extra`,
  `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`,
  'Bearer wrong-token-0123456789',
  `Bearer  ${TOKEN}`,
  `Token ${TOKEN}`,
  'Bearer',
];
const START_CALLS = 2000;
const UNARY_CALLS = 3000;
/** ContainerLifecycle, ListSessions, CopyTo and CopyFrom together (each touches Docker less often than a Start). */
const OTHER_CALLS = 800;
/** A ContainerLifecycleRequest whose resume_after_id may be any string (the proto's uint64 encoder refuses non-numbers): raw fields. */
const lifecycleBytes = (r: { container_id?: string; resume_after_id?: string }) =>
  Buffer.concat([
    ...(r.container_id !== undefined ? [pb.bytes(1, r.container_id)] : []),
    ...(r.resume_after_id !== undefined ? [/^\d+$/.test(r.resume_after_id) ? pb.uint(2, BigInt(r.resume_after_id)) : pb.bytes(2, r.resume_after_id)] : []),
  ]);
const CONCURRENCY = 16;

/**
 * How far above the start RSS may stay after a fuzz run, once the service has been idle long enough to
 * give back the heap the calls grew but did not keep (2,000 Starts: +57 MiB when they came slowly; +86 to
 * +123 MiB right after them when they came fast, +30 MiB once idle for 8 s).
 */
const RSS_SLACK_KIB = 96 * 1024;

let s: ServiceUnderTest;
/** Ids of real sessions and of a running container, so that prefixes of real ids are in the mix. */
const known = { sessionIds: [] as string[], containerIds: [] as string[] };

/** Scoped tokens named like members of Object.prototype (EXEC_AUTH_TOKENS_FILE), with their scopes. */
const NAMED_TOKENS: Array<{ name: string; token: string; scopes: string[] }> = [
  { name: 'constructor', token: 'token-constructor-0123456789', scopes: ['read'] },
  { name: 'toString', token: 'token-toString-0123456789', scopes: ['read', 'run', 'control'] },
  { name: 'valueOf', token: 'token-valueOf-0123456789', scopes: ['run'] },
  { name: 'hasOwnProperty', token: 'token-hasOwnProperty-0123456789', scopes: ['read'] },
];

beforeAll(async () => {
  buildService();
  const tokensFile = join(mkdtempSync(join(tmpdir(), 'exec-stream-rel-tokens-')), 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify(NAMED_TOKENS.map(({ name, token, scopes }) => ({ name, sha256: sha256(token), scopes }))));
  s = await serviceUnderTest({ EXEC_AUTH_TOKENS_FILE: tokensFile });
  const finished = s.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo hello'], sequenced: true });
  known.sessionIds.push((await finished.ready).sessionId);
  await finished.wait();
  const victim = s.client.run(BASE_IMAGE, { command: ['sleep', '600'] });
  const r = await victim.ready;
  known.sessionIds.push(r.sessionId);
  known.containerIds.push(r.containerId);
  victim.cancel(); // the session goes on without this client
}, 120_000);
afterAll(() => s?.dispose());

interface FuzzResult {
  calls: number;
  outcomes: Record<string, number>;
  /** Per outcome: slowest answer in ms. */
  slowestMs: Record<string, number>;
  /** Answers outside the property: a code not allowed, or a message quoting more than 32 characters of a value the call sent. */
  disallowed: Array<{ request: string; outcome: string; details: string }>;
  before: ProcessUsage;
  after: ProcessUsage;
  aliveAfter: boolean;
  probe: { alive: boolean; exact: boolean; exitCode: number };
  ms: number;
}

/** Runs `count` calls made by `call`, tallies their outcomes, and measures the service before and after. */
async function fuzz(
  count: number,
  call: (rng: Prng, i: number) => { summary: () => string; expect: Set<string>; values: string[]; run: () => Promise<CallOutcome> },
  seed: number,
): Promise<FuzzResult> {
  const rng = new Prng(seed);
  await probeSession(s); // warm: the first session's allocations are not the fuzz's
  const before = processUsage(s.pid());
  const outcomes: Record<string, number> = {};
  const slowestMs: Record<string, number> = {};
  const disallowed: FuzzResult['disallowed'] = [];
  const t0 = Date.now();
  // Requests are drawn in order from the seeded PRNG before they are sent, so the sequence is fixed.
  const calls = await runPool(
    count,
    CONCURRENCY,
    async (i) => {
      const c = call(rng, i);
      const t = Date.now();
      const o = await c.run();
      tally(outcomes, o.outcome);
      slowestMs[o.outcome] = Math.max(slowestMs[o.outcome] ?? 0, Date.now() - t);
      if (!c.expect.has(o.outcome) && disallowed.length < 20)
        disallowed.push({ request: c.summary().slice(0, 300), outcome: o.outcome, details: o.details.slice(0, 300) });
      const inFull = quotedInFull(o.details, c.values);
      if (inFull !== undefined && disallowed.length < 20)
        disallowed.push({
          request: c.summary().slice(0, 300),
          outcome: `${o.outcome}, quoting ${inFull.length} characters in full`,
          details: o.details.slice(0, 300),
        });
    },
    () => !alive(s.pid()),
  );
  const ms = Date.now() - t0;
  const aliveAfter = alive(s.pid());
  const probe = aliveAfter ? await probeSession(s) : { alive: false, exact: false, exitCode: -1 };
  // Finished calls' resources go back: poll until fds are near the start (bounded), then read both.
  if (aliveAfter) await waitFor(() => processUsage(s.pid()).fds <= before.fds + 8, 15_000);
  // So does the heap V8 grew for a burst of calls, once the service is idle a while (its memory reducer,
  // about 8 s on): how much it grew first depends on how fast the calls came (this file's own pace, the
  // machine's load, another file beside it); a leak is live heap and never goes back. Poll (bounded).
  if (aliveAfter) await waitFor(() => processUsage(s.pid()).rssKiB <= before.rssKiB + RSS_SLACK_KIB, 30_000);
  const after = aliveAfter ? processUsage(s.pid()) : { rssKiB: -1, fds: -1 };
  return { calls, outcomes, slowestMs, disallowed, before, after, aliveAfter, probe, ms };
}

function expectHeld(r: FuzzResult): void {
  expect(r.disallowed).toEqual([]);
  expect(r.aliveAfter).toBe(true);
  expect(r.probe).toEqual({ alive: true, exact: true, exitCode: 3 });
  expect(r.after.fds).toBeLessThanOrEqual(r.before.fds + 8);
  // V8 keeps some of the heap it grew to; a per-call leak over thousands of calls would exceed this.
  expect(r.after.rssKiB).toBeLessThanOrEqual(r.before.rssKiB + RSS_SLACK_KIB);
}

const summary = (o: unknown) => () => JSON.stringify(o, (_k, v: unknown) => (typeof v === 'string' && v.length > 40 ? `${v.slice(0, 40)}…(${v.length})` : v));

it('fuzzed Session Starts: every answer is a clear client-error code, the service lives and still serves exact bytes', async () => {
  let refusable = 0; // Starts that break a documented limit: each must be INVALID_ARGUMENT
  const r = await fuzz(
    START_CALLS,
    (rng) => {
      const shape = rng.int(20);
      const messages: Buffer[] = [];
      let expect = ALLOWED;
      let md = s.raw.metadata();
      let described: unknown;
      const values: string[] = [];
      if (shape === 0) {
        // First message not a Start.
        described = { first: 'stdin/resize' };
        expect = NOT_A_START;
        messages.push(
          rng.bool()
            ? encodeRequest('Session', { stdin: rng.bytes(rng.int(64)) })
            : encodeRequest('Session', { resize: { Width: rng.int(1e6) - 5e5, Height: -1 } }),
        );
      } else {
        const start = fuzzedStart(rng, known);
        described = start;
        const refuse = mustRefuse(start);
        if (refuse) {
          refusable++;
          expect = INVALID;
          described = { mustRefuse: refuse, ...start };
        }
        stringsOf(start, values);
        let bytes = encodeRequest('Session', { start });
        // Unknown fields and repeated scalars are legal protobuf: they must change nothing.
        if (shape === 1) bytes = Buffer.concat([bytes, pb.bytes(99, rng.bytes(rng.int(32))), pb.uint(98, rng.int(1e9))]);
        messages.push(bytes);
        // Then, sometimes, input the call may or may not be allowed to send.
        const then = rng.int(6);
        if (then === 0) messages.push(encodeRequest('Session', { stdin: rng.bytes(rng.int(256)) }));
        if (then === 1) messages.push(encodeRequest('Session', { resize: { Width: rng.int(70000) - 1000, Height: rng.int(70000) - 1000 } }));
        if (then === 2) {
          const second = fuzzedStart(rng, known);
          stringsOf(second, values);
          messages.push(encodeRequest('Session', { start: second }));
        }
      }
      if (shape === 2) {
        const auth = rng.pick(BAD_AUTH);
        md = s.raw.metadata(auth);
        described = { auth, ...(described as object) };
        expect = new Set(['UNAUTHENTICATED']);
      }
      return { summary: summary(described), expect, values, run: () => s.raw.session(messages, md) };
    },
    80_001,
  );
  recordFigures('fuzz-start', { seed: 80_001, mustRefuse: refusable, ...r });
  expectHeld(r);
  // The seeded mix holds many of them (a check that flags none checks nothing).
  expect(refusable).toBeGreaterThan(START_CALLS / 4);
});

it('fuzzed unary calls (status, pause, resume, signal): every answer is a clear code, the service lives and still serves exact bytes', async () => {
  const methods: UnaryMethod[] = ['ContainerStatus', 'ContainerPause', 'ContainerResume', 'ContainerSignal'];
  const r = await fuzz(
    UNARY_CALLS,
    (rng) => {
      const method = rng.pick(methods);
      const container_id = rng.bool(0.15) ? known.containerIds[0].slice(0, 1 + rng.int(64)) : hostileString(rng);
      const request: Record<string, unknown> = { container_id };
      if (method === 'ContainerStatus') request.include_resource_usage = rng.bool();
      if (method === 'ContainerSignal') {
        request.signal = rng.bool(0.7) ? rng.pick(HOSTILE_SIGNALS) : hostileString(rng);
        if (rng.bool(0.5)) request.exec_id = hostileString(rng);
      }
      let md = s.raw.metadata();
      let expect = ALLOWED;
      if (rng.bool(0.05)) {
        md = s.raw.metadata(rng.pick(BAD_AUTH));
        expect = new Set(['UNAUTHENTICATED']);
      }
      return {
        summary: summary({ method, ...request }),
        expect,
        values: stringsOf(request),
        run: () => s.raw.unary(method, encodeRequest(method, request), md),
      };
    },
    80_002,
  );
  recordFigures('fuzz-unary', { seed: 80_002, ...r });
  expectHeld(r);
});

it('names that are JavaScript object keys: env names reach the process, labels are kept, listed and filtered, token names and metadata keys work', async () => {
  const as = (name: string) => {
    const { token } = NAMED_TOKENS.find((t) => t.name === name)!;
    return new GRPCConnectionManager({ address: s.svc.address, token });
  };
  const runner = as('toString');
  const reader = as('constructor');
  try {
    const suite = `names-${process.pid}`;
    const env = Object.fromEntries(PROTOTYPE_KEYS.map((n) => [n, `v-${n}`]));
    const labels = { suite, ...Object.fromEntries(PROTOTYPE_KEYS.map((n) => [n, `l-${n}`])) };
    const options = { command: ['env'], env, labels, requestId: `names-${process.pid}` };
    const first = await new ExecClient(runner).run(BASE_IMAGE, options).collect();
    const lines = new Set(first.stdout.toString().split('\n'));
    const envArrived = PROTOTYPE_KEYS.filter((n) => lines.has(`${n}=v-${n}`));
    // A retry with the same request_id (its fingerprint holds the same maps) attaches to the same session.
    const retry = new ExecClient(runner).run(BASE_IMAGE, options);
    const retried = await retry.collect();
    const control = new ControlClient(reader);
    const all = await control.listSessions({ labels: { suite } });
    const listed = all.sessions ?? [];
    const filtered: string[] = [];
    for (const n of PROTOTYPE_KEYS) {
      const one = await control.listSessions({ labels: { [n]: `l-${n}`, suite } });
      if ((one.sessions ?? []).length === 1 && one.sessions![0].session_id === listed[0]?.session_id) filtered.push(n);
    }
    // Metadata keys with those names beside the token: nothing reads them, nothing breaks.
    const md = reader.getMetadata();
    for (const key of ['__proto__', 'constructor', 'tostring', 'hasownproperty']) md.set(key, 'x');
    const withKeys = await new Promise<string>((resolve) =>
      reader.getClient().ListSessions({ labels: { suite } }, md, (err: { code: number } | null) => resolve(err ? `code ${err.code}` : 'OK')),
    );
    const denied = await control.pause('0123456789ab').then(
      () => 'OK',
      (err: { details: string }) => err.details,
    );
    const figures = {
      names: PROTOTYPE_KEYS.length,
      envArrived: envArrived.length,
      exitCode: first.exitCode,
      retrySameSession: (await retry.ready).sessionId === listed[0]?.session_id && retried.stdout.equals(first.stdout),
      sessionsListed: listed.length,
      labelsKept: sameMap(listed[0]?.labels ?? {}, labels),
      filtersMatched: filtered.length,
      metadataKeys: withKeys,
      permissionDenied: denied,
    };
    recordFigures('prototype-key-names', figures);
    expect(figures).toEqual({
      names: PROTOTYPE_KEYS.length,
      envArrived: PROTOTYPE_KEYS.length,
      exitCode: 0,
      retrySameSession: true,
      sessionsListed: 1,
      labelsKept: true,
      filtersMatched: PROTOTYPE_KEYS.length,
      metadataKeys: 'OK',
      permissionDenied: 'ContainerPause needs scope "control"; token "constructor" has read',
    });
  } finally {
    runner.close();
    reader.close();
  }
});

/** Equal string maps, keys in any order. */
function sameMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}
it('fuzzed ContainerLifecycle, ListSessions, CopyTo and CopyFrom: every answer is a clear code, the service lives and still serves exact bytes', async () => {
  // A stream that is open (a lifecycle subscription with nothing yet) or sends (DATA) is a request the service took.
  const STREAMING = new Set([...ALLOWED, 'DATA', 'OPEN']);
  const id = (rng: Prng) => (rng.bool(0.2) ? known.containerIds[0].slice(0, 1 + rng.int(64)) : hostileString(rng));
  const path = (rng: Prng) => (rng.bool(0.3) ? rng.pick(['/tmp', '/etc/hostname', '/', '/no/such']) : hostileString(rng));
  const r = await fuzz(
    OTHER_CALLS,
    (rng) => {
      let md = s.raw.metadata();
      const bad = rng.bool(0.05);
      if (bad) md = s.raw.metadata(rng.pick(BAD_AUTH));
      const expectOf = (set: Set<string>) => (bad ? new Set(['UNAUTHENTICATED']) : set);
      switch (rng.int(4)) {
        case 0: {
          const request: { container_id?: string; resume_after_id?: string } = {};
          if (rng.bool(0.7)) request.container_id = id(rng);
          if (rng.bool(0.5)) request.resume_after_id = rng.bool() ? String(rng.int(1e6)) : hostileString(rng);
          return {
            summary: summary({ method: 'ContainerLifecycle', ...request }),
            expect: expectOf(STREAMING),
            values: stringsOf(request),
            run: () => s.raw.serverStream('ContainerLifecycle', lifecycleBytes(request), md),
          };
        }
        case 1: {
          const request: Record<string, unknown> = {
            container_id: rng.bool(0.5) ? id(rng) : '',
            state: rng.bool(0.5) ? rng.pick(['running', 'finished', '', hostileString(rng)]) : '',
            mode: rng.bool(0.3) ? rng.pick(['run', 'exec', hostileString(rng)]) : '',
            limit: rng.bool(0.5) ? rng.int(2000) : 0,
            page_token: rng.bool(0.3) ? hostileString(rng) : '',
            request_id: rng.bool(0.2) ? hostileString(rng) : '',
            labels: rng.bool(0.3)
              ? Object.fromEntries(Array.from({ length: rng.int(80) }, () => [hostileString(rng).slice(0, 200), hostileString(rng).slice(0, 200)]))
              : {},
          };
          return {
            summary: summary({ method: 'ListSessions', ...request }),
            expect: expectOf(ALLOWED),
            values: stringsOf(request),
            run: () => s.raw.listSessions(encodeRequest('ListSessions', request), md),
          };
        }
        case 2: {
          const request = { container_id: id(rng), path: path(rng) };
          return {
            summary: summary({ method: 'CopyFrom', ...request }),
            expect: expectOf(STREAMING),
            values: stringsOf(request),
            run: () => s.raw.serverStream('CopyFrom', encodeRequest('CopyFrom', request), md, 15_000),
          };
        }
        default: {
          const header = { container_id: id(rng), path: path(rng) };
          const messages = [
            rng.bool(0.9) ? encodeRequest('CopyTo', { header }) : encodeRequest('CopyTo', { tar: rng.bytes(rng.int(600)) }),
            ...Array.from({ length: rng.int(3) }, () =>
              rng.bool(0.9) ? encodeRequest('CopyTo', { tar: rng.bytes(rng.int(2048)) }) : encodeRequest('CopyTo', { header }),
            ),
          ];
          return {
            summary: summary({ method: 'CopyTo', ...header, messages: messages.length }),
            expect: expectOf(ALLOWED),
            values: stringsOf(header),
            run: () => s.raw.clientStream('CopyTo', messages, md),
          };
        }
      }
    },
    80_003,
  );
  recordFigures('fuzz-other', { seed: 80_003, ...r });
  expectHeld(r);
});
