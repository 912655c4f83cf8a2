/**
 * The firewall part of the model: who besides the fabric's own members may
 * reach a node. What the members themselves may reach follows from the
 * clusters and is derived by the renderer (cloud-init/firewall.ts).
 */
import { inNetwork, isIpv4, parseIpv4Cidr } from './addresses';
import * as D from './defaults';
import { ProblemCollector } from './errors';
import { ConfigurationDelivery, Firewall, ManagementNetwork } from './fabric-model';
import { FirewallSpec } from './fabric-spec';

export interface FirewallContext {
  readonly network: ManagementNetwork;
  readonly hasDatabase: boolean;
  readonly delivery: ConfigurationDelivery;
}

export function buildFirewall(spec: FirewallSpec | undefined, context: FirewallContext, problems: ProblemCollector): Firewall {
  const fw = spec ?? {};
  const managementNetwork = [context.network.cidr];
  const adminCidrs = cidrList('firewall.adminCidrs', fw.adminCidrs, managementNetwork, problems);
  const databaseClientCidrs = cidrList('firewall.databaseClientCidrs', fw.databaseClientCidrs, D.DEFAULT_DATABASE_CLIENT_CIDRS, problems);
  const monitoringClientCidrs = cidrList('firewall.monitoringClientCidrs', fw.monitoringClientCidrs, managementNetwork, problems);
  const enabled = fw.enabled ?? D.DEFAULT_FIREWALL_ENABLED;
  if (fw.databaseClientCidrs !== undefined && fw.databaseClientCidrs.length > 0 && !context.hasDatabase) {
    problems.add('firewall.databaseClientCidrs', 'the fabric has no database cluster, so these networks would open nothing', 'remove firewall.databaseClientCidrs, or add the database cluster');
  }
  if (enabled && context.delivery.enabled && adminCidrs.length === 0) {
    problems.add('firewall.adminCidrs', 'the list is empty while configuration delivery is on, so the firewall would refuse every SSH connection Terraform makes', "add the network of the host that runs terraform apply (or the bastion), or set configurationDelivery.enabled to false");
  }
  const bastion = context.delivery.bastion;
  if (enabled && context.delivery.enabled && bastion && isIpv4(bastion.host) && !adminCidrs.some((c) => inNetwork(bastion.host, parseIpv4Cidr(c)!))) {
    problems.add(
      'firewall.adminCidrs',
      `the delivery's bastion ${bastion.host} is in none of [${adminCidrs.join(', ')}], so the nodes' firewall would refuse its SSH connections`,
      `add '${bastion.host}/32' to firewall.adminCidrs`,
    );
  }
  return { enabled, adminCidrs, databaseClientCidrs, monitoringClientCidrs };
}

/** Each entry as `a.b.c.d/n` (a bare address is a /32); a bad entry is a problem naming it. */
function cidrList(where: string, given: readonly string[] | undefined, fallback: readonly string[], problems: ProblemCollector): string[] {
  if (given === undefined) return [...fallback];
  if (!Array.isArray(given)) {
    problems.add(where, `'${String(given)}' is not a list`, "give a list of IPv4 networks, e.g. ['192.0.2.0/28', '198.51.100.7']");
    return [];
  }
  const out: string[] = [];
  given.forEach((entry, i) => {
    const text = typeof entry === 'string' && isIpv4(entry) ? `${entry}/32` : entry;
    const network = parseIpv4Cidr(text);
    if (!network) {
      problems.add(`${where}[${i}]`, `'${String(entry)}' is neither an IPv4 network in CIDR notation nor an IPv4 address`, "write it as address/prefix, e.g. '192.0.2.0/28', or as one address");
    } else if (network.address.toString() !== network.networkAddress) {
      problems.add(`${where}[${i}]`, `'${String(entry)}' has host bits set`, `write the network address: '${network.networkAddress}/${network.prefixLength}'`);
    } else {
      out.push(`${network.networkAddress}/${network.prefixLength}`);
    }
  });
  return [...new Set(out)];
}
