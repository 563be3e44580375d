import { Metadata, status as Code, type ServiceError } from '@grpc/grpc-js';
import type { ListSessionsRequest__Output, ListSessionsResponse, SessionInfo } from '@exec-stream/client/wire';
import { createRootLogger } from '../../common/logger';
import { pageTokenAt } from '../session';
import { LIST_MAX_PAGE_BYTES, sessionInfoBytes } from './listing-page';
import { FORWARDED_BY } from './forwarded-metadata';
import { MergedListing } from './merged-listing';
import type { PeerChannels } from './peer-channels';
import type { PeerDirectory } from './peer-directory';

const PEERS = { 'es-b': '10.0.0.2:50051', 'es-c': '10.0.0.3:50051' };

/** A session of `replica` created at `ms` (created_at in ns, as the wire has it, with a sub-ms part). */
const session = (replica: string, n: number, ms: number): SessionInfo => ({
  session_id: `${replica}.0000000${n}-0000-4000-8000-000000000000`,
  replica,
  created_at: String(BigInt(ms) * 1_000_000n + 123_456n),
});
const ids = (r: ListSessionsResponse) => (r.sessions ?? []).map((s) => s.session_id);

class FakeDirectory {
  readonly self = 'es-a';
  peers() {
    return new Map(Object.entries(PEERS));
  }
}

/** Each peer's ListSessions answer, by address: a page or the error its call ends with. */
class FakeChannels {
  answers = new Map<string, ListSessionsResponse | ServiceError>();
  calls: Array<{ address: string; method: string; req: unknown; metadata: Metadata }> = [];
  async unary<Res>(address: string, method: string, req: unknown, metadata: Metadata): Promise<Res> {
    this.calls.push({ address, method, req, metadata });
    const answer = this.answers.get(address) ?? { sessions: [], next_page_token: '' };
    if (answer instanceof Error) throw answer;
    return answer as Res;
  }
}

