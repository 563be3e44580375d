import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { FULL_ACCESS, parseTokensFile, readTokensFile, type Principal } from '../../../common/config/tokens-file';
import type { Logger } from '../../../common/logger';
import { ReloadedValue } from '../server/reloaded-value';

export { FULL_ACCESS, SCOPES, type Principal, type Scope } from '../../../common/config/tokens-file';

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** How often the file is checked besides fs.watch events (which miss some atomic replacements). */
export const TOKENS_POLL_MS = 1000;

/**
 * The tokens a call may present: EXEC_AUTH_TOKEN (all scopes) and the entries of EXEC_AUTH_TOKENS_FILE.
 * The file is re-read when it changes (fs.watch on its directory, which sees Kubernetes' symlink swap,
 * plus a poll): a good new file replaces the old one at once; a bad one is logged and the old one kept.
 */
export class TokenStore {
  private fileTokens?: ReloadedValue<string, Map<string, Principal>>;
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;

  /** Reads the file once; throws an Error naming EXEC_AUTH_TOKENS_FILE when it is missing or bad. */
  constructor(
    private readonly token: string | undefined,
    private readonly file: string | undefined,
    private readonly log?: Logger,
  ) {
    if (file) {
      const { text, tokens } = readTokensFile(file);
      this.fileTokens = new ReloadedValue(tokens, text, {
        read: () => readText(file),
        make: parseTokensFile,
        refused: (why) => this.log?.error({ file, error: why }, 'EXEC_AUTH_TOKENS_FILE not reloaded: the previous tokens stay in force'),
      });
    }
  }

  /** True when calls must present a token. */
  get enabled(): boolean {
    return !!this.token || !!this.file;
  }

  /** The principal of this token, or undefined when it is none of the configured ones. */
  lookup(given: string): Principal | undefined {
    const digest = sha256(given);
    if (this.token && timingSafeEqual(digest, sha256(this.token))) return FULL_ACCESS('EXEC_AUTH_TOKEN');
    return this.fileTokens?.value.get(digest.toString('hex'));
  }

  /** Starts following the file; idempotent; nothing to do without a file. */
  watch(): this {
    if (!this.file || this.timer) return this;
    try {
      this.watcher = watch(dirname(this.file), { persistent: false }, () => this.reload());
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      /* the poll still sees changes */
    }
    this.timer = setInterval(() => this.reload(), TOKENS_POLL_MS).unref();
    return this;
  }

  close(): void {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
  }

  /** Reads the file again; a change that does not parse is logged (once) and ignored. */
  reload(): void {
    if (!this.file || !this.fileTokens?.check()) return;
    const tokens = [...this.fileTokens.value.values()].map((p) => p.name);
    this.log?.info({ file: basename(this.file), tokens }, 'EXEC_AUTH_TOKENS_FILE reloaded');
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}
