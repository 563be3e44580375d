// Three projects: unit tests beside the code (Docker replaced through its DI token), e2e tests in
// test/ (real gRPC server on loopback, real client, real Docker engine) and the reliability suite in
// test/reliability (hostile input, crashes, outages; docs/RELIABILITY.md). Jest runs in CommonJS mode;
// the NestJS 12 packages are ESM-only and load through require(esm), which needs the Node 24 binary
// that the `node` devDependency puts in node_modules/.bin (see docs/TOOLCHAIN.md).
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
// The client package is tested from its sources (the workspace link points at its built dist/).
const moduleNameMapper = {
  '^@exec-stream/client$': '<rootDir>/packages/client/src/index.ts',
  '^@exec-stream/client/(.*)$': '<rootDir>/packages/client/src/$1',
};
module.exports = {
  // e2e tests move real data through real Docker; unit tests finish far sooner anyway.
  testTimeout: 180_000,
  verbose: true,
  // The default output, then each run's slowest files (test/support/file-times-reporter.js).
  reporters: ['default', '<rootDir>/test/support/file-times-reporter.js'],
  projects: [
    {
      displayName: 'unit',
      testEnvironment: '<rootDir>/test/support/node-environment.js',
      roots: ['<rootDir>/src', '<rootDir>/bench', '<rootDir>/packages'],
      testMatch: ['**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
      moduleNameMapper,
    },
    {
      displayName: 'e2e',
      testEnvironment: '<rootDir>/test/support/node-environment.js',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
      moduleNameMapper,
      slowTestThreshold: 60,
      globalSetup: '<rootDir>/test/support/global-setup.js',
    },
    {
      // Hostile input, crashes and outages against the built service (docs/RELIABILITY.md).
      displayName: 'reliability',
      testEnvironment: '<rootDir>/test/support/node-environment.js',
      roots: ['<rootDir>/test/reliability'],
      testMatch: ['**/*.rel-spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
      moduleNameMapper,
      slowTestThreshold: 120,
      globalSetup: '<rootDir>/test/support/global-setup.js',
    },
  ],
};
