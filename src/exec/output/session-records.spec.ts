import { parseRecord, SessionExitRecord, SessionProcessRecord } from './session-records';

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
});
