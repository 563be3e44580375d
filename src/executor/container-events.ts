/**
 * The engine's own reports of this instance's container transitions (CONTAINER_EVENTS;
 * DockerEventsSource). Lifecycle duty: from application bootstrap to module destroy it publishes to
 * the LifecyclePublisher every transition the engine reports (source 'docker'), one
 * `events_disconnected` per outage of its connection and one `events_reconnected` when back (source
 * 'service'), then the transitions it missed meanwhile (found by comparing with the engine's state).
 */
export interface ContainerEventsSource {
  /** True while connected to the engine's events. */
  readonly isConnected: boolean;
  /** Calls `listener` after each reconnect, right after `events_reconnected` was published; returns the unsubscribe. */
  onReconnected(listener: () => void): () => void;
}
