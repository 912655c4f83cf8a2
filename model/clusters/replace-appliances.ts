import { ProblemCollector } from '../errors';
import { FabricSpec } from '../fabric-spec';
import { checkMembers } from './checks';
import { BuildContext } from './context';

/** The appliances whose identity this synth may change: each one an appliance of the fabric. */
export function build(spec: FabricSpec, context: BuildContext, problems: ProblemCollector): string[] {
  const replaceAppliances = spec.replaceAppliances ?? [];
  checkMembers('replaceAppliances', 'list of appliances to replace', replaceAppliances, context.nodeIndex, problems);
  // Not a list is a problem above, and the model is read only when there is none.
  return Array.isArray(replaceAppliances) ? [...replaceAppliances] : [];
}
