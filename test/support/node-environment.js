// The test environment of every jest project: Jest's node environment, with the file's global made by V8
// as an ordinary global object (vm.constants.DONT_CONTEXTIFY, Node >= 22.8) instead of a contextified
// JS Proxy. In Jest's own, every global lookup (Math, Buffer, process, setTimeout …) in test code and in
// what the file loads (the service started in-process, grpc-js, protobufjs) is an interceptor call into
// that Proxy; here it is a plain property load. A loop of Math.imul: 431 ms → 12 ms; the unit project
// 15.6 → 11.7 s; docs/TOOLCHAIN.md has the suite's figures. Each file still gets a fresh global; what
// is given up is Jest's deletion of a file's globals at teardown (the Proxy recorded them), which
// matters only to memory kept by a worker between files.
const vm = require('node:vm');
const { TestEnvironment } = require('jest-environment-node');

class NodeEnvironment extends TestEnvironment {
  constructor(config, context) {
    // Jest's constructor makes the context with vm.createContext(proxy) and sets every global up on what
    // it returns; for that one call it gets an uncontextified global instead.
    // A Jest that made it another way (or twice) fails here rather than quietly losing the change.
    const createContext = vm.createContext;
    let made = 0;
    vm.createContext = () => (made++, createContext(vm.constants.DONT_CONTEXTIFY));
    try {
      super(config, context);
    } finally {
      vm.createContext = createContext;
    }
    if (made !== 1) throw new Error(`jest-environment-node made ${made} contexts, not 1: test/support/node-environment.js no longer fits it`);
  }
}

module.exports = NodeEnvironment;
