import { loadSync } from '@grpc/proto-loader';
import type { MethodDefinition } from '@grpc/grpc-js';
import type { SessionInfo } from '@exec-stream/client/wire';
import { execProtoPath, PROTO_LOADER_OPTIONS } from '@exec-stream/client/wire';
import { boundPage, LIST_MAX_PAGE_BYTES, sessionInfoBytes } from './listing-page';
import { pageTokenAt } from '../session';

const LIST = (loadSync(execProtoPath(), PROTO_LOADER_OPTIONS)['dagger.exec.Exec'] as unknown as Record<string, MethodDefinition<object, object>>).ListSessions;
const encodedBytes = (sessions: SessionInfo[]) => LIST.responseSerialize({ sessions }).length;

/** A session as large as a Start may make it: 1,024 arguments of 256 bytes (256 KiB), 64 labels of 128 + 1024 bytes. */
const largest = (n: number): SessionInfo => ({
  session_id: `es-a.0000000${n}-0000-4000-8000-000000000000`,
  container_id: 'c'.repeat(64),
  exec_id: 'e'.repeat(64),
  image: 'i'.repeat(512),
  command: Array.from({ length: 1024 }, (_, i) => String(i).padEnd(256, 'a')),
  tty: true,
  state: 'finished',
  clients_attached: 64,
  created_at: String(BigInt(1000 + n) * 1_000_000n),
  started_at: '1796555052738000000',
  finished_at: '1796555052831000000',
  outcome: {
    exit_code: -1,
    signal: 9,
    reason: 'idle_timeout',
    started_at: '1796555052738000000',
    finished_at: '1796555052831000000',
    stdout_bytes: '18446744073709551615',
    stderr_bytes: '18446744073709551615',
    message: 'm'.repeat(2048),
    timeout_signal: 9,
  },
  output_bytes: '18446744073709551615',
  last_sequence: '18446744073709551615',
  mode: 'exec',
  labels: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [String(i).padEnd(128, 'k'), 'v'.repeat(1024)])),
  request_id: 'r'.repeat(128),
  replica: 'es-a',
});

describe('ListSessions pages by bytes', () => {
  it('estimates no less than the encoded size, and not far above it', () => {
    for (const info of [largest(1), { session_id: 'a.b', created_at: '0' }, { ...largest(2), labels: {}, command: [] }]) {
      const exact = encodedBytes([info]);
      expect(sessionInfoBytes(info)).toBeGreaterThanOrEqual(exact);
      expect(sessionInfoBytes(info)).toBeLessThanOrEqual(exact * 1.1 + 300);
    }
  });

  it('a page holds what fits in LIST_MAX_PAGE_BYTES (at least one session) and at most the limit; the token is the last one kept', () => {
    const infos = Array.from({ length: 10 }, (_, i) => largest(i));
    const page = boundPage(infos, 100, false);
    expect(page.sessions.length).toBeGreaterThanOrEqual(1);
    expect(page.sessions.length).toBeLessThan(10);
    expect(encodedBytes(page.sessions)).toBeLessThanOrEqual(LIST_MAX_PAGE_BYTES);
    expect(encodedBytes(infos.slice(0, page.sessions.length + 1))).toBeGreaterThan(LIST_MAX_PAGE_BYTES * 0.75);
    const last = page.sessions[page.sessions.length - 1];
    expect(page.next_page_token).toBe(pageTokenAt(1000 + page.sessions.length - 1, last.session_id!));
    expect(boundPage(infos.slice(0, 2), 1, false).sessions).toHaveLength(1);
    expect(boundPage(infos.slice(0, 1), 100, false)).toEqual({ sessions: infos.slice(0, 1), next_page_token: '' });
    expect(boundPage(infos.slice(0, 1), 100, true).next_page_token).toBe(pageTokenAt(1000, infos[0].session_id!));
    expect(boundPage([], 100, false)).toEqual({ sessions: [], next_page_token: '' });
  });
});
