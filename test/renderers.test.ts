import { parse } from 'yaml';
import { renderNodeCloudInit } from '../cloud-init/cloud-config';
import { renderHaproxyCfg } from '../cloud-init/haproxy';
import { renderKeepalivedConf } from '../cloud-init/keepalived';
import { networkConfigOf } from '../cloud-init/network-config';
import { probesOf, renderWatchdogConf } from '../cloud-init/watchdog';
import { buildFabricModel } from '../model/build-model';
import { FabricSpec } from '../model/fabric-spec';
import { TEST_PLATFORM, TEST_SECRETS, threeNodeSpec } from './fixtures';

const model = (spec: FabricSpec = threeNodeSpec()) => buildFabricModel(spec, TEST_PLATFORM, 'stack/Fabric');

describe('keepalived.conf', () => {
  const m = model();
  const [node1, node2] = m.nodes;

  it('renders a unicast instance with the peer, source check and a unique priority per node', () => {
    const conf1 = renderKeepalivedConf(m, node1);
    const conf2 = renderKeepalivedConf(m, node2);
    expect(conf1).toContain('unicast_src_ip 198.51.100.11');
    expect(conf1).toMatch(/unicast_peer \{\n\s+198\.51\.100\.12\n\s+\}/);
    expect(conf2).toMatch(/unicast_peer \{\n\s+198\.51\.100\.11\n\s+\}/);
    expect(conf1).toContain('check_unicast_src');
    expect(conf1).toContain('unicast_fault_no_peer');
    expect(conf1).toContain('priority 150');
    expect(conf2).toContain('priority 140');
    expect(conf1).toContain(`virtual_router_id ${m.loadBalancer.vrrp.virtualRouterId}`);
    expect(conf1).toContain('198.51.100.10/24 dev eth0');
  });

  it('tracks haproxy and the watchdog eligibility file, uses script security and never vrrp_strict', () => {
    const conf = renderKeepalivedConf(m, node1);
    expect(conf).toMatch(/vrrp_track_process track_haproxy \{\n\s+process haproxy/);
    expect(conf).toMatch(/track_file \{\n\s+node_eligibility/);
    expect(conf).toContain('enable_script_security');
    expect(conf).toContain('script_user keepalived_script');
    expect(conf).not.toMatch(/^\s*vrrp_strict/m);
    expect(conf).toContain('vrrp_garp_master_refresh');
    expect(conf).toContain('advert_int 0.4');
    expect(conf).toContain('nopreempt');
  });

  it('renders multicast and preemption when asked', () => {
    const conf = renderKeepalivedConf(model(threeNodeSpec({ highAvailability: { vrrpMode: 'multicast', preempt: true, advertIntervalSeconds: 1 } })), node1);
    expect(conf).not.toContain('unicast_peer');
    expect(conf).not.toContain('nopreempt');
    expect(conf).toContain('advert_int 1');
  });

  it('gives a node outside the load-balancer cluster no keepalived at all', () => {
    const ci = renderNodeCloudInit(m, m.nodes[2], TEST_SECRETS);
    expect(ci.files.map((f) => f.path)).not.toContain('/etc/keepalived/keepalived.conf');
    expect(ci.files.map((f) => f.path)).not.toContain('/etc/haproxy/haproxy.cfg');
  });
});

describe('haproxy.cfg', () => {
  const m = model();
  const cfg = renderHaproxyCfg(m, m.nodes[0], TEST_SECRETS);

  it('balances over every application server with a sticky cookie and fast health checks', () => {
    expect(cfg).toContain('balance roundrobin');
    expect(cfg).toContain('cookie FABRICNODE insert indirect nocache httponly secure');
    for (const [name, addr] of [['node1', '198.51.100.11'], ['node2', '198.51.100.12'], ['node3', '198.51.100.13']]) {
      expect(cfg).toContain(`server ${name} ${addr}:8080 check cookie ${name}`);
    }
    expect(cfg).toContain('http-check send meth GET uri /healthz');
    expect(cfg).toMatch(/default-server inter 200ms .*fall 2 rise 2/);
  });

  it('retries and redispatches so a dead node costs no idempotent request', () => {
    expect(cfg).toContain('retries 3');
    expect(cfg).toContain('option redispatch 1');
    expect(cfg).toMatch(/retry-on conn-failure empty-response/);
    expect(cfg).toMatch(/disable-l7-retry unless METH_GET/);
  });

  it('terminates TLS on the VIP for the GUI and each NBI port', () => {
    expect(cfg).toContain('bind 198.51.100.10:443 ssl crt /etc/haproxy/certs/fabric.pem');
    expect(cfg).toContain('bind 198.51.100.10:8443 ssl crt /etc/haproxy/certs/fabric.pem');
  });

  it('keeps stats on the node address, management network only, with the generated password', () => {
    expect(cfg).toContain('bind 198.51.100.11:8404');
    expect(cfg).toContain('acl management_network src 198.51.100.0/24 127.0.0.0/8');
    expect(cfg).toContain('http-request deny unless management_network');
    expect(cfg).toContain(`stats auth stats:${TEST_SECRETS.statsPassword}`);
    expect(cfg).toContain('prometheus-exporter');
  });

  it('uses a TCP check when the service has no HTTP health endpoint', () => {
    const tcp = model(threeNodeSpec({ applicationServers: { service: { healthCheck: { type: 'tcp' }, execStart: '/usr/bin/myapp' } } }));
    const out = renderHaproxyCfg(tcp, tcp.nodes[0], TEST_SECRETS);
    expect(out).not.toContain('option httpchk');
    expect(out).toContain('server node1 198.51.100.11:8080 check');
  });
});

describe('watchdog', () => {
  const m = model();

  it('probes HAProxy (VIP-critical), keepalived and the application on a balancer node', () => {
    expect(probesOf(m, m.nodes[0])).toEqual([
      { name: 'haproxy', unit: 'haproxy.service', type: 'http', target: 'http://127.0.0.1:8405/healthz', vipCritical: true },
      { name: 'keepalived', unit: 'keepalived.service', type: 'process', target: 'keepalived', vipCritical: false },
      { name: 'fabric-app', unit: 'fabric-app.service', type: 'http', target: 'http://198.51.100.11:8080/healthz', vipCritical: false },
    ]);
  });

  it('never lets an application server move a VIP', () => {
    expect(probesOf(m, m.nodes[2])).toEqual([
      { name: 'fabric-app', unit: 'fabric-app.service', type: 'http', target: 'http://198.51.100.13:8080/healthz', vipCritical: false },
    ]);
  });

  it('writes the tuning into its config', () => {
    const conf = renderWatchdogConf(model(threeNodeSpec({ watchdog: { failuresBeforeRestart: 5, probeIntervalSeconds: 2 } })), m.nodes[0]);
    expect(conf).toContain('FAILURES_BEFORE_RESTART=5');
    expect(conf).toContain('PROBE_INTERVAL=2');
    expect(conf).toContain('PROBE=haproxy|haproxy.service|http|http://127.0.0.1:8405/healthz|yes');
  });

  it('loads the platform watchdog driver with softdog as fallback, and keeps systemd off the device', () => {
    const ci = renderNodeCloudInit(m, m.nodes[0], TEST_SECRETS);
    const doc = parse(ci.userData);
    expect(doc.bootcmd).toEqual(['[ -e /dev/watchdog ] || modprobe i6300esb || true', '[ -e /dev/watchdog ] || modprobe softdog || true']);
    const systemConf = ci.files.find((f) => f.path === '/etc/systemd/system.conf.d/50-appliance-fabric-watchdog.conf');
    expect(systemConf?.content).toContain('RuntimeWatchdogSec=off');
    const wd = ci.files.find((f) => f.path === '/etc/watchdog.conf');
    expect(wd?.content).not.toMatch(/^(test-binary|repair-binary|pidfile)/m);
  });

  it('gives every managed service a restart policy', () => {
    const paths = renderNodeCloudInit(m, m.nodes[0], TEST_SECRETS).files.map((f) => f.path);
    expect(paths).toContain('/etc/systemd/system/haproxy.service.d/50-appliance-fabric-restart.conf');
    expect(paths).toContain('/etc/systemd/system/keepalived.service.d/50-appliance-fabric-restart.conf');
    const unit = renderNodeCloudInit(m, m.nodes[0], TEST_SECRETS).files.find((f) => f.path === '/etc/systemd/system/fabric-app.service');
    expect(unit?.content).toContain('Restart=always');
  });
});

describe('cloud-config document', () => {
  const m = model(threeNodeSpec({ sshAuthorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnly operator@example'] }));
  const ci = renderNodeCloudInit(m, m.nodes[0], TEST_SECRETS);
  const doc = parse(ci.userData);

  it('starts with #cloud-config and a header naming the construct', () => {
    expect(ci.userData.split('\n')[0]).toBe('#cloud-config');
    expect(ci.userData).toContain('Generated by appliance-fabric from construct stack/Fabric');
  });

  it('sets hostname, admin user with keys, NTP and the packages', () => {
    expect(doc.hostname).toBe('node1');
    expect(doc.fqdn).toBe('node1.fabric.example.net');
    expect(doc.users[0].ssh_authorized_keys).toEqual(['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnly operator@example']);
    expect(doc.ssh_pwauth).toBe(false);
    expect(doc.ntp.servers).toEqual(['198.51.100.123']);
    expect(doc.packages).toEqual(['chrony', 'curl', 'haproxy', 'keepalived', 'python3', 'watchdog']);
  });

  it('writes every file after package installation, and starts services in dependency order', () => {
    expect(doc.write_files.every((f: { defer: boolean }) => f.defer)).toBe(true);
    expect(doc.runcmd.at(-1)).toEqual(['systemctl', 'restart', 'fabric-app.service', 'haproxy.service', 'keepalived.service', 'fabric-watchdog.service', 'watchdog.service']);
  });

  it('is deterministic', () => {
    expect(renderNodeCloudInit(m, m.nodes[0], TEST_SECRETS).userData).toBe(ci.userData);
  });

  it('matches the NIC by MAC and names it eth0', () => {
    const net = networkConfigOf(m, m.nodes[1]) as { ethernets: Record<string, Record<string, unknown>> };
    expect(net.ethernets.eth0.match).toEqual({ macaddress: m.nodes[1].managementMac });
    expect(net.ethernets.eth0.addresses).toEqual(['198.51.100.12/24']);
    expect(net.ethernets.eth0.routes).toEqual([{ to: '0.0.0.0/0', via: '198.51.100.1' }]);
  });
});
