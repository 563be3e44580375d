import { problemsOf } from './config-problems';

describe('problemsOf', () => {
  it("is no problem when the check returns, and the check's Error message after the prefix when it throws", () => {
    expect(problemsOf(() => 42)).toEqual([]);
    expect(
      problemsOf(() => {
        throw new Error('cannot read the file (ENOENT)');
      }, 'EXEC_X="/f": '),
    ).toEqual(['EXEC_X="/f": cannot read the file (ENOENT)']);
  });
});
