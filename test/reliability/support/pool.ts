/** Runs task(0..count-1) with at most `concurrency` in flight; stops issuing new ones once stop() says so. */
export async function runPool(count: number, concurrency: number, task: (i: number) => Promise<void>, stop: () => boolean = () => false): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < count && !stop()) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return next;
}
