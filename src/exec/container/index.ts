/** Container operations beside the data path: status with resource usage, pause / resume / signal, signal names. */
export * from './container-control.service';
export * from './container-status.service';
export * from './resource-sampler';
export * from './signal-names';
