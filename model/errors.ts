/**
 * Synth-time validation errors. Every problem names the construct path, the
 * offending value and the fix, and all problems of one fabric are reported
 * together so an operator fixes the whole config in one pass.
 */
export interface ValidationProblem {
  /** Construct path or config key the problem belongs to, e.g. `vsphere-fabric/Fabric/appliances[2]`. */
  readonly path: string;
  /** What is wrong, including the offending value. */
  readonly message: string;
  /** What to change. */
  readonly fix: string;
}

export class FabricValidationError extends Error {
  constructor(public readonly problems: readonly ValidationProblem[]) {
    super(
      `Invalid fabric configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.path}: ${p.message}. Fix: ${p.fix}`).join('\n'),
    );
    this.name = 'FabricValidationError';
  }
}

/** Collects problems while the model is built; `throwIfAny` ends validation. */
export class ProblemCollector {
  private readonly problems: ValidationProblem[] = [];

  constructor(private readonly basePath: string) {}

  add(where: string, message: string, fix: string): void {
    this.problems.push({ path: where ? `${this.basePath}/${where}` : this.basePath, message, fix });
  }

  get count(): number {
    return this.problems.length;
  }

  throwIfAny(): void {
    if (this.problems.length > 0) throw new FabricValidationError(this.problems);
  }
}
