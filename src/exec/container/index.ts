/** Container operations beside the data path (their RPC handlers are in grpc/): container lookups, resource sampling, signal names, image pulls, files in and out. */
export * from './container-files.service';
export * from './container-lookup';
export * from './copies-in-flight';
export * from './copy-progress';
export * from './image-pull.service';
export * from './resource-sampler';
export * from './signal-names';