describe('MergedListing', () => {
  let channels: FakeChannels;
  let merged: MergedListing;
  const req = { limit: 0, page_token: '' } as ListSessionsRequest__Output;
  // es-a and es-b each have one at 1000 ms: the session id decides between them.
  const local: ListSessionsResponse = { sessions: [session('es-a', 1, 1000), session('es-a', 2, 3000)], next_page_token: '' };
  const ofB: ListSessionsResponse = { sessions: [session('es-b', 1, 1000), session('es-b', 2, 2000)], next_page_token: '' };
  const ofC: ListSessionsResponse = { sessions: [session('es-c', 1, 500), session('es-c', 2, 4000)], next_page_token: '' };
  const order = ['es-c.1', 'es-a.1', 'es-b.1', 'es-b.2', 'es-a.2', 'es-c.2'].map((s) => s.replace(/\.(\d)$/, '.0000000$1-0000-4000-8000-000000000000'));

  beforeEach(() => {
    channels = new FakeChannels();
    channels.answers.set(PEERS['es-b'], ofB);
    channels.answers.set(PEERS['es-c'], ofC);
    merged = new MergedListing(channels as unknown as PeerChannels, new FakeDirectory() as unknown as PeerDirectory, createRootLogger('silent'));
  });

  it('merges this replica and both peers in one order (creation time, then session id); the last page has no token', async () => {
    const page = await merged.list(req, 100, local, undefined);
    expect(ids(page)).toEqual(order);
    expect({ next: page.next_page_token, unreachable: page.unreachable_replicas }).toEqual({ next: '', unreachable: [] });
  });

  it("asks each peer once for the caller's request, with the caller's token and marked as forwarded", async () => {
    const md = new Metadata();
    md.set('authorization', 'Bearer t0k3n');
    const request = { limit: 3, page_token: pageTokenAt(700, 'es-c.x'), labels: { suite: 's' } } as unknown as ListSessionsRequest__Output;
    await merged.list(request, 3, local, md);
    expect(channels.calls.map((c) => [c.address, c.method, c.req]).sort()).toEqual([
      [PEERS['es-b'], 'ListSessions', request],
      [PEERS['es-c'], 'ListSessions', request],
    ]);
    for (const c of channels.calls) {
      expect(c.metadata.get('authorization')).toEqual(['Bearer t0k3n']);
      expect(c.metadata.get(FORWARDED_BY)).toEqual(['es-a']);
    }
  });

  it("applies the limit; the next token is the last session's position (its creation ms and id)", async () => {
    const page = await merged.list(req, 3, local, undefined);
    expect(ids(page)).toEqual(order.slice(0, 3));
    const last = order[2];
    expect(page.next_page_token).toBe(pageTokenAt(1000, last));
    expect(Buffer.from(page.next_page_token!, 'base64url').toString()).toMatch(new RegExp(`^1000:${last.replace(/\./g, '\\.')}\\.[0-9a-f]{16}$`));
  });

  it('sets the next token when a replica has more beyond its page, even though the union fits the limit', async () => {
    channels.answers.set(PEERS['es-b'], { sessions: [session('es-b', 1, 1000)], next_page_token: pageTokenAt(1000, 'es-b.x') });
    channels.answers.set(PEERS['es-c'], { sessions: [], next_page_token: '' });
    const page = await merged.list(req, 3, { sessions: [session('es-a', 1, 1000)], next_page_token: '' }, undefined);
    expect(ids(page)).toHaveLength(2);
    expect(page.next_page_token).toBe(pageTokenAt(1000, page.sessions![1].session_id!));
  });

  it('bounds a page by bytes too, and never passes the end of a peer page that was cut: the next token continues exactly', async () => {
    const big = (replica: string, n: number, ms: number): SessionInfo => ({ ...session(replica, n, ms), command: ['true', 'x'.repeat(300 * 1024)] });
    // es-b cut its own page after one session (bytes): what it has after 1000 ms is not on this page.
    channels.answers.set(PEERS['es-b'], { sessions: [big('es-b', 1, 1000)], next_page_token: pageTokenAt(1000, session('es-b', 1, 1000).session_id!) });
    channels.answers.set(PEERS['es-c'], { sessions: [big('es-c', 1, 500), big('es-c', 2, 4000)], next_page_token: '' });
    const mine = { sessions: [big('es-a', 1, 1000), big('es-a', 2, 3000)], next_page_token: '' };
    const page = await merged.list(req, 100, mine, undefined);
    expect(ids(page)).toEqual(order.slice(0, 3));
    expect(page.next_page_token).toBe(pageTokenAt(1000, order[2]));
    // Seven sessions of 300 KiB: pages of at most 1 MiB (LIST_MAX_PAGE_BYTES), three sessions each.
    channels.answers.set(PEERS['es-b'], { sessions: [], next_page_token: '' });
    channels.answers.set(PEERS['es-c'], { sessions: [], next_page_token: '' });
    const seven = { sessions: Array.from({ length: 7 }, (_, i) => big('es-a', i, 1000 + i)), next_page_token: '' };
    const first = await merged.list(req, 100, seven, undefined);
    expect(ids(first)).toEqual(ids(seven).slice(0, 3));
    expect(first.next_page_token).toBe(pageTokenAt(1002, seven.sessions[2].session_id!));
    expect(first.sessions!.reduce((n, s) => n + sessionInfoBytes(s), 0)).toBeLessThanOrEqual(LIST_MAX_PAGE_BYTES);
  });

  it('names a peer that cannot be asked in unreachable_replicas, and lists the others without its sessions', async () => {
    channels.answers.set(
      PEERS['es-c'],
      Object.assign(new Error('connection refused'), { code: Code.UNAVAILABLE, details: 'connection refused', metadata: new Metadata() }),
    );
    const page = await merged.list(req, 100, local, undefined);
    expect(page.unreachable_replicas).toEqual(['es-c']);
    expect(ids(page)).toEqual(order.filter((id) => !id.startsWith('es-c.')));
    expect(page.next_page_token).toBe('');
  });
});
