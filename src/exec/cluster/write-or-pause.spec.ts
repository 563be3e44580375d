import { PassThrough, Writable } from 'node:stream';
import { writeOrPause } from './write-or-pause';

describe('writeOrPause', () => {
  it('pauses the source while the destination is full and resumes it when it drains', async () => {
    const taken: unknown[] = [];
    let release: (() => void) | undefined;
    const destination = new Writable({
      objectMode: true,
      highWaterMark: 1,
      write(chunk, _enc, done) {
        taken.push(chunk);
        release = done;
      },
    });
    const source = new PassThrough({ objectMode: true });
    writeOrPause(destination, 'a', source); // taken at once, held: the buffer is now full
    expect(source.isPaused()).toBe(true);
    const drained = new Promise((r) => destination.once('drain', r));
    release!();
    await drained;
    expect(source.isPaused()).toBe(false);
    expect(taken).toEqual(['a']);
  });

  it('leaves the source flowing while the destination takes messages', () => {
    const destination = new Writable({ objectMode: true, highWaterMark: 4, write: (_c, _e, done) => done() });
    const source = new PassThrough({ objectMode: true });
    source.resume();
    writeOrPause(destination, 'a', source);
    expect(source.isPaused()).toBe(false);
  });
});
