/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  // Real-daemon tiers share the network namespaces and the 2 cores: run test files one at a time.
  maxWorkers: 1,
  testTimeout: 30000,
};
