import { Token } from 'cdktf';
import { offsetIpv4 } from '../../../model/addresses';
import { ProblemCollector } from '../../../model/errors';
import { FabricModel } from '../../../model/fabric-model';
import { isDnsLabel } from '../../../model/identifiers';
import { canonicalJson } from '../../../model/identity';
import { applianceBaseImageOf, hostBaseImageOf } from './base-images';
import { KvmHostProps } from './kvm-host';

/** The alternatives of KvmHostNetworkProps, of which a host gives exactly one. */
const NETWORK_ATTACHMENTS = ['bridge', 'libvirtNetwork', 'create'] as const;
const LIBVIRT_URI = /^[a-z][a-z0-9+.-]*:\/\/\S*$/;
/** A URL, as the provider and the fetch script tell one from a path: a scheme and `://`. */
const URL_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const SHA256_HEX = /^[0-9a-f]{64}$/i;

type Loose = Record<string, unknown>;

const isObject = (value: unknown): value is Loose => typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/**
 * Checks the platform's host list, with paths under `<fabric>/platform`.
 * Values only: unknown keys are caught by TypeScript's types in code and by
 * the JSON Schema in a YAML stack config (stacks/stack-config.ts). Union
 * choices (`source` or `volumeName`, one network attachment) are checked
 * here too, as TypeScript accepts an object literal that mixes them.
 */
export function checkKvmHosts(hosts: readonly KvmHostProps[] | undefined, model: FabricModel, problems: ProblemCollector): void {
  if (!Array.isArray(hosts) || hosts.length === 0) {
    problems.add('platform/hosts', 'the libvirt platform has no hosts', "list at least one KVM host, e.g. { name: 'kvm1', uri: 'qemu:///system', baseImage: { source: ... }, network: { bridge: 'br0' } }");
    return;
  }
  const names = new Map<string, number>();
  const uris = new Map<string, number>();
  hosts.forEach((host: unknown, i) => {
    const where = `platform/hosts[${i}]`;
    if (!isObject(host)) {
      problems.add(where, 'the host is not a mapping', 'give name, uri, baseImage and network');
      return;
    }
    if (!isDnsLabel(host.name)) {
      problems.add(`${where}.name`, `host name '${String(host.name)}' is not a DNS label`, "use lower-case letters, digits and '-', at most 63 characters, e.g. 'kvm1'");
    } else if (names.has(host.name)) {
      problems.add(`${where}.name`, `host name '${host.name}' is used twice (also hosts[${names.get(host.name)}])`, 'give every host its own name');
    } else {
      names.set(host.name, i);
    }

    if (!isText(host.uri)) {
      problems.add(`${where}.uri`, `libvirt URI of host '${String(host.name)}' is missing`, "give the connection URI, e.g. 'qemu:///system' or 'qemu+ssh://root@kvm1.example.net/system'");
    } else if (!LIBVIRT_URI.test(host.uri)) {
      problems.add(`${where}.uri`, `'${host.uri}' is not a libvirt connection URI`, "write it as driver[+transport]://[user@][host]/path, e.g. 'qemu+ssh://root@kvm1.example.net/system'");
    } else if (uris.has(host.uri)) {
      problems.add(`${where}.uri`, `host '${String(host.name)}' has the same URI '${host.uri}' as hosts[${uris.get(host.uri)}]`, 'list each physical host once: two names for one machine would defeat keeping the pairs apart');
    } else {
      uris.set(host.uri, i);
    }

    checkPool(host.storagePool, `${where}.storagePool`, problems);
    checkImage(host.baseImage, `${where}.baseImage`, problems);
    checkNetwork(host.network, `${where}.network`, hosts.length, model, problems);
    checkDeviceNetwork(host.deviceNetwork, `${where}.deviceNetwork`, String(host.name), model, problems);
  });
}

/** The platform's own keys beside its hosts. */
export function checkImageCache(directory: unknown, problems: ProblemCollector): void {
  if (directory !== undefined && !isText(directory)) {
    problems.add('platform/imageCacheDirectory', 'the image cache directory is empty', "give a directory on the machine that runs Terraform, e.g. '/var/cache/appliance-fabric/images', or leave imageCacheDirectory out");
  }
}

function checkPool(pool: unknown, where: string, problems: ProblemCollector): void {
  if (pool === undefined) return;
  if (!isObject(pool)) {
    problems.add(where, 'the storage pool is not a mapping', "give { name: 'default' } or { name: 'fabric', create: { path: '/var/lib/libvirt/fabric' } }");
    return;
  }
  if (!isText(pool.name)) {
    problems.add(`${where}.name`, 'the storage pool has no name', "give the name of an existing pool (virsh pool-list --all), e.g. 'default', or one to create");
  }
  if (pool.create !== undefined) {
    const path = isObject(pool.create) ? pool.create.path : undefined;
    if (!isText(path) || !path.startsWith('/')) {
      problems.add(`${where}.create.path`, `directory '${String(path)}' for the new pool is not an absolute path`, "give an absolute directory on the host, e.g. '/var/lib/libvirt/fabric'");
    }
  }
}

