import { registryOf } from '../image-puller';
import { classifyPullError } from './docker-image-pull';

describe('classifyPullError', () => {
  const what = 'pull of image r:5000/x:1 from registry r:5000';
  it.each([
    ['Head "http://r:5000/v2/x/manifests/1": no basic auth credentials', 'unauthenticated'],
    ['unauthorized: authentication required', 'unauthenticated'],
    ['manifest for r:5000/x:1 not found: manifest unknown: manifest unknown', 'not_found'],
    ['Get "http://r:5000/v2/": dial tcp r:5000: connect: connection refused', 'unavailable'],
  ])('%s → %s, naming the image and registry', (message, kind) => {
    const e = classifyPullError(message, what);
    expect({ kind: e.kind, message: e.message }).toEqual({ kind, message: expect.stringContaining(what) });
  });
});

describe('registryOf', () => {
  it("follows Docker's rule for the first component", () => {
    expect(['busybox', 'library/busybox:1', '127.0.0.1:5000/busybox', 'localhost/x', 'ghcr.io/o/x@sha256:ab'].map(registryOf)).toEqual([
      'docker.io',
      'docker.io',
      '127.0.0.1:5000',
      'localhost',
      'ghcr.io',
    ]);
  });
});
