import { ReloadedValue } from './reloaded-value';

/** Files faked as a string (or a read error): the value is its number, or an Error for anything else. */
function reloaded(retryRefused?: boolean) {
  const state = { bytes: '1' as string | Error, problems: [] as string[], made: 0 };
  const value = new ReloadedValue(1, '1', {
    read: () => {
      if (state.bytes instanceof Error) throw state.bytes;
      return state.bytes;
    },
    make: (bytes) => {
      state.made++;
      if (!/^\d+$/.test(bytes)) throw new Error(`${bytes} is no number`);
      return Number(bytes);
    },
    refused: (problem) => state.problems.push(problem),
    retryRefused,
  });
  return { value, state };
}

describe('ReloadedValue', () => {
  it('takes changed bytes that make a value, and does nothing for unchanged ones', () => {
    const { value, state } = reloaded();
    expect(value.check()).toBe(false);
    state.bytes = '2';
    expect(value.check()).toBe(true);
    expect(value.value).toBe(2);
    expect(value.check()).toBe(false);
    expect(state.made).toBe(1);
  });

  it('keeps the last good value through bad bytes and unreadable files, reporting each problem once', () => {
    const { value, state } = reloaded();
    state.bytes = 'x';
    expect([value.check(), value.check()]).toEqual([false, false]);
    state.bytes = new Error('cannot read: ENOENT');
    expect([value.check(), value.check()]).toEqual([false, false]);
    expect(value.value).toBe(1);
    expect(state.problems).toEqual(['x is no number', 'cannot read: ENOENT']);
    expect(state.made).toBe(1); // refused bytes are made again only once they change
    state.bytes = '3';
    expect(value.check()).toBe(true);
    state.bytes = 'x';
    value.check();
    expect(state.problems).toEqual(['x is no number', 'cannot read: ENOENT', 'x is no number']); // again after a good change
  });

  it('with retryRefused, makes refused bytes again at every check (reporting the problem still once)', () => {
    const { value, state } = reloaded(true);
    state.bytes = 'x';
    value.check();
    value.check();
    expect(state.made).toBe(2);
    expect(state.problems).toEqual(['x is no number']);
  });
});
