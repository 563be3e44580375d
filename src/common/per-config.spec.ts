import { perConfig } from './per-config';

describe('perConfig', () => {
  it('makes one instance per config object, on first use, and a new one for another config', () => {
    let made = 0;
    const counterFor = perConfig((config: { name: string }) => ({ name: config.name, n: ++made }));
    const a = { name: 'a' };
    expect(made).toBe(0);
    const first = counterFor(a);
    expect(counterFor(a)).toBe(first);
    expect(made).toBe(1);
    const other = counterFor({ name: 'a' });
    expect(other).not.toBe(first);
    expect(other).toEqual({ name: 'a', n: 2 });
  });

  it('keeps what make returned even when it is undefined, without making it again', () => {
    let calls = 0;
    const nothingFor = perConfig((_config: object) => void calls++);
    const c = {};
    nothingFor(c);
    nothingFor(c);
    expect(calls).toBe(1);
  });
});
