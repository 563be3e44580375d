/**
 * The shape of src/ that docs/DESIGN.md promises, checked on the import graph (relative imports of
 * every non-spec .ts file): no import cycles, dockerode only in the Docker backend, src/common a leaf,
 * and the folders of src/exec/ and src/executor/ reached only through their index.ts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = __dirname;
const IMPORT = /(?:from|import|require)\s*\(?\s*['"]([^'"]+)['"]/g;
const BARRELS = ['audit', 'exec/grpc', 'exec/cluster', 'exec/session', 'exec/output', 'exec/container', 'executor/docker', 'executor', 'metrics'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

function resolveImport(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  return [`${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p));
}

const files = sources(SRC);
const rel = (p: string) => relative(SRC, p);
const imports = new Map(
  files.map((f) => {
    const specs = [...readFileSync(f, 'utf8').matchAll(IMPORT)].map((m) => m[1]);
    return [f, specs] as const;
  }),
);

it('has no import cycles', () => {
  const edges = new Map(
    files.map((f) => [
      f,
      imports
        .get(f)!
        .filter((s) => s.startsWith('.'))
        .map((s) => resolveImport(f, s)!)
        .filter(Boolean),
    ]),
  );
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      cycles.push([...path.slice(path.indexOf(f)), f].map(rel).join(' → '));
      return;
    }
    state.set(f, 'open');
    for (const g of edges.get(f) ?? []) visit(g, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of files) visit(f, []);
  expect(cycles).toEqual([]);
});

it('imports dockerode only in src/executor/docker/', () => {
  const users = files.filter((f) => imports.get(f)!.includes('dockerode')).map(rel);
  expect(users.filter((f) => !f.startsWith('executor/docker/'))).toEqual([]);
  expect(users.length).toBeGreaterThan(0);
});

it('keeps src/common a leaf: it imports nothing from the rest of src/', () => {
  const outside = files
    .filter((f) => rel(f).startsWith('common/'))
    .flatMap((f) =>
      imports
        .get(f)!
        .filter((s) => s.startsWith('.') && !rel(resolveImport(f, s) ?? '').startsWith('common/'))
        .map((s) => `${rel(f)} → ${s}`),
    );
  expect(outside).toEqual([]);
});

it('reaches the folders of src/exec/ and src/executor/ only through their index.ts', () => {
  const bypass = files.flatMap((f) =>
    imports
      .get(f)!
      .filter((s) => s.startsWith('.'))
      .map((s) => resolveImport(f, s))
      // executor.module.ts is the one place that assembles the backend: a Nest module, not a port.
      .filter((t): t is string => !!t && !t.endsWith('index.ts') && rel(t) !== 'executor/executor.module.ts')
      .filter((t) => {
        const folder = dirname(rel(t));
        return BARRELS.includes(folder) && dirname(rel(f)) !== folder && !rel(f).startsWith(`${folder}/`);
      })
      .map((t) => `${rel(f)} → ${rel(t)}`),
  );
  expect(bypass).toEqual([]);
});
