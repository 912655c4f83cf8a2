/**
 * Three tiers, each a jest project (`--selectProjects <name>`):
 *   unit     pure: model, validation, renderers, snapshots, property tests;
 *            no Debian package, no root; parallel workers (`npm run test:unit`)
 *   system   real tools on rendered output (test/tools) and the namespace
 *            tiers (test/failover): they share network namespaces and the
 *            2 cores, so `npm test` runs them one file at a time (--runInBand)
 *   package  packs the library and uses it from an empty directory
 *
 * @type {import('jest').Config}
 */
const project = (displayName, testMatch) => ({
  displayName,
  testEnvironment: 'node',
  testMatch,
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
});

module.exports = {
  testTimeout: 30000,
  projects: [
    project('unit', ['<rootDir>/test/*.test.ts']),
    project('system', ['<rootDir>/test/tools/**/*.test.ts', '<rootDir>/test/failover/**/*.test.ts']),
    project('package', ['<rootDir>/test/package/**/*.test.ts']),
  ],
};
