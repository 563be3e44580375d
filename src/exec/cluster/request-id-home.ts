import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecConfig } from '../../common/config/exec-config';
import type { Logger } from '../../common/logger';
import { EXEC_CONFIG, ROOT_LOGGER } from '../../common/tokens';
import { PeerDirectory } from './peer-directory';

/** How often the members' last-seen times are written down while nothing else changes. */
const PERSIST_EVERY_MS = 60_000;

/**
 * The home replica of a request_id: the one that runs (or already ran) the Start that carries it, so a
 * retry landing anywhere is recognised without asking every replica (docs/SCALING.md, "request_id").
 * It is the member with the highest sha256(member, request_id) (rendezvous hashing), over this replica
 * and every replica seen as a peer within EXEC_RETENTION_SECONDS: a replica that is down (restarting)
 * stays a member, so its ids never move to another one that would run them a second time; one gone for
 * longer than a request_id is remembered stops being one. The members are kept in
 * EXEC_DATA_DIR/replicas.json, so a restarted replica knows those that are down at its start.
 */
@Injectable()
export class RequestIdHome {
  private readonly log: Logger;
  private readonly file: string;
  /** replica id → last time it was seen among the peers (ms). */
  private readonly lastSeen = new Map<string, number>();
  private persistedAt = 0;

  constructor(
    private readonly directory: PeerDirectory,
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ component: 'request-id-home' });
    this.file = join(config.EXEC_DATA_DIR, 'replicas.json');
    try {
      const saved = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      if (saved && typeof saved === 'object')
        for (const [id, at] of Object.entries(saved)) if (typeof at === 'number' && id !== directory.self) this.lastSeen.set(id, at);
    } catch {
      /* none yet, or unreadable: the peers seen from now on */
    }
  }

  /** The replica that owns `requestId` (possibly this one). */
  of(requestId: string): string {
    let best = this.directory.self;
    let bestScore = score(best, requestId);
    for (const member of this.members()) {
      const s = score(member, requestId);
      if (s > bestScore || (s === bestScore && member < best)) {
        best = member;
        bestScore = s;
      }
    }
    return best;
  }

  /** The other members: peers now, and those seen within EXEC_RETENTION_SECONDS. */
  private members(): string[] {
    const now = Date.now();
    let changed = false;
    for (const id of this.directory.peers().keys()) {
      if (!this.lastSeen.has(id)) changed = true;
      this.lastSeen.set(id, now);
    }
    const horizon = now - this.config.EXEC_RETENTION_SECONDS * 1000;
    for (const [id, at] of this.lastSeen) {
      if (at < horizon) {
        this.lastSeen.delete(id);
        changed = true;
      }
    }
    if (changed || now - this.persistedAt >= PERSIST_EVERY_MS) this.persist(now);
    return [...this.lastSeen.keys()];
  }

  private persist(now: number): void {
    this.persistedAt = now;
    try {
      mkdirSync(this.config.EXEC_DATA_DIR, { recursive: true });
      writeFileSync(`${this.file}.tmp`, JSON.stringify(Object.fromEntries(this.lastSeen)));
      renameSync(`${this.file}.tmp`, this.file);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not write replicas.json: a restart may not know the replicas that are down then');
    }
  }
}

function score(member: string, requestId: string): string {
  return createHash('sha256').update(member).update('\0').update(requestId).digest('hex');
}
