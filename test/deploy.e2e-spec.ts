import { credentials, makeClientConstructor, status, type Client } from '@grpc/grpc-js';
import Ajv, { type ValidateFunction } from 'ajv';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { service as healthService } from 'grpc-health-check';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/common/config/exec-config';
import { startTestServer, type TestServer } from './support/server';

/**
 * The Kubernetes manifests (deploy/, README "Deploy on Kubernetes"): each overlay rendered offline
 * with `kubectl kustomize` (no warning allowed), every object valid against the Kubernetes OpenAPI schema
 * (kubernetes-models) or, for the ServiceMonitor, the Prometheus Operator CRD's schema (vendored in
 * test/support/schemas, checked with ajv), and held to the service they deploy so they cannot drift:
 * the port of EXEC_LISTEN, the health names the real server registers, env names the service reads
 * with values it accepts, the data path, the Docker socket or remote engine, and the image's Dockerfile.
 * Then what a platform team checks: labels and selectors of two installs in one namespace, spread,
 * egress, the pinned sidecar, Pod Security levels.
 */
const ROOT = join(__dirname, '..');
const OVERLAYS = ['dind', 'remote-docker', 'metrics'] as const;
const SECOND_INSTANCE = join(ROOT, 'deploy/examples/second-instance');
const TEST_TOKEN = 'deploy-spec-token-0123456789';
const TEST_NAMESPACE = 'default';
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** The kubectl that renders (KUBECTL, else the one on PATH: /usr/bin/kubectl on these machines). */
const KUBECTL = process.env.KUBECTL ?? 'kubectl';

// kustomize v5 (kubectl >= 1.27) renders these manifests; v2 (Debian's kubectl 1.20) cannot, and is no fallback.
beforeAll(() => {
  const out = spawnSync(KUBECTL, ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  const kustomize = out.status === 0 ? (JSON.parse(out.stdout) as { kustomizeVersion?: string }).kustomizeVersion : undefined;
  const major = Number(/^v(\d+)\./.exec(kustomize ?? '')?.[1] ?? 0);
  if (major < 5) {
    throw new Error(`${KUBECTL}: needs kubectl >= 1.27 (kustomize v5; tested with 1.32), found ${kustomize ?? (out.error?.message || out.stderr)}`);
  }
});

type Obj = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: any };

