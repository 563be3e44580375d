import { logOptionsProblems, parseLogOptions } from './log-options';

describe('parseLogOptions', () => {
  it('takes max-size, max-file and compress', () => {
    expect(parseLogOptions('max-size=20m,max-file=5,compress=false')).toEqual({ 'max-size': '20m', 'max-file': '5', compress: 'false' });
    expect(parseLogOptions('')).toEqual({});
  });

  it.each([
    ['mode=non-blocking', /the options taken are max-size, max-file, compress/],
    ['labels=a', /the options taken are/],
    ['compress', /compress must be true or false/],
    ['max-size=10x', /max-size must be a size/],
    ['max-size=1m\r', /max-size must be a size/],
    ['compress=true,compress=false', /compress is given twice/],
  ])('refuses %j, naming the entry', (value, why) => {
    expect(() => parseLogOptions(value)).toThrow(why);
    expect(logOptionsProblems({ EXEC_CONTAINER_LOG_DRIVER: 'local', EXEC_CONTAINER_LOG_OPTS: value })[0]).toMatch(/^EXEC_CONTAINER_LOG_OPTS=/);
  });

  it('has nothing to say for driver none', () => {
    expect(logOptionsProblems({ EXEC_CONTAINER_LOG_DRIVER: 'none', EXEC_CONTAINER_LOG_OPTS: 'mode=non-blocking' })).toEqual([]);
  });
});
