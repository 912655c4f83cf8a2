import { parse } from 'yaml';
import { readAsset } from '../cloud-init/assets';
import { CASSANDRA_APT_SOURCE, CASSANDRA_INSTALL_ENV, CASSANDRA_INSTALL_SCRIPT, CASSANDRA_KEYRING } from '../cloud-init/cassandra';
import { renderNodeCloudInit } from '../cloud-init/cloud-config';
import { databaseAccountHosts } from '../cloud-init/database';
import { renderHaproxyCfg } from '../cloud-init/haproxy';
import { renderKeepalivedConf } from '../cloud-init/keepalived';
import { SSH_PORT, SSHD_DROP_IN } from '../cloud-init/ssh';
import { NONLOCAL_BIND_SYSCTL } from '../cloud-init/sysctl';
import { networkConfigOf } from '../cloud-init/network-config';
import { probesOf, renderWatchdogConf, renderWatchdogDriverScript, WATCHDOG_DRIVER_ASSET } from '../cloud-init/watchdog';
import { buildFabricModel } from '../model/build-model';
import { DEFAULT_CASSANDRA_APT_KEY_FINGERPRINTS } from '../model/defaults';
import { FabricSpec } from '../model/fabric-spec';
import { FIVE_APPLIANCES, TEST_PLATFORM, TEST_DATABASE_SECRETS, TEST_SECRETS, threeNodeSpec } from './fixtures';

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
    expect(conf1).toContain('priority 250');
    expect(conf2).toContain('priority 240');
    expect(conf1).toContain(`virtual_router_id ${m.loadBalancer.vrrp.virtualRouterId}`);
    expect(conf1).toContain('198.51.100.10/24 dev eth0');
  });

  it('tracks haproxy and the watchdog eligibility file, uses script security and never vrrp_strict', () => {
    const conf = renderKeepalivedConf(m, node1);
    expect(conf).toMatch(/vrrp_track_process track_haproxy \{\n\s+process haproxy/);
    expect(conf).toMatch(/track_file \{\n\s+watchdog_fabric_vip/);
    expect(conf).toContain('file /run/appliance-fabric/vrrp-ineligible-fabric_vip');
    expect(conf).toContain('enable_script_security');
    expect(conf).toContain('script_user keepalived_script');
    expect(conf).not.toMatch(/^\s*vrrp_strict/m);
    expect(conf).toContain('vrrp_garp_master_refresh');
    expect(conf).toContain('advert_int 0.2');
    // Fast adverts need a VRRP process that runs on time on a busy node (issue 11).
    expect(conf).toMatch(/^ {4}vrrp_priority -20\n {4}vrrp_no_swap$/m);
    expect(conf).not.toMatch(/^\s*vrrp_rt_priority/m);
    expect(conf).toContain('    vrrp_higher_prio_send_advert true\n    vrrp_garp_lower_prio_repeat 3\n');
    expect(conf).toContain('leave a standby 0.61 s before it takes over');
    expect(conf).toContain('nopreempt');
  });

  it('renders multicast and preemption when asked', () => {
    const conf = renderKeepalivedConf(model(threeNodeSpec({ highAvailability: { vrrpMode: 'multicast', preempt: true, advertIntervalSeconds: 1 } })), node1);
    expect(conf).not.toContain('unicast_peer');
    expect(conf).not.toContain('nopreempt');
    expect(conf).toContain('advert_int 1');
  });

  it('runs the health checks at the check interval, with twice that as their timeout', () => {
    const chk = (conf: string, name: string) => conf.slice(conf.indexOf(`vrrp_script ${name} {`)).split('}')[0];
    expect(chk(renderKeepalivedConf(m, node1), 'chk_haproxy')).toMatch(/interval 1\n\s+timeout 2\n/);
    const slow = renderKeepalivedConf(model(threeNodeSpec({ highAvailability: { checkIntervalSeconds: 5 } })), node1);
    expect(chk(slow, 'chk_haproxy')).toMatch(/interval 5\n\s+timeout 10\n/);
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

  it('waits 60 s for a server by default, and as long as loadBalancer.serverTimeoutSeconds says', () => {
    expect(cfg).toContain('    timeout server 60s\n');
    const short = model(threeNodeSpec({ loadBalancer: { serverTimeoutSeconds: 15 } }));
    expect(renderHaproxyCfg(short, short.nodes[0], TEST_SECRETS)).toContain('    timeout server 15s\n');
  });

  it('gives reads 1.5 s before another server gets them, and keeps timeout server for upgrades, event streams and longRequestPaths', () => {
    const backend = (c: string) => c.slice(c.indexOf('\nbackend application_servers'), c.indexOf('\n\n', c.indexOf('\nbackend application_servers')));
    expect(backend(cfg)).toMatch(/^ {4}http-request set-timeout server 1500ms if METH_GET \|\| METH_HEAD \|\| METH_OPTIONS$/m);
    expect(backend(cfg)).toMatch(/^ {4}http-request set-timeout server 60s if \{ req\.hdr\(upgrade\) -m found \} \|\| \{ req\.hdr\(accept\) -m sub text\/event-stream \}$/m);
    // The later rule must win: the long timeout comes after the short one.
    expect(backend(cfg).indexOf('set-timeout server 1500ms')).toBeLessThan(backend(cfg).indexOf('set-timeout server 60s'));
    const tuned = model(threeNodeSpec({ loadBalancer: { readTimeoutSeconds: 3, longRequestPaths: ['/reports/', '/export'] } }));
    const out = backend(renderHaproxyCfg(tuned, tuned.nodes[0], TEST_SECRETS));
    expect(out).toMatch(/set-timeout server 3s if METH_GET/);
    expect(out).toMatch(/\|\| \{ path_beg \/reports\/ \/export \}$/m);
  });

  it('refuses a read timeout above serverTimeoutSeconds, or below 0.1 s, and a long path that is not a path', () => {
    expect(() => model(threeNodeSpec({ loadBalancer: { readTimeoutSeconds: 90 } }))).toThrow(/loadBalancer\.readTimeoutSeconds: read timeout 90 s is longer than serverTimeoutSeconds 60 s.*raise serverTimeoutSeconds to at least 90/s);
    expect(() => model(threeNodeSpec({ loadBalancer: { readTimeoutSeconds: 0.05 } }))).toThrow(/loadBalancer\.readTimeoutSeconds: read timeout 0\.05 s is not/);
    expect(() => model(threeNodeSpec({ loadBalancer: { longRequestPaths: ['/ok', 'reports }', '/a b'] } }))).toThrow(/longRequestPaths\[1\]: 'reports }' is not a URL path prefix[\s\S]*longRequestPaths\[2\]: '\/a b' is not/);
  });

  it('keeps the sessions of an application server marked DOWN by default, and closes them and probes its connections when told to', () => {
    const backend = (c: string) => c.slice(c.indexOf('\nbackend application_servers'), c.indexOf('\n\n', c.indexOf('\nbackend application_servers')));
    expect(backend(cfg)).toMatch(/^ {4}default-server inter 200ms fastinter 100ms downinter 1s fall 2 rise 2$/m);
    expect(backend(cfg)).not.toMatch(/shutdown-sessions|srvtcpka/);
    const on = model(threeNodeSpec({ loadBalancer: { closeSessionsOnServerDown: true, serverTcpKeepAlive: true } }));
    const closing = backend(renderHaproxyCfg(on, on.nodes[0], TEST_SECRETS));
    expect(closing).toMatch(/^ {4}default-server inter 200ms .* on-marked-down shutdown-sessions$/m);
    expect(closing).toMatch(/^ {4}option srvtcpka\n {4}srvtcpka-idle 1s\n {4}srvtcpka-intvl 1s\n {4}srvtcpka-cnt 2$/m);
  });

  it('renders loadBalancer.serverChecks, with the DOWN time and the stall it rides out in the comment', () => {
    const backend = (c: string) => c.slice(c.indexOf('\nbackend application_servers'), c.indexOf('\n\n', c.indexOf('\nbackend application_servers')));
    expect(backend(cfg)).toContain('A dead server is out within 0.7 s; a stall\n    # shorter than 0.5 s (a hypervisor pause) is no DOWN.');
    const slow = model(threeNodeSpec({ loadBalancer: { serverChecks: { intervalSeconds: 0.5, fall: 3, rise: 4 } } }));
    const out = backend(renderHaproxyCfg(slow, slow.nodes[0], TEST_SECRETS));
    expect(out).toMatch(/^ {4}default-server inter 500ms fastinter 250ms downinter 1s fall 3 rise 4$/m);
    // 3 connects of 0.5 s, 0.25 s apart: 2 s; the next check may be 0.5 s away.
    expect(out).toContain('within 2.5 s; a stall\n    # shorter than 2 s');
    // Above 1 s the check's connect is bounded by timeout connect, not by the interval.
    const rare = model(threeNodeSpec({ loadBalancer: { serverChecks: { intervalSeconds: 5, fall: 2 } } }));
    expect(rare.loadBalancer.serverChecks).toMatchObject({ checkConnectTimeoutSeconds: 1, fastIntervalSeconds: 2.5, stallToleranceSeconds: 4.5, downWithinSeconds: 9.5 });
    expect(backend(renderHaproxyCfg(rare, rare.nodes[0], TEST_SECRETS))).toMatch(/^ {4}default-server inter 5s fastinter 2500ms downinter 1s fall 2 rise 2$/m);
  });

  it('terminates TLS on the VIP for the GUI and each NBI port', () => {
    expect(cfg).toContain('bind 198.51.100.10:443 ssl crt /etc/haproxy/certs/fabric.pem');
    expect(cfg).toContain('bind 198.51.100.10:8443 ssl crt /etc/haproxy/certs/fabric.pem');
  });

  it('keeps stats on the node address, management network only, with the generated password', () => {
    expect(cfg).toContain('bind 198.51.100.11:8404');
    expect(cfg).toContain('acl management_network src 198.51.100.0/24 127.0.0.0/8');
    expect(cfg).toContain('http-request deny unless management_network');
    expect(cfg).toContain(`userlist stats_users\n    user stats insecure-password ${TEST_SECRETS.statsPassword}\n`);
    // The password guards the metrics as well as the page: the auth rule comes before the exporter.
    const stats = cfg.slice(cfg.indexOf('frontend stats'));
    expect(stats.indexOf('http-request auth realm appliance-fabric unless { http_auth(stats_users) }')).toBeGreaterThan(0);
    expect(stats.indexOf('http-request auth')).toBeLessThan(stats.indexOf('prometheus-exporter'));
    expect(stats).toContain('stats hide-version');
  });

  it('offers TLS 1.3 and TLS 1.2 AEAD suites only, and sends HSTS on the GUI and every NBI port', () => {
    const ciphers = cfg.match(/^ {4}ssl-default-bind-ciphers (\S+)$/m)?.[1].split(':') ?? [];
    expect(ciphers.length).toBeGreaterThan(0);
    for (const c of ciphers) expect(c).toMatch(/^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    expect(cfg).toContain('ssl-default-bind-options ssl-min-ver TLSv1.2');
    // Once, in the defaults the GUI and NBI frontends (and no other proxy) take their settings from.
    const https = cfg.slice(cfg.indexOf('\ndefaults https_clients from http\n'), cfg.indexOf('\n\n', cfg.indexOf('\ndefaults https_clients')));
    expect(https).toContain('http-response set-header Strict-Transport-Security "max-age=31536000"');
    expect(https).toContain('http-request set-header X-Forwarded-Proto https');
    expect(cfg.match(/Strict-Transport-Security/g)).toHaveLength(1);
    expect(cfg.match(/^(frontend|backend) \S+ from https_clients$/gm)).toEqual(['frontend gui from https_clients', 'frontend nbi_8443 from https_clients']);
  });

  it('names the defaults every proxy takes its settings from; zero-warning is for the checks, not the running process', () => {
    // With zero-warning in global, a reload that loads saved server states the new file lacks aborts
    // (4 of the 12 day-2 namespace tests failed so); fabric-apply-bundle checks with -dW instead.
    expect(cfg).not.toMatch(/^\s*zero-warning$/m);
    const proxies = cfg.match(/^(frontend|backend|listen) .*$/gm) ?? [];
    expect(proxies.length).toBeGreaterThan(4);
    for (const p of proxies) expect(p).toMatch(/^(frontend|backend) \S+ from (http|https_clients)$/);
    expect(cfg.match(/^defaults .*$/gm)).toEqual(['defaults http', 'defaults https_clients from http']);
  });

  it('uses a TCP check when the service has no HTTP health endpoint', () => {
    const tcp = model(threeNodeSpec({ applicationServers: { service: { healthCheck: { type: 'tcp' }, execStart: '/usr/bin/myapp' } } }));
    const out = renderHaproxyCfg(tcp, tcp.nodes[0], TEST_SECRETS);
    const backend = out.slice(out.indexOf('backend application_servers'), out.indexOf('\n\n', out.indexOf('backend application_servers')));
    expect(backend).not.toContain('option httpchk');
    expect(out).toContain('server node1 198.51.100.11:8080 check');
  });
});

describe('watchdog', () => {
  const m = model();

  it('probes HAProxy (VIP-critical), keepalived and the application on a balancer node', () => {
    expect(probesOf(m, m.nodes[0])).toEqual([
      { name: 'haproxy', unit: 'haproxy.service', type: 'http', target: 'http://127.0.0.1:8405/healthz', vipInstance: 'fabric_vip' },
      { name: 'keepalived', unit: 'keepalived.service', type: 'process', target: 'keepalived' },
      { name: 'fabric-app', unit: 'fabric-app.service', type: 'http', target: 'http://198.51.100.11:8080/healthz' },
      // Monitoring runs hot on the balancers when there are no dedicated nodes; HAProxy routes around it.
      { name: 'fabric-monitor', unit: 'fabric-monitor.service', type: 'http', target: 'http://198.51.100.11:8162/healthz', vipInstance: undefined },
    ]);
  });

  it('never lets an application server move a VIP', () => {
    expect(probesOf(m, m.nodes[2])).toEqual([
      { name: 'fabric-app', unit: 'fabric-app.service', type: 'http', target: 'http://198.51.100.13:8080/healthz' },
    ]);
  });

  it('writes the tuning into its config', () => {
    const conf = renderWatchdogConf(model(threeNodeSpec({ watchdog: { failuresBeforeRestart: 5, probeIntervalSeconds: 2 } })), m.nodes[0]);
    expect(conf).toContain('FAILURES_BEFORE_RESTART=5');
    expect(conf).toContain('PROBE_INTERVAL=2');
    expect(conf).toContain('PROBE=haproxy|haproxy.service|http|http://127.0.0.1:8405/healthz|fabric_vip');
    expect(conf).toContain('PROBE=fabric-app|fabric-app.service|http|http://198.51.100.11:8080/healthz|-');
  });

  it('gives sshd its drop-in and reloads it, since sshd started before write_files ran', () => {
    const ci = renderNodeCloudInit(m, m.nodes[0], TEST_SECRETS);
    expect(ci.files.find((f) => f.path === '/etc/ssh/sshd_config.d/40-appliance-fabric.conf')?.content).toMatch(/^AllowUsers fabric-admin$/m);
    expect(parse(ci.userData).runcmd).toContainEqual(['systemctl', 'try-reload-or-restart', 'ssh.service']);
  });

  it("lets sshd listen on the node's management address alone, and bind it on every node before it is up", () => {
    const withDevices = model(threeNodeSpec({ deviceNetwork: { cidr: '203.0.113.0/24', firstAddress: '203.0.113.11', vip: '203.0.113.10', tcpPorts: [4334] } }));
    for (const node of withDevices.nodes) {
      const files = renderNodeCloudInit(withDevices, node, TEST_SECRETS).files;
      const dropIn = files.find((f) => f.path === SSHD_DROP_IN)!.content;
      expect(dropIn.match(/^ListenAddress .*$/gm)).toEqual([`ListenAddress ${node.managementAddress}:${SSH_PORT}`]);
      expect(dropIn).not.toContain(node.deviceAddress!);
      // Balancers and application servers alike: sshd is on every node.
      const sysctl = files.filter((f) => f.path.startsWith('/etc/sysctl.d/'));
      expect(sysctl.map((f) => f.path)).toEqual([NONLOCAL_BIND_SYSCTL]);
      expect(sysctl[0].content).toMatch(/^net\.ipv4\.ip_nonlocal_bind = 1$/m);
      expect(sysctl[0].content.includes('HAProxy on the standby')).toBe(node.roles.includes('load-balancer'));
    }
    expect(withDevices.nodes.map((n) => n.roles.includes('load-balancer'))).toEqual([true, true, false]);
  });

  it('loads the platform watchdog driver, falls back to softdog loudly, and keeps systemd off the device', () => {
    const ci = renderNodeCloudInit(m, m.nodes[0], TEST_SECRETS);
    const doc = parse(ci.userData);
    // Not bootcmd: on vSphere the user-data is redacted after the first boot, and bootcmd would go with it.
    expect(doc.bootcmd).toBeUndefined();
    const dropIn = ci.files.find((f) => f.path === '/etc/systemd/system/watchdog.service.d/40-appliance-fabric-driver.conf');
    // The platform's driver module is the loader's argument (libvirt's i6300esb here), the script the same everywhere.
    expect(dropIn?.content).toMatch(/^\[Service\]\nExecStartPre=\/usr\/local\/lib\/appliance-fabric\/load-watchdog-driver i6300esb$/m);
    const loader = ci.files.find((f) => f.path === '/usr/local/lib/appliance-fabric/load-watchdog-driver');
    expect(loader?.permissions).toBe('0755');
    expect(loader?.content).toBe(renderWatchdogDriverScript(m, m.nodes[0]));
    const lines = readAsset(WATCHDOG_DRIVER_ASSET).split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines.slice(0, 3)).toEqual(['set -u', 'module=${1:-}', '[[ -e /dev/watchdog ]] || modprobe "$module" || true']);
    // softdog cannot reset a hung kernel: the fallback says so on the console and in the journal (crit), with the fix.
    expect(lines[3]).toBe('if [[ ! -e /dev/watchdog ]]; then');
    expect(lines[4]).toMatch(/^ {2}echo ".*no \$\{module:-\?\} driver.*linux-image-amd64.*" \| tee \/dev\/console \| logger -p daemon\.crit -t fabric-watchdog$/);
    // A failing ExecStartPre would keep the daemon, and with it the device, from starting.
    expect(lines.slice(5)).toEqual(['  modprobe softdog || true', 'fi', 'exit 0']);
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
    expect(doc.packages).toEqual(['chrony', 'curl', 'haproxy', 'keepalived', 'nftables', 'python3', 'watchdog']);
  });

  it('writes every file after package installation, and starts services in dependency order', () => {
    expect(doc.write_files.every((f: { defer: boolean }) => f.defer)).toBe(true);
    // The first line makes any failing step fail the boot (runcmd's status is otherwise its last line's).
    expect(doc.runcmd[0]).toEqual(['set', '-e']);
    expect(doc.runcmd.slice(-2)).toEqual([
      ['systemctl', 'restart', 'fabric-app.service', 'fabric-monitor.service', 'haproxy.service'],
      ['systemctl', 'restart', 'keepalived.service', 'fabric-watchdog.service', 'watchdog.service'],
    ]);
  });

  it('is deterministic', () => {
    expect(renderNodeCloudInit(m, m.nodes[0], TEST_SECRETS).userData).toBe(ci.userData);
  });

  it('runs the application service as a user of its own, never root unless the config says so', () => {
    const unitOf = (spec: FabricSpec, node = 2) => {
      const mm = model(spec);
      const d = parse(renderNodeCloudInit(mm, mm.nodes[node], TEST_SECRETS).userData);
      const unit = d.write_files.find((f: { path: string }) => f.path === '/etc/systemd/system/myapp.service' || f.path === '/etc/systemd/system/fabric-app.service').content as string;
      return { unit, users: d.users.map((u: { name: string }) => u.name) as string[] };
    };
    // The built-in service: a transient user of systemd's, nothing to create.
    expect(unitOf(threeNodeSpec())).toEqual({ unit: expect.stringContaining('\nDynamicUser=yes\n'), users: ['fabric-admin', 'keepalived_script'] });
    // A service of your own: a system user named after it (or the one given), with no new privileges.
    const own = unitOf(threeNodeSpec({ applicationServers: { service: { name: 'myapp', execStart: '/usr/bin/myapp' } } }));
    expect(own.unit).toContain('\nUser=myapp\nNoNewPrivileges=yes\n');
    expect(own.users).toEqual(['fabric-admin', 'keepalived_script', 'myapp']);
    const given = unitOf(threeNodeSpec({ applicationServers: { service: { name: 'myapp', execStart: '/usr/bin/myapp', user: 'app-runner' } } }));
    expect(given.unit).toContain('\nUser=app-runner\n');
    expect(given.users).toContain('app-runner');
    // root only when asked, and said so in the unit.
    const root = unitOf(threeNodeSpec({ applicationServers: { service: { name: 'myapp', execStart: '/usr/bin/myapp', user: 'root' } } }));
    expect(root.unit).not.toMatch(/^(User|DynamicUser)=/m);
    expect(root.unit).toContain('# Runs as root: the config gives it user root.');
    expect(root.users).toEqual(['fabric-admin', 'keepalived_script']);
  });

  it('matches the NIC by MAC and names it eth0', () => {
    const net = networkConfigOf(m, m.nodes[1]) as { ethernets: Record<string, Record<string, unknown>> };
    expect(net.ethernets.eth0.match).toEqual({ macaddress: m.nodes[1].managementMac });
    expect(net.ethernets.eth0.addresses).toEqual(['198.51.100.12/24']);
    expect(net.ethernets.eth0.routes).toEqual([{ to: '0.0.0.0/0', via: '198.51.100.1' }]);
  });
});

describe('full fabric: database, monitoring pair, Cassandra, device network', () => {
  const full = model(
    threeNodeSpec({
      appliances: FIVE_APPLIANCES,
      applicationServers: { members: ['node1', 'node2', 'node3'] },
      database: { members: ['db1', 'db2'], vip: '198.51.100.20' },
      monitoring: { members: ['db1', 'db2'], vip: '198.51.100.30' },
      cassandra: { members: ['node1', 'node2', 'node3'] },
      deviceNetwork: { cidr: '203.0.113.0/24', firstAddress: '203.0.113.11', vip: '203.0.113.10', tcpPorts: [4334] },
    }),
  );
  const secrets = { ...TEST_DATABASE_SECRETS, databaseReplicationPassword: 'ReplTestOnly0', databaseApplicationPassword: 'AppTestOnly0' };
  const files = (name: string) => renderNodeCloudInit(full, full.nodes.find((n) => n.name === name)!, secrets).files;
  const file = (name: string, path: string) => files(name).find((f) => f.path === path)?.content ?? '';

  it("runs every VIP's notify hook as root and keeps the runtime directory root's alone", () => {
    for (const name of ['node1', 'db1']) {
      const conf = file(name, '/etc/keepalived/keepalived.conf');
      const notify = conf.match(/^ +notify .*$/gm) ?? [];
      // node1: fabric and device VIPs; db1: database and monitoring VIPs.
      expect(notify).toHaveLength(2);
      for (const line of notify) expect(line).toMatch(/^ +notify "\/usr\/local\/lib\/appliance-fabric\/(keepalived|database)-notify" root$/);
      // The script user's checks only read there: it must not be able to plant a symlink that root writes through.
      expect(file(name, '/etc/tmpfiles.d/appliance-fabric.conf')).toMatch(/^d \/run\/appliance-fabric 0755 root root -$/m);
    }
  });

  it('checks the servers behind the device ports and keeps their sessions by default, and closes them and probes them when told to', () => {
    const device = (c: string) => c.slice(c.indexOf('\nbackend device_4334'), c.indexOf('\n\n', c.indexOf('\nbackend device_4334')));
    const cfg = device(file('node1', '/etc/haproxy/haproxy.cfg'));
    expect(cfg).toMatch(/^ {4}default-server inter 200ms fastinter 100ms downinter 1s fall 2 rise 2$/m);
    expect(cfg).toContain('# Checked every 0.2 s (deviceNetwork.serverChecks). A check fails when its connect\n    # takes over 0.2 s; 2 failures');
    expect(cfg).not.toMatch(/shutdown-sessions|srvtcpka|timeout check/);
    expect(cfg).toContain('server node3 198.51.100.13:4334 check');
    const tuned = model(
      threeNodeSpec({
        deviceNetwork: { cidr: '203.0.113.0/24', firstAddress: '203.0.113.11', vip: '203.0.113.10', tcpPorts: [4334], serverChecks: { intervalSeconds: 0.1, fall: 3 }, closeSessionsOnServerDown: true, serverTcpKeepAlive: true },
      }),
    );
    const on = device(renderHaproxyCfg(tuned, tuned.nodes[0], TEST_SECRETS));
    expect(on).toMatch(/^ {4}default-server inter 100ms fastinter 50ms downinter 1s fall 3 rise 2 on-marked-down shutdown-sessions$/m);
    expect(on).toMatch(/^ {4}option srvtcpka\n {4}srvtcpka-idle 1s\n {4}srvtcpka-intvl 1s\n {4}srvtcpka-cnt 2$/m);
    expect(on).toContain('(deviceNetwork.closeSessionsOnServerDown)');
    // The application backend keeps its own settings.
    const app = renderHaproxyCfg(tuned, tuned.nodes[0], TEST_SECRETS);
    expect(app.slice(app.indexOf('backend application_servers'), app.indexOf('\n\n', app.indexOf('backend application_servers')))).not.toMatch(/shutdown-sessions|srvtcpka|inter 100ms/);
  });

  it('gives every VRRP instance a distinct router id', () => {
    const ids = [full.loadBalancer.vrrp, full.database!.vrrp, full.monitoring.vrrp!].map((i) => i.virtualRouterId);
    expect(new Set(ids).size).toBe(3);
  });

  it('renders the database VIP with a liveness check, no preemption and the promotion hook run as root', () => {
    const conf = file('db1', '/etc/keepalived/keepalived.conf');
    expect(conf).toMatch(/vrrp_script chk_database \{\n\s+script "\/usr\/local\/lib\/appliance-fabric\/check-database"/);
    expect(conf).toMatch(/vrrp_instance database_vip \{[^}]*nopreempt/);
    expect(conf).toContain('notify "/usr/local/lib/appliance-fabric/database-notify" root');
    expect(conf).toMatch(/track_file database_eligibility \{\n\s+file \/run\/appliance-fabric\/database-ineligible/);
    expect(conf).toContain('virtual_router_id');
    expect(conf).toContain('198.51.100.20/24 dev eth0');
  });

  it('configures MariaDB for GTID replication, read-only until promoted, with unique server ids', () => {
    const cnf1 = file('db1', '/etc/mysql/mariadb.conf.d/60-appliance-fabric.cnf');
    const cnf2 = file('db2', '/etc/mysql/mariadb.conf.d/60-appliance-fabric.cnf');
    expect(cnf1).toContain('server_id = 1');
    expect(cnf2).toContain('server_id = 2');
    for (const cnf of [cnf1, cnf2]) {
      expect(cnf).toContain('gtid_strict_mode = ON');
      expect(cnf).toContain('log_bin = fabric-bin');
      expect(cnf).toContain('read_only = ON');
    }
  });

  it('promotes only when not isolated, and refuses a stale rejoin', () => {
    const hook = file('db2', '/usr/local/lib/appliance-fabric/database-notify');
    // Hooks take turns and act only while their state is current (a late rejoin never demotes a new primary).
    expect(hook).toMatch(/MASTER\) \{ take_turn MASTER && promote; \} &/);
    expect(hook).toMatch(/BACKUP\) \{ take_turn BACKUP && rejoin; \} &/);
    expect(hook).toContain('flock --timeout 180 9');
    expect(hook).toMatch(/while isolated; do/);
    expect(hook).toContain('SET GLOBAL read_only = OFF');
    expect(hook).toContain('MASTER_USE_GTID=slave_pos');
    expect(hook).toMatch(/"\$err" == 1236/);
    const env = file('db2', '/etc/appliance-fabric/database.env');
    expect(env).toContain('DB_PEER=198.51.100.21');
    expect(env).toContain('DB_WITNESSES="198.51.100.11 198.51.100.12 198.51.100.13 198.51.100.1"');
    expect(env).toContain('DB_REPLICATION_PASSWORD=ReplTestOnly0');
    // Accounts per address: the peer for replication, each application server for the application.
    expect(env).toContain('DB_REPLICATION_HOSTS="198.51.100.21"');
    expect(env).toContain('DB_APPLICATION_HOSTS="198.51.100.11 198.51.100.12 198.51.100.13"');
    expect(env).not.toMatch(/255\.255\.255\.0/);
  });

  it('creates the application account for the VIP too where a database node is an application server, and for each client network', () => {
    const colocated = model(threeNodeSpec({ database: { vip: '198.51.100.20' }, firewall: { databaseClientCidrs: ['203.0.113.64/26', '192.0.2.7'] } }));
    const db1 = colocated.nodes.find((n) => n.name === colocated.database!.members[0])!;
    const hosts = databaseAccountHosts(colocated, db1, colocated.database!);
    expect(hosts.replication).toEqual([colocated.nodes.find((n) => n.name === colocated.database!.members[1])!.managementAddress]);
    expect(hosts.application).toEqual(['198.51.100.11', '198.51.100.12', '198.51.100.13', '198.51.100.20', '203.0.113.64/255.255.255.192', '192.0.2.7']);
  });

  it('points the application servers at the database VIP only', () => {
    const env = file('node3', '/etc/appliance-fabric/database-client.env');
    expect(env).toContain('DB_HOST=198.51.100.20');
    expect(file('node3', '/etc/systemd/system/fabric-app.service')).toContain('EnvironmentFile=-/etc/appliance-fabric/database-client.env');
    expect(files('db1').map((f) => f.path)).not.toContain('/etc/appliance-fabric/database-client.env');
  });

  it('runs monitoring on the dedicated pair with its own VIP and check, not behind HAProxy', () => {
    const conf = file('db1', '/etc/keepalived/keepalived.conf');
    expect(conf).toMatch(/vrrp_instance monitoring_vip \{/);
    expect(conf).toContain('track_script {\n        chk_monitoring');
    expect(file('db1', '/etc/systemd/system/fabric-monitor.service')).toContain('--address 0.0.0.0 --port 8162');
    expect(file('node1', '/etc/haproxy/haproxy.cfg')).not.toContain('frontend monitoring');
    expect(files('db1').map((f) => f.path)).not.toContain('/etc/systemd/system/fabric-app.service');
  });

  it('renders cassandra.yaml with the seeds, node addresses and the snitch', () => {
    const yaml = parse(file('node3', '/etc/cassandra/cassandra.yaml'));
    expect(yaml.seed_provider[0].parameters[0].seeds).toBe('198.51.100.11,198.51.100.12');
    expect(yaml.listen_address).toBe('198.51.100.13');
    expect(yaml.endpoint_snitch).toBe('GossipingPropertyFileSnitch');
    expect(file('node3', '/etc/cassandra/cassandra-rackdc.properties')).toContain('dc=testfab');
  });

  it('starts Cassandra last and on its own lines, so a failed install stops nothing else', () => {
    const runcmd = parse(renderNodeCloudInit(full, full.nodes[0], secrets).userData).runcmd as string[][];
    const others = runcmd.filter((c) => c[0] === 'systemctl' && ['enable', 'restart'].includes(c[1]) && !c.includes('cassandra.service'));
    expect(others.length).toBeGreaterThanOrEqual(3);
    expect(runcmd.filter((c) => c.includes('cassandra.service'))).toEqual([['systemctl', 'enable', 'cassandra.service'], ['systemctl', 'restart', 'cassandra.service']]);
    const lastKeepalived = runcmd.findIndex((c) => c.includes('keepalived.service') && c[1] === 'restart');
    const installer = runcmd.findIndex((c) => c[0].endsWith('/install-cassandra'));
    expect(installer).toBeGreaterThan(lastKeepalived);
    // Then, not waited for, the authentication set-up (enabled earlier, with the other units).
    expect(runcmd.slice(-2)).toEqual([['systemctl', 'restart', 'cassandra.service'], ['systemctl', 'start', '--no-block', 'fabric-cassandra-auth.service']]);
    expect(runcmd.find((c) => c[1] === 'enable' && c.includes('keepalived.service'))).toContain('fabric-cassandra-auth.service');
  });

  it('installs Cassandra with the pinned signing keys alone: gpg from the packages, the settings in an env file', () => {
    const env = file('node2', CASSANDRA_INSTALL_ENV);
    expect(env.split('\n').filter((l) => !l.startsWith('#'))).toEqual([
      "CASSANDRA_APT_URL='https://debian.cassandra.apache.org'",
      "CASSANDRA_APT_SUITE='50x'",
      "CASSANDRA_KEYS_URL='https://downloads.apache.org/cassandra/KEYS'",
      `CASSANDRA_KEY_FINGERPRINTS='${DEFAULT_CASSANDRA_APT_KEY_FINGERPRINTS.join(' ')}'`,
      `CASSANDRA_KEYRING='${CASSANDRA_KEYRING}'`,
      `CASSANDRA_APT_SOURCE='${CASSANDRA_APT_SOURCE}'`,
      '',
    ]);
    expect(DEFAULT_CASSANDRA_APT_KEY_FINGERPRINTS).toHaveLength(13);
    for (const f of DEFAULT_CASSANDRA_APT_KEY_FINGERPRINTS) expect(f).toMatch(/^[0-9A-F]{40}$/);
    // The installer is the asset: the KEYS file never goes straight into a keyring.
    const installer = file('node2', CASSANDRA_INSTALL_SCRIPT);
    expect(installer).toContain('gpg_ --export-options export-minimal --export "${pinned[@]}" > "$work/keyring.gpg"');
    expect(installer).not.toMatch(/curl [^\n]*keyrings/);
    const packages = (name: string) => parse(renderNodeCloudInit(full, full.nodes.find((n) => n.name === name)!, secrets).userData).packages as string[];
    expect(packages('node2')).toContain('gpg');
    expect(packages('db1')).not.toContain('gpg');
    // Lower-case fingerprints are the same keys: the env file has them as gpg prints them.
    const own = model(threeNodeSpec({ cassandra: { members: ['node1', 'node2'], aptSource: { keyFingerprints: ['a26e528b271f19b9e5d8e19ea278b781fe4b2bda'] } } }));
    const ownEnv = renderNodeCloudInit(own, own.nodes[0], TEST_SECRETS).files.find((f) => f.path === CASSANDRA_INSTALL_ENV)!.content;
    expect(ownEnv).toContain("\nCASSANDRA_KEY_FINGERPRINTS='A26E528B271F19B9E5D8E19EA278B781FE4B2BDA'\n");
    // Without package installs at boot (the image carries Cassandra), neither the installer nor its settings.
    const preinstalled = model(threeNodeSpec({ cassandra: { members: ['node1', 'node2'] }, installPackagesOnBoot: false }));
    const paths = renderNodeCloudInit(preinstalled, preinstalled.nodes[0], TEST_SECRETS).files.map((f) => f.path);
    expect(paths).toContain('/etc/cassandra/cassandra.yaml');
    expect(paths.filter((p) => p === CASSANDRA_INSTALL_ENV || p === CASSANDRA_INSTALL_SCRIPT)).toEqual([]);
  });

  it('gives Cassandra minutes to start before the watchdog counts its failed probes', () => {
    expect(file('node1', '/etc/appliance-fabric/watchdog.conf')).toContain('PROBE=cassandra|cassandra.service|tcp|198.51.100.11:9042|-|300\n');
    expect(file('node1', '/etc/appliance-fabric/watchdog.conf')).toContain('PROBE=haproxy|haproxy.service|http|http://127.0.0.1:8405/healthz|fabric_vip|-\n');
  });

  it('adds eth3 by MAC with the device address, and the device VIP moves with the fabric VIP', () => {
    const net = networkConfigOf(full, full.nodes[0]) as { ethernets: Record<string, Record<string, unknown>> };
    expect(net.ethernets.eth3).toEqual(expect.objectContaining({ 'set-name': 'eth3', addresses: ['203.0.113.11/24'], match: { macaddress: full.nodes[0].deviceMac } }));
    const conf = file('node1', '/etc/keepalived/keepalived.conf');
    expect(conf).toMatch(/vrrp_sync_group balancer_vips \{\n\s+group \{\n\s+fabric_vip\n\s+device_vip/);
    expect(conf).toContain('203.0.113.10/24 dev eth3');
  });

  it('passes device connections on the device VIP through to every application server, in TCP mode', () => {
    const cfg = file('node1', '/etc/haproxy/haproxy.cfg');
    const section = (name: string) => cfg.split('\n\n').find((s) => s.includes(`\n${name}\n`) || s.startsWith(`${name}\n`)) ?? '';
    expect(section('defaults tcp')).toMatch(/^defaults tcp\n\s+mode tcp\n[\s\S]*timeout client 1h\n\s+timeout server 1h\n/m);
    expect(section('frontend device_4334 from tcp')).toMatch(/bind 203\.0\.113\.10:4334\n/);
    const backend = section('backend device_4334 from tcp');
    expect(backend).toMatch(/\n\s+balance leastconn/);
    expect(backend.match(/^\s+server .*$/gm)).toEqual([
      '    server node1 198.51.100.11:4334 check',
      '    server node2 198.51.100.12:4334 check',
      '    server node3 198.51.100.13:4334 check',
    ]);
    // HTTP-only options stay out of the TCP proxies (haproxy -c would warn).
    for (const name of ['defaults tcp', 'frontend device_4334 from tcp', 'backend device_4334 from tcp', 'defaults http']) expect(section(name)).not.toContain('forwardfor');
  });

  it('moves only the VIP whose service keeps failing', () => {
    const conf = file('db1', '/etc/appliance-fabric/watchdog.conf');
    expect(conf).toContain('PROBE=mariadb|mariadb.service|command|/usr/local/lib/appliance-fabric/check-database|database_vip');
    expect(conf).toContain('PROBE=fabric-monitor|fabric-monitor.service|http|http://198.51.100.21:8162/healthz|monitoring_vip');
  });
});

describe('monitoring without dedicated nodes', () => {
  const m = model();
  it('runs hot on both balancers behind the fabric VIP, the second as backup', () => {
    const cfg = renderHaproxyCfg(m, m.nodes[0], TEST_SECRETS);
    expect(cfg).toContain('bind 198.51.100.10:8162');
    expect(cfg).toContain('server node1 198.51.100.11:8162 check\n');
    expect(cfg).toContain('server node2 198.51.100.12:8162 check backup');
  });
});
