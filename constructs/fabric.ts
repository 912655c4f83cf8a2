import * as path from 'node:path';
import { Annotations, App, Aspects, DataResource, ITerraformDependable, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { renderNodeCloudInit, toYaml } from '../cloud-init/cloud-config';
import { CASSANDRA_ADMIN_ROLE } from '../model/defaults';
import { FabricModel, vrrpInstances } from '../model/fabric-model';
import { guestinfoMetaDataOf } from '../cloud-init/network-config';
import { buildFabricModel } from '../model/build-model';
import { FabricValidationError, ProblemCollector, ValidationProblem } from '../model/errors';
import { checkAgainstLock, LockedFabric, LockedImage, lockedFabricOf } from '../model/identity';
import { FabricSpec } from '../model/fabric-spec';
import { Appliance } from './appliance';
import { ApplicationServerCluster } from './application-server-cluster';
import { CassandraCluster, CassandraClusterProps } from './cassandra-cluster';
import { DatabaseCluster, DatabaseClusterProps } from './database-cluster';
import { DeviceNetwork, DeviceNetworkProps } from './device-network';
import { DEFAULT_LOCK_FILE, FabricLockWriter, readFabricLock } from './fabric-lock';
import { FabricSecretsConstruct, SshHostKeyConstruct } from './fabric-secrets';
import { IFabric } from './fabric-view';
import { LoadBalancerCluster } from './load-balancer-cluster';
import { MonitoringCluster, MonitoringClusterProps } from './monitoring-cluster';
import { NodeConfiguration } from './node-configuration';
import { RetiredAppliances } from './retired-appliances';
import { ApplianceMachine, ApplianceMachineSpec, IFabricPlatform } from './platforms/platform';
import { escapeForTerraform, withSecrets } from './terraform-strings';

export interface FabricProps extends FabricSpec {
  /** The hypervisor the appliances run on, e.g. `new VspherePlatform({...})`. */
  readonly platform: IFabricPlatform;
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

/** What a fabric renders into, once. */
interface RenderedFabric {
  readonly model: FabricModel;
  readonly appliances: Appliance[];
}

/** A cluster a fabric has at most one of, and how a caller adds it. */
interface OptionalCluster {
  readonly kind: abstract new (...args: never[]) => Construct;
  /** What the messages call it. */
  readonly what: string;
  /** Its key in FabricProps. */
  readonly key: 'database' | 'cassandra' | 'monitoring' | 'deviceNetwork';
  readonly method: string;
}

const DATABASE: OptionalCluster = { kind: DatabaseCluster, what: 'database cluster', key: 'database', method: 'addDatabase' };
const CASSANDRA: OptionalCluster = { kind: CassandraCluster, what: 'Cassandra cluster', key: 'cassandra', method: 'addCassandra' };
const MONITORING: OptionalCluster = { kind: MonitoringCluster, what: 'monitoring cluster', key: 'monitoring', method: 'addMonitoring' };
const DEVICE_NETWORK: OptionalCluster = { kind: DeviceNetwork, what: 'device network', key: 'deviceNetwork', method: 'addDeviceNetwork' };

/**
 * The physical cluster: a set of appliances with the fabric VIP, its logical
 * clusters, and one VM per appliance on the chosen platform.
 *
 * Clusters come from the props or from `addDatabase`, `addCassandra`,
 * `addMonitoring` and `addDeviceNetwork` (the props go through the same
 * methods). The fabric renders when its plan is synthesized, so that a
 * cluster added after the constructor is part of it: the whole fabric is
 * then validated once, every problem reported together, and the appliances,
 * VMs and configuration delivery are created. Reading `model` or
 * `appliances` (or a cluster's members) renders it at once; no cluster can
 * be added after that.
 */
export class Fabric extends Construct implements IFabric {
  readonly loadBalancer: LoadBalancerCluster;
  readonly applicationServers: ApplicationServerCluster;
  /** The lock file, as an absolute path. */
  readonly lockFile: string;
  /** The props without the platform and the lock file; the optional clusters are read from the cluster constructs. */
  private readonly spec: FabricSpec;
  private readonly platform: IFabricPlatform;
  private rendered?: RenderedFabric;
  /** A render that failed after it created constructs cannot run again: every later read throws its error. */
  private renderFailure?: { readonly error: unknown };

  constructor(scope: Construct, id: string, props: FabricProps) {
    super(scope, id);
    const { platform, lockFile, ...spec } = props;
    this.spec = spec;
    this.platform = platform;
    this.lockFile = path.resolve(lockFile ?? DEFAULT_LOCK_FILE);
    this.loadBalancer = new LoadBalancerCluster(this, 'load-balancer', spec.loadBalancer ?? {});
    this.applicationServers = new ApplicationServerCluster(this, 'application-servers', spec.applicationServers ?? {});
    // The props' clusters go through the same methods as a caller's, under the ids they always had.
    if (spec.database) this.addDatabase('database', spec.database);
    if (spec.cassandra) this.addCassandra('cassandra', spec.cassandra);
    if (spec.monitoring) this.addMonitoring('monitoring', spec.monitoring);
    if (spec.deviceNetwork) this.addDeviceNetwork('device-network', spec.deviceNetwork);
    // At synth, once every cluster is added: cdktf invokes aspects before it validates and writes the stack.
    Aspects.of(this).add({
      visit: (construct) => {
        if (construct === this) this.render();
      },
    });
  }

  /** Adds the database cluster (MariaDB primary and standby behind their own VIP); a fabric has at most one. */
  addDatabase(id: string, props: DatabaseClusterProps): DatabaseCluster {
    this.refuseAdding(DATABASE, id);
    return new DatabaseCluster(this, id, props);
  }

  /** Adds the Cassandra cluster; a fabric has at most one. */
  addCassandra(id: string, props: CassandraClusterProps): CassandraCluster {
    this.refuseAdding(CASSANDRA, id);
    return new CassandraCluster(this, id, props);
  }

  /** Adds the monitoring cluster; a fabric has one, with the defaults (on the load-balancer pair) unless added. */
  addMonitoring(id: string, props: MonitoringClusterProps): MonitoringCluster {
    this.refuseAdding(MONITORING, id);
    return new MonitoringCluster(this, id, props);
  }

  /** Adds the device-management network (a second NIC on every appliance); a fabric has at most one. */
  addDeviceNetwork(id: string, props: DeviceNetworkProps): DeviceNetwork {
    this.refuseAdding(DEVICE_NETWORK, id);
    return new DeviceNetwork(this, id, props);
  }

  /**
   * The validated, normalized model every part of the fabric is built from; reading it renders the fabric.
   * @jsii ignore
   */
  get model(): FabricModel {
    return this.render().model;
  }

  /** Every appliance, in the model's order; reading them renders the fabric. */
  get appliances(): Appliance[] {
    return this.render().appliances;
  }

  /** The database cluster, when the fabric has one. */
  get database(): DatabaseCluster | undefined {
    return this.clustersOf(DATABASE)[0] as DatabaseCluster | undefined;
  }

  /** The Cassandra cluster, when the fabric has one. */
  get cassandra(): CassandraCluster | undefined {
    return this.clustersOf(CASSANDRA)[0] as CassandraCluster | undefined;
  }

  /** The device network, when the fabric has one. */
  get deviceNetwork(): DeviceNetwork | undefined {
    return this.clustersOf(DEVICE_NETWORK)[0] as DeviceNetwork | undefined;
  }

  /** The monitoring cluster: the one added, else (rendering the fabric) the default one. */
  get monitoring(): MonitoringCluster {
    if (this.clustersOf(MONITORING).length === 0) this.render();
    return this.clustersOf(MONITORING)[0] as MonitoringCluster;
  }

  /** @jsii ignore */
  appliancesNamed(names: readonly string[]): Appliance[] {
    const all = this.appliances;
    return names.map((n) => all.find((a) => a.name === n)!);
  }

  private clustersOf(cluster: OptionalCluster): Construct[] {
    return this.node.children.filter((c) => c instanceof cluster.kind);
  }

  private refuseAdding(cluster: OptionalCluster, id: string): void {
    if (this.rendered || this.renderFailure) {
      throw new Error(
        `fabric '${this.spec.name}' (${this.node.path}) is already built: add clusters before reading its model. ` +
          `${cluster.method}('${id}') came after its model, its appliances or a cluster's members were read, or after it was synthesized; call ${cluster.method} before that`,
      );
    }
    const [existing] = this.clustersOf(cluster);
    if (existing) throw new FabricValidationError([secondCluster(cluster, `${this.node.path}/${id}`, existing)]);
  }

  /** The whole spec: the props, with each optional cluster as its construct has it. */
  private specWithClusters(): FabricSpec {
    const problems: ValidationProblem[] = [];
    const clusters = Object.fromEntries(
      [DATABASE, CASSANDRA, MONITORING, DEVICE_NETWORK].flatMap((cluster) => {
        // Only a cluster constructed directly, not through its add method, can have a second.
        const [first, ...more] = this.clustersOf(cluster) as (Construct & { readonly props: object })[];
        problems.push(...more.map((c) => secondCluster(cluster, c.node.path, first)));
        return first ? [[cluster.key, first.props]] : [];
      }),
    );
    if (problems.length > 0) throw new FabricValidationError(problems);
    // Assigned over the props' own keys: the clusters from the props are those very objects, in their place.
    return { ...this.spec, ...clusters };
  }

  /**
   * Renders the fabric, once: validates it (a problem leaves it open, so
   * that adding a cluster can fix it), then creates its appliances, VMs,
   * configuration delivery and outputs.
   */
  private render(): RenderedFabric {
    if (this.renderFailure) throw this.renderFailure.error;
    if (this.rendered) return this.rendered;
    const model = this.validate();
    try {
      this.createAll(model);
    } catch (error) {
      this.renderFailure = { error };
      throw error;
    }
    return this.rendered!;
  }

  /** The whole fabric validated, every problem reported together, and placed on the platform's hosts. */
  private validate(): FabricModel {
    const validated = buildFabricModel(this.specWithClusters(), this.platform.traits, this.node.path);
    this.platform.validate(validated);
    // Where the platform places each appliance (Cassandra's rack comes from it).
    const hosts = this.platform.placement?.(validated);
    return hosts ? { ...validated, nodes: validated.nodes.map((n) => ({ ...n, host: hosts.get(n.name) ?? n.host })) } : validated;
  }

  private createAll(model: FabricModel): void {
    const platform = this.platform;
    const secrets = new FabricSecretsConstruct(this, 'secrets', model);
    const machines: ApplianceMachineSpec[] = [];
    const hostKeys = new Map<string, SshHostKeyConstruct>();
    // Filled by the platform below, which creates each VM inside its appliance.
    const vms = new Map<string, ApplianceMachine>();
    const appliances = model.nodes.map((node) => {
      const hostKey = new SshHostKeyConstruct(this, `${node.name}_ssh_host_key`);
      hostKeys.set(node.name, hostKey);
      const cloudInit = renderNodeCloudInit(model, node, secrets.placeholders, hostKey.placeholders);
      const appliance = Appliance._create(this, node.name, {
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
        metaDataWithNetwork: escapeForTerraform(toYaml(guestinfoMetaDataOf(model, node, cloudInit.networkConfigData))),
      });
      return appliance;
    });
    // From here on the model, the appliances and every cluster's members can be read.
    this.rendered = { model, appliances };
    if (!this.clustersOf(MONITORING).length) new MonitoringCluster(this, 'monitoring', {});

    for (const [name, vm] of platform.deploy(this, model, machines)) vms.set(name, vm);
    this.deliverConfiguration(hostKeys, (text) => withSecrets(text, secrets.placeholders, secrets.tokens));

    // At synth, once every resource exists and has its final address.
    const writer = FabricLockWriter.of(this);
    const retired = new RetiredAppliances(this, 'retired');
    this.node.addValidation({ validate: () => this.checkLock(writer, retired, vms) });

    new TerraformOutput(this, 'vip', { value: model.vip, description: 'Fabric VIP for GUI and NBI clients' });
    new TerraformOutput(this, 'gui_url', { value: `https://${model.vip}${model.loadBalancer.guiPort === 443 ? '' : `:${model.loadBalancer.guiPort}`}/` });
    new TerraformOutput(this, 'node_addresses', {
      value: Object.fromEntries(model.nodes.map((n) => [n.name, n.managementAddress])),
      description: 'Management address of every appliance',
    });
    new TerraformOutput(this, 'haproxy_stats_urls', {
      value: this.loadBalancer.members.map((a) => `http://${a.managementAddress}:${model.loadBalancer.statsPort}/stats`),
      description: "HAProxy stats on each balancer (user 'stats', password in output haproxy_stats_password)",
    });
    new TerraformOutput(this, 'haproxy_stats_password', { value: secrets.tokens.statsPassword, sensitive: true });
    const database = this.database;
    if (database) {
      new TerraformOutput(this, 'database_vip', { value: database.vip, description: 'Database VIP (MariaDB primary)' });
      new TerraformOutput(this, 'database_application_password', { value: secrets.tokens.databaseApplicationPassword!, sensitive: true });
      new TerraformOutput(this, 'database_ca_certificate', {
        value: secrets.databaseCaCertificatePem!,
        description: 'PEM of the database CA: clients verify the server with it (--ssl-ca, --ssl-verify-server-cert)',
      });
    }
    if (model.cassandra) {
      new TerraformOutput(this, 'cassandra_admin_password', {
        value: secrets.tokens.cassandraAdminPassword!,
        sensitive: true,
        description: `Password of the Cassandra role ${CASSANDRA_ADMIN_ROLE} (the default role cassandra is disabled)`,
      });
    }
    new TerraformOutput(this, 'monitoring_address', { value: this.monitoring.address, description: 'Where monitoring clients connect' });
    const deviceVrrp = model.deviceNetwork?.vrrp;
    if (deviceVrrp) new TerraformOutput(this, 'device_vip', { value: deviceVrrp.vip, description: 'Device VIP on the device-management network' });
  }

  /**
   * One NodeConfiguration per appliance, in the order a change must reach
   * them: the nodes without a balancer first (a new node is configured once
   * it serves; a pair's standby before its initial master; the application
   * servers among them one after the other, since a change of their database
   * client settings restarts the application service), then the standby balancers
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
    // A bundle that changes an application server's database client settings restarts its
    // application service: one application server at a time, so the service never loses every
    // server at once. Chained in a topological order of the pair edges above, each after the
    // previous one, so the chain adds no cycle. (Application servers that are balancers are
    // configured one at a time in the balancer chain below.)
    const applicationServers = new Set(m.applicationServers.members);
    const order = topologicalOrder(others, after);
    let previousServer: string | undefined;
    for (const name of order) {
      if (!applicationServers.has(name)) continue;
      if (previousServer !== undefined) after.get(name)!.push(previousServer);
      previousServer = name;
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
    // In that order every node's predecessors are configured before it (the chain only adds edges back along it).
    for (const name of order) configure(name, [...new Set(after.get(name))].map((first) => configured.get(first)!));
    const stage = others.map((name) => configured.get(name)!);
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
  private checkLock(writer: FabricLockWriter, retired: RetiredAppliances, vms: Map<string, ApplianceMachine>): string[] {
    const platform = this.platform;
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
    this.retireRemovedAppliances(locked, retired, vms);
    writer.stage(this.lockFile, this.node.path, current);
    return [];
  }

  /** Appliances the lock has and the config no longer: their VMs go only once the balancers stopped using them. */
  private retireRemovedAppliances(locked: LockedFabric | undefined, retired: RetiredAppliances, vms: Map<string, ApplianceMachine>): void {
    if (!locked || !this.model.configurationDelivery.enabled) return;
    const present = new Set(this.model.nodes.map((n) => n.name));
    const removed = Object.entries(locked.nodes)
      .filter(([name]) => !present.has(name))
      .map(([name, node]) => ({ name, managementAddress: node.identity.managementAddress }));
    if (removed.length === 0) return;
    const template = this.appliances[0];
    retired.retire(removed, vms.get(template.name)!.resource, template, this.model.configurationDelivery);
  }
}

/**
 * `names` in an order in which each comes after every name `after` lists for
 * it (depth first, otherwise in the given order); throws on a cycle.
 */
export function topologicalOrder(names: readonly string[], after: ReadonlyMap<string, readonly string[]>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: readonly string[]): void => {
    const seen = state.get(name);
    if (seen === 'done') return;
    if (seen === 'visiting') throw new Error(`delivery order: a cycle through ${[...path, name].join(' -> ')}`);
    state.set(name, 'visiting');
    for (const first of after.get(name) ?? []) visit(first, [...path, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of names) visit(name, []);
  return order;
}

/** The Terraform variable that holds a fabric's deploy key. */
export function deployKeyVariableName(fabricName: string): string {
  return `${fabricName.replace(/[^A-Za-z0-9_]/g, '_')}_deploy_private_key`;
}

/** The problem of a second cluster of a kind a fabric has one of. */
function secondCluster(cluster: OptionalCluster, where: string, existing: Construct): ValidationProblem {
  return {
    path: where,
    message: `a second ${cluster.what}: the fabric has one already, at ${existing.node.path}`,
    fix: `give the fabric one ${cluster.what}, either in FabricProps.${cluster.key} or in one ${cluster.method}() call`,
  };
}

/** A path relative to the working directory when it is below it. */
function shortPath(file: string): string {
  const relative = path.relative(process.cwd(), path.resolve(file));
  return relative.startsWith('..') || path.isAbsolute(relative) ? path.resolve(file) : relative;
}
