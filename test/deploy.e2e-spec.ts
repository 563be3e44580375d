import { credentials, makeClientConstructor, status, type Client } from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { service as healthService } from 'grpc-health-check';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/common/config/exec-config';
import { startTestServer, type TestServer } from './support/server';

/**
 * The Kubernetes manifests (deploy/, README "Deploy on Kubernetes"): each overlay rendered offline
 * with `kubectl kustomize`, every object valid against the Kubernetes OpenAPI schema (kubernetes-models),
 * and held to the service they deploy so they cannot drift: the port of EXEC_LISTEN, the health names
 * the real server registers, env names the service reads with values it accepts, the data path, the
 * Docker socket or remote engine, and the image's Dockerfile when there is one.
 */
const ROOT = join(__dirname, '..');
const OVERLAYS = ['dind', 'remote-docker', 'metrics'] as const;
const TEST_TOKEN = 'deploy-spec-token-0123456789';
const TEST_NAMESPACE = 'default';

// Debian's kubectl when none is there (a fresh machine): `kubectl kustomize` renders offline.
beforeAll(() => {
  execFileSync(
    'bash',
    ['-c', 'command -v kubectl >/dev/null || apt-get install -y kubernetes-client >&2 || { apt-get update >&2 && apt-get install -y kubernetes-client >&2; }'],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
}, 300_000);

type Obj = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: any };

function render(dir: string): Obj[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(out).map((d) => d.toJS() as Obj);
}

type Model = new (o: never) => { validate(): void };
/** The kubernetes-models class of each kind the manifests may contain (an ESM-only package: imported). */
async function models(): Promise<Record<string, Model>> {
  const [apps, core, policy, networking] = await Promise.all([
    import('kubernetes-models/apps/v1'),
    import('kubernetes-models/v1'),
    import('kubernetes-models/policy/v1'),
    import('kubernetes-models/networking.k8s.io/v1'),
  ]);
  return {
    'apps/v1/StatefulSet': apps.StatefulSet,
    'v1/Service': core.Service,
    'v1/Secret': core.Secret,
    'policy/v1/PodDisruptionBudget': policy.PodDisruptionBudget,
    'networking.k8s.io/v1/NetworkPolicy': networking.NetworkPolicy,
  };
}

/** Every field name the Kubernetes schema knows (the compiled validators read each as `data.<name>`). */
const knownFields = (() => {
  const names = new Set<string>();
  for (const pkg of ['kubernetes-models', '@kubernetes-models/apimachinery']) {
    const dir = join(ROOT, 'node_modules', pkg, '_schemas');
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.js')))
      for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/data\.([A-Za-z_$][\w$]*)/g)) names.add(m[1]);
  }
  return names;
})();
// Fields whose keys are free (label names, resource names, secret keys).
const MAP_FIELDS = new Set(['labels', 'annotations', 'matchLabels', 'selector', 'data', 'stringData', 'limits', 'requests', 'nodeSelector']);

/** Field names (as paths) the schema does not know: a misspelt field would be silently ignored by the API server. */
function unknownFields(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownFields(v, `${path}[${i}]`));
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(knownFields.has(k) || k === 'apiVersion' || k === 'kind' ? [] : [`${path}.${k}`]),
    ...(MAP_FIELDS.has(k) ? [] : unknownFields(v, `${path}.${k}`)),
  ]);
}

const statefulSet = (objs: Obj[]) => objs.find((o) => o.kind === 'StatefulSet')!;
const podSpec = (objs: Obj[]) => statefulSet(objs).spec.template.spec;
const serviceContainer = (objs: Obj[]) => podSpec(objs).containers.find((c: Obj) => c.name === 'exec-stream');

/** A CA and a client certificate it signed (ca.pem, cert.pem, key.pem): what a TLS Secret holds. */
function makeDockerTlsFiles(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=deploy-spec-ca');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'client.csr', '-subj', '/CN=deploy-spec-client');
  ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'cert.pem', '-days', '1');
}
let secretMountDir: string | undefined;
afterAll(() => secretMountDir && rmSync(secretMountDir, { recursive: true, force: true }));

/**
 * The service container's environment as the kubelet would give it: a Secret's key → a test token,
 * the pod name → replica 0, its namespace → TEST_NAMESPACE, a path inside a mounted Secret → the same
 * file in a folder of test certificates, and `$(NAME)` → the value of NAME when declared above it.
 */
