import { serviceUnitName } from '../cloud-init/application-service';
import { WATCHDOG_SYSLOG_TAG } from '../cloud-init/node-paths';
import { buildFabricModel } from '../model/build-model';
import { FabricModel } from '../model/fabric-model';
import { applicationHung, oneHolderPerVip, serviceFaultNode } from './scenarios/fabric-scenarios';
import { FabricUnderTest, NodeCommandResult } from './scenarios/fabric-under-test';
import { TEST_PLATFORM, threeNodeSpec } from './fixtures';

/**
 * The shared scenarios judge themselves (test/scenarios): here, against a
 * fabric that is only a script of answers, each verdict is shown to fail
 * when the fabric is degraded, and to pass only when it is not. The tiers
 * then run them on real daemons.
 */
describe('the shared scenarios judge what they see', () => {
  const model: FabricModel = buildFabricModel(threeNodeSpec({ database: { vip: '198.51.100.20' } }), TEST_PLATFORM, 'stack/Fabric');

  /** A fabric whose nodes answer from `answer`, with `held` as the holders of each address. */
  const scripted = (options: { held?: Record<string, string[]>; answer?: (node: string, command: string) => NodeCommandResult; journal?: () => string[] }): FabricUnderTest => ({
    tier: 'namespaces',
    model,
    clientNamespace: 'not-used',
    sampler: () => {
      throw new Error('no sampler in a scripted fabric');
    },
    isUp: () => true,
    exec: async (node, command) => (options.answer ?? (() => ({ exitCode: 1, stdout: '' })))(node, command),
    journal: async () => (options.journal ?? (() => []))(),
    holders: async (address) => options.held?.[address] ?? [],
    stall: async () => 0,
    powerOff: async () => undefined,
    powerOn: async () => undefined,
  });

  it('one-vip-holder: names every VIP held by two nodes or by none', async () => {
    const both = await oneHolderPerVip(scripted({ held: { [model.vip]: ['node1', 'node2'] } }));
    expect(both.problems).toEqual([`the fabric VIP ${model.vip} is held by [node1, node2]`, `the database VIP ${model.database!.vrrp.vip} is held by []`]);
    const one = await oneHolderPerVip(scripted({ held: { [model.vip]: ['node2'], [model.database!.vrrp.vip]: ['node1'] } }));
    expect(one.problems).toEqual([]);
    expect(one.detail).toBe('fabric [node2]; database [node1]');
  });

  /** An application service that systemd restarts under a new PID as soon as it is stopped, and that is healthy. */
  const restartingService = () => {
    let pid = 100;
    return (_node: string, command: string): NodeCommandResult => {
      if (command.startsWith('systemctl show -p MainPID')) return { exitCode: 0, stdout: `${pid}\n` };
      if (command.startsWith('systemctl kill --signal=SIGSTOP')) {
        pid += 1;
        return { exitCode: 0, stdout: '' };
      }
      if (command.startsWith('curl ')) return { exitCode: 0, stdout: '' };
      return { exitCode: 1, stdout: `unexpected: ${command}` };
    };
  };
  const unit = serviceUnitName(model.applicationServers.service);

  it('app-hang: a service back under a new PID fails when the watchdog logged no restart of it', async () => {
    const r = await applicationHung(scripted({ answer: restartingService(), journal: () => [`restarting ${unit.replace('.service', '-other.service')}`] }));
    expect(r.problems).toEqual([`the watchdog (${WATCHDOG_SYSLOG_TAG}) logged no restart of ${unit}`]);
    expect(r.title).toBe(`hung application service on ${serviceFaultNode(scripted({}))} restarted by the watchdog`);
  });

  it('app-hang: passes when the service is back under a new PID and the watchdog logged its restart after the fault', async () => {
    let calls = 0;
    // Before the fault the journal holds an older restart; after it, one more.
    const journal = () => (calls++ === 0 ? [`restarting ${unit} (earlier)`] : [`restarting ${unit} (earlier)`, `restarting ${unit}: 3 failed probes`]);
    const r = await applicationHung(scripted({ answer: restartingService(), journal }));
    expect(r.problems).toEqual([]);
    expect(r.detail).toContain('healthy again with main PID 101 (was 100)');
  });

  it('app-hang: an older restart in the journal does not count for this fault', async () => {
    const r = await applicationHung(scripted({ answer: restartingService(), journal: () => [`restarting ${unit} (earlier)`] }));
    expect(r.problems).toEqual([`the watchdog (${WATCHDOG_SYSLOG_TAG}) logged no restart of ${unit}`]);
  });
});
