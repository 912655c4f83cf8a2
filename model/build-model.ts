import * as D from './defaults';
import { ProblemCollector } from './errors';
import { FabricModel, PlatformTraits } from './fabric-model';
import { FabricSpec } from './fabric-spec';
import { buildFirewall } from './firewall';
import { isDnsLabel } from './identifiers';
import { refuseSecretPlaceholders } from './safe-strings';
import * as applicationServers from './clusters/application-servers';
import * as appliances from './clusters/appliances';
import * as authorizedKeys from './clusters/authorized-keys';
import * as cassandra from './clusters/cassandra';
import * as configurationDelivery from './clusters/configuration-delivery';
import { BuildContext } from './clusters/context';
import * as database from './clusters/database';
import * as deviceNetwork from './clusters/device-network';
import * as highAvailability from './clusters/high-availability';
import * as loadBalancer from './clusters/load-balancer';
import * as loadBalancerProxy from './clusters/load-balancer-proxy';
import * as monitoring from './clusters/monitoring';
import * as network from './clusters/network';
import * as replaceAppliances from './clusters/replace-appliances';
import * as services from './clusters/services';
import * as watchdog from './clusters/watchdog';

/**
 * Validates a fabric description once, up front, and returns the normalized
 * model. Throws one FabricValidationError listing every problem found.
 *
 * Each part of the fabric has its builder in clusters/; they run in this
 * order, which is also the order their problems are reported in, and share
 * what later ones need through the BuildContext. What a builder derives from
 * other clusters' members it derives only once the whole fabric is valid.
 */
export function buildFabricModel(spec: FabricSpec, platform: PlatformTraits, constructPath: string): FabricModel {
  const problems = new ProblemCollector(constructPath);
  refuseSecretPlaceholders(spec, problems);
  if (!isDnsLabel(spec.name)) {
    problems.add('name', `fabric name '${String(spec.name)}' is not a DNS label`, "use lower-case letters, digits and '-', at most 63 characters, e.g. 'fabric1'");
  }

  const context = new BuildContext(spec.name, platform, problems);
  network.build(spec, context, problems);
  const nodes = appliances.build(spec, context, problems);
  highAvailability.build(spec, context, problems);
  const lb = loadBalancer.build(spec, context, problems);
  const mon = monitoring.build(spec, context, problems);
  const app = applicationServers.build(spec, context, problems);
  const service = services.build(spec, context, problems);
  const db = database.build(spec, context, problems);
  const ring = cassandra.build(spec, context, problems);
  const device = deviceNetwork.build(spec, context, problems);
  // Ports on one node must not collide: checked once every cluster has claimed its own.
  context.ports.check(problems);
  const proxy = loadBalancerProxy.build(spec, context, problems);
  const probes = watchdog.build(spec, context, problems);
  const keys = authorizedKeys.build(spec, context, problems);
  const delivery = configurationDelivery.build(spec, context, problems);
  const firewall = context.network ? buildFirewall(spec.firewall, { network: context.network, hasDatabase: spec.database !== undefined, delivery }, problems) : undefined;
  const replacements = replaceAppliances.build(spec, context, problems);

  context.routerIds.assign();
  problems.throwIfAny();

  // Everything below runs on validated input only.
  return {
    constructPath,
    name: spec.name,
    platform,
    network: context.network!,
    vip: spec.vip,
    nodes: nodes.model(device),
    loadBalancer: lb.model(proxy),
    applicationServers: app.model(service.application),
    database: db?.model(),
    cassandra: ring?.model(),
    monitoring: mon.model(service.monitoring),
    deviceNetwork: device?.model(),
    watchdog: probes,
    firewall: firewall!,
    sshAuthorizedKeys: keys.model(),
    configurationDelivery: delivery,
    installPackagesOnBoot: spec.installPackagesOnBoot ?? D.DEFAULT_INSTALL_PACKAGES_ON_BOOT,
    replaceAppliances: replacements,
  };
}