function envOf(objs: Obj[]): Record<string, string> {
  const env: Record<string, string> = {};
  const secretMounts = (serviceContainer(objs).volumeMounts ?? [])
    .filter((m: Obj) => podSpec(objs).volumes?.find((v: Obj) => v.name === m.name)?.secret)
    .map((m: Obj) => m.mountPath as string);
  for (const e of serviceContainer(objs).env ?? []) {
    if (e.value !== undefined && secretMounts.includes(e.value)) {
      if (!secretMountDir) makeDockerTlsFiles((secretMountDir = mkdtempSync(join(tmpdir(), 'exec-stream-deploy-tls-'))));
      env[e.name] = secretMountDir;
    } else if (e.value !== undefined) env[e.name] = String(e.value).replace(/\$\((\w+)\)/g, (ref: string, name: string) => env[name] ?? ref);
    else if (e.valueFrom?.secretKeyRef) env[e.name] = TEST_TOKEN;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = `${statefulSet(objs).metadata.name}-0`;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = TEST_NAMESPACE;
    else throw new Error(`env ${e.name}: a source this test does not model (${JSON.stringify(e.valueFrom)})`);
  }
  return env;
}

/** DOCKER_* variables docker-modem reads from the environment (its own source, not a list here). */
const dockerModemEnv = new Set(
  [...readFileSync(join(ROOT, 'node_modules/docker-modem/lib/modem.js'), 'utf8').matchAll(/process\.env\.(DOCKER_\w+)/g)].map((m) => m[1]),
);

const listenPort = (env: Record<string, string>) => Number(env.EXEC_LISTEN.slice(env.EXEC_LISTEN.lastIndexOf(':') + 1));
const probes = (c: Obj) => [c.startupProbe, c.readinessProbe, c.livenessProbe];

