import { partialPath, requirePath } from './container-files.service';

describe('partialPath', () => {
  it('is where Docker puts an entry under the directory, as it cleans names', () => {
    expect(partialPath('/tmp/d', 'a.txt')).toBe('/tmp/d/a.txt');
    expect(partialPath('/tmp/d', './sub/b.bin')).toBe('/tmp/d/sub/b.bin');
    expect(partialPath('/tmp/d', '/abs/c')).toBe('/tmp/d/abs/c');
    expect(partialPath('/tmp/d', '/x/../../y')).toBe('/tmp/d/y');
  });

  it('is nothing for a name Docker refuses as leaving the directory, or for the directory itself', () => {
    for (const name of ['../etc/passwd', 'a/../../etc/passwd', '..', '.', './', '']) expect(partialPath('/tmp/d', name)).toBeUndefined();
  });
});

describe('requirePath', () => {
  it('takes an absolute path and refuses a relative one', () => {
    expect(requirePath('/tmp')).toBe('/tmp');
    expect(() => requirePath('tmp')).toThrow(/must be absolute/);
  });
});
