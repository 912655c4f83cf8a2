import { DataResource, Fn, ITerraformDependable, SSHProvisionerConnection, TerraformLocal, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { APPLY_BUNDLE_SCRIPT } from '../cloud-init/apply-bundle-agent';
import { BundleFile, bundleText, bytesOnNode, manifestLine, NodeBundle, sha256Hex } from '../cloud-init/bundle';
import { ADMIN_USER } from '../cloud-init/cloud-config';
import { ConfigurationDelivery, NodeModel } from '../model/fabric-model';
import { escapeForTerraform } from './terraform-strings';

/** Where the uploaded bundle waits for the agent: the admin's own directory, which only it can read (scp writes 0644). */
const INCOMING_DIR = `/home/${ADMIN_USER}/.appliance-fabric`;

export interface NodeConfigurationProps {
  readonly node: NodeModel;
  readonly bundle: NodeBundle;
  /** A bundle file's content as a Terraform string: escaped, secret placeholders replaced by references. */
  readonly toTerraform: (content: string) => string;
  /** The node's SSH host public key (a Terraform reference), pinned for the connection. */
  readonly hostKey: string;
  /** The operator's deploy key (sensitive; null: the SSH agent). */
  readonly deployKey: TerraformVariable;
  readonly delivery: ConfigurationDelivery;
  /** The deliveries to other nodes that must be done first. */
  readonly dependsOn?: ITerraformDependable[];
  /**
   * The VRRP instance of the node's pair whose VIP, if this node holds it at
   * apply time, makes the agent keep the checked bundle back instead of
   * applying it; `completeDeferred` then applies it after the peer.
   * @default undefined: the bundle is applied at once
   */
  readonly deferWhileHolding?: string;
}

/**
 * Delivers one node's configuration bundle to the running node: a
 * `terraform_data` whose `triggers_replace` is the bundle's hash (as
 * Terraform evaluates it, so a new password changes it too; only the hash is
 * stored), with a file and a remote-exec provisioner over SSH that run the
 * node's fabric-apply-bundle. A changed bundle replaces the resource (the new
 * one first) and runs them again; an unchanged one plans nothing.
 *
 * It does not depend on the node's VM: Terraform forces create_before_destroy
 * onto every dependency, and a replaced VM would then be created beside its
 * predecessor with the same name, MAC and address (measured with terraform
 * 1.11). A new node's delivery starts with the VM and retries its SSH
 * connection until the VM answers (connectTimeoutSeconds), then waits until
 * the node serves (--wait-ready).
 */
export class NodeConfiguration extends Construct {
  readonly resource: DataResource;
  private readonly nodeName: string;
  private readonly hash: string;
  private readonly commonReloadAt: string;
  private readonly connection: SSHProvisionerConnection;

  constructor(scope: Construct, id: string, props: NodeConfigurationProps) {
    super(scope, id);
    const { node, bundle } = props;
    const files = bundle.files.map((file, i) => this.terraformFile(file, i, props.toTerraform));
    // The manifest's file lines as Terraform evaluates them: hashes only, so the plan can show them.
    const fileLines = new TerraformLocal(
      this,
      'bundle_files',
      files.map((f) => `${manifestLine(f.file, f.sha256)}\n`).join(''),
    ).asString;
    const hash = Fn.sha256(fileLines);
    const text = bundleText({
      comments: bundle.manifest.split('\n').filter((line) => line.startsWith('#')).map(escapeForTerraform),
      node: node.name,
      hash,
      fileLines,
      data: files.map((f) => ({ path: f.file.path, base64: f.base64 })),
    });
    const upload = `${INCOMING_DIR}/bundle`;
    const { readyTimeoutSeconds, connectTimeoutSeconds, bastion, commonReloadDelaySeconds } = props.delivery;
    this.nodeName = node.name;
    this.hash = hash;
    // The same for every node of one plan: the time peers take up a change they must agree on together.
    const commonReloadAt = `${Fn.formatdate('YYYY-MM-DD hh:mm:ss', Fn.timeadd(Fn.plantimestamp(), `${commonReloadDelaySeconds}s`))}Z`;
    this.commonReloadAt = commonReloadAt;
    this.connection = {
      type: 'ssh',
      host: node.managementAddress,
      user: ADMIN_USER,
      privateKey: props.deployKey.stringValue,
      hostKey: props.hostKey,
      timeout: `${connectTimeoutSeconds}s`,
      ...(bastion ? { bastionHost: bastion.host, bastionPort: bastion.port, bastionUser: bastion.user, bastionHostKey: bastion.hostKey, bastionPrivateKey: props.deployKey.stringValue } : {}),
    };
    const defer = props.deferWhileHolding ? ` --defer-while-holding ${props.deferWhileHolding}` : '';
    this.resource = new DataResource(this, 'configuration', {
      triggersReplace: { node: node.name, bundle: hash },
      dependsOn: props.dependsOn,
      lifecycle: { createBeforeDestroy: true },
      connection: this.connection,
      provisioners: [
        { type: 'remote-exec', inline: [`install -d -m 0700 ${INCOMING_DIR}`] },
        { type: 'file', content: text, destination: upload },
        {
          type: 'remote-exec',
          // The agent waits until the node serves, checks, applies and verifies; its exit status stops the chain.
          inline: [
            // A new node's SSH answers before cloud-init's final stage has written the agent itself (write_files is deferred).
            `timeout ${readyTimeoutSeconds} sh -c 'until [ -x ${APPLY_BUNDLE_SCRIPT} ]; do sleep 2; done' || { echo '${APPLY_BUNDLE_SCRIPT} is not there after ${readyTimeoutSeconds} s: has cloud-init finished? (cloud-init status --long)' >&2; exit 1; }`,
            `sudo ${APPLY_BUNDLE_SCRIPT} --wait-ready ${readyTimeoutSeconds} --common-reload-at '${commonReloadAt}'${defer} ${upload}; status=$?; rm -f ${upload}; exit $status`,
          ],
        },
      ],
    });
  }

  /**
   * Applies the bundle this node's agent kept back because the node held its
   * pair's VIP (`deferWhileHolding`), once `after` (the peer's delivery) is
   * done; when nothing was kept back, the agent finds the bundle applied and
   * changes nothing. Same trigger as the delivery, so it runs exactly when
   * the delivery does, and again after an apply that stopped between them.
   */
  completeDeferred(after: ITerraformDependable[]): DataResource {
    return new DataResource(this, 'deferred', {
      triggersReplace: { node: this.nodeName, bundle: this.hash },
      dependsOn: [this.resource, ...after],
      lifecycle: { createBeforeDestroy: true },
      connection: this.connection,
      provisioners: [
        {
          type: 'remote-exec',
          inline: [`sudo ${APPLY_BUNDLE_SCRIPT} --common-reload-at '${this.commonReloadAt}' --apply-pending ${this.hash}`],
        },
      ],
    });
  }

  /**
   * A bundle file's sha256 and base64 as Terraform strings: computed here when
   * it holds no secret, by Terraform (from a local holding the content with
   * its secret references) when it does.
   */
  private terraformFile(file: BundleFile, index: number, toTerraform: (content: string) => string): { file: BundleFile; sha256: string; base64: string } {
    const terraform = toTerraform(file.content);
    if (terraform === escapeForTerraform(file.content)) {
      const bytes = bytesOnNode(file);
      return { file, sha256: sha256Hex(bytes), base64: bytes.toString('base64') };
    }
    const content = new TerraformLocal(this, `bundle_file_${index}`, terraform).asString;
    if (file.base64) return { file, sha256: Fn.sha256(Fn.base64decode(content)), base64: content };
    return { file, sha256: Fn.sha256(content), base64: Fn.base64encode(content) };
  }
}
