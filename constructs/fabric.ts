import * as path from 'node:path';
import { Annotations, App, DataResource, ITerraformDependable, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { renderNodeCloudInit, toYaml } from '../cloud-init/cloud-config';
import { FabricModel, vrrpInstances } from '../model/fabric-model';
import { guestinfoMetaDataOf } from '../cloud-init/network-config';
import { buildFabricModel } from '../model/build-model';
import { ProblemCollector } from '../model/errors';
import { checkAgainstLock, LockedFabric, LockedImage, lockedFabricOf } from '../model/identity';
import { FabricSpec } from '../model/fabric-spec';
import { Appliance } from './appliance';
import { ApplicationServerCluster } from './application-server-cluster';
import { DEFAULT_LOCK_FILE, FabricLockWriter, readFabricLock } from './fabric-lock';
import { FabricSecretsConstruct, SshHostKeyConstruct } from './fabric-secrets';
import { NodeConfiguration } from './node-configuration';
import { RetiredAppliances } from './retired-appliances';
import { CassandraCluster } from './cassandra-cluster';
import { DatabaseCluster } from './database-cluster';
import { LoadBalancerCluster } from './load-balancer-cluster';
import { MonitoringCluster } from './monitoring-cluster';
import { ApplianceMachine, ApplianceMachineSpec, FabricPlatform } from './platforms/platform';
import { escapeForTerraform, withSecrets } from './terraform-strings';

export interface FabricProps extends FabricSpec {
  /** The hypervisor the appliances run on, e.g. `new VspherePlatform({...})`. */
  readonly platform: FabricPlatform;
  /**
   * The lock file that records each node's identity and image as last
   * synthesized (one entry per fabric, by construct path; commit it beside
   * the config). `app.synth()` refuses an identity change (see
   * `replaceAppliances`) or a pair whose members all change image, and
   * otherwise writes the file, only when every fabric of the app passed.
   * Constructing a fabric alone reads and writes nothing. A relative path is
   * taken from the working directory (where `cdktf synth` runs: the project).
   * @default 'appliance-fabric.lock.json'
   */
  readonly lockFile?: string;
}

/**
 * The physical cluster: a set of appliances with the fabric VIP, its logical
 * clusters, and one VM per appliance on the chosen platform. Props are
 * validated once, here, before any resource is created.
 */
export class Fabric extends Construct {
  /** The validated, normalized model every part of the fabric is built from. */
  readonly model: FabricModel;
  readonly appliances: Appliance[];
  readonly loadBalancer: LoadBalancerCluster;
  readonly applicationServers: ApplicationServerCluster;
  /** The database cluster, when the fabric has one. */
  readonly database?: DatabaseCluster;
  /** The Cassandra cluster, when the fabric has one. */
  readonly cassandra?: CassandraCluster;
  readonly monitoring: MonitoringCluster;
  /** The lock file, as an absolute path. */
  readonly lockFile: string;
  /** The `removed` blocks of appliances that left the fabric since the lock was written. */
  private readonly retired: RetiredAppliances;

  constructor(scope: Construct, id: string, props: FabricProps) {
    super(scope, id);
    const { platform, lockFile, ...spec } = props;
    const validated = buildFabricModel(spec, platform.traits, this.node.path);
    platform.validate(validated);
    // Where the platform places each appliance (Cassandra's rack comes from it).
    const hosts = platform.placement?.(validated);
    this.model = hosts ? { ...validated, nodes: validated.nodes.map((n) => ({ ...n, host: hosts.get(n.name) ?? n.host })) } : validated;

    const secrets = new FabricSecretsConstruct(this, 'secrets', this.model);
    const machines: ApplianceMachineSpec[] = [];
    const hostKeys = new Map<string, SshHostKeyConstruct>();
    // Filled by the platform below, which creates each VM inside its appliance.
    const vms = new Map<string, ApplianceMachine>();
    this.appliances = this.model.nodes.map((node) => {
      const hostKey = new SshHostKeyConstruct(this, `${node.name}_ssh_host_key`);
      hostKeys.set(node.name, hostKey);
      const cloudInit = renderNodeCloudInit(this.model, node, secrets.placeholders, hostKey.placeholders);
      const appliance = new Appliance(this, node.name, {
        node,
        cloudInit,
        terraformUserData: withSecrets(cloudInit.userData, { ...secrets.placeholders, ...hostKey.placeholders }, { ...secrets.tokens, ...hostKey.tokens }),
        machineId: () => vms.get(node.name)?.id,
      });
      // Its id says what the marker is for; the value is the node, so it never changes on its own.
      const marker = new DataResource(appliance, 'replacement', { input: { node: node.name } });
      machines.push({
        scope: appliance,
        node,
        replacementMarker: `terraform_data.${marker.friendlyUniqueId}`,
        userData: appliance.userDataLocal.asString,
        metaData: escapeForTerraform(cloudInit.metaData),
        networkConfig: escapeForTerraform(cloudInit.networkConfig),
        metaDataWithNetwork: escapeForTerraform(toYaml(guestinfoMetaDataOf(this.model, node, cloudInit.networkConfigData))),
      });
      return appliance;
    });
    const byName = (names: readonly string[]) => names.map((n) => this.appliances.find((a) => a.name === n)!);
    this.loadBalancer = new LoadBalancerCluster(this, 'load-balancer', this.model.loadBalancer, byName(this.model.loadBalancer.members));
    this.applicationServers = new ApplicationServerCluster(this, 'application-servers', this.model.applicationServers, byName(this.model.applicationServers.members));
    const m = this.model;
    if (m.database) this.database = new DatabaseCluster(this, 'database', m.database, byName(m.database.members));
    if (m.cassandra) this.cassandra = new CassandraCluster(this, 'cassandra', m.cassandra, byName(m.cassandra.members));
    this.monitoring = new MonitoringCluster(this, 'monitoring', m.monitoring, byName(m.monitoring.members), m.vip);

    for (const [name, vm] of platform.deploy(this, this.model, machines)) vms.set(name, vm);
    this.deliverConfiguration(hostKeys, (text) => withSecrets(text, secrets.placeholders, secrets.tokens));

    this.lockFile = path.resolve(lockFile ?? DEFAULT_LOCK_FILE);
    // At synth, once every resource exists and has its final address.
    const writer = FabricLockWriter.of(this);
    this.retired = new RetiredAppliances(this, 'retired');
    this.node.addValidation({ validate: () => this.checkLock(platform, writer, vms) });

    new TerraformOutput(this, 'vip', { value: this.model.vip, description: 'Fabric VIP for GUI and NBI clients' });
    new TerraformOutput(this, 'gui_url', { value: `https://${this.model.vip}${this.model.loadBalancer.guiPort === 443 ? '' : `:${this.model.loadBalancer.guiPort}`}/` });
    new TerraformOutput(this, 'node_addresses', {
      value: Object.fromEntries(this.model.nodes.map((n) => [n.name, n.managementAddress])),
      description: 'Management address of every appliance',
    });
    new TerraformOutput(this, 'haproxy_stats_urls', {
      value: this.loadBalancer.members.map((a) => `http://${a.managementAddress}:${this.model.loadBalancer.statsPort}/stats`),
      description: "HAProxy stats on each balancer (user 'stats', password in output haproxy_stats_password)",
    });
    new TerraformOutput(this, 'haproxy_stats_password', { value: secrets.tokens.statsPassword, sensitive: true });
    if (this.database) {
      new TerraformOutput(this, 'database_vip', { value: this.database.vip, description: 'Database VIP (MariaDB primary)' });
      new TerraformOutput(this, 'database_application_password', { value: secrets.tokens.databaseApplicationPassword!, sensitive: true });
    }
    new TerraformOutput(this, 'monitoring_address', { value: this.monitoring.address, description: 'Where monitoring clients connect' });
    const deviceVrrp = this.model.deviceNetwork?.vrrp;
    if (deviceVrrp) new TerraformOutput(this, 'device_vip', { value: deviceVrrp.vip, description: 'Device VIP on the device-management network' });
  }

  /**
   * One NodeConfiguration per appliance, in the order a change must reach
   * them: the nodes without a balancer first (a new node is configured once
   * it serves), then the standby balancers
   * (lowest priority first) and the balancer that holds the VIP at start
   * last, so that a bundle failing on a standby stops the apply before the
   * active balancer is touched. Which balancer is active is known only at
   * apply time: the first one's agent keeps its checked bundle back while it
   * holds the VIP, and a last step applies it after the other balancer.
   */
  private deliverConfiguration(
    hostKeys: Map<string, SshHostKeyConstruct>,
    toTerraform: (text: string) => string,
  ): void {
    const m = this.model;
    const delivery = m.configurationDelivery;
    if (!delivery.enabled) {
      if (!delivery.enabledExplicitly) {
        Annotations.of(this).addWarning(
          `${m.constructPath}: configuration delivery is off because sshAuthorizedKeys is empty: changes of this fabric's config will not reach running nodes. Add the deploy key's public half to sshAuthorizedKeys, or set configurationDelivery.enabled to false to silence this.`,
        );
      }
      return;
    }
    const deployKey = new TerraformVariable(this, 'deploy_private_key', {
      type: 'string',
      sensitive: true,
      nullable: true,
      description: `Private SSH key Terraform logs in to fabric '${m.name}' with, to deliver configuration changes (OpenSSH or PEM). Unset: the SSH agent's keys.`,
    });
    deployKey.overrideLogicalId(deployKeyVariableName(m.name));
    // Unset means the SSH agent; cdktf's `default` cannot be null.
    deployKey.addOverride('default', null);

    const balancers = m.loadBalancer.vrrp.members.map((member) => member.node);
    const others = m.nodes.map((n) => n.name).filter((name) => !balancers.includes(name));
    // Among the other nodes, a pair's initial master waits for its standby (the database and monitoring pairs).
    const after = new Map<string, string[]>(others.map((name) => [name, []]));
    for (const instance of vrrpInstances(m)) {
      const members = instance.members.map((member) => member.node);
      if (instance === m.loadBalancer.vrrp || !members.every((name) => after.has(name))) continue;
      members.forEach((name, i) => after.get(name)!.push(...members.slice(i + 1)));
    }
    const configured = new Map<string, ITerraformDependable>();
    const configure = (name: string, first: ITerraformDependable[], deferWhileHolding?: string): NodeConfiguration => {
      const appliance = this.appliances.find((a) => a.name === name)!;
      const configuration = new NodeConfiguration(appliance, 'delivery', {
        node: appliance.model,
        bundle: appliance.cloudInit.bundle,
        toTerraform,
        hostKey: hostKeys.get(name)!.publicKeyOpenssh,
        deployKey,
        delivery,
        dependsOn: first.length > 0 ? first : undefined,
        deferWhileHolding,
      });
      configured.set(name, configuration.resource);
      return configuration;
    };
    // Priority order is a total order, so standbys-first has no cycle: each pair member after the lower ones.
    const configureOther = (name: string): ITerraformDependable =>
      configured.get(name) ?? configure(name, [...new Set(after.get(name))].map(configureOther)).resource;
    const stage = others.map(configureOther);
    // Standbys from the lowest priority up, the initial master last. With nopreempt the VIP stays
    // wherever it went, so the first balancer keeps its bundle back if it holds the VIP at apply time,
    // and takes it after the others: the active balancer is configured last either way.
    const [firstBalancer, ...laterBalancers] = [...balancers].reverse();
    const first = configure(firstBalancer, stage, laterBalancers.length > 0 ? m.loadBalancer.vrrp.name : undefined);
    let previous: ITerraformDependable[] = [first.resource];
    for (const name of laterBalancers) previous = [configure(name, previous).resource];
    if (laterBalancers.length > 0) first.completeDeferred(previous);
  }

  /**
   * Compares this synth with the lock and stages the new entry for writing;
   * throws the FabricValidationError itself (not a validation message), so
   * that the operator reads the same list of problems as for any other
   * configuration error and `npm run synth` prints it and exits 1.
   */
  private checkLock(platform: FabricPlatform, writer: FabricLockWriter, vms: Map<string, ApplianceMachine>): string[] {
    const images = new Map<string, LockedImage>(platform.imageOf ? this.model.nodes.map((n) => [n.name, platform.imageOf!(this.model, n)]) : []);
    const current = lockedFabricOf(this.model, images);
    const locked = readFabricLock(this.lockFile)?.fabrics[this.node.path];
    const replaceAddresses = new Map(
      this.appliances.map((a) => [a.name, (platform.vmResourcesOf?.(a) ?? []).map((r) => `${r.terraformResourceType}.${r.friendlyUniqueId}`)]),
    );
    const stackDirectory = path.join(App.of(this).outdir, 'stacks', TerraformStack.of(this).node.id);
    const problems = new ProblemCollector(this.model.constructPath);
    checkAgainstLock(this.model, locked, current, { lockFile: shortPath(this.lockFile), replaceAddresses, stackDirectory: shortPath(stackDirectory) }, problems);
    problems.throwIfAny();
    this.retireRemovedAppliances(locked, vms);
    writer.stage(this.lockFile, this.node.path, current);
    return [];
  }

  /** Appliances the lock has and the config no longer: their VMs go only once the balancers stopped using them. */
  private retireRemovedAppliances(locked: LockedFabric | undefined, vms: Map<string, ApplianceMachine>): void {
    if (!locked || !this.model.configurationDelivery.enabled) return;
    const present = new Set(this.model.nodes.map((n) => n.name));
    const removed = Object.entries(locked.nodes)
      .filter(([name]) => !present.has(name))
      .map(([name, node]) => ({ name, managementAddress: node.identity.managementAddress }));
    if (removed.length === 0) return;
    const template = this.appliances[0];
    this.retired.retire(removed, vms.get(template.name)!.resource, template, this.model.configurationDelivery);
  }
}

/** The Terraform variable that holds a fabric's deploy key. */
export function deployKeyVariableName(fabricName: string): string {
  return `${fabricName.replace(/[^A-Za-z0-9_]/g, '_')}_deploy_private_key`;
}

/** A path relative to the working directory when it is below it. */
function shortPath(file: string): string {
  const relative = path.relative(process.cwd(), path.resolve(file));
  return relative.startsWith('..') || path.isAbsolute(relative) ? path.resolve(file) : relative;
}
