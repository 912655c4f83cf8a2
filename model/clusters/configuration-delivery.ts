import * as D from '../defaults';
import { ProblemCollector } from '../errors';
import { ConfigurationDelivery } from '../fabric-model';
import { FabricSpec } from '../fabric-spec';
import { HOST_KEY_TYPES, isOpensshKey } from '../ssh-keys';
import { positiveInteger } from './checks';
import { BuildContext } from './context';

/** How Terraform delivers configuration bundles to running nodes: on by default when someone can log in. */
export function build(spec: FabricSpec, context: BuildContext, problems: ProblemCollector): ConfigurationDelivery {
  const delivery = spec.configurationDelivery ?? {};
  const authorizedKeys = context.authorizedKeys.length;
  const where = 'configurationDelivery';
  if (delivery.enabled === true && authorizedKeys === 0) {
    problems.add(`${where}.enabled`, 'delivery is on but sshAuthorizedKeys is empty, so Terraform could not log in to any node', "add the public half of the deploy key (the variable '<fabric name>_deploy_private_key' or a key in the SSH agent) to sshAuthorizedKeys");
  }
  const bastion = delivery.bastion;
  if (bastion && !isOpensshKey(String(bastion.hostKey ?? ''), HOST_KEY_TYPES)) {
    problems.add(`${where}.bastion.hostKey`, `'${String(bastion.hostKey ?? '').slice(0, 24)}' is not an SSH host public key`, "give the bastion's host key in OpenSSH form, e.g. the content of its /etc/ssh/ssh_host_ed25519_key.pub");
  }
  return {
    enabled: delivery.enabled ?? authorizedKeys > 0,
    enabledExplicitly: delivery.enabled !== undefined,
    bastion: bastion
      ? {
          host: bastion.host,
          port: positiveInteger(`${where}.bastion.port`, bastion.port ?? D.DEFAULT_BASTION_PORT, problems),
          user: bastion.user ?? D.DEFAULT_BASTION_USER,
          hostKey: String(bastion.hostKey).trim(),
        }
      : undefined,
    connectTimeoutSeconds: positiveInteger(`${where}.connectTimeoutSeconds`, delivery.connectTimeoutSeconds ?? D.DEFAULT_CONNECT_TIMEOUT_SECONDS, problems),
    readyTimeoutSeconds: positiveInteger(`${where}.readyTimeoutSeconds`, delivery.readyTimeoutSeconds ?? D.DEFAULT_READY_TIMEOUT_SECONDS, problems),
    commonReloadDelaySeconds: commonReloadDelay(delivery.commonReloadDelaySeconds ?? D.DEFAULT_COMMON_RELOAD_DELAY_SECONDS, problems),
  };
}

/** The agent accepts a common reload time at most an hour ahead. */
function commonReloadDelay(value: number, problems: ProblemCollector): number {
  const where = 'configurationDelivery.commonReloadDelaySeconds';
  const seconds = positiveInteger(where, value, problems);
  if (Number.isInteger(value) && value > 3600) problems.add(where, `${value} s is more than an hour`, 'give at most 3600 (the agent refuses a reload time further ahead)');
  return seconds;
}
