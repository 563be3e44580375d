import { status } from '@grpc/grpc-js';
import pino from 'pino';
import { Writable } from 'node:stream';
import { levelOfStatus, LogRateLimit, statusName } from './log-levels';

describe('call log levels', () => {
  it('names every code, and logs OK and CANCELLED at info, server faults at error, the rest at warn', () => {
    expect(statusName(status.NOT_FOUND)).toBe('NOT_FOUND');
    expect(statusName(99)).toBe('99');
    const byLevel: Record<string, string[]> = {};
    for (let code = 0; code <= 16; code++) (byLevel[levelOfStatus(code)] ??= []).push(statusName(code));
    expect(byLevel).toEqual({
      info: ['OK', 'CANCELLED'],
      error: ['UNKNOWN', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS'],
      warn: [
        'INVALID_ARGUMENT',
        'DEADLINE_EXCEEDED',
        'NOT_FOUND',
        'ALREADY_EXISTS',
        'PERMISSION_DENIED',
        'RESOURCE_EXHAUSTED',
        'FAILED_PRECONDITION',
        'ABORTED',
        'OUT_OF_RANGE',
        'UNIMPLEMENTED',
        'UNAUTHENTICATED',
      ],
    });
  });
});

describe('LogRateLimit', () => {
  it('lets `lines` lines of a key through per window, then says how many it left out', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino(new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString())), done()) }));
    const limit = new LogRateLimit(log, 3, 200);
    const allowed = Array.from({ length: 10 }, () => limit.allow('refused', 'warn'));
    expect(allowed).toEqual([true, true, true, false, false, false, false, false, false, false]);
    expect(limit.allow('other', 'warn')).toBe(true); // keys are limited apart
    const summary = await new Promise<Record<string, unknown>>((resolve) => {
      const poll = setInterval(() => lines.length && (clearInterval(poll), resolve(lines[0])), 10);
    });
    expect(summary).toMatchObject({ level: 40, lines: 'refused', suppressed: 7, msg: 'log lines suppressed (rate limit)' });
    expect(limit.allow('refused', 'warn')).toBe(true); // a new window
  });
});
