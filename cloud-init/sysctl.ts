import { FabricModel, NodeModel } from '../model/fabric-model';
import { generatedHeader, RenderedFile } from './rendered-file';

/**
 * Lets a daemon listen on an IPv4 address the node does not hold (yet).
 * The first boot's runcmd applies it (`sysctl --system`) before it restarts
 * any daemon; systemd-sysctl.service applies it at every later boot, before
 * the network and before sshd or HAProxy start.
 */
export const NONLOCAL_BIND_SYSCTL = '/etc/sysctl.d/60-appliance-fabric-nonlocal-bind.conf';

/**
 * On every node, not only the balancers, because sshd listens on the node's
 * management address alone (ssh.ts). Without it, sshd started before that
 * address is up fails with "Cannot bind any address" and exits 255, which
 * Debian's ssh.service does not restart (RestartPreventExitStatus=255), and
 * the node is left without SSH, the operator's way in. Ordering ssh.service
 * after network-online.target would not do: that target only waits as long
 * as its wait-online service does, and an address that comes later (a slow
 * link, an interface brought up by hand) would still fail the bind. With
 * this, sshd binds at once and answers as soon as the address is there.
 * The cost: any local process may bind an address the node does not hold;
 * that gives it no traffic the node does not receive anyway.
 */
export function sysctlFiles(model: FabricModel, node: NodeModel): RenderedFile[] {
  const why = ['# sshd listens on the management address alone and may start before that address is up.'];
  if (node.roles.includes('load-balancer')) why.push('# HAProxy on the standby listens on the VIPs before keepalived moves them here.');
  return [{ path: NONLOCAL_BIND_SYSCTL, content: [generatedHeader(model, node, 'sysctl'), ...why, 'net.ipv4.ip_nonlocal_bind = 1', ''].join('\n'), permissions: '0644' }];
}
