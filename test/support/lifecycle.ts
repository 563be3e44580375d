import type { INestMicroservice } from '@nestjs/common';
import type { LifecycleSubscription } from '@exec-stream/client';
import { LifecycleBus } from '../../src/lifecycle/lifecycle-bus';
import type { LifecycleEventType } from '../../src/lifecycle/lifecycle-event';
import { waitUntil } from './conditions';

let probes = 0;

/**
 * Resolves once every subscription's call is registered on the in-process server `app`: a probe event
 * published on its bus now reaches them all (a new one each try; each try reads up to its probe, so
 * none is left queued). Without it, events published right after subscribing may precede the
 * subscription and never reach it.
 */
export async function subscriptionsRegistered(app: INestMicroservice, containerId: string, ...subs: LifecycleSubscription[]): Promise<void> {
  await waitUntil('lifecycle subscriptions registered', async () => {
    const message = `probe ${++probes}`;
    // 'probe': a type no source publishes, read only by these waits.
    app.get(LifecycleBus).publish({ containerId, type: 'probe' as LifecycleEventType, status: '', message, source: 'service' });
    const got = await Promise.all(
      subs.map((sub) =>
        sub
          .waitFor((e) => e.type === 'probe' && e.message === message, 200)
          .then(
            () => true,
            () => false,
          ),
      ),
    );
    return got.every(Boolean);
  });
}
