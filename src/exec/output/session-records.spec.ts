import { parseRecord, SessionExitRecord, SessionMetaRecord, SessionProcessRecord } from './session-records';

describe('session records read back from disk', () => {
  it('exit.json: an exit code, or an error, with when it ended and the Outcome as it was sent', () => {
    expect(parseRecord(SessionExitRecord, '{"exitCode":7,"finishedAt":1700000000000,"outcome":{"exit_code":7}}')).toEqual({
      exitCode: 7,
      finishedAt: 1700000000000,
      outcome: { exit_code: 7 },
    });
    const lost = parseRecord(SessionExitRecord, '{"error":{"kind":"unavailable","message":"Docker went away","reason":"OUTCOME_LOST"},"finishedAt":1}');
    expect(lost.error).toEqual({ kind: 'unavailable', message: 'Docker went away', reason: 'OUTCOME_LOST' });
  });

  it.each([
    ['an exit code that is a string', '{"exitCode":"7","finishedAt":1}', /exitCode must be an integer/],
    ['no finishedAt', '{"exitCode":0}', /finishedAt must be a number/],
    ['an error without its message', '{"error":{"kind":"internal"},"finishedAt":1}', /error\.message must be a string/],
    ['an Outcome that is no object', '{"exitCode":0,"finishedAt":1,"outcome":"exited"}', /outcome must be an object/],
    ['an array', '[]', /not a JSON object/],
    ['null', 'null', /not a JSON object/],
  ])('exit.json with %s is damaged: an Error saying why, never a cast', (_what, text, message) => {
    expect(() => parseRecord(SessionExitRecord, text)).toThrow(message);
  });

  it('process.json: the container, the exec and when it started; a container id that is no string is damaged', () => {
    expect(parseRecord(SessionProcessRecord, '{"containerId":"abc","execId":"def","startedAt":5}')).toEqual({
      containerId: 'abc',
      execId: 'def',
      startedAt: 5,
    });
    expect(() => parseRecord(SessionProcessRecord, '{"containerId":42,"startedAt":5}')).toThrow(/containerId must be a string/);
    expect(() => parseRecord(SessionProcessRecord, '{"containerId":"abc"')).toThrow(SyntaxError);
  });

  it('meta.json: what the session is, as written at start (optional fields absent)', () => {
    const meta = {
      version: 1,
      id: 'r1.abc',
      kind: 'run',
      image: 'alpine',
      command: ['sh', '-c', 'true'],
      tty: false,
      createdAt: 1700000000000,
      labels: { team: 'a' },
      requestId: 'req-1',
      requestFingerprint: 'f00d',
      timeouts: { timeoutMs: 4000, idleTimeoutMs: 0, killGraceMs: 1000 },
      outputLimitBytes: 1048576,
    };
    expect(parseRecord(SessionMetaRecord, JSON.stringify(meta))).toEqual(meta);
    expect(parseRecord(SessionMetaRecord, '{"kind":"exec","createdAt":1,"containerId":"c1"}')).toEqual({ kind: 'exec', createdAt: 1, containerId: 'c1' });
  });

  it.each([
    ['no kind', '{"createdAt":1}', /kind must be one of the following values: run, exec/],
    ['an unknown kind', '{"kind":"job","createdAt":1}', /kind must be one of/],
    ['no createdAt', '{"kind":"run"}', /createdAt must be a number/],
    ['a command that is no list of strings', '{"kind":"run","createdAt":1,"command":["sh",1]}', /each value in command must be a string/],
    ['a tty that is no boolean', '{"kind":"run","createdAt":1,"tty":"yes"}', /tty must be a boolean/],
    ['a label that is no string', '{"kind":"run","createdAt":1,"labels":{"team":1}}', /labels must be an object of strings/],
    ['a negative timeout', '{"kind":"run","createdAt":1,"timeouts":{"timeoutMs":-1}}', /timeouts\.timeoutMs must not be less than 0/],
    ['an output limit that is a string', '{"kind":"run","createdAt":1,"outputLimitBytes":"10"}', /outputLimitBytes must be an integer/],
  ])('meta.json with %s is damaged: an Error saying why', (_what, text, message) => {
    expect(() => parseRecord(SessionMetaRecord, text)).toThrow(message);
  });
});
