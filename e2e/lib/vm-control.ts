import { chmodSync, rmSync } from 'node:fs';
import { connect, createServer, Server } from 'node:net';

/**
 * How Terraform's graph boots and stops the e2e's VMs: each libvirt domain
 * of the plan is stood in for by a `terraform_data` whose `local-exec`
 * provisioners run this file as a small CLI,
 *
 *   node vm-control.js boot <node> <terraform_data id>
 *   node vm-control.js stop <node> <terraform_data id>
 *
 * which asks the running e2e process, over a Unix socket in the run's
 * root-only directory (its path in AFE2E_VM_CONTROL), to do it; the e2e owns
 * the QEMU processes and cleans each up by its id, whatever Terraform does.
 * One JSON line each way; every wait is bounded. Nothing secret passes here:
 * the seeds are the e2e's, the request names a node and an id.
 */

export const VM_CONTROL_ENV = 'AFE2E_VM_CONTROL';

export interface VmControlRequest {
  readonly op: 'boot' | 'stop';
  readonly node: string;
  /** The id of the terraform_data standing in for the domain: one VM per id. */
  readonly id: string;
}

export interface VmControlReply {
  readonly ok: boolean;
  readonly message: string;
}

export type VmControlHandler = (request: VmControlRequest) => Promise<string>;

/** The e2e's side: answers each request with what `handler` did, or why it failed. */
export class VmControlServer {
  private server?: Server;
  /** Every request served, in order: what Terraform asked for, and when. */
  readonly log: { at: number; request: VmControlRequest; reply: VmControlReply }[] = [];

  constructor(readonly socketPath: string, private readonly handler: VmControlHandler) {}

  start(): Promise<void> {
    rmSync(this.socketPath, { force: true });
    const server = createServer((socket) => {
      let buffer = '';
      socket.on('data', (chunk) => {
        buffer += chunk.toString();
        const nl = buffer.indexOf('\n');
        if (nl < 0) return;
        let request: VmControlRequest;
        try {
          request = JSON.parse(buffer.slice(0, nl)) as VmControlRequest;
          if (!['boot', 'stop'].includes(request.op) || !/^[A-Za-z0-9-]+$/.test(request.node) || !/^[0-9a-f-]+$/.test(request.id)) throw new Error('malformed');
        } catch {
          socket.end(JSON.stringify({ ok: false, message: 'malformed request' }) + '\n');
          return;
        }
        this.handler(request).then(
          (message) => this.reply(socket, request, { ok: true, message }),
          (err: Error) => this.reply(socket, request, { ok: false, message: err.message }),
        );
      });
      socket.on('error', () => undefined);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        chmodSync(this.socketPath, 0o600);
        resolve();
      });
    });
  }

  private reply(socket: import('node:net').Socket, request: VmControlRequest, reply: VmControlReply): void {
    this.log.push({ at: Date.now(), request, reply });
    if (!socket.destroyed) socket.end(JSON.stringify(reply) + '\n');
  }

  close(): void {
    this.server?.close();
    rmSync(this.socketPath, { force: true });
  }
}

/** The CLI's side: one request, bounded by `timeoutMs`. */
export function requestVm(socketPath: string, request: VmControlRequest, timeoutMs: number): Promise<VmControlReply> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, message: `no answer from the e2e in ${timeoutMs / 1000} s` });
    }, timeoutMs);
    socket.on('connect', () => socket.write(JSON.stringify(request) + '\n'));
    socket.on('data', (chunk) => (buffer += chunk.toString()));
    socket.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buffer.trim()) as VmControlReply);
      } catch {
        resolve({ ok: false, message: `unreadable answer: ${buffer.slice(0, 200)}` });
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, message: `cannot reach the e2e at ${socketPath}: ${err.message}` });
    });
  });
}

/** Longer than the e2e's own bound on a boot (it answers first). */
const CLI_TIMEOUT_MS = 25 * 60 * 1000;

if (require.main === module) {
  const [op, node, id] = process.argv.slice(2);
  const socketPath = process.env[VM_CONTROL_ENV];
  if ((op !== 'boot' && op !== 'stop') || !node || !id || !socketPath) {
    console.error(`usage: ${VM_CONTROL_ENV}=<socket> node vm-control.js boot|stop <node> <id>`);
    process.exit(64);
  }
  requestVm(socketPath, { op, node, id }, CLI_TIMEOUT_MS).then((reply) => {
    (reply.ok ? console.log : console.error)(`vm-control ${op} ${node}: ${reply.message}`);
    process.exit(reply.ok ? 0 : 1);
  });
}
