/** Container operations beside the data path: status with resource usage, pause / resume / signal, signal names, image pulls, files in and out. */
export * from './container-files.service';
export * from './container-lookup';
export * from './copies-in-flight';
export * from './copy-progress';
export * from './tar-intake';
export * from './image-pull.service';
export * from './resource-sampler';
export * from './signal-names';
