// The audit trail (docs/AUDIT.md) of two replicas on the shared engine (static EXEC_PEERS), serving TLS
// with mTLS and scoped tokens: every action appears once, in order, with its caller (two scoped tokens,
// each on its own client certificate, and a call forwarded by the peer), refusals with their reason; an
// edited or deleted event is named by `exec-stream audit verify`; a kill -9 loses no answered call's
// event; the trail outlives the sessions it describes; the copy on stdout verifies too; a TTY session's
// recording (played by Debian's asciinema) and a session's timestamps are read through either replica; a call
// refused while the service drains is recorded with its caller (an in-process server); docs/AUDIT.md's commands
// run as written.
import { status as Code, type ServiceError } from '@grpc/grpc-js';
import { AuditClient, ControlClient, ExecClient, FileClient, GRPCConnectionManager } from '@exec-stream/client';
import type { AuditEvent__Output, ListSessionsResponse__Output } from '@exec-stream/client/wire';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeCa, makeCert, type Cert } from '../support/certs';
import { buildService, childService, type ChildService } from '../support/child-service';
import { buildCli, cliEnv, ensureAsciinema, runCli } from '../support/cli';
import { backgroundReader, waitUntil } from '../support/conditions';
import { freePort } from '../support/free-port';
import { grpcError, sha256 } from '../support/helpers';
import { BASE_IMAGE, startTestServer } from '../support/server';
import { HEALTH_PROBLEM, HealthState } from '../../src/common/health-state';
import { DRAIN_MESSAGE } from '../../src/exec/session';
import { smallTar, tarHeader } from '../support/tar';

const CI = 'audit-ci-token-0123456789abcdef';
const OPS = 'audit-ops-token-0123456789abcdef';
const AUDITOR = 'audit-auditor-token-0123456789ab';

const ca = makeCa(); // first: it installs openssl when missing
/** A replica's certificate serves its clients and is presented to its peer (both key usages). */
const replicaCert = (cn: string) => makeCert(ca, { cn, sans: ['IP:127.0.0.1', 'DNS:localhost'], extendedKeyUsage: 'serverAuth,clientAuth' });
const certA = replicaCert('replica-a');
const certB = replicaCert('replica-b');
const ciCert = makeCert(ca, { cn: 'ci-runner', client: true });
const opsCert = makeCert(ca, { cn: 'ops-desk', client: true });
const auditorCert = makeCert(ca, { cn: 'auditor', client: true });
const tokensFile = join(mkdtempSync(join(tmpdir(), 'exec-stream-audit-')), 'tokens.json');
writeFileSync(
  tokensFile,
  JSON.stringify([
    { name: 'ci', sha256: sha256(CI), scopes: ['run', 'read'] },
    { name: 'ops', sha256: sha256(OPS), scopes: ['control', 'read'] },
    { name: 'auditor', sha256: sha256(AUDITOR), scopes: ['audit'] },
  ]),
);

/** A's data dir is `$TMPDIR/exec-stream` (the service's default EXEC_DATA_DIR) for this TMPDIR: docs/AUDIT.md's commands name it so. */
const A_TMPDIR = mkdtempSync(join(tmpdir(), 'exec-stream-audit-tmpdir-'));
mkdirSync(join(A_TMPDIR, 'exec-stream'));
let A: ChildService;
let B: ChildService;
const connections: GRPCConnectionManager[] = [];

function via(r: ChildService, token: string, cert: Cert) {
  const connection = new GRPCConnectionManager({
    address: r.address,
    token,
    tls: { ca: ca.certPath, cert: cert.certPath, key: cert.keyPath },
    channelOptions: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500 },
  });
  connections.push(connection);
  return {
    connection,
    exec: new ExecClient(connection),
    control: new ControlClient(connection),
    files: new FileClient(connection),
    audit: new AuditClient(connection),
  };
}

