import { dockerOperation } from './docker-request-metrics';

describe('dockerOperation: a bounded label for each Docker request', () => {
  it.each([
    ['POST', '/containers/create?', 'POST /containers/create'],
    ['POST', '/v1.41/containers/0123abcd/start?', 'POST /containers/{id}/start'],
    ['GET', '/containers/0123abcd/json', 'GET /containers/{id}/json'],
    ['GET', '/containers/json?all=true', 'GET /containers/json'],
    ['POST', '/containers/0123abcd/exec', 'POST /containers/{id}/exec'],
    ['POST', '/exec/feed/start', 'POST /exec/{id}/start'],
    ['GET', '/images/exec-stream/busybox:latest/json', 'GET /images/{name}/json'],
    ['GET', '/_ping', 'GET /_ping'],
    ['GET', '/events?filters=x', 'GET /events'],
  ])('%s %s → %s', (method, path, label) => expect(dockerOperation(method, path)).toBe(label));

  it('collapses paths of another shape (ids with / or ..) into "other"', () => {
    expect(dockerOperation('GET', '/containers/a/../../b/c/d/json')).toBe('GET other');
    expect(dockerOperation('GET', '/containers/x/Weird%20path')).toBe('GET other');
  });
});
