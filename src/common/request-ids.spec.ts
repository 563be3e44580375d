import { ExecError } from './errors';
import { LIMITS } from './limits';
import { isImageReference, longStringsOf, optionalId, quoteCallerValues, quoted, requiredId } from './request-ids';

const invalid = (fn: () => unknown): ExecError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ExecError);
    expect((err as ExecError).kind).toBe('invalid');
    return err as ExecError;
  }
  throw new Error('expected INVALID_ARGUMENT');
};

describe('ids', () => {
  it.each(['3f2a', 'a'.repeat(64), 'my-container_1.b', 'a..', '00000000-0000-0000-0000-000000000000'])('accepts %s', (id) => {
    expect(requiredId('container_id', id)).toBe(id);
  });

  it('trims and treats empty as absent', () => {
    expect(optionalId('exec_id', '  abc  ')).toBe('abc');
    expect(optionalId('exec_id', '')).toBe('');
    expect(optionalId('exec_id', undefined)).toBe('');
    expect(invalid(() => requiredId('container_id', ' ')).message).toMatch(/container_id is empty/);
  });

  it.each(['.', '..', '/', 'a/../b', '%2e%2e/x', '../x', 'a b', '-a', '_a', 'a/b', 'a%20b', 'a?b', 'a#b', 'é'])('refuses %j', (id) => {
    expect(invalid(() => requiredId('container_id', id)).message).toMatch(/^container_id .* is not an id/);
  });

  it('refuses an id over the limit without echoing it', () => {
    const id = 'a'.repeat(100_000);
    const err = invalid(() => requiredId('container_id', id));
    expect(err.message).toContain(`at most ${LIMITS.idBytes}`);
    expect(err.message.length).toBeLessThan(200);
    expect(requiredId('container_id', 'a'.repeat(LIMITS.idBytes))).toHaveLength(LIMITS.idBytes);
  });

  it('quotes at most 32 characters of a value', () => {
    expect(quoted('ab"c')).toBe('"ab\\"c"');
    expect(quoted('x'.repeat(1000))).toBe(`"${'x'.repeat(32)}…" (1000 bytes)`);
  });
});

describe('image references (Docker reference grammar)', () => {
  it.each([
    'busybox',
    'exec-stream/busybox:latest',
    'exec-stream/busybox-nocmd:latest',
    'localhost:5000/a/b:v1.2',
    'registry.example.com/team/app__x:1',
    'Reg.Example.com/app',
    '[::1]:5000/app',
    'a@sha256:' + 'a'.repeat(64),
    'a:b@sha256:' + 'a'.repeat(64),
    'sha256:' + 'a'.repeat(64),
    'a'.repeat(64),
  ])('accepts %s', (ref) => expect(isImageReference(ref)).toBe(true));

  it.each([
    'a/../b',
    '../b',
    'a/./b',
    'a/..',
    '..',
    '.',
    '/a',
    'a/',
    'a//b',
    '%2e%2e/x',
    'bad image',
    'UPPER',
    'a:',
    'a@sha256:abc',
    'a:' + 't'.repeat(129),
    'a/' + 'b'.repeat(255),
    'a'.repeat(LIMITS.imageBytes + 1),
    '-a',
  ])('refuses %j', (ref) => expect(isImageReference(ref)).toBe(false));
});

describe('quoteCallerValues', () => {
  const path = `/tmp/${'p'.repeat(200)}/x`;
  it('replaces every run of a long client value, whole or cut short, by its quoted form', () => {
    const message = `archive ${path} in container 3f2a: Could not find the file ${path.slice(0, 150)}`;
    expect(quoteCallerValues(message, [path])).toBe(`archive ${quoted(path)} in container 3f2a: Could not find the file ${quoted(path)}`);
  });

  it("a value inside a longer id (a prefix of Docker's full id in its words) quotes that id", () => {
    const full = '6f053bd6be3b11adf142ad1b5ef29c666a7c2ad37fa76d6c1a475fa5e936e5f9';
    const prefix = full.slice(0, 58);
    expect(quoteCallerValues(`pause of container ${full}: Container ${full} is not running`, [prefix])).toBe(
      `pause of container ${quoted(full)}: Container ${quoted(full)} is not running`,
    );
  });

  it('also in its JSON-escaped form; values of at most 32 characters and other text stay', () => {
    const odd = `"quoted"\n${'q'.repeat(40)}`;
    expect(quoteCallerValues(`user ${JSON.stringify(odd)} unknown`, [odd])).toBe(`user "${quoted(odd)}" unknown`);
    expect(quoteCallerValues('no such user short-user', ['short-user', 'x'.repeat(40)])).toBe('no such user short-user');
  });

  it('collects the long strings of a decoded request: fields, map keys and values, list items', () => {
    const long = (c: string) => c.repeat(33);
    expect(longStringsOf({ a: long('a'), b: 'short', env: { [long('k')]: long('v') }, command: ['x', long('c')], stdin: Buffer.alloc(64), n: 5 })).toEqual([
      long('a'),
      long('k'),
      long('v'),
      long('c'),
    ]);
  });
});