/**
 * The appliances' own images, once the hosts are valid and placed: a KVM
 * image (not a vSphere template), of the base image's shape, and no two
 * images under one volume name on one host.
 */
export function checkApplianceImages(hosts: readonly KvmHostProps[], model: FabricModel, placement: ReadonlyMap<string, string>, problems: ProblemCollector): void {
  const named = new Map<string, { image: string; by: string }>();
  // Every host uploads its own image, used or not.
  for (const host of hosts) {
    const image = hostBaseImageOf(host, model.name);
    if ('source' in image) named.set(`${host.name}/${image.name}`, { image: canonicalJson(image), by: `host '${host.name}' (its baseImage)` });
  }
  model.nodes.forEach((node, i) => {
    const where = `appliances[${i}].image`;
    if (node.image && 'template' in node.image) {
      problems.add(where, `appliance '${node.name}' names the vSphere template '${node.image.template}', but KVM appliances are overlays of a base image`, "give { source: 'URL or path of a qcow2 image' } or { volumeName: 'an existing volume' }, or leave image out to use the host's baseImage");
      return;
    }
    if (node.image) checkImage(node.image, where, problems);
    const host = hosts.find((h) => h.name === placement.get(node.name));
    if (!host || problems.count > 0) return;
    const image = applianceBaseImageOf(host, model.name, node.image);
    if (!('source' in image)) return;
    const key = `${host.name}/${image.name}`;
    const other = named.get(key);
    if (other && other.image !== canonicalJson(image)) {
      problems.add(where, `appliance '${node.name}' uploads '${image.source}' as volume '${image.name}' on host '${host.name}', the name ${other.by} already gives another image`, 'give this image (or the other) a name of its own, or leave name out');
    }
    named.set(key, { image: canonicalJson(image), by: other?.by ?? `appliance '${node.name}'` });
  });
}

function checkImage(image: unknown, where: string, problems: ProblemCollector): void {
  if (!isObject(image)) {
    problems.add(where, 'the base image is missing', "give { source: 'https://.../debian-12-generic-amd64.qcow2' } or { volumeName: 'debian12.qcow2' }");
    return;
  }
  const fromSource = image.source !== undefined;
  const fromVolume = image.volumeName !== undefined;
  if (fromSource === fromVolume) {
    problems.add(where, fromSource ? 'the base image has both source and volumeName' : 'the base image has neither source nor volumeName', 'give exactly one: source (a qcow2 URL or path to upload) or volumeName (a volume already on the host)');
    return;
  }
  if (fromSource) {
    if (!isText(image.source)) problems.add(`${where}.source`, 'the base image source is empty', 'give an http(s) URL or a path of a qcow2 image with cloud-init');
    else checkSourceIntegrity(image.source, image.sha256, where, problems);
    if (image.name !== undefined && !isText(image.name)) problems.add(`${where}.name`, 'the base volume name is empty', 'give a volume name or leave name out');
    if (image.pool !== undefined) problems.add(`${where}.pool`, 'pool applies only to an existing volumeName', "remove pool: an uploaded image goes into the host's storagePool");
  } else {
    if (!isText(image.volumeName)) problems.add(`${where}.volumeName`, 'the base volume name is empty', 'give the name of an existing qcow2 volume (virsh vol-list POOL)');
    if (image.pool !== undefined && !isText(image.pool)) problems.add(`${where}.pool`, 'the pool of the base volume is empty', "give the pool's name or leave pool out to use the host's storagePool");
    if (image.name !== undefined) problems.add(`${where}.name`, 'name applies only to an uploaded source', 'remove name (volumeName names the existing volume)');
    if (image.sha256 !== undefined) problems.add(`${where}.sha256`, 'sha256 applies only to an uploaded source', 'remove sha256 (an existing volume is not downloaded)');
  }
}

/** Where a checksum for a downloaded image comes from, as every fix says it. */
const SHA256_FIX = "the SHA-256 of the image, e.g. from the distribution's SHA256SUMS file, or `sha256sum` of a copy you checked against its published checksums (Debian's SHA512SUMS)";

/**
 * An image that Terraform downloads must name its checksum: synth cannot
 * see the file, and the provider alone checks nothing. A path may name one
 * (the file is then checked too). Plain http is refused without one, as
 * anyone on the path could change the image; with one, the checksum is the
 * integrity check.
 */
