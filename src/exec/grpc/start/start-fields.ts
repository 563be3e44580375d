import { ExecError } from '../../../common/errors';
import { quoted } from '../../../common/request-ids';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Start.user: a name or uid, optionally `:` a group name or gid (Docker's --user), at most 64 characters. */
export const USER_PATTERN = /^(?=.{1,64}$)([A-Za-z_][A-Za-z0-9_.-]*|\d+)(:([A-Za-z_][A-Za-z0-9_.-]*|\d+))?$/;

/** The largest uid or gid Docker accepts ("uids and gids must be in range 0-2147483647"). */
export const MAX_USER_ID = 2_147_483_647;

/** Labels with this prefix are the service's own (exec-stream.managed, .session, .replica): a Start cannot set them. */
export const RESERVED_LABEL_PREFIX = 'exec-stream.';

export const LABEL_LIMITS = { entries: 64, keyBytes: 128, valueBytes: 1024 } as const;

// Printable: no C0/C1 control characters (Docker stores any string, but a label must read and filter cleanly).
const PRINTABLE = /^[^\p{Cc}]*$/u;

/** Start.labels problems (empty = valid): printable keys and values within LABEL_LIMITS, no reserved keys. */
export function labelProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['labels must be a map of strings'];
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > LABEL_LIMITS.entries) return [`labels: at most ${LABEL_LIMITS.entries} labels, got ${entries.length}`];
  const problems: string[] = [];
  for (const [k, v] of entries) {
    if (!k || bytes(k) > LABEL_LIMITS.keyBytes || !PRINTABLE.test(k)) {
      problems.push(`labels: key ${quoted(k)} must be 1-${LABEL_LIMITS.keyBytes} bytes of printable characters`);
    } else if (k.toLowerCase().startsWith(RESERVED_LABEL_PREFIX)) {
      problems.push(`labels: key ${quoted(k)} starts with ${RESERVED_LABEL_PREFIX}, which is the service's own`);
    }
    if (typeof v !== 'string' || bytes(v) > LABEL_LIMITS.valueBytes || !PRINTABLE.test(v)) {
      problems.push(`labels: the value of ${quoted(k)} must be at most ${LABEL_LIMITS.valueBytes} bytes of printable characters`);
    }
  }
  return problems;
}

/** A uint64 as proto-loader decodes it (a decimal string) → number; '' / absent → 0. */
export const toCount = ({ value }: { value: unknown }) =>
  value === undefined || value === null || value === '' ? 0 : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;

/** The Start fields that set a run's container (Docker cannot limit an exec apart from its container). */
export const CONTAINER_ONLY_FIELDS = ['memory_bytes', 'cpus', 'pids_limit', 'read_only_rootfs'] as const;

/** Fields that describe a new process: an attach (to a process that already runs) takes none of them. */
export const PROCESS_FIELDS = [...CONTAINER_ONLY_FIELDS, 'user', 'timeout_ms', 'idle_timeout_ms', 'kill_grace_ms', 'output_limit_bytes'] as const;

/** INVALID_ARGUMENT when a Start of `mode` sets a field it cannot apply. */
export function checkFieldsForMode(dto: Record<string, unknown>, mode: 'run' | 'exec' | 'attach'): void {
  const set = (f: string) => dto[f] !== undefined && dto[f] !== 0 && dto[f] !== '' && dto[f] !== false;
  if (mode === 'exec') {
    const given = CONTAINER_ONLY_FIELDS.filter(set);
    if (given.length) {
      throw new ExecError(
        'invalid',
        `${given.join(', ')}: limits apply to a run's container; an exec shares its container's (Docker cannot limit an exec apart)`,
        { reason: 'FIELD_INVALID', violations: given.map((f) => ({ field: `start.${f}`, description: 'applies to a run only' })) },
      );
    }
  }
  if (mode === 'attach') {
    const given = PROCESS_FIELDS.filter(set);
    if (given.length) {
      throw new ExecError('invalid', `${given.join(', ')}: an attach joins a process that already runs; these apply only to a run or an exec`, {
        reason: 'FIELD_INVALID',
        violations: given.map((f) => ({ field: `start.${f}`, description: 'applies to a run or an exec only' })),
      });
    }
  }
}
