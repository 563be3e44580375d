// The shape of src/ that docs/DESIGN.md and ../shared/ARCHITECTURE.md promise, checked on the import
// graph by dependency-cruiser (`npm run depcruise`; `npm test` and `npm run lint` run it). Every
// non-spec file of src/ and what it imports (type-only imports too) is checked; an `error` fails the run.
// Known breaks of the direction, still to be moved away (issue 27), are listed edge by edge in
// .dependency-cruiser-known-violations.json and reported as ignored: any other wrong-way import fails.

// Folders entered only through their index.ts (a file in the folder or below it may reach in).
const BARRELS = ['audit', 'exec/grpc', 'exec/cluster', 'exec/session', 'exec/output', 'exec/container', 'executor/docker', 'executor', 'metrics'];

// A floor of src/ and the floors of src/ it may import (besides itself and src/common): the arrows of
// the "Dependencies point one way" paragraph of docs/DESIGN.md.
const FLOORS = {
  lifecycle: [],
  metrics: [],
  audit: [],
  executor: ['lifecycle'],
  'exec/output': [],
  'exec/session': ['exec/output', 'executor', 'lifecycle'],
  'exec/container': ['executor', 'lifecycle'],
  'exec/cluster': ['exec/session'],
};

const dir = (folder) => `^src/${folder.replace(/\//g, '\\/')}/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles: every module can be loaded, and read, before the ones that import it.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves to a file or a package (a rule cannot judge an import it cannot see).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'dockerode-only-in-docker-backend',
      comment: 'Only src/executor/docker/ imports dockerode; the rest of src/ reaches Docker through the executor ports (DI tokens).',
      severity: 'error',
      from: { pathNot: dir('executor/docker') },
      to: { path: '^node_modules/(@types/)?dockerode/' },
    },
    {
      name: 'common-is-a-leaf',
      comment: 'src/common/ imports nothing from the rest of src/ (it may use packages and the client package).',
      severity: 'error',
      from: { path: dir('common') },
      to: { path: '^src/', pathNot: dir('common') },
    },
    ...BARRELS.map((folder) => ({
      name: `only-through-index:${folder}`,
      comment: `Other folders reach src/${folder}/ only through its index.ts${folder === 'executor' ? ' (and executor.module.ts, the Nest module that assembles the backend)' : ''}.`,
      severity: 'error',
      from: { pathNot: dir(folder) },
      to: { path: `${dir(folder)}[^/]+$`, pathNot: [`${dir(folder)}index\\.ts$`, '^src/executor/executor\\.module\\.ts$'] },
    })),
    {
      name: 'nothing-imports-the-grpc-edge',
      comment: 'Only the composition roots (main.ts, exec.module.ts) import src/exec/grpc/: the edge sits on top.',
      severity: 'error',
      from: { pathNot: [dir('exec/grpc'), '^src/main\\.ts$', '^src/exec/exec\\.module\\.ts$'] },
      to: { path: dir('exec/grpc') },
    },
    ...Object.entries(FLOORS).map(([floor, below]) => ({
      name: `floor:${floor}`,
      comment: `src/${floor}/ imports from src/ only ${[floor, ...below, 'common'].join(', ')}${floor === 'executor' ? ' (the executor knows no sessions or clients)' : ''}.`,
      severity: 'error',
      from: { path: dir(floor) },
      to: { path: '^src/', pathNot: [floor, ...below, 'common'].map(dir) },
    })),
    {
      name: 'no-wire-types-below-the-edge',
      comment:
        'Wire types and encodings (@exec-stream/client, generated from proto/exec.proto) stay at the edge (grpc, cluster, audit, common): the domain floors speak domain types.',
      severity: 'error',
      from: { path: ['executor', 'lifecycle', 'metrics', 'exec/output', 'exec/session', 'exec/container'].map(dir) },
      to: { path: '^packages/client/' },
    },
  ],
  // dockerode must be seen as imported at all, or the rule above would pass by not seeing it.
  required: [
    {
      name: 'docker-backend-uses-dockerode',
      comment: 'The Docker client module imports dockerode (so the dockerode rule is not passing vacuously).',
      severity: 'error',
      module: { path: '^src/executor/docker/docker-client\\.ts$' },
      to: { path: '^node_modules/(@types/)?dockerode/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    // Type-only imports are imports too (an `import type` of a wrong floor is a wrong-way import).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
  },
};
