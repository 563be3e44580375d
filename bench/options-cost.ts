import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecClient, GRPCConnectionManager, type ClientTlsOptions } from '@exec-stream/client';
import { fmtBytes } from './config';
import { CpuMeter, perGiB, type CpuSample } from './cpu';
import { removeContainers } from './docker-cli';
import { zeroCommand } from './payload';
import { freePort, type ServerHandle } from './server-process';
import { Scenario, alternate, drain, errText, sleep, type BenchContext, type ScenarioResult } from './scenarios';

/**
 * 8. What metrics (EXEC_METRICS_LISTEN), TLS (EXEC_TLS_CERT/KEY) and the audit trail (EXEC_AUDIT, on by
 * default) cost: four servers started alike for this scenario — plain (trail on), metrics on, TLS on
 * (certificates made now by the openssl CLI), trail off — alternating, in the same run. Plain is not the
 * bench's own server: that one carries the memory probe, whose sampling would weigh on its side. Per variant and
 * repetition: scenario 1's stream (`head -c N /dev/zero`: wall, the server's and the client's CPU per GiB
 * from /proc), then s8Starts sessions of `true` one after another (the server's CPU per session start:
 * the trail writes two events, a hash and a write each, per session). Each as a ratio to plain.
 */
export async function optionsCost(ctx: BenchContext): Promise<ScenarioResult> {
  const { cfg } = ctx;
  const n = cfg.s1Bytes;
  const sc = new Scenario(8, 'Cost of metrics, TLS and the audit trail', {
    bytes: fmtBytes(n),
    reps: cfg.reps,
    command: `head -c ${n} /dev/zero`,
    starts: cfg.s8Starts,
    startCommand: 'true',
  });
  if (!ctx.spawnServer) {
    sc.na = 'needs a server spawner';
    return sc.result();
  }
  const certDir = mkdtempSync(join(tmpdir(), 'exec-stream-bench-certs-'));
  const servers: ServerHandle[] = [];
  const containers: string[] = [];
  const conns: GRPCConnectionManager[] = [];
  try {
    const tls = makeServerCert(certDir);
    const plainServer = await ctx.spawnServer({});
    servers.push(plainServer);
    const metricsPort = await freePort();
    const metricsServer = await ctx.spawnServer({ EXEC_METRICS_LISTEN: `127.0.0.1:${metricsPort}` });
    servers.push(metricsServer);
    const tlsServer = await ctx.spawnServer({ EXEC_TLS_CERT: tls.cert, EXEC_TLS_KEY: tls.key }, { ca: tls.ca });
    servers.push(tlsServer);
    const trailOffServer = await ctx.spawnServer({ EXEC_AUDIT: 'off' });
    servers.push(trailOffServer);
    const variants = {
      plain: { server: plainServer, tls: undefined as ClientTlsOptions | undefined },
      metrics: { server: metricsServer, tls: undefined },
      tls: { server: tlsServer, tls: { ca: tls.ca } },
      trailOff: { server: trailOffServer, tls: undefined },
    };
    type Variant = keyof typeof variants;
    const names = Object.keys(variants) as Variant[];
    const clients = Object.fromEntries(
      Object.entries(variants).map(([v, x]) => {
        const conn = new GRPCConnectionManager({ address: x.server.address, tls: x.tls });
        conns.push(conn);
        return [v, new ExecClient(conn)];
      }),
    ) as Record<Variant, ExecClient>;
    const meters = Object.fromEntries(Object.entries(variants).map(([v, x]) => [v, new CpuMeter(x.server.pid)])) as Record<Variant, CpuMeter>;
    const once = async (v: Variant, bytes: number) => {
      const s = clients[v].run(cfg.image, { command: zeroCommand(bytes) });
      s.ready.then((r) => containers.push(r.containerId)).catch(() => undefined);
      const t0 = performance.now();
      const d = await drain(s, t0);
      sc.check(`${v}: every byte, exit 0`, d.bytes === bytes && d.exitCode === 0, `got ${d.bytes} bytes, exit ${d.exitCode}`);
      return d.endMs;
    };
    /** One session of `true` (an audited start and end, no output). */
    const start = async (v: Variant) => {
      const s = clients[v].run(cfg.image, { command: ['true'] });
      s.ready.then((r) => containers.push(r.containerId)).catch(() => undefined);
      const d = await drain(s, performance.now());
      sc.check(`${v}: a session of true exits 0`, d.bytes === 0 && d.exitCode === 0, `got ${d.bytes} bytes, exit ${d.exitCode}`);
    };
    // Warm-up: the new servers pay their first-use costs (connections, TLS handshake) outside the figures.
    for (const v of names) {
      await once(v, 64 * 1024);
      await start(v);
    }
    const walls = Object.fromEntries(names.map((v) => [v, [] as number[]])) as Record<Variant, number[]>;
    const cpu = Object.fromEntries(names.map((v) => [v, [] as CpuSample[]])) as Record<Variant, CpuSample[]>;
    const perStart = Object.fromEntries(names.map((v) => [v, [] as number[]])) as Record<Variant, number[]>;
    await alternate(cfg.reps, names, async (v) => {
      const spent = meters[v].start();
      try {
        walls[v].push(await once(v, n));
      } catch (e) {
        sc.check(`${v}: every byte, exit 0`, false, errText(e));
      }
      await sleep(100);
      const c = spent();
      cpu[v].push(c);
      const startsSpent = meters[v].start();
      try {
        for (let i = 0; i < cfg.s8Starts; i++) await start(v);
      } catch (e) {
        sc.check(`${v}: a session of true exits 0`, false, errText(e));
      }
      await sleep(100);
      perStart[v].push((startsSpent().server * 1000) / cfg.s8Starts);
      ctx.log(
        `  s8 ${v}: ${walls[v].at(-1)?.toFixed(0)} ms; CPU s: server ${c.server.toFixed(2)} client ${c.bench.toFixed(2)}; server CPU per start ${perStart[v].at(-1)?.toFixed(1)} ms`,
      );
    });
    const scraped = await httpGet(`http://127.0.0.1:${metricsPort}/metrics`).catch((e: unknown) => errText(e));
    sc.check(
      'metrics on: /metrics counts the recorded output',
      /^exec_output_recorded_bytes_total\{[^}]*stdout[^}]*\} [1-9]/m.test(scraped),
      scraped.slice(0, 200),
    );
    const label: Record<Variant, string> = { plain: 'plain', metrics: 'metrics on', tls: 'TLS on', trailOff: 'audit trail off' };
    for (const v of names) sc.row('wall', label[v], 'ms', walls[v], v === 'plain' ? undefined : 'plain');
    for (const v of names)
      sc.row(
        'server CPU per GiB',
        label[v],
        's',
        cpu[v].map((c) => perGiB(c.server, n)),
        v === 'plain' ? undefined : 'plain',
      );
    for (const v of names)
      sc.row(
        'client CPU per GiB',
        label[v],
        's',
        cpu[v].map((c) => perGiB(c.bench, n)),
        v === 'plain' ? undefined : 'plain',
      );
    for (const v of names) sc.row('server CPU per session start', label[v], 'ms', perStart[v], v === 'plain' ? undefined : 'plain');
  } catch (e) {
    sc.check('scenario runs', false, errText(e));
  } finally {
    for (const c of conns) c.close();
    removeContainers(containers);
    for (const s of servers) await s.stop();
    rmSync(certDir, { recursive: true, force: true });
  }
  return sc.result();
}

/** A CA and a server certificate for 127.0.0.1 (P-256), by the openssl CLI; returns the PEM file paths. */
function makeServerCert(dir: string): { ca: string; cert: string; key: string } {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=exec-stream bench CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
  ]);
  writeFileSync(join(dir, 'server.ext'), 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n');
  run(['req', '-new', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'server.ext',
    '-out',
    'server.crt',
  ]);
  return { ca: readFileSync(join(dir, 'ca.crt'), 'utf8'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (b: string) => (body += b));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode}`))));
    }).on('error', reject);
  });
}
