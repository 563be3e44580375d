import { ExecError } from '../../../common/errors';
import type { Logger } from '../../../common/logger';
import type { SessionResponse } from '@exec-stream/client/wire';
import { PULL_POLICIES, type PullPolicy, type PullProgressLine } from '../../../executor';
import type { ImagePullService, PullRequest } from '../../container';
import type { StartMode } from './start.dto';

/** The most bytes of each Start.registry_auth field. */
export const REGISTRY_AUTH_FIELD_BYTES = 4096;

/** What the pull step needs of the Session call: writes that may be refused while the client is slow. */
export interface PullProgressStream {
  write(message: SessionResponse): boolean;
  once(event: 'drain', fn: () => void): unknown;
}

interface RawAuth {
  username?: string;
  password?: string;
  server_address?: string;
  identity_token?: string;
}

/**
 * Start.pull and Start.registry_auth as a PullRequest (undefined: nothing to pull). INVALID_ARGUMENT for
 * an unknown policy, oversized credentials, or either field on an exec or an attach.
 */
export function pullRequestOf(start: { image?: string; pull?: unknown; registry_auth?: RawAuth | null }, mode: StartMode): PullRequest | undefined {
  const policy = start.pull === undefined || start.pull === null || start.pull === '' ? 'never' : start.pull;
  if (typeof policy !== 'string' || !PULL_POLICIES.includes(policy as PullPolicy)) {
    throw new ExecError(
      'invalid',
      `pull must be one of ${PULL_POLICIES.join(', ')} (empty = never), got ${typeof policy === 'string' ? JSON.stringify(policy.slice(0, 40)) : typeof policy}`,
      { reason: 'FIELD_INVALID', field: 'start.pull' },
    );
  }
  const raw = start.registry_auth ?? undefined;
  const given = raw && Object.values(raw).some((v) => typeof v === 'string' && v !== '');
  if (mode !== 'run') {
    if (policy !== 'never' || given) {
      throw new ExecError('invalid', 'pull and registry_auth apply to a run (Start.image) only', {
        reason: 'FIELD_INVALID',
        field: policy !== 'never' ? 'start.pull' : 'start.registry_auth',
      });
    }
    return undefined;
  }
  if (given) {
    for (const [k, v] of Object.entries(raw)) {
      if (typeof v === 'string' && Buffer.byteLength(v) > REGISTRY_AUTH_FIELD_BYTES) {
        throw new ExecError('invalid', `registry_auth.${k} must be at most ${REGISTRY_AUTH_FIELD_BYTES} bytes`, {
          reason: 'FIELD_INVALID',
          field: `start.registry_auth.${k}`,
        });
      }
    }
    if (!raw.username && !raw.identity_token) {
      throw new ExecError('invalid', 'registry_auth needs username (+ password) or identity_token', { reason: 'FIELD_INVALID', field: 'start.registry_auth' });
    }
  }
  if (policy === 'never') return undefined;
  return {
    image: start.image!,
    policy: policy as PullPolicy,
    credentials: given
      ? { username: raw.username, password: raw.password, serverAddress: raw.server_address || undefined, identityToken: raw.identity_token }
      : undefined,
  };
}

/**
 * The pull step of a run, before its session exists: each progress line goes to the client as a
 * `pull_progress` message while the call takes them; lines that arrive while it is full are dropped
 * (progress is advisory), so a slow client neither holds memory nor slows the pull.
 */
export async function pullBeforeRun(
  pulls: ImagePullService,
  start: { image?: string; pull?: unknown; registry_auth?: RawAuth | null },
  mode: StartMode,
  call: PullProgressStream,
  cancel: AbortSignal,
  log: Logger,
): Promise<void> {
  const req = pullRequestOf(start, mode);
  if (!req) return;
  let full = false;
  const send = (line: PullProgressLine) => {
    if (full) return;
    const ok = call.write({
      pull_progress: { image: req.image, status: line.status, layer: line.layer ?? '', current: String(line.current ?? 0), total: String(line.total ?? 0) },
    });
    if (!ok) {
      full = true;
      call.once('drain', () => (full = false));
    }
  };
  await pulls.prepare(req, send, cancel, log);
}
