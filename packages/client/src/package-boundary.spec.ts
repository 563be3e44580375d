/**
 * The client package stands alone: its files import only each other, Node's built-ins and the
 * dependencies or peer dependencies its package.json declares, never the service's sources (a
 * consumer installs the tarball, not the repository).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = __dirname;
const PKG = JSON.parse(readFileSync(join(SRC, '..', 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
const DECLARED = new Set([...Object.keys(PKG.dependencies ?? {}), ...Object.keys(PKG.peerDependencies ?? {})]);
const IMPORT = /(?:from|import|require)\s*\(?\s*['"]([^'"]+)['"]/g;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** '@scope/name/sub' → '@scope/name'; 'name/sub' → 'name'. */
const packageOf = (spec: string) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

it('imports only its own files, Node built-ins and declared dependencies', () => {
  const stray = sources(SRC).flatMap((f) =>
    [...readFileSync(f, 'utf8').matchAll(IMPORT)]
      .map((m) => m[1])
      .filter((spec) => {
        if (spec.startsWith('.')) return relative(SRC, resolve(dirname(f), spec)).startsWith('..');
        if (spec.startsWith('node:') || builtinModules.includes(spec)) return false;
        return !DECLARED.has(packageOf(spec));
      })
      .map((spec) => `${relative(SRC, f)} → ${spec}`),
  );
  expect(stray).toEqual([]);
});