/** The runtime stage of the Dockerfile: its VOLUME, ENV, EXPOSE and USER lines. */
function dockerfileRuntime(): { volumes: string[]; env: Record<string, string>; expose: number[]; user?: string } {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const stage = text.split(/^FROM\s/im).pop()!;
  const lines = stage.split('\n').map((l) => l.trim());
  const args = (kw: string) => lines.filter((l) => l.toUpperCase().startsWith(`${kw} `)).map((l) => l.slice(kw.length + 1).trim());
  const words = (s: string) => (s.startsWith('[') ? (JSON.parse(s) as string[]) : s.split(/\s+/));
  const env: Record<string, string> = {};
  for (const a of args('ENV')) for (const m of a.matchAll(/(\w+)[= ]("[^"]*"|\S+)/g)) env[m[1]] = m[2].replace(/^"|"$/g, '');
  return {
    volumes: args('VOLUME').flatMap(words),
    env,
    expose: args('EXPOSE')
      .flatMap(words)
      .map((p) => parseInt(p, 10)),
    user: args('USER').pop(),
  };
}

describe.each(OVERLAYS)('deploy/overlays/%s', (overlay) => {
  let objs: Obj[];
  let MODELS: Record<string, Model>;
  beforeAll(async () => {
    objs = render(join(ROOT, 'deploy/overlays', overlay));
    MODELS = await models();
  });

  it('renders a StatefulSet, two Services, a Secret, a PodDisruptionBudget and a NetworkPolicy, each valid against the Kubernetes schema', () => {
    expect(objs.map((o) => o.kind).sort()).toEqual(['NetworkPolicy', 'PodDisruptionBudget', 'Secret', 'Service', 'Service', 'StatefulSet']);
    for (const o of objs) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      expect(Model).toBeDefined();
      expect(() => new Model(o as never).validate()).not.toThrow();
      expect(unknownFields(o)).toEqual([]);
    }
  });

  it('listens on the container port named grpc, which every Service, probe and the NetworkPolicy use (and metrics on theirs)', () => {
    const env = envOf(objs);
    const port = listenPort(env);
    expect(env.EXEC_LISTEN).toBe(`0.0.0.0:${port}`);
    const metricsPort = env.EXEC_METRICS_LISTEN && listenPort({ EXEC_LISTEN: env.EXEC_METRICS_LISTEN });
    const ports = [
      { name: 'grpc', containerPort: port, protocol: 'TCP' },
      ...(metricsPort ? [{ name: 'metrics', containerPort: metricsPort, protocol: 'TCP' }] : []),
    ];
    expect(serviceContainer(objs).ports).toEqual(expect.arrayContaining(ports));
    expect(serviceContainer(objs).ports).toHaveLength(ports.length);
    for (const p of probes(serviceContainer(objs))) expect(p.grpc.port).toBe(port);
    const services = objs.filter((o) => o.kind === 'Service');
    for (const s of services) expect(s.spec.ports).toEqual([expect.objectContaining({ name: 'grpc', port, targetPort: 'grpc' })]);
    const policy = objs.find((o) => o.kind === 'NetworkPolicy')!;
    const policyPorts = new Set<number>(policy.spec.ingress.flatMap((r: Obj) => r.ports.map((p: Obj) => p.port)));
    expect([...policyPorts].sort()).toEqual(ports.map((p) => p.containerPort).sort());
    const annotations = statefulSet(objs).spec.template.metadata.annotations ?? {};
    if (metricsPort) expect(annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(metricsPort) });
    else expect(annotations['prometheus.io/scrape']).toBeUndefined();
  });

  it('sets only variables the service reads (loadConfig, docker-modem) or another one names as $(NAME), with values it accepts', () => {
    const env = envOf(objs);
    const config = loadConfig(env) as unknown as Record<string, unknown>;
    const named = new Set(serviceContainer(objs).env.flatMap((e: Obj) => [...String(e.value ?? '').matchAll(/\$\((\w+)\)/g)].map((m) => m[1])));
    for (const [name, value] of Object.entries(env)) {
      const readByConfig = String(config[name]) === value;
      expect({ name, read: readByConfig || dockerModemEnv.has(name) || named.has(name) }).toEqual({ name, read: true });
    }
  });

  it('mounts the per-replica volume at EXEC_DATA_DIR, the VOLUME of the image', () => {
    const sts = statefulSet(objs);
    const dataDir = envOf(objs).EXEC_DATA_DIR;
    const [claim] = sts.spec.volumeClaimTemplates;
    const mount = serviceContainer(objs).volumeMounts.find((m: Obj) => m.name === claim.metadata.name);
    expect(mount?.mountPath).toBe(dataDir);
    // The image's side, every part of it required: a Dockerfile this parser cannot read fails here.
    const image = dockerfileRuntime();
    expect(image.volumes).toContain(dataDir);
    expect(image.env.EXEC_DATA_DIR).toBe(dataDir);
    expect(listenPort(image.env)).toBe(listenPort(envOf(objs)));
    expect(image.expose).toContain(listenPort(envOf(objs)));
    const { runAsUser } = serviceContainer(objs).securityContext;
    // `node` is uid 1000 in the official Node images (and in scripts/image-build.sh's base).
    const uid = image.user === 'node' ? 1000 : image.user && /^\d+(:\d+)?$/.test(image.user) ? Number(image.user.split(':')[0]) : undefined;
    expect({ user: image.user, uid }).toEqual({ user: image.user, uid: runAsUser });
  });

  it('is a StatefulSet governed by the headless Service, pods named as replica ids, both Services selecting its pods', () => {
    const sts = statefulSet(objs);
    const headless = objs.find((o) => o.kind === 'Service' && o.metadata.name === sts.spec.serviceName);
    expect(headless?.spec.clusterIP).toBe('None');
    expect(serviceContainer(objs).env.find((e: Obj) => e.name === 'EXEC_REPLICA_ID').valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    for (const s of objs.filter((o) => o.kind === 'Service')) expect(sts.spec.template.metadata.labels).toEqual(expect.objectContaining(s.spec.selector));
    const token = serviceContainer(objs).env.find((e: Obj) => e.name === 'EXEC_AUTH_TOKEN').valueFrom.secretKeyRef;
    const secret = objs.find((o) => o.kind === 'Secret' && o.metadata.name === token.name);
    expect(Object.keys(secret?.data ?? {})).toContain(token.key);
  });

  if (overlay !== 'remote-docker') {
    it("reaches Docker through dind's socket, in an emptyDir both containers mount; dind privileged with its own storage", () => {
      const dind = podSpec(objs).initContainers.find((c: Obj) => c.name === 'dind');
      const host = envOf(objs).DOCKER_HOST;
      expect(host).toMatch(/^unix:\/\//);
      expect(dind).toMatchObject({ restartPolicy: 'Always', securityContext: { privileged: true } });
      expect(dind.args).toContain(`--host=${host}`);
      expect(dind.env).toContainEqual({ name: 'DOCKER_TLS_CERTDIR', value: '' });
      const socketDir = host.slice('unix://'.length).replace(/\/[^/]+$/, '');
      const mountOf = (c: Obj) => c.volumeMounts.find((m: Obj) => m.mountPath === socketDir)?.name;
      const volume = podSpec(objs).volumes.find((v: Obj) => v.name === mountOf(serviceContainer(objs)));
      expect(volume?.emptyDir).toBeDefined();
      expect(mountOf(dind)).toBe(volume.name);
      const storage = dind.volumeMounts.find((m: Obj) => m.mountPath === '/var/lib/docker');
      expect(podSpec(objs).volumes.find((v: Obj) => v.name === storage?.name)?.emptyDir).toBeDefined();
    });
  } else {
    it('reaches a remote engine over TCP with TLS certificates mounted from a Secret; nothing privileged', () => {
      const env = envOf(objs);
      expect(env.DOCKER_HOST).toMatch(/^tcp:\/\/[^/]+:2376$/);
      expect(env.DOCKER_TLS_VERIFY).toBe('1');
      const certPath = serviceContainer(objs).env.find((e: Obj) => e.name === 'DOCKER_CERT_PATH').value;
      const mount = serviceContainer(objs).volumeMounts.find((m: Obj) => m.mountPath === certPath);
      expect(podSpec(objs).volumes.find((v: Obj) => v.name === mount?.name)?.secret?.secretName).toBeTruthy();
      const all = [...(podSpec(objs).initContainers ?? []), ...podSpec(objs).containers];
      expect(all.map((c: Obj) => c.name)).toEqual(['exec-stream']);
      expect(JSON.stringify(podSpec(objs))).not.toMatch(/privileged|\/var\/run\/dind/);
    });
  }
});

/**
 * Replicas: each one forwards a call on a session or container it does not own to
 * the replica that owns it, found through the SRV records of the headless Service. The base too: an
 * overlay of one's own may start from it.
 */
describe.each(['deploy/base', ...OVERLAYS.map((o) => `deploy/overlays/${o}`)])('%s: replicas find and reach each other', (dir) => {
  let objs: Obj[];
  beforeAll(() => {
    objs = render(join(ROOT, dir));
  });
  const envVar = (name: string): Obj | undefined => serviceContainer(objs).env.find((e: Obj) => e.name === name);
  const headless = () => objs.find((o) => o.kind === 'Service' && o.metadata.name === statefulSet(objs).spec.serviceName)!;
  const grpcPort = () => serviceContainer(objs).ports.find((p: Obj) => p.name === 'grpc');
  const selects = (matchLabels: Record<string, string> | undefined) =>
    !!matchLabels &&
    Object.keys(matchLabels).length > 0 &&
    Object.entries(matchLabels).every(([k, v]) => statefulSet(objs).spec.template.metadata.labels[k] === v);

  it('names each replica by its pod name: EXEC_REPLICA_ID from metadata.name', () => {
    expect(envVar('EXEC_REPLICA_ID')).toEqual({ name: 'EXEC_REPLICA_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
  });

  it("finds the peers by the SRV name of the headless Service's TCP port that targets the container's grpc port, in the pod's namespace", () => {
    const names = serviceContainer(objs).env.map((e: Obj) => e.name as string);
    expect(envVar('POD_NAMESPACE')).toEqual({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
    // Kubernetes expands $(POD_NAMESPACE) only when it is declared above.
    expect(names.indexOf('POD_NAMESPACE')).toBeLessThan(names.indexOf('EXEC_PEERS_DNS'));
    const srv = envVar('EXEC_PEERS_DNS')?.value;
    expect(srv).toBe('_grpc._tcp.exec-stream-headless.$(POD_NAMESPACE).svc.cluster.local');
    expect(envOf(objs).EXEC_PEERS_DNS).toBe(`_grpc._tcp.exec-stream-headless.${TEST_NAMESPACE}.svc.cluster.local`);
    const [, portName, protocol, serviceName] = /^_([^.]+)\._([^.]+)\.([^.]+)\.\$\(POD_NAMESPACE\)\.svc\.cluster\.local$/.exec(srv)!;
    expect(serviceName).toBe(statefulSet(objs).spec.serviceName);
    expect(headless().spec.clusterIP).toBe('None');
    expect(statefulSet(objs).spec.template.metadata.labels).toEqual(expect.objectContaining(headless().spec.selector));
    const port = headless().spec.ports.find((p: Obj) => p.name === portName);
    expect(protocol).toBe('tcp');
    expect(port?.protocol ?? 'TCP').toBe('TCP');
    expect([grpcPort().name, grpcPort().containerPort]).toContain(port.targetPort);
    expect(port.port).toBe(grpcPort().containerPort);
  });

  it('lists replicas that are not ready (starting, recovering) in the headless Service: their sessions are still theirs', () => {
    expect(headless().spec.publishNotReadyAddresses).toBe(true);
  });

  it("admits the other replicas' pods to the gRPC port in a NetworkPolicy rule of their own", () => {
    const policy = objs.find((o) => o.kind === 'NetworkPolicy')!;
    expect(selects(policy.spec.podSelector.matchLabels)).toBe(true);
    expect(policy.spec.policyTypes).toContain('Ingress');
    const peerRules = policy.spec.ingress.filter(
      (r: Obj) =>
        r.from?.some((f: Obj) => !f.namespaceSelector && !f.ipBlock && !f.podSelector?.matchExpressions && selects(f.podSelector?.matchLabels)) &&
        r.ports?.some((p: Obj) => (p.protocol ?? 'TCP') === 'TCP' && [grpcPort().name, grpcPort().containerPort].includes(p.port)),
    );
    expect(peerRules).toHaveLength(1);
  });
});

describe('the manifests against the running service', () => {
  let server: TestServer;
  let health: Client & { check(req: { service: string }, cb: (err: (Error & { code?: number }) | null, res?: { status: string }) => void): void };
  beforeAll(async () => {
    server = await startTestServer();
    const Health = makeClientConstructor(healthService, 'grpc.health.v1.Health');
    health = new Health(server.address, credentials.createInsecure()) as unknown as typeof health;
  });
  afterAll(async () => {
    health?.close();
    await server?.close();
  });
  /** The status the real health server gives `service`, or NOT_FOUND when it does not register it. */
  const check = (service: string) =>
    new Promise<string>((resolve, reject) =>
      health.check({ service }, (err, res) => (err?.code === status.NOT_FOUND ? resolve('NOT_FOUND') : err ? reject(err) : resolve(res!.status))),
    );

  it.each(OVERLAYS)('%s: every probe asks the health server for a service name it registers', async (overlay) => {
    const names = new Set(probes(serviceContainer(render(join(ROOT, 'deploy/overlays', overlay)))).map((p) => p.grpc.service ?? ''));
    expect(await check('no.such.Service')).toBe('NOT_FOUND');
    for (const name of names) expect({ name, status: await check(name) }).toEqual({ name, status: expect.stringMatching(/^(NOT_)?SERVING$/) });
  });
});

describe('the token Secret', () => {
  it('holds a placeholder the service refuses, so no token from this repository can run', () => {
    const objs = render(join(ROOT, 'deploy/overlays/dind'));
    const secret = objs.find((o) => o.kind === 'Secret')!;
    const placeholder = Buffer.from(secret.data.EXEC_AUTH_TOKEN, 'base64').toString();
    expect(() => loadConfig({ ...envOf(objs), EXEC_AUTH_TOKEN: placeholder })).toThrow(/EXEC_AUTH_TOKEN/);
  });

  it("is replaced by an overlay's secretGenerator (behavior: replace), as README documents", () => {
    const dir = mkdtempSync(join(tmpdir(), 'exec-stream-deploy-spec-'));
    try {
      writeFileSync(join(dir, 'token'), TEST_TOKEN);
      const base = relative(dir, join(ROOT, 'deploy/overlays/dind'));
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        `bases:\n  - ${base}\nsecretGenerator:\n  - name: exec-stream-auth\n    behavior: replace\n    files:\n      - EXEC_AUTH_TOKEN=token\n`,
      );
      const objs = render(dir);
      const ref = serviceContainer(objs).env.find((e: Obj) => e.name === 'EXEC_AUTH_TOKEN').valueFrom.secretKeyRef;
      const secret = objs.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name)!;
      expect(Buffer.from(secret.data[ref.key], 'base64').toString()).toBe(TEST_TOKEN);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
