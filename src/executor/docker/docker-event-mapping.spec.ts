import { dockerEventKey, lifecycleFromDocker } from './docker-event-mapping';

const actor = (attrs: Record<string, string> = {}) => ({
  ID: 'c'.repeat(64),
  Attributes: { 'exec-stream.managed': 'true', 'exec-stream.session': 's1', ...attrs },
});

describe('lifecycleFromDocker', () => {
  it.each([
    ['create', 'created', 'created'],
    ['start', 'started', 'running'],
    ['pause', 'paused', 'paused'],
    ['unpause', 'resumed', 'running'],
    ['oom', 'oom', 'running'],
    ['destroy', 'destroyed', 'removed'],
  ])('%s → %s', (action, type, status) => {
    expect(lifecycleFromDocker({ Type: 'container', Action: action, Actor: actor(), timeNano: 1_700_000_000_123_456_000 })).toMatchObject({
      containerId: 'c'.repeat(64),
      type,
      status,
      source: 'docker',
      sessionId: 's1',
    });
  });

  it('die carries the exit code, kill the signal', () => {
    expect(lifecycleFromDocker({ Type: 'container', Action: 'die', Actor: actor({ exitCode: '143' }) })).toMatchObject({ type: 'exited', exitCode: 143 });
    const k = lifecycleFromDocker({ Type: 'container', Action: 'kill', Actor: actor({ signal: '15' }) });
    expect(k).toMatchObject({ type: 'killed', signal: 15 });
    expect(k?.message).toContain('SIGTERM');
  });

  it('ignores what is not a transition here', () => {
    for (const action of ['attach', 'resize', 'stop', 'exec_create: sh', 'exec_start: sh', 'exec_die', 'rename', 'restart']) {
      expect(lifecycleFromDocker({ Type: 'container', Action: action, Actor: actor() })).toBeUndefined();
    }
    expect(lifecycleFromDocker({ Type: 'image', Action: 'delete', Actor: actor() })).toBeUndefined();
    expect(lifecycleFromDocker({ Type: 'container', Action: 'start', Actor: {} })).toBeUndefined();
  });

  it('keys the same event alike and different events apart', () => {
    const a = { Type: 'container', Action: 'die', Actor: actor(), timeNano: 5 };
    expect(dockerEventKey(a)).toBe(dockerEventKey({ ...a }));
    expect(dockerEventKey(a)).not.toBe(dockerEventKey({ ...a, Action: 'destroy' }));
  });
});
