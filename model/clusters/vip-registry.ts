import { isIpv4, Ipv4Network, offsetIpv4 } from '../addresses';
import { ProblemCollector } from '../errors';
import { checkHostAddress } from './checks';

/** Records every address a VIP must not collide with, and checks each VIP once. */
export class VipRegistry {
  private readonly used = new Map<string, string>();
  constructor(private readonly problems: ProblemCollector) {}

  nodeAddress(address: string, where: string, node: string): void {
    const other = this.used.get(address);
    if (other?.startsWith('VIP:')) {
      this.problems.add(where, `address '${address}' of appliance '${node}' equals the ${other.slice(4)}`, 'a VIP must be an address no node owns: change the VIP or the node address');
    }
    if (!other) this.used.set(address, `node:${node}`);
  }

  vip(where: string, what: string, vip: unknown, subnet: Ipv4Network, gateway: string, networkName = 'management network'): void {
    if (!isIpv4(vip)) {
      this.problems.add(where, `${what} '${String(vip)}' is not an IPv4 address`, `give a dotted-quad address inside the ${networkName}, e.g. '${offsetIpv4(subnet.networkAddress, 10)}'`);
      return;
    }
    checkHostAddress(where, what, vip, subnet, this.problems, networkName);
    if (vip === gateway) this.problems.add(where, `${what} '${vip}' is the gateway address`, `choose a free address in the ${networkName}`);
    const other = this.used.get(vip);
    if (other?.startsWith('node:')) {
      this.problems.add(where, `${what} '${vip}' equals the address of appliance '${other.slice(5)}'`, 'a VIP must be an address no node owns: change the VIP or the node address');
    } else if (other) {
      this.problems.add(where, `${what} '${vip}' equals the ${other.slice(4)}`, 'give every VIP its own address');
    } else {
      this.used.set(vip, `VIP:${what}`);
    }
  }
}