/** `kubectl kustomize dir`: the objects and whatever it printed on stderr (warnings); rendered once per folder of the checkout. */
const rendered = new Map<string, { text: string; stderr: string }>();
function renderWithWarnings(dir: string): { objs: Obj[]; stderr: string } {
  let out = rendered.get(dir);
  if (!out) {
    const run = spawnSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', maxBuffer: 16 << 20 });
    if (run.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${run.stderr}`);
    out = { text: run.stdout, stderr: run.stderr };
    if (!relative(ROOT, dir).startsWith('..')) rendered.set(dir, out);
  }
  // Parsed anew each time: tests may change what they get.
  return { objs: parseAllDocuments(out.text).map((d) => d.toJS() as Obj), stderr: out.stderr };
}
const render = (dir: string) => renderWithWarnings(dir).objs;

/** A kustomization in a temporary folder (`text`'s `{{overlay}}` = the path to deploy/overlays/<overlay> from there), rendered. */
function renderOwn(text: string, overlay: string, files: Record<string, string> = {}): Obj[] {
  const dir = mkdtempSync(join(tmpdir(), 'exec-stream-deploy-spec-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    writeFileSync(join(dir, 'kustomization.yaml'), text.replaceAll('{{overlay}}', relative(dir, join(ROOT, 'deploy/overlays', overlay))));
    return render(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
    'v1/ConfigMap': core.ConfigMap,
    'policy/v1/PodDisruptionBudget': policy.PodDisruptionBudget,
    'networking.k8s.io/v1/NetworkPolicy': networking.NetworkPolicy,
  };
}

/**
 * A validator of the CRD's v1 OpenAPI schema as the API server applies it: every field it does not
 * declare is an error here (the server would prune it silently), unless the schema keeps unknown fields.
 */
function crdValidator(file: string): ValidateFunction {
  const crd = parseYaml(readFileSync(file, 'utf8')) as Obj;
  const schema = crd.spec.versions.find((v: Obj) => v.name === 'v1').schema.openAPIV3Schema;
  const closed = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(closed);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n.properties && n.additionalProperties === undefined && !n['x-kubernetes-preserve-unknown-fields']) n.additionalProperties = false;
    Object.values(n).forEach(closed);
  };
  closed(schema);
  // strictTypes off: int-or-string fields put `pattern` beside anyOf [integer, string], as CRDs do.
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, validateFormats: false });
  ajv.addVocabulary(['x-kubernetes-int-or-string', 'x-kubernetes-list-map-keys', 'x-kubernetes-list-type', 'x-kubernetes-map-type']);
  return ajv.compile(schema);
}
const SERVICE_MONITOR_CRD = join(ROOT, 'test/support/schemas/monitoring.coreos.com_servicemonitors.yaml');
const serviceMonitorSchema = crdValidator(SERVICE_MONITOR_CRD);
const schemaErrors = (o: Obj) => (serviceMonitorSchema(o) ? [] : serviceMonitorSchema.errors!.map((e) => `${e.instancePath} ${e.message}`));

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

const RECOMMENDED = ['name', 'instance', 'component', 'part-of', 'version', 'managed-by'].map((k) => `app.kubernetes.io/${k}`);
const INSTANCE = 'app.kubernetes.io/instance';

/** Whether a matchLabels selector (or a Service's plain selector) selects these labels. */
const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** Every label selector of pods in these objects, named by where it is (`kind/name: path`). */
function podSelectors(objs: Obj[]): Array<{ at: string; selector: Record<string, string> }> {
  const out: Array<{ at: string; selector: Record<string, string> }> = [];
  const add = (o: Obj, path: string, selector: Obj | undefined) => {
    const at = `${o.kind}/${o.metadata.name}: ${path}`;
    if (selector?.matchExpressions) throw new Error(`${at}: matchExpressions, which this test does not model`);
    out.push({ at, selector: selector?.matchLabels ?? {} });
  };
  for (const o of objs) {
    if (o.kind === 'Service') out.push({ at: `Service/${o.metadata.name}: spec.selector`, selector: o.spec.selector ?? {} });
    if (o.kind === 'StatefulSet') {
      add(o, 'spec.selector', o.spec.selector);
      o.spec.template.spec.topologySpreadConstraints?.forEach((t: Obj, i: number) => add(o, `topologySpreadConstraints[${i}]`, t.labelSelector));
    }
    if (o.kind === 'PodDisruptionBudget') add(o, 'spec.selector', o.spec.selector);
    if (o.kind === 'NetworkPolicy') {
      add(o, 'spec.podSelector', o.spec.podSelector);
      // A peer with a namespaceSelector selects pods in other namespaces: not this install's.
      o.spec.ingress?.forEach((r: Obj, i: number) =>
        r.from?.forEach((f: Obj, j: number) => f.podSelector && !f.namespaceSelector && add(o, `ingress[${i}].from[${j}]`, f.podSelector)),
      );
      o.spec.egress?.forEach((r: Obj, i: number) =>
        r.to?.forEach((t: Obj, j: number) => t.podSelector && !t.namespaceSelector && add(o, `egress[${i}].to[${j}]`, t.podSelector)),
      );
    }
  }
  return out;
}

/**
 * What the Pod Security Standards' `restricted` level (Kubernetes 1.32) refuses in a pod, as
 * `container: rule` (or `pod: rule`). https://kubernetes.io/docs/concepts/security/pod-security-standards/
 */
function restrictedViolations(pod: Obj): string[] {
  const out: string[] = [];
  const allowedVolumes = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
  for (const key of ['hostNetwork', 'hostPID', 'hostIPC']) if (pod[key]) out.push(`pod: ${key}`);
  for (const v of pod.volumes ?? []) for (const k of Object.keys(v)) if (k !== 'name' && !allowedVolumes.includes(k)) out.push(`pod: volume ${v.name} is ${k}`);
  if (pod.securityContext?.sysctls?.length) out.push('pod: sysctls');
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const sc = { ...c.securityContext };
    const runAsNonRoot = sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
    const seccomp = (sc.seccompProfile ?? pod.securityContext?.seccompProfile)?.type;
    if (sc.privileged) out.push(`${c.name}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${c.name}: allowPrivilegeEscalation not false`);
    if (runAsNonRoot !== true) out.push(`${c.name}: runAsNonRoot not true`);
    if ((sc.runAsUser ?? pod.securityContext?.runAsUser) === 0) out.push(`${c.name}: runAsUser 0`);
    if (!['RuntimeDefault', 'Localhost'].includes(seccomp)) out.push(`${c.name}: seccompProfile ${seccomp}`);
    if (!sc.capabilities?.drop?.includes('ALL')) out.push(`${c.name}: capabilities not dropped (ALL)`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') out.push(`${c.name}: adds ${cap}`);
    if (sc.procMount && sc.procMount !== 'Default') out.push(`${c.name}: procMount`);
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${c.name}: hostPort`);
  }
  return out;
}

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