/** The CLI's environment for a caller of `r`. */
const cli = (r: ChildService, token: string, cert: Cert) =>
  cliEnv({ EXEC_ADDR: r.address, EXEC_AUTH_TOKEN: token, EXEC_TLS_CA: ca.certPath, EXEC_TLS_CLIENT_CERT: cert.certPath, EXEC_TLS_CLIENT_KEY: cert.keyPath });

async function trail(r: ChildService, query: Parameters<AuditClient['events']>[0] = {}): Promise<AuditEvent__Output[]> {
  const events: AuditEvent__Output[] = [];
  for await (const m of via(r, AUDITOR, auditorCert).audit.events(query)) if (m.event) events.push(m.event);
  return events;
}

const listSessions = (c: GRPCConnectionManager, requestId?: string) =>
  new Promise<ListSessionsResponse__Output>((resolve, reject) => {
    const md = c.getMetadata().clone();
    if (requestId) md.set('x-request-id', requestId);
    c.getClient().ListSessions({}, md, (err: ServiceError | null, r?: ListSessionsResponse__Output) => (err ? reject(err) : resolve(r!)));
  });

beforeAll(async () => {
  buildService();
  buildCli();
  const [pa, pb] = [await freePort(), await freePort()];
  const peers = `au-a=127.0.0.1:${pa},au-b=127.0.0.1:${pb}`;
  const common = {
    EXEC_PEERS: peers,
    EXEC_TLS_CLIENT_CA: ca.certPath,
    EXEC_PEER_TLS_CA: ca.certPath,
    EXEC_AUTH_TOKENS_FILE: tokensFile,
    // Sessions go 6 s after they end; their audit events stay (EXEC_AUDIT_RETENTION_SECONDS, 30 days).
    EXEC_RETENTION_SECONDS: '6',
  };
  A = await childService(
    { ...common, EXEC_REPLICA_ID: 'au-a', EXEC_TLS_CERT: certA.certPath, EXEC_TLS_KEY: certA.keyPath, EXEC_AUDIT_STDOUT: 'true' },
    { port: pa, dataDir: join(A_TMPDIR, 'exec-stream') },
  );
  B = await childService({ ...common, EXEC_REPLICA_ID: 'au-b', EXEC_TLS_CERT: certB.certPath, EXEC_TLS_KEY: certB.keyPath }, { port: pb });
  await Promise.all([A.start(), B.start()]);
}, 120_000);
afterAll(async () => {
  connections.splice(0).forEach((c) => c.close());
  await A?.dispose();
  await B?.dispose();
  rmSync(A_TMPDIR, { recursive: true, force: true });
});

/** The sessions of the first test, for the later ones. */
const S: Record<string, string> = {};

