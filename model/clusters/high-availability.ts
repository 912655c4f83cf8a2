import * as D from '../defaults';
import { ProblemCollector } from '../errors';
import { VrrpInstance } from '../fabric-model';
import { FabricSpec } from '../fabric-spec';
import { positiveInteger } from './checks';
import { BuildContext } from './context';
import { GUEST_INTERFACE } from './network';

/** The VRRP settings every VIP of the fabric shares. */
export interface HighAvailability {
  readonly advertIntervalSeconds: number;
  readonly checkIntervalSeconds: number;
  /** The first member's priority; each later member's is `priorityStep` lower. */
  readonly topPriority: number;
  readonly priorityStep: number;
  readonly mode: VrrpInstance['mode'];
  readonly preempt: boolean;
}

/** One VIP's VRRP instance before the fabric's shared settings are added. */
export interface VrrpInstanceDraft extends Pick<VrrpInstance, 'name' | 'vip' | 'prefixLength' | 'interfaceName' | 'virtualRouterId' | 'purpose'> {
  /** In priority order. */
  readonly members: readonly string[];
  /** Overrides the fabric's `preempt`. */
  readonly preempt?: boolean;
}

/** The fabric's VRRP settings: sets `context.ha`. */
export function build(spec: FabricSpec, context: BuildContext, problems: ProblemCollector): void {
  const ha = spec.highAvailability ?? {};
  const advertInterval = ha.advertIntervalSeconds ?? D.DEFAULT_ADVERT_INTERVAL_SECONDS;
  if (typeof advertInterval !== 'number' || !(advertInterval >= 0.01 && advertInterval <= 40.95) || Math.abs(Math.round(advertInterval * 100) - advertInterval * 100) > 1e-9) {
    problems.add('highAvailability.advertIntervalSeconds', `advert interval ${String(advertInterval)} s is outside VRRPv3's range`, `use 0.01 to 40.95 seconds in steps of 0.01 (default ${D.DEFAULT_ADVERT_INTERVAL_SECONDS})`);
  }
  const checkInterval = positiveInteger('highAvailability.checkIntervalSeconds', ha.checkIntervalSeconds ?? D.DEFAULT_CHECK_INTERVAL_SECONDS, problems);
  const topPriority = ha.topPriority ?? D.DEFAULT_TOP_PRIORITY;
  if (!Number.isInteger(topPriority) || topPriority < 2 || topPriority > 254) {
    problems.add('highAvailability.topPriority', `VRRP priority ${String(topPriority)} is outside 2 to 254`, `give a whole number from 2 to 254 (default ${D.DEFAULT_TOP_PRIORITY}; 255 belongs to an address owner)`);
  }
  const priorityStep = positiveInteger('highAvailability.priorityStep', ha.priorityStep ?? D.DEFAULT_PRIORITY_STEP, problems);
  const vrrpMode = ha.vrrpMode ?? D.DEFAULT_VRRP_MODE;
  if (vrrpMode !== 'unicast' && vrrpMode !== 'multicast') {
    problems.add('highAvailability.vrrpMode', `VRRP mode '${String(vrrpMode)}' is unknown`, "use 'unicast' (default) or 'multicast'");
  }
  context.ha = { advertIntervalSeconds: advertInterval, checkIntervalSeconds: checkInterval, topPriority, priorityStep, mode: vrrpMode, preempt: ha.preempt ?? D.DEFAULT_PREEMPT };
}

/** A VIP's VRRP instance with the fabric's settings; `addressOf` gives a member's address on the instance's network. */
export function vrrpInstance(ha: HighAvailability, draft: VrrpInstanceDraft, addressOf: (node: string) => string): VrrpInstance {
  return {
    name: draft.name,
    vip: draft.vip,
    prefixLength: draft.prefixLength,
    interfaceName: draft.interfaceName,
    virtualRouterId: draft.virtualRouterId,
    advertIntervalSeconds: ha.advertIntervalSeconds,
    checkIntervalSeconds: ha.checkIntervalSeconds,
    mode: ha.mode,
    preempt: draft.preempt ?? ha.preempt,
    members: draft.members.map((m, i) => ({ node: m, address: addressOf(m), priority: ha.topPriority - i * ha.priorityStep })),
    purpose: draft.purpose,
  };
}

/** A VIP's VRRP instance on the management network, among the members' management addresses. */
export function managementVrrpInstance(context: BuildContext, draft: Omit<VrrpInstanceDraft, 'prefixLength' | 'interfaceName'>): VrrpInstance {
  return vrrpInstance(context.ha, { ...draft, prefixLength: context.subnet!.prefixLength, interfaceName: GUEST_INTERFACE }, (m) => context.node(m).managementAddress);
}
