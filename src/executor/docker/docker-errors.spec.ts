import Docker from 'dockerode';
import { dockerOptionsFromHost } from './docker-host';
import { fromDockerError } from './docker-errors';

/** An error as dockerode builds one from Docker's answer (modem.js buildPayload). */
const dockerAnswer = (statusCode: number, message: string) =>
  Object.assign(new Error(`(HTTP code ${statusCode}) server error - ${message} `), { statusCode, json: { message } });

describe('fromDockerError: client mistakes are INVALID_ARGUMENT whatever code Docker chose', () => {
  it("Node's own refusal of a path with unescaped characters", async () => {
    const docker = new Docker(dockerOptionsFromHost(process.env.DOCKER_HOST));
    const err = await docker
      .getContainer('a b')
      .inspect()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_UNESCAPED_CHARACTERS' });
    const mapped = fromDockerError(err, 'container a b');
    expect(mapped.kind).toBe('invalid');
    expect(mapped.message).toMatch(/characters a request path cannot carry/);
  });

  it.each([
    ['an ambiguous prefix', dockerAnswer(500, 'Multiple IDs found with provided prefix: 1'), /ambiguous/],
    ['a working_dir component over NAME_MAX (run)', dockerAnswer(500, 'lstat /var/lib/docker/overlay2/x/merged/ddd: file name too long'), /too long/],
    [
      'a working_dir component over NAME_MAX (exec)',
      dockerAnswer(500, 'OCI runtime exec failed: chdir to cwd ("/ddd") set in config.json failed: file name too long: unknown'),
      /too long/,
    ],
    [
      'a user the image does not know (run)',
      dockerAnswer(500, 'unable to find user nosuch: no matching entries in passwd file'),
      /user \(or group\) is not known in the image/,
    ],
    [
      'a user the image does not know (exec)',
      dockerAnswer(500, 'OCI runtime exec failed: exec failed: unable to find user nosuch: no matching entries in passwd file: unknown'),
      /not known in the image/,
    ],
    ['a redirect', Object.assign(new Error('(HTTP code 301) unexpected - '), { statusCode: 301 }), /not a plain name/],
    ["a uid beyond Docker's range (run: -u 4294967295)", dockerAnswer(500, 'uids and gids must be in range 0-2147483647'), /uid or gid.*2147483647/],
    [
      'a path whose symlinks loop or that has too many components (CopyTo)',
      dockerAnswer(500, 'evalSymlinksInScope: too many links in /var/lib/docker/overlay2/c28e/merged/tmp/loop/x'),
      /too many components or symbolic links/,
    ],
  ])('%s', (_name, err, says) => {
    const mapped = fromDockerError(err, 'container 1');
    expect(mapped.kind).toBe('invalid');
    expect(mapped.message).toMatch(says);
  });

  it("keeps the path in the container, not the host's path of the container's root", () => {
    const err = dockerAnswer(500, 'evalSymlinksInScope: too many links in /var/lib/docker/overlay2/c28e80c203534559c43a/merged/tmp/loop/x');
    expect(fromDockerError(err, 'archive in container 1').message).toMatch(/too many links in \/tmp\/loop\/x$/);
  });

  it("a container whose state changed between the check and Docker's answer is FAILED_PRECONDITION, whatever code Docker chose", () => {
    for (const words of [
      'Container 3f2a is not paused',
      'Container 3f2a is already paused',
      'Container 3f2a is paused, unpause the container before stopping or killing',
      'Container 3f2a is not running',
    ]) {
      expect(fromDockerError(dockerAnswer(500, words), 'resume of container 3f2a').kind).toBe('precondition');
    }
  });

  it("a resume or pause that lost a race, in containerd's words, has the reason of the state it met (fuzz, CI of 2026-12-06)", () => {
    const reason = (words: string) => fromDockerError(dockerAnswer(500, words), 'resume of container 3f2a').detail?.reason;
    expect(reason('Cannot unpause container 3f2a: cannot resume a running process: unknown')).toBe('CONTAINER_NOT_PAUSED');
    expect(reason('Cannot pause container 3f2a: cannot pause a paused container: unknown')).toBe('CONTAINER_PAUSED');
    expect(reason('Cannot unpause container 3f2a: cannot resume a stopped container: unknown')).toBe('CONTAINER_NOT_RUNNING');
    expect(reason('Cannot pause container 3f2a: cannot pause task in created state: unknown')).toBe('CONTAINER_NOT_RUNNING');
  });

  it('leaves server trouble UNAVAILABLE', () => {
    expect(fromDockerError(dockerAnswer(500, 'containerd: connection refused'), 'container 1').kind).toBe('unavailable');
    expect(fromDockerError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'ping').kind).toBe('unavailable');
  });
});