it('records every action once, in order, with its caller (token, certificate, forwarding replica) and refusals with their reason', async () => {
  const ci = via(A, CI, ciCert);
  const ops = via(A, OPS, opsCert);

  const s1 = ci.exec.run(BASE_IMAGE, {
    command: ['sh', '-c', 'read line; echo "got $line"; sleep 60'],
    openStdin: true,
    env: { SECRET: 'hunter2' },
    labels: { job: 'audit-e2e' },
    memoryBytes: 64 * 1024 * 1024,
  });
  const { sessionId, containerId } = await s1.ready;
  S.s1 = sessionId;
  const s1out = backgroundReader(s1.output());
  await s1.write(Buffer.from('hello\n'));
  await s1out.until('got hello\n');

  const s2 = ci.exec.exec(containerId, { command: ['sh', '-c', 'echo exec-out'] });
  S.s2 = (await s2.ready).sessionId;
  expect((await s2.collect()).stdout.toString()).toBe('exec-out\n');
  const stamped = await runCli(['logs', '--timestamps', S.s2], cli(A, CI, ciCert));
  expect(stamped.stdout.toString()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z exec-out\n$/);

  const watcher = ops.exec.attach({ sessionId });
  await watcher.ready;
  watcher.cancel();
  await ops.control.pause(containerId);
  await ops.control.resume(containerId);
  await ops.control.status(containerId);
  const tar = smallTar({ 'note.txt': 'audited' });
  expect(await ci.files.copyTo(containerId, '/tmp', [tar])).toEqual({ bytesReceived: tar.length });
  const copied = await ci.files.copyFrom(containerId, '/tmp/note.txt');
  for await (const _ of copied.tar);
  // Copies refused by the service: a device entry (before Docker sees it), a path that is not there.
  const deviceTar = Buffer.concat([tarHeader('null', 0, 0o666, '3', { major: 1, minor: 3 }), Buffer.alloc(1024)]);
  expect((await grpcError(ci.files.copyTo(containerId, '/tmp', [deviceTar]))).code).toBe(Code.INVALID_ARGUMENT);
  // CopyFrom answers the path's stat first: a missing path fails the call before any tar.
  expect((await grpcError(ci.files.copyFrom(containerId, '/no/such/file'))).code).toBe(Code.NOT_FOUND);
  await listSessions(ci.connection);
  const refusedRun = await grpcError(ops.exec.run(BASE_IMAGE, { command: ['true'] }).collect());
  expect(refusedRun.code).toBe(Code.PERMISSION_DENIED);
  const stranger = via(A, 'not-a-token-0123456789abcdef', ciCert);
  expect((await grpcError(listSessions(stranger.connection))).code).toBe(Code.UNAUTHENTICATED);
  // Through B: the container is A's, so B forwards the call and A records it.
  await via(B, CI, ciCert).control.status(containerId);
  await ops.control.signal(containerId, 'SIGKILL');
  expect(await s1.exit).toBe(137);

  // The process prints its terminal's size once the resize has reached it (it starts at 80x24).
  const tty = ci.exec.run(BASE_IMAGE, { command: ['sh', '-c', 'while [ "$(stty size)" != "30 100" ]; do usleep 10000; done; stty size'], tty: true });
  S.tty = (await tty.ready).sessionId;
  tty.resize(100, 30);
  const ttyOut = await tty.collect();
  expect(ttyOut.stdout.toString()).toContain('30 100');

  // The recording of A's TTY session, read through B.
  const cast = await runCli(['logs', '--format', 'asciicast', S.tty], cli(B, CI, ciCert));
  expect(cast.code).toBe(0);
  const [header, ...events] = cast.stdout
    .toString()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
  expect(header).toMatchObject({ version: 2, width: 80, height: 24 });
  const resizeAt = events.findIndex((e) => (e as unknown[])[1] === 'r' && (e as unknown[])[2] === '100x30');
  const outputAt = events.findIndex((e) => (e as unknown[])[1] === 'o' && String((e as unknown[])[2]).includes('30 100'));
  expect(resizeAt).toBeGreaterThanOrEqual(0);
  expect(resizeAt).toBeLessThan(outputAt);
  expect(
    events
      .filter((e) => (e as unknown[])[1] === 'o')
      .map((e) => (e as unknown[])[2])
      .join(''),
  ).toBe(ttyOut.stdout.toString());
  // Played by Debian's asciinema (`asciinema cat` wants a terminal: `script` gives it one, output untranslated).
  ensureAsciinema();
  const castFile = join(mkdtempSync(join(tmpdir(), 'exec-stream-cast-')), 's.cast');
  writeFileSync(castFile, cast.stdout);
  const played = execFileSync('script', ['-q', '-e', '-c', `stty -opost -echo; asciinema cat ${castFile}`, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
  expect(sha256(played)).toBe(sha256(ttyOut.stdout));

  const timed = ci.exec.run(BASE_IMAGE, { command: ['sleep', '30'], timeoutMs: 300, killGraceMs: 10_000 });
  S.timed = (await timed.ready).sessionId;
  await timed.wait().catch(() => undefined);
  expect(timed.outcome?.reason).toBe('timeout');

  // Read through B: both replicas' trails, merged.
  const all = await trail(B);
  const ours = new Set(Object.values(S));
  const mine = (e: AuditEvent__Output) =>
    ['ci', 'ops'].includes(e.caller?.token ?? '') || (!e.caller && ours.has(e.session_id ?? '')) || e.caller?.subject === 'CN=ci-runner';
  const short = (id: string) => Object.entries(S).find(([, v]) => v === id)?.[0] ?? (id ? 'other' : '-');
  const atA = all
    .filter((e) => e.replica === 'au-a' && mine(e))
    .map((e) => [e.action, e.caller?.token || '-', e.result, short(e.session_id ?? ''), e.caller?.forwarded_by || '-'].join(' '));
  expect(atA).toEqual([
    'run ci ok s1 -',
    'stdin ci ok s1 -',
    'exec ci ok s2 -',
    'session_end - ok s2 -',
    'attach ci ok s2 -',
    'attach ops ok s1 -',
    'pause ops ok s1 -',
    'resume ops ok s1 -',
    'container_status ops ok s1 -',
    'copy_to ci ok s1 -',
    'copy_from ci ok s1 -',
    'copy_to ci INVALID_ARGUMENT s1 -',
    'copy_from ci NOT_FOUND s1 -',
    'list_sessions ci ok - -',
    'run ops PERMISSION_DENIED - -',
    'list_sessions - UNAUTHENTICATED - -',
    'container_status ci ok s1 au-b',
    'signal ops ok s1 -',
    'session_end - ok s1 -',
    'run ci ok tty -',
    'resize ci ok tty -',
    'session_end - ok tty -',
    'attach ci ok tty au-b',
    'session_resizes ci ok tty au-b',
    'run ci ok timed -',
    'timeout_kill - ok timed -',
    'session_end - ok timed -',
  ]);
  // B answered its part of A's merged ListSessions; the calls it forwarded are A's to record.
  expect(all.filter((e) => e.replica === 'au-b' && mine(e)).map((e) => `${e.action} ${e.caller?.token} ${e.caller?.forwarded_by}`)).toEqual([
    'list_sessions ci au-a',
  ]);

  const byAction = (action: string, session?: string) => all.find((e) => e.action === action && (!session || e.session_id === session))!;
  const run = byAction('run', S.s1);
  expect(run.caller).toMatchObject({ token: 'ci', subject: 'CN=ci-runner', peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
  expect(run.request).toMatchObject({
    image: BASE_IMAGE,
    command: ['sh', '-c', 'read line; echo "got $line"; sleep 60'],
    env_names: ['SECRET'],
    labels: { job: 'audit-e2e' },
    memory_bytes: String(64 * 1024 * 1024),
    open_stdin: true,
  });
  expect(run.container_id).toBe(containerId);
  expect(byAction('pause').caller).toMatchObject({ token: 'ops', subject: 'CN=ops-desk' });
  expect(byAction('signal').request?.signal).toBe('SIGKILL');
  expect(byAction('session_end', S.s1).outcome).toMatchObject({ exit_code: 137, reason: 'killed_by_request' });
  expect(byAction('copy_to').request).toMatchObject({ path: '/tmp', bytes: String(tar.length) });
  expect(byAction('resize').request).toMatchObject({ width: 100, height: 30 });
  expect(byAction('timeout_kill').request).toMatchObject({ signal: 'SIGTERM', timeout: 'timeout' });
  expect(byAction('session_end', S.timed).outcome).toMatchObject({ reason: 'timeout' });
  const refused = all.find((e) => e.action === 'run' && e.result === 'PERMISSION_DENIED')!;
  expect(refused.reason).toBe('Session run needs scope "run"; token "ops" has control, read');
  expect(refused.request?.command).toEqual(['true']);
  const refusedCopy = all.find((e) => e.action === 'copy_to' && e.result === 'INVALID_ARGUMENT')!;
  expect(refusedCopy.reason).toMatch(/"null" is a char device/);
  expect(refusedCopy.container_id).toBe(containerId);
  expect(all.find((e) => e.action === 'copy_from' && e.result === 'NOT_FOUND')!.request?.path).toBe('/no/such/file');
  const unauthenticated = all.find((e) => e.result === 'UNAUTHENTICATED')!;
  expect(unauthenticated.caller).toEqual({ subject: 'CN=ci-runner', peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
  expect(unauthenticated.reason).toMatch(/^missing or wrong token/);
  const forwarded = all.find((e) => e.caller?.forwarded_by === 'au-b' && e.action === 'container_status')!;
  expect(forwarded.caller).toMatchObject({ token: 'ci', subject: 'CN=ci-runner', forwarder_subject: 'CN=replica-b' });
  // Env values never reach the trail.
  for (const f of readdirSync(join(A.dataDir, 'audit'))) expect(readFileSync(join(A.dataDir, 'audit', f), 'utf8')).not.toContain('hunter2');
});

it('outlives the sessions it describes: after their retention they are NOT_FOUND, their events are still read and verified', async () => {
  const ci = via(A, CI, ciCert);
  // Listed until retention removes it (polled with ListSessions: an attach per poll would be recorded under s1).
  await waitUntil(
    'session s1 to pass its retention',
    async () => !((await listSessions(ci.connection)).sessions ?? []).some((s) => s.session_id === S.s1),
    20_000,
  );
  expect((await grpcError(ci.exec.attach({ sessionId: S.s1 }).collect())).code).toBe(Code.NOT_FOUND);
  const events = (await trail(A, { sessionId: S.s1 })).map((e) => `${e.action} ${e.result}`);
  expect(events.slice(0, 13)).toEqual([
    ...['run', 'stdin', 'attach', 'pause', 'resume', 'container_status', 'copy_to', 'copy_from'].map((a) => `${a} ok`),
    'copy_to INVALID_ARGUMENT',
    'copy_from NOT_FOUND',
    ...['container_status', 'signal', 'session_end'].map((a) => `${a} ok`),
  ]);
  // After them: the attaches refused since (NOT_FOUND), and the reads of the trail that named the session.
  expect(events.slice(13).filter((e) => e !== 'attach NOT_FOUND' && e !== 'audit_events ok')).toEqual([]);
  expect(events).toContain('attach NOT_FOUND');
  const verified = await runCli(['audit', 'verify', join(A.dataDir, 'audit')], cliEnv());
  expect({ code: verified.code, out: verified.stdout.toString() }).toEqual({
    code: 0,
    out: expect.stringMatching(/: intact: \d+ event\(s\), seq 1\.\.\d+, in 1 segment\(s\); head [0-9a-f]{64}\n$/),
  });
});

it('audit verify names an edited event and a deleted one (exit 1); the copy shipped on stdout verifies as it is', async () => {
  const copy = mkdtempSync(join(tmpdir(), 'exec-stream-audit-copy-'));
  cpSync(join(A.dataDir, 'audit'), copy, { recursive: true });
  const [segment] = readdirSync(copy).filter((f) => f.startsWith('trail-'));
  const file = join(copy, segment);
  const original = readFileSync(file);
  const lines = original.toString('utf8').split('\n');
  const at = lines.findIndex((l) => l.includes('"action":"pause"'));
  const seq = Number(JSON.parse(lines[at]).seq);

  writeFileSync(file, lines.map((l, i) => (i === at ? l.replace('"action":"pause"', '"action":"resume"') : l)).join('\n'));
  const edited = await runCli(['audit', 'verify', copy], cliEnv());
  expect(edited.code).toBe(1);
  expect(edited.stdout.toString()).toContain(
    `first break: ${segment} line ${at + 1} (seq ${seq}): event seq ${seq} was changed: its hash does not match its content`,
  );

  writeFileSync(file, lines.filter((_, i) => i !== at).join('\n'));
  const deleted = await runCli(['audit', 'verify', copy], cliEnv());
  expect(deleted.code).toBe(1);
  expect(deleted.stdout.toString()).toContain(
    `first break: ${segment} line ${at + 1} (seq ${seq + 1}): event seq ${seq + 1} follows seq ${seq - 1}: event seq ${seq} is missing (deleted)`,
  );

  // A's stdout carried every event as a "type":"audit" line among its own log lines.
  const shipped = A.logs.filter((l) => l.type === 'audit');
  expect(shipped.length).toBeGreaterThan(20);
  expect(A.logs.filter((l) => l.type !== 'audit').every((l) => typeof l.msg === 'string')).toBe(true);
  const log = join(copy, 'stdout.log');
  writeFileSync(log, A.logs.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const fromLog = await runCli(['audit', 'verify', log], cliEnv());
  expect({ code: fromLog.code, out: fromLog.stdout.toString() }).toEqual({
    code: 0,
    out: expect.stringContaining(`intact: ${shipped.length} event(s), seq 1..`),
  });
});

it('a kill -9 loses no event of a call that was answered', async () => {
  const ci = via(B, CI, ciCert);
  const answered: string[] = [];
  let next = 0;
  let killed = false;
  // Three callers one call after another each; B is killed the moment the 30th answer arrives.
  const caller = async () => {
    while (!killed) {
      const id = `kill9-${next++}`;
      try {
        await listSessions(ci.connection, id);
      } catch {
        return; // in flight when B died: not answered
      }
      answered.push(id);
      if (answered.length === 30) {
        killed = true;
        B.proc!.kill('SIGKILL');
      }
    }
  };
  await Promise.all([caller(), caller(), caller()]);
  await B.stop('SIGKILL');
  await B.start();
  // (A records its part of each merged listing too, with the same request id: only B's own events count.)
  const recorded = new Set((await trail(B, { actions: ['list_sessions'] })).filter((e) => e.replica === 'au-b').map((e) => e.request_id));
  expect(answered.filter((id) => !recorded.has(id))).toEqual([]);
  const verified = await runCli(['audit', 'verify', join(B.dataDir, 'audit')], cliEnv());
  expect(verified.code).toBe(0);
});

it('audit through the CLI: filters, JSON lines, a human line per event, and follow until interrupted', async () => {
  const env = cli(B, AUDITOR, auditorCert);
  const json = await runCli(['audit', '--json', '--session', S.tty, '--action', 'resize'], env);
  expect(json.code).toBe(0);
  const [resize] = json.stdout
    .toString()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditEvent__Output);
  expect(resize).toMatchObject({ action: 'resize', replica: 'au-a', session_id: S.tty, caller: { token: 'ci' }, request: { width: 100, height: 30 } });
  const human = await runCli(['audit', '--caller', 'CN=ops-desk', '--action', 'signal'], env);
  expect(human.stdout.toString()).toMatch(
    new RegExp(
      `^\\S+Z au-a:\\d+ signal ok token=ops subject="CN=ops-desk" peer=127\\.0\\.0\\.1:\\d+ session=${S.s1.replace('.', '\\.')} container=[0-9a-f]{12} signal=SIGKILL\\n$`,
    ),
  );
  const denied = await runCli(['audit'], cli(B, CI, ciCert));
  expect(denied.code).toBe(125);
  expect(denied.stderr.toString()).toContain('AuditEvents needs scope "audit"; token "ci" has run, read');

  // Follow: the held events, then a live one as it happens.
  const follower = via(A, AUDITOR, auditorCert).audit.events({ follow: true, actions: ['pause', 'session_resizes'], caller: 'ops' });
  const seen: string[] = [];
  const reading = (async () => {
    for await (const m of follower) {
      seen.push(m.event ? `${m.event.action} ${m.event.session_id}` : m.caught_up ? 'caught_up' : 'notice');
      if (seen.length === 3) follower.cancel();
    }
  })();
  await waitUntil('caught_up', () => seen.includes('caught_up'));
  const ops = via(A, OPS, opsCert).connection;
  await new Promise((resolve) => ops.getClient().SessionResizes({ session_id: S.tty }, ops.getMetadata(), resolve));
  await reading;
  expect(seen).toEqual([`pause ${S.s1}`, 'caught_up', `session_resizes ${S.tty}`]);
});

it('with a bad request or resume point: INVALID_ARGUMENT naming it', async () => {
  const c = via(A, AUDITOR, ciCert);
  const read = (q: Parameters<AuditClient['events']>[0]) =>
    (async () => {
      for await (const _ of c.audit.events(q));
    })();
  expect((await grpcError(read({ actions: ['explode'] }))).details).toMatch(/^action "explode" is not one of run, exec, attach/);
  expect((await grpcError(read({ resumeAfter: ['nope'] }))).details).toBe('resume_after "nope" is not an audit event id (<replica>:<seq>)');
  // Resuming after an id: only what came after it, on that replica.
  const all = await trail(A, { actions: ['session_end'] });
  const after = await trail(A, { actions: ['session_end'], resumeAfter: [String(all[1].id)] });
  expect(after.map((e) => e.id)).toEqual(all.slice(2).map((e) => e.id));
});

it('a call refused while the service drains is recorded with its caller, request id and the drain as its reason', async () => {
  const own = await startTestServer({ EXEC_AUTH_TOKEN: 'audit-drain-token-0123456789abcd' });
  try {
    const health = own.app.get(HealthState);
    health.set(HEALTH_PROBLEM.draining, 'draining: shutting down');
    const refused = await grpcError(listSessions(own.connection, 'audit-drain-1'));
    expect([refused.code, refused.details]).toEqual([Code.UNAVAILABLE, DRAIN_MESSAGE]);
    health.set(HEALTH_PROBLEM.draining); // serving again, to read the trail
    const events: AuditEvent__Output[] = [];
    for await (const m of new AuditClient(own.connection).events()) if (m.event) events.push(m.event);
    expect(events.filter((e) => e.request_id === 'audit-drain-1')).toEqual([
      expect.objectContaining({
        action: 'list_sessions',
        result: 'UNAVAILABLE',
        reason: DRAIN_MESSAGE,
        caller: expect.objectContaining({ token: 'EXEC_AUTH_TOKEN', peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/) }),
      }),
    ]);
  } finally {
    await own.close();
  }
});

it("docs/AUDIT.md's commands, as written: verify the default data dir and a file of shipped lines, audit --since/--caller, --follow --json, logs --timestamps and --format asciicast", async () => {
  const ROOT = join(__dirname, '..', '..');
  const work = mkdtempSync(join(tmpdir(), 'exec-stream-audit-doc-'));
  // As a user's shell runs them: `npx` and `exec-stream` are node_modules/.bin's, `${TMPDIR:-/tmp}/exec-stream` is A's data dir.
  const shell = (r: ChildService, token: string, cert: Cert) => ({
    ...cli(r, token, cert),
    PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}`,
    TMPDIR: A_TMPDIR,
    npm_config_update_notifier: 'false',
  });
  const auditor = shell(A, AUDITOR, auditorCert);
  const sh = (command: string, env: NodeJS.ProcessEnv, cwd = ROOT) =>
    promisify(execFile)('bash', ['-c', command], { cwd, env, encoding: 'utf8', timeout: 60_000 }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
    );

  // PATH may be one segment as well as a folder: both verified side by side.
  const [segment] = readdirSync(join(A.dataDir, 'audit')).filter((f) => f.startsWith('trail-'));
  const [verifyDir, verifySegment] = await Promise.all([
    sh('npx exec-stream audit verify "${TMPDIR:-/tmp}/exec-stream/audit"', auditor),
    sh('exec-stream audit verify PATH'.replace('PATH', join(A.dataDir, 'audit', segment)), auditor),
  ]);
  expect(verifyDir).toEqual({
    code: 0,
    out: expect.stringMatching(
      new RegExp(`^${A_TMPDIR}/exec-stream/audit: intact: \\d+ event\\(s\\), seq 1\\.\\.\\d+, in 1 segment\\(s\\); head [0-9a-f]{64}\\n$`),
    ),
  });

  expect(verifySegment).toEqual({ code: 0, out: expect.stringContaining(': intact: ') });

  // A session of ci's whose output and sizes the logs commands read (sessions go 6 s after they end here).
  const tty = via(A, CI, ciCert).exec.run(BASE_IMAGE, { command: ['sh', '-c', 'echo one; echo two'], tty: true });
  const session = (await tty.ready).sessionId;
  expect((await tty.collect()).stdout.toString()).toBe('one\r\ntwo\r\n');
  const ci = shell(A, CI, ciCert);
  const stamped = await sh('exec-stream logs --timestamps SESSION'.replace('SESSION', session), ci);
  expect(stamped).toEqual({ code: 0, out: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one\r\n\d{4}-\S+Z two\r\n$/) });
  const recorded = await sh('exec-stream logs --format asciicast SESSION > s.cast'.replace('SESSION', session), ci, work);
  expect(recorded).toEqual({ code: 0, out: '' });
  const [header, ...events] = readFileSync(join(work, 's.cast'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
  expect(header).toMatchObject({ version: 2, width: 80, height: 24, timestamp: expect.any(Number) });
  expect(
    events
      .filter((e) => (e as unknown[])[1] === 'o')
      .map((e) => (e as unknown[])[2])
      .join(''),
  ).toBe('one\r\ntwo\r\n');

  // ci's calls of the last hour, one line each, merged from both replicas: the run just made among them.
  const lastHour = await sh('npx exec-stream audit --since 1h --caller ci', auditor);
  expect(lastHour.code).toBe(0);
  const lines = lastHour.out.trimEnd().split('\n');
  expect(lines.every((l) => /^\S+Z au-[ab]:\d+ [a-z_]+ [A-Za-z_]+ token=ci /.test(l))).toBe(true);
  expect(lines.filter((l) => l.includes(` run ok token=ci `) && l.includes(`session=${session}`))).toHaveLength(1);

  // --follow --json: JSON lines from the first held event on, until Ctrl-C (SIGINT to its process group).
  const follower = spawn('bash', ['-c', 'npx exec-stream audit --follow --json'], {
    cwd: ROOT,
    env: auditor,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let followed = '';
  follower.stdout.on('data', (d: Buffer) => (followed += d.toString()));
  const ended = new Promise<number | string | null>((resolve) => follower.once('close', (code, signal) => resolve(code ?? signal)));
  await waitUntil('the first event of audit --follow --json', () => followed.includes('\n'), 30_000);
  process.kill(-follower.pid!, 'SIGINT');
  expect([0, 'SIGINT']).toContain(await ended);
  const held = followed
    .split('\n')
    .slice(0, -1) // a line cut short by the signal
    .map((l) => JSON.parse(l) as AuditEvent__Output);
  expect(held[0]).toMatchObject({ id: expect.stringMatching(/^au-[ab]:\d+$/), action: expect.any(String), result: expect.any(String) });

  // A file of shipped lines: A's standard output so far, its own log lines among the audit lines.
  const FILE = join(work, 'shipped.log');
  writeFileSync(FILE, A.logs.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const shipped = A.logs.filter((l) => l.type === 'audit').length;
  expect(await sh('exec-stream audit verify FILE'.replace('FILE', FILE), auditor)).toEqual({
    code: 0,
    out: expect.stringContaining(`intact: ${shipped} event(s), seq 1..`),
  });
  rmSync(work, { recursive: true, force: true });
});