function checkSourceIntegrity(source: string, sha256: unknown, where: string, problems: ProblemCollector): void {
  if (sha256 !== undefined && !(typeof sha256 === 'string' && (Token.isUnresolved(sha256) || SHA256_HEX.test(sha256)))) {
    problems.add(`${where}.sha256`, `sha256 '${String(sha256)}' is not a SHA-256 (64 hex digits)`, `give the 64 hex digits that sha256sum prints for the image, without its file name: ${SHA256_FIX}`);
    return;
  }
  if (Token.isUnresolved(source)) {
    if (sha256 === undefined) problems.add(`${where}.sha256`, 'the image source is a Terraform reference, so synth cannot tell whether Terraform would download it', `give sha256: ${SHA256_FIX}`);
    return;
  }
  const scheme = URL_SCHEME.exec(source)?.[1].toLowerCase();
  if (scheme === undefined) return;
  if (scheme !== 'http' && scheme !== 'https') {
    problems.add(`${where}.source`, `image source '${source}' is a ${scheme}:// URL, but only http(s) URLs and paths are read`, 'give an https URL and its sha256, or the path of the image on the machine that runs Terraform (without file://)');
  } else if (sha256 === undefined) {
    problems.add(
      `${where}.sha256`,
      scheme === 'http'
        ? `image source '${source}' is downloaded over plain http with no sha256: anyone on the way could hand Terraform another image, which every VM would boot`
        : `image source '${source}' is downloaded with no sha256: an image changed or replaced on the server would be uploaded unchecked and booted by every VM`,
      `give sha256: ${SHA256_FIX}${scheme === 'http' ? '; it is then the integrity check (or use https as well)' : ''}. Or download and check the image yourself and give its path as source`,
    );
  }
}

function checkNetwork(network: unknown, where: string, hostCount: number, model: FabricModel, problems: ProblemCollector): void {
  if (!isObject(network)) {
    problems.add(where, 'the network attachment is missing', "give { bridge: 'br0' }, { libvirtNetwork: 'name' } or { create: { name, mode } }");
    return;
  }
  const given = NETWORK_ATTACHMENTS.filter((k) => network[k] !== undefined);
  if (given.length !== 1) {
    problems.add(where, given.length === 0 ? 'the network attachment names no network' : `the network attachment gives ${given.join(' and ')}`, 'give exactly one of bridge (a host bridge), libvirtNetwork (an existing libvirt network) or create (a network to create)');
    return;
  }
  if (given[0] !== 'create') {
    if (!isText(network[given[0]])) problems.add(`${where}.${given[0]}`, `the ${given[0]} name is empty`, `give the ${given[0] === 'bridge' ? "host bridge's name, e.g. 'br0'" : "libvirt network's name (virsh net-list --all)"}`);
    return;
  }
  const create = network.create;
  const at = `${where}.create`;
  if (!isObject(create)) {
    problems.add(at, 'the network to create is not a mapping', "give { name: 'fabric-mgmt', mode: 'bridge', bridge: 'br0' }");
    return;
  }
  if (!isText(create.name)) problems.add(`${at}.name`, 'the network to create has no name', "give a libvirt network name, e.g. 'fabric-mgmt'");
  if (create.mtu !== undefined && (!Number.isInteger(create.mtu) || (create.mtu as number) < 68 || (create.mtu as number) > 65535)) {
    problems.add(`${at}.mtu`, `MTU ${String(create.mtu)} is not a valid MTU`, 'give a whole number from 68 to 65535, or leave mtu out');
  }
  if (create.mode === 'bridge') {
    if (!isText(create.bridge)) problems.add(`${at}.bridge`, "a network in mode 'bridge' names no host bridge", "give the existing host bridge that is connected to the management LAN, e.g. 'br0'");
  } else if (create.mode === 'route') {
    if (hostCount > 1) {
      problems.add(`${at}.mode`, `a routed libvirt network is a separate segment on each of the ${hostCount} hosts, but VRRP needs every node on one L2 segment`, "use mode 'bridge' on a host bridge connected to the management LAN, or run the fabric on one host");
    }
    // libvirt puts the network's first address on its bridge: that must be the gateway the nodes use.
    const first = offsetIpv4(model.network.networkAddress, 1);
    if (model.network.gateway !== first) {
      problems.add(`${at}.mode`, `a routed libvirt network gives the host the first address ${first}, but the fabric's gateway is ${model.network.gateway}`, `set managementNetwork.gateway to ${first}, or use mode 'bridge'`);
    }
  } else {
    problems.add(`${at}.mode`, `network mode '${String(create.mode)}' is not supported`, "use 'bridge' (an existing host bridge on the management LAN) or 'route'");
  }
}

/** The device-management NIC's attachment: needed on every host when the fabric has a device network. */
function checkDeviceNetwork(attachment: unknown, where: string, hostName: string, model: FabricModel, problems: ProblemCollector): void {
  if (attachment === undefined) {
    if (model.deviceNetwork) {
      problems.add(where, `host '${hostName}' has no device network attachment but the fabric has a device network`, "give deviceNetwork: { bridge: 'br-dev' } or { libvirtNetwork: 'name' }");
    }
    return;
  }
  if (!model.deviceNetwork) {
    problems.add(where, `host '${hostName}' attaches a device network but the fabric has none`, 'add deviceNetwork to the fabric, or remove it here');
    return;
  }
  if (!isObject(attachment) || Object.keys(attachment).length !== 1 || !(isText(attachment.bridge) || isText(attachment.libvirtNetwork))) {
    problems.add(where, 'the device network attachment is not exactly one of bridge or libvirtNetwork', "give { bridge: 'br-dev' } or { libvirtNetwork: 'name' }");
  }
}
