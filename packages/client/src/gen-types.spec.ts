import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PROTO_LOADER_OPTIONS } from './proto';

const ROOT = join(__dirname, '..', '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'gen-types.sh');
const GEN = join(__dirname, 'gen');

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

describe('packages/client/src/gen (wire types generated from proto/exec.proto)', () => {
  it('is what scripts/gen-types.sh writes today (run `npm run gen:types` after editing the proto)', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'gen-types-'));
    try {
      execFileSync('bash', [SCRIPT, join(tmp, 'gen')], { cwd: ROOT, stdio: 'pipe' });
      const fresh = files(join(tmp, 'gen'));
      const committed = files(GEN);
      expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
      for (const [name, text] of fresh) expect({ name, text: committed.get(name) }).toEqual({ name, text });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('is generated with the loader options the service and client load the proto with', () => {
    const script = readFileSync(SCRIPT, 'utf8');
    const used = new Set(script.match(/--(keepCase|longs|enums|defaults|oneofs|arrays|objects|bytes|json)=\S+/g));
    const expected = Object.entries(PROTO_LOADER_OPTIONS).map(([k, v]) => `--${k}=${typeof v === 'function' ? v.name : String(v)}`);
    expect([...used].sort()).toEqual(expected.sort());
  });
});
