/**
 * Passes one message on from a source stream to a destination call, with a pipe's backpressure: when the
 * destination's buffer is full (write() answers false), the source is paused until the destination drains.
 */
export function writeOrPause(
  destination: { write(message: unknown): boolean; once(event: 'drain', listener: () => void): unknown },
  message: unknown,
  source: { pause?(): unknown; resume?(): unknown },
): void {
  if (destination.write(message)) return;
  source.pause?.();
  destination.once('drain', () => source.resume?.());
}