const BASE_KINDS = ['NetworkPolicy', 'PodDisruptionBudget', 'Secret', 'Service', 'Service', 'StatefulSet'];
const KINDS: Record<(typeof OVERLAYS)[number], string[]> = {
  dind: BASE_KINDS,
  'remote-docker': BASE_KINDS,
  metrics: [...BASE_KINDS, 'ConfigMap', 'Service', 'ServiceMonitor'].sort(),
};

describe.each(OVERLAYS)('deploy/overlays/%s', (overlay) => {
  let objs: Obj[];
  let MODELS: Record<string, Model>;
  beforeAll(async () => {
    objs = render(join(ROOT, 'deploy/overlays', overlay));
    MODELS = await models();
  });

  it('renders with kubectl kustomize without a warning (no deprecated field)', () => {
    expect(renderWithWarnings(join(ROOT, 'deploy/overlays', overlay)).stderr).toBe('');
  });

  it('renders its objects, each valid against the Kubernetes schema or its CRD', () => {
    expect(objs.map((o) => o.kind).sort()).toEqual(KINDS[overlay]);
    for (const o of objs) {
      if (o.kind === 'ServiceMonitor') {
        expect({ o: o.metadata.name, errors: schemaErrors(o) }).toEqual({ o: o.metadata.name, errors: [] });
        continue;
      }
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
    expect({ overlay, metrics: !!metricsPort }).toEqual({ overlay, metrics: overlay === 'metrics' });
    const ports = [
      { name: 'grpc', containerPort: port, protocol: 'TCP' },
      ...(metricsPort ? [{ name: 'metrics', containerPort: metricsPort, protocol: 'TCP' }] : []),
    ];
    expect(serviceContainer(objs).ports).toEqual(expect.arrayContaining(ports));
    expect(serviceContainer(objs).ports).toHaveLength(ports.length);
    for (const p of probes(serviceContainer(objs))) expect(p.grpc.port).toBe(port);
    // Each Service serves one of the container's ports, by its name.
    for (const s of objs.filter((o) => o.kind === 'Service')) {
      const [p] = s.spec.ports;
      expect({ service: s.metadata.name, ports: s.spec.ports.length }).toEqual({ service: s.metadata.name, ports: 1 });
      expect(ports).toContainEqual({ name: p.name, containerPort: p.port, protocol: 'TCP' });
      expect(p.targetPort).toBe(p.name);
    }
    const policy = objs.find((o) => o.kind === 'NetworkPolicy')!;
    const policyPorts = new Set<number>(policy.spec.ingress.flatMap((r: Obj) => r.ports.map((p: Obj) => p.port)));
    expect([...policyPorts].sort()).toEqual(ports.map((p) => p.containerPort).sort());
    const annotations = statefulSet(objs).spec.template.metadata.annotations ?? {};
    const expected = metricsPort ? { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(metricsPort), 'prometheus.io/path': '/metrics' } : {};
    expect(annotations).toEqual(expected);
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

  it("mounts the per-replica volume at EXEC_DATA_DIR, the VOLUME of the image, whose ENV, EXPOSE and USER match the pod's", () => {
    const sts = statefulSet(objs);
    const env = envOf(objs);
    const [claim] = sts.spec.volumeClaimTemplates;
    const mount = serviceContainer(objs).volumeMounts.find((m: Obj) => m.name === claim.metadata.name);
    expect(mount?.mountPath).toBe(env.EXEC_DATA_DIR);
    const image = dockerfileRuntime();
    expect(image.volumes).toContain(env.EXEC_DATA_DIR);
    expect(image.env.EXEC_DATA_DIR).toBe(env.EXEC_DATA_DIR);
    expect(listenPort(image.env)).toBe(listenPort(env));
    expect(image.expose).toContain(listenPort(env));
    // `node` is uid 1000 in the official Node images (and in scripts/image-build.sh's base).
    expect(image.user).toBe('node');
    expect(serviceContainer(objs).securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true });
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

  it("labels every object with the recommended set, the pods too; name and instance in every selector; the version not in the claim's", () => {
    for (const o of objs) {
      expect({
        o: `${o.kind}/${o.metadata.name}`,
        labels: Object.keys(o.metadata.labels ?? {})
          .filter((k) => RECOMMENDED.includes(k))
          .sort(),
      }).toEqual({
        o: `${o.kind}/${o.metadata.name}`,
        labels: [...RECOMMENDED].sort(),
      });
      expect(o.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'exec-stream',
        'app.kubernetes.io/instance': 'exec-stream',
        'app.kubernetes.io/part-of': 'exec-stream',
        'app.kubernetes.io/managed-by': 'kustomize',
        'app.kubernetes.io/version': VERSION,
      });
    }
    const sts = statefulSet(objs);
    const podLabels = sts.spec.template.metadata.labels;
    expect(
      Object.keys(podLabels)
        .filter((k) => RECOMMENDED.includes(k))
        .sort(),
    ).toEqual(RECOMMENDED.filter((k) => !k.endsWith('managed-by')).sort());
    expect(podLabels['app.kubernetes.io/version']).toBe(VERSION);
    expect(serviceContainer(objs).image).toBe(`exec-stream:${VERSION}`);
    // The claim template is immutable: a label that changes on upgrade there would make `kubectl apply` fail.
    expect(sts.spec.volumeClaimTemplates[0].metadata.labels).toEqual({ 'app.kubernetes.io/name': 'exec-stream', [INSTANCE]: 'exec-stream' });
    const selectors = podSelectors(objs);
    expect(selectors.length).toBeGreaterThanOrEqual(9);
    for (const { at, selector } of selectors) {
      expect({ at, selector }).toEqual({ at, selector: expect.objectContaining({ 'app.kubernetes.io/name': 'exec-stream', [INSTANCE]: 'exec-stream' }) });
      expect({ at, selectsPods: selects(selector, podLabels) }).toEqual({ at, selectsPods: true });
    }
  });

  it('spreads the replicas: at most one more on any node (required, cordoned nodes not counted), and over zones where labelled', () => {
    const constraints = podSpec(objs).topologySpreadConstraints;
    expect(constraints).toEqual([
      expect.objectContaining({ topologyKey: 'kubernetes.io/hostname', maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor' }),
      expect.objectContaining({ topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway' }),
    ]);
    for (const c of constraints) expect(selects(c.labelSelector.matchLabels, statefulSet(objs).spec.template.metadata.labels)).toBe(true);
    expect(statefulSet(objs).spec.replicas).toBeGreaterThanOrEqual(2);
  });

  it('restricts egress to DNS, the other replicas, and the Docker engine (remote-docker) or the registries (dind)', () => {
    const policy = objs.find((o) => o.kind === 'NetworkPolicy')!;
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const rules: Obj[] = policy.spec.egress;
    const ports = (r: Obj) => r.ports.map((p: Obj) => `${p.protocol}/${p.port}`).sort();
    // Every rule names its ports: nothing is open to all ports.
    for (const r of rules) expect(r.ports?.length).toBeGreaterThan(0);
    const dns = rules.filter((r) => ports(r).join() === 'TCP/53,UDP/53');
    expect(dns).toEqual([{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }], ports: expect.any(Array) }]);
    const peers = rules.filter((r) => r.to.some((t: Obj) => selects(t.podSelector?.matchLabels, statefulSet(objs).spec.template.metadata.labels)));
    expect(peers.map(ports)).toEqual([[`TCP/${serviceContainer(objs).ports.find((p: Obj) => p.name === 'grpc').containerPort}`]]);
    const others = rules.filter((r) => !dns.includes(r) && !peers.includes(r));
    if (overlay === 'remote-docker') {
      const engine = new URL(envOf(objs).DOCKER_HOST);
      expect(others).toEqual([{ to: [{ ipBlock: { cidr: expect.stringMatching(/^[\d.]+\/32$/) } }], ports: [{ protocol: 'TCP', port: Number(engine.port) }] }]);
    } else {
      // dind pulls from registries on the internet: HTTPS, never to the cluster's private ranges.
      expect(others).toEqual([
        {
          to: [{ ipBlock: { cidr: '0.0.0.0/0', except: expect.arrayContaining(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']) } }],
          ports: [{ protocol: 'TCP', port: 443 }],
        },
      ]);
    }
  });

  it('needs Pod Security level restricted for the service container; privileged only for the dind sidecar', () => {
    const violations = restrictedViolations(podSpec(objs));
    expect(violations.filter((v) => !v.startsWith('dind:'))).toEqual([]);
    if (overlay === 'remote-docker') expect(violations).toEqual([]);
    else expect(violations).toContain('dind: privileged');
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

describe('the dind sidecar', () => {
  const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
  const dindOf = (objs: Obj[]) => podSpec(objs).initContainers.find((c: Obj) => c.name === 'dind');

  it('runs a pinned version tag, written in one place only, with CPU and memory requests and limits', () => {
    const dind = dindOf(render(join(ROOT, 'deploy/overlays/dind')));
    expect(dind.image).toMatch(/^docker:\d+\.\d+\.\d+-dind$/);
    const files = execFileSync('grep', ['-rlF', dind.image, join(ROOT, 'deploy')], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(files.map((f) => relative(ROOT, f))).toEqual(['deploy/base/statefulset.yaml']);
    expect(
      execFileSync('grep', ['-rnE', 'image: *docker(:|$)', join(ROOT, 'deploy')], { encoding: 'utf8' })
        .trim()
        .split('\n'),
    ).toHaveLength(1);
    for (const kind of ['requests', 'limits']) expect(Object.keys(dind.resources[kind]).sort()).toEqual(['cpu', 'memory']);
  });

  it("takes a digest from an overlay's images: (README), keeping the tag", () => {
    const tag = dindOf(render(join(ROOT, 'deploy/overlays/dind'))).image.split(':')[1];
    const objs = renderOwn(`resources:\n  - {{overlay}}\nimages:\n  - name: docker\n    newTag: ${tag}\n    digest: ${DIGEST}\n`, 'dind');
    expect(dindOf(objs).image).toBe(`docker:${tag}@${DIGEST}`);
  });
});

describe.each(OVERLAYS)('two installs in one namespace: deploy/overlays/%s and deploy/examples/second-instance over it', (overlay) => {
  let first: Obj[];
  let second: Obj[];
  beforeAll(() => {
    const example = readFileSync(join(SECOND_INSTANCE, 'kustomization.yaml'), 'utf8');
    expect(example).toContain('  - ../../overlays/dind\n');
    first = render(join(ROOT, 'deploy/overlays', overlay));
    second = renderOwn(example.replace('../../overlays/dind', '{{overlay}}'), overlay);
  });
  const pods = (objs: Obj[]) => statefulSet(objs).spec.template.metadata.labels as Record<string, string>;

  it('renders the example as it is, without a warning, and README shows it as it is', () => {
    const { objs, stderr } = renderWithWarnings(SECOND_INSTANCE);
    expect(stderr).toBe('');
    expect(statefulSet(objs).metadata.name).toBe('blue-exec-stream');
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(readFileSync(join(SECOND_INSTANCE, 'kustomization.yaml'), 'utf8'));
  });

  it('names no object alike, and every selector of each selects its own pods only', () => {
    const names = (objs: Obj[]) => objs.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names(first).filter((n) => names(second).includes(n))).toEqual([]);
    expect(pods(second)[INSTANCE]).toBe('blue');
    for (const [mine, theirs] of [
      [first, second],
      [second, first],
    ]) {
      for (const { at, selector } of podSelectors(mine)) {
        expect({ at, own: selects(selector, pods(mine)), other: selects(selector, pods(theirs)) }).toEqual({ at, own: true, other: false });
      }
    }
  });

  it('finds its peers through its own headless Service, and reads its own token Secret', () => {
    for (const objs of [first, second]) {
      const headless = objs.find((o) => o.kind === 'Service' && o.metadata.name === statefulSet(objs).spec.serviceName)!;
      expect(envOf(objs).EXEC_PEERS_DNS).toBe(`_grpc._tcp.${headless.metadata.name}.${TEST_NAMESPACE}.svc.cluster.local`);
      expect(selects(headless.spec.selector, pods(objs))).toBe(true);
      const ref = serviceContainer(objs).env.find((e: Obj) => e.name === 'EXEC_AUTH_TOKEN').valueFrom.secretKeyRef;
      expect(objs.some((o) => o.kind === 'Secret' && o.metadata.name === ref.name)).toBe(true);
    }
    expect(envOf(first).EXEC_REPLICA_ID).not.toBe(envOf(second).EXEC_REPLICA_ID);
  });

  it("admits clients from its consumers' namespaces only, and still its own replicas", () => {
    const [clients, ...rest] = only(second, 'NetworkPolicy').spec.ingress;
    expect(clients.from).toEqual(['team-a', 'team-b'].map((ns) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } })));
    expect(rest.filter((r: Obj) => r.from?.some((f: Obj) => selects(f.podSelector?.matchLabels, pods(second))))).toHaveLength(1);
  });

  if (overlay === 'metrics') {
    it('scrapes its own metrics Service only', () => {
      for (const [mine, theirs] of [
        [first, second],
        [second, first],
      ]) {
        const monitor = only(mine, 'ServiceMonitor');
        const selected = [...mine, ...theirs].filter((o) => o.kind === 'Service' && selects(monitor.spec.selector.matchLabels, o.metadata.labels));
        expect(selected.map((o) => o.metadata.name)).toEqual([only(mine, 'Service', (o) => o.spec.ports[0].name === 'metrics').metadata.name]);
      }
    });
  }
});

/** The one object of `kind` (matching `where`) among objs. */
function only(all: Obj[], kind: string, where: (o: Obj) => boolean = () => true): Obj {
  const found = all.filter((o) => o.kind === kind && where(o));
  expect({ kind, count: found.length }).toEqual({ kind, count: 1 });
  return found[0];
}

describe('the ServiceMonitor (deploy/overlays/metrics)', () => {
  let all: Obj[];
  beforeAll(() => (all = render(join(ROOT, 'deploy/overlays/metrics'))));

  it('is valid against the Prometheus Operator CRD schema, which refuses a misspelt field and a wrong type', () => {
    const monitor = only(all, 'ServiceMonitor');
    expect(schemaErrors(monitor)).toEqual([]);
    const misspelt = structuredClone(monitor);
    misspelt.spec.endpoint = misspelt.spec.endpoints;
    expect(schemaErrors(misspelt)).toEqual([expect.stringMatching(/\/spec must NOT have additional properties/)]);
    const wrongType = structuredClone(monitor);
    wrongType.spec.endpoints[0].port = 9464;
    expect(schemaErrors(wrongType)).toEqual(['/spec/endpoints/0/port must be string']);
    expect(readFileSync(SERVICE_MONITOR_CRD, 'utf8')).toMatch(/^# Version: v\d+\.\d+\.\d+ /m);
  });

  it("scrapes port metrics of the Service that lists every replica (ready or not), the container's port metrics at /metrics", () => {
    const monitor = only(all, 'ServiceMonitor');
    const service = only(all, 'Service', (o) => selects(monitor.spec.selector.matchLabels, o.metadata.labels));
    expect(service.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    expect(selects(service.spec.selector, statefulSet(all).spec.template.metadata.labels)).toBe(true);
    const [endpoint] = monitor.spec.endpoints;
    expect(endpoint).toMatchObject({ port: service.spec.ports[0].name, path: '/metrics' });
    const container = serviceContainer(all).ports.find((p: Obj) => p.name === service.spec.ports[0].targetPort);
    expect(`0.0.0.0:${container.containerPort}`).toBe(envOf(all).EXEC_METRICS_LISTEN);
    // The dashboard (its queries are checked against a real scrape in test/metrics.e2e-spec.ts), for Grafana's sidecar.
    const dashboard = only(all, 'ConfigMap');
    expect(dashboard.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse(dashboard.data['exec-stream.json'])).toEqual(
      JSON.parse(readFileSync(join(ROOT, 'deploy/overlays/metrics/grafana-dashboard.json'), 'utf8')),
    );
  });
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
  const selectsPods = (matchLabels: Record<string, string> | undefined) => selects(matchLabels, statefulSet(objs).spec.template.metadata.labels);

  it('names each replica by its pod name: EXEC_REPLICA_ID from metadata.name', () => {
    expect(envVar('EXEC_REPLICA_ID')).toEqual({ name: 'EXEC_REPLICA_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
  });

  it("finds the peers by the SRV name of the headless Service's TCP port that targets the container's grpc port, in the pod's namespace", () => {
    const names = serviceContainer(objs).env.map((e: Obj) => e.name as string);
    expect(envVar('POD_NAMESPACE')).toEqual({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
    // The headless Service's name, as its whole value: kustomize renames it with the Service (namePrefix).
    expect(envVar('PEERS_SERVICE')).toEqual({ name: 'PEERS_SERVICE', value: statefulSet(objs).spec.serviceName });
    // Kubernetes expands $(NAME) only when NAME is declared above.
    expect(names.indexOf('POD_NAMESPACE')).toBeLessThan(names.indexOf('EXEC_PEERS_DNS'));
    expect(names.indexOf('PEERS_SERVICE')).toBeLessThan(names.indexOf('EXEC_PEERS_DNS'));
    const srv = envVar('EXEC_PEERS_DNS')?.value;
    expect(srv).toBe('_grpc._tcp.$(PEERS_SERVICE).$(POD_NAMESPACE).svc.cluster.local');
    expect(envOf(objs).EXEC_PEERS_DNS).toBe(`_grpc._tcp.exec-stream-headless.${TEST_NAMESPACE}.svc.cluster.local`);
    const [, portName, protocol, serviceName] = /^_([^.]+)\._([^.]+)\.([^.]+)\.[^.]+\.svc\.cluster\.local$/.exec(envOf(objs).EXEC_PEERS_DNS)!;
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
    expect(selectsPods(policy.spec.podSelector.matchLabels)).toBe(true);
    expect(policy.spec.policyTypes).toContain('Ingress');
    const peerRules = policy.spec.ingress.filter(
      (r: Obj) =>
        r.from?.some((f: Obj) => !f.namespaceSelector && !f.ipBlock && !f.podSelector?.matchExpressions && selectsPods(f.podSelector?.matchLabels)) &&
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
    const objs = renderOwn(
      'resources:\n  - {{overlay}}\nsecretGenerator:\n  - name: exec-stream-auth\n    behavior: replace\n    files:\n      - EXEC_AUTH_TOKEN=token\n',
      'dind',
      { token: TEST_TOKEN },
    );
    const ref = serviceContainer(objs).env.find((e: Obj) => e.name === 'EXEC_AUTH_TOKEN').valueFrom.secretKeyRef;
    const secret = objs.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name)!;
    expect(Buffer.from(secret.data[ref.key], 'base64').toString()).toBe(TEST_TOKEN);
  });
});
