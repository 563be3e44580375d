import type { LifecycleEvent, NewLifecycleEvent } from '../lifecycle/lifecycle-event';

/**
 * The port through which a backend meets its lifecycle duties (LIFECYCLE_PUBLISHER, bound to the
 * LifecycleBus): what each port publishes is written on ContainerRuntime and ContainerEventsSource.
 */
export interface LifecyclePublisher {
  /** Publishes a transition (a repeat of one another source already reported is dropped). */
  publish(event: NewLifecycleEvent): unknown;
  /** Every event published, from any source, synchronously; the listener only records. */
  subscribe(fn: (event: LifecycleEvent) => void): { unsubscribe(): void };
}
