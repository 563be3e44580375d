import { readFileSync } from 'node:fs';
import { problemsOf } from './config-problems';

/**
 * What a token may do: `read` (attach, status, lifecycle), `run` (run, exec, stdin, resize), `control`
 * (pause, resume, signal), `audit` (read the audit trail).
 */
export type Scope = 'read' | 'run' | 'control' | 'audit';
export const SCOPES: readonly Scope[] = ['read', 'run', 'control', 'audit'];

/** Who made a call: the token's name (never the token) and what it may do. */
export interface Principal {
  name: string;
  scopes: ReadonlySet<Scope>;
}

/** The principal of EXEC_AUTH_TOKEN, and of every call when no token is configured: all scopes. */
export const FULL_ACCESS = (name: string): Principal => ({ name, scopes: new Set(SCOPES) });

const SHA256_HEX = /^[0-9a-f]{64}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,63}$/;

/**
 * Parses an EXEC_AUTH_TOKENS_FILE: a JSON array of `{"name", "sha256", "scopes"}` (sha256 = hex digest of
 * the token). Throws an Error saying what is wrong (entry index and field); never echoes a hash.
 */
export function parseTokensFile(text: string): Map<string, Principal> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(data)) throw new Error('must be a JSON array of {"name","sha256","scopes"}');
  const byHash = new Map<string, Principal>();
  const names = new Set<string>();
  data.forEach((entry: unknown, i) => {
    const at = `entry ${i}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error(`${at} is not an object`);
    const extra = Object.keys(entry).filter((k) => !['name', 'sha256', 'scopes'].includes(k));
    if (extra.length) throw new Error(`${at} has unknown field(s) ${extra.join(', ')}: only name, sha256, scopes`);
    const { name, sha256, scopes } = entry as Record<string, unknown>;
    if (typeof name !== 'string' || !NAME.test(name)) throw new Error(`${at}: name must be 1-64 of A-Z a-z 0-9 _ . @ : - (starting with a letter or digit)`);
    if (names.has(name)) throw new Error(`${at}: name ${name} appears twice`);
    if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256.toLowerCase()))
      throw new Error(`${at} (${name}): sha256 must be 64 hex digits (sha256 of the token)`);
    const hash = sha256.toLowerCase();
    if (byHash.has(hash)) throw new Error(`${at} (${name}): the same token hash as ${byHash.get(hash)!.name}`);
    if (!Array.isArray(scopes) || scopes.length === 0) throw new Error(`${at} (${name}): scopes must be a non-empty array of ${SCOPES.join(', ')}`);
    for (const s of scopes)
      if (!SCOPES.includes(s as Scope)) throw new Error(`${at} (${name}): unknown scope ${JSON.stringify(s)}: one of ${SCOPES.join(', ')}`);
    names.add(name);
    byHash.set(hash, { name, scopes: new Set(scopes as Scope[]) });
  });
  return byHash;
}

/** Reads and parses the file; throws an Error naming EXEC_AUTH_TOKENS_FILE when it is missing or bad. */
export function readTokensFile(file: string): { text: string; tokens: Map<string, Principal> } {
  try {
    const text = readFileSync(file, 'utf8');
    return { text, tokens: parseTokensFile(text) };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`EXEC_AUTH_TOKENS_FILE=${JSON.stringify(file)}: ${e.code ? `cannot read the file (${e.code})` : e.message}`, { cause: err });
  }
}

/** The start-up check of loadConfig: the file's problem, if any, as one line naming the variable. */
export function tokensFileProblems(s: { EXEC_AUTH_TOKENS_FILE?: string }): string[] {
  const file = s.EXEC_AUTH_TOKENS_FILE;
  return file ? problemsOf(() => readTokensFile(file)) : [];
}
