import { FabricModel, NodeModel } from '../model/fabric-model';
import { ADMIN_USER } from '../model/defaults';
import { MIN_RSA_BITS } from '../model/ssh-keys';
import { generatedHeader, RenderedFile } from './rendered-file';
import { NONLOCAL_BIND_SYSCTL } from './sysctl';

export { ADMIN_USER };

/** Read before Debian's own settings and cloud-init's (sshd takes the first value it reads). */
export const SSHD_DROP_IN = '/etc/ssh/sshd_config.d/40-appliance-fabric.conf';
/** The one port sshd listens on; the firewall opens it to firewall.adminCidrs. */
export const SSH_PORT = 22;

/**
 * Public-key signature algorithms sshd accepts from users: Ed25519, ECDSA
 * (also on security keys) and RSA with SHA-2. Not DSA, and not ssh-rsa,
 * whose signatures use SHA-1.
 */
export const ACCEPTED_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ssh-ed25519-cert-v01@openssh.com',
  'sk-ssh-ed25519@openssh.com',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'rsa-sha2-512',
  'rsa-sha2-256',
];

/** sshd's settings on every node: keys only, for the admin user only, no forwarding. */
export function renderSshdConfig(model: FabricModel, node: NodeModel): string {
  return [
    generatedHeader(model, node, 'sshd settings'),
    '# The management address only, not the device network or a VIP this node holds. sshd may start',
    `# before the address is up: net.ipv4.ip_nonlocal_bind (${NONLOCAL_BIND_SYSCTL}) lets it bind all the same.`,
    `ListenAddress ${node.managementAddress}:${SSH_PORT}`,
    `# Only ${ADMIN_USER} logs in (operators, and Terraform's configuration delivery), with a key.`,
    `AllowUsers ${ADMIN_USER}`,
    'PermitRootLogin no',
    'AuthenticationMethods publickey',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    `# Ed25519, ECDSA, and RSA of at least ${MIN_RSA_BITS} bits with SHA-2 signatures: no DSA, no SHA-1.`,
    `PubkeyAcceptedAlgorithms ${ACCEPTED_KEY_ALGORITHMS.join(',')}`,
    `RequiredRSASize ${MIN_RSA_BITS}`,
    '# A node is no jump host: delivery reaches each node directly (or through its own bastion).',
    'AllowTcpForwarding no',
    'AllowAgentForwarding no',
    'AllowStreamLocalForwarding no',
    'PermitTunnel no',
    'X11Forwarding no',
    'MaxAuthTries 3',
    'LoginGraceTime 30',
    '',
  ].join('\n');
}

export function sshFiles(model: FabricModel, node: NodeModel): RenderedFile[] {
  return [{ path: SSHD_DROP_IN, content: renderSshdConfig(model, node), permissions: '0644' }];
}
