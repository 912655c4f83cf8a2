import { terraformAvailable } from '../../e2e/lib/offline-terraform';

/**
 * `describe` for a test file that runs the real terraform binary: without
 * one it fails under CI (a tier may not skip there) and elsewhere says it
 * skipped, naming the file and the fix.
 */
export function describeWithTerraform(file: string, name: string, body: () => void): void {
  const hasTerraform = terraformAvailable();
  if (!hasTerraform && process.env.CI === 'true') {
    describe(name, () => {
      it('has a terraform binary (CI may not skip it)', () => {
        throw new Error(`no terraform binary on PATH, so ${file} cannot run. Fix: install terraform >= 1.5 on the CI machine`);
      });
    });
    return;
  }
  if (!hasTerraform) console.warn(`SKIPPED ${file}: no terraform binary on PATH (install terraform >= 1.5 to run it)`);
  (hasTerraform ? describe : describe.skip)(name, body);
}
