import { ApplicationService, FabricModel, NodeModel } from '../model/fabric-model';
import { DATABASE_CLIENT_ENV } from './database';
import { generatedHeader, LIB_DIR, RenderedFile } from './rendered-file';

export const DEMO_SERVICE_SCRIPT = `${LIB_DIR}/demo-app-server.py`;

/**
 * The built-in demo application: answers every GET with the node's name (so
 * a client can see the balancing) and `/healthz` with "ok".
 */
export function renderDemoServiceScript(model: FabricModel, node: NodeModel): string {
  return `#!/usr/bin/python3
${generatedHeader(model, node, 'Demo application service')}
"""Answers GET / with the node name and GET /healthz with ok."""
import argparse
import socketserver
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):
        # HTTPServer.server_bind resolves the host name (getfqdn): with an
        # unreachable DNS server that delays listening by seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        pass  # health checks that reset the connection are not errors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--node", required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "fabric-demo-app"
        # Buffered: the status line, headers and body leave in one write after the handler.
        # Unbuffered, the headers went first; a node that lost power between the two writes
        # left HAProxy with a response begun, which it may not retry elsewhere (the client
        # got a reset after the server timeout).
        wbufsize = -1

        def respond(self, send_body):
            body = b"ok\\n" if self.path == "/healthz" else (args.node + "\\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Served-By", args.node)
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def do_GET(self):
            self.respond(True)

        def do_HEAD(self):
            self.respond(False)

        def log_message(self, *_):
            pass  # one line per request would flood the journal under load

    Server((args.address, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
`;
}

/** A systemd unit for a service the fabric runs (the application, the monitoring service). */
export function renderServiceUnit(
  model: FabricModel,
  node: NodeModel,
  service: ApplicationService,
  role: string,
  bindAddress: string,
  environmentFiles: readonly string[] = [],
): string {
  const execStart =
    service.execStart ?? `/usr/bin/python3 ${DEMO_SERVICE_SCRIPT} --node ${node.name} --address ${bindAddress} --port ${service.port}`;
  return [
    generatedHeader(model, node, `${role} unit`),
    '[Unit]',
    `Description=appliance-fabric ${role.toLowerCase()} (${service.name})`,
    'After=network-online.target',
    'Wants=network-online.target',
    'StartLimitIntervalSec=60',
    'StartLimitBurst=10',
    '',
    '[Service]',
    ...environmentFiles.map((f) => `EnvironmentFile=-${f}`),
    `ExecStart=${execStart}`,
    'Restart=always',
    'RestartSec=1',
    'TimeoutStopSec=10',
    ...serviceUserLines(service),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/**
 * Who the service runs as. Never root unless the config says so: a named
 * user gets no new privileges either (no setuid escape to root).
 */
function serviceUserLines(service: ApplicationService): string[] {
  if (service.user === undefined) return ['DynamicUser=yes'];
  if (service.user === 'root') return ['# Runs as root: the config gives it user root.'];
  return [`User=${service.user}`, 'NoNewPrivileges=yes'];
}

/** The system users the services on this node run as, which cloud-init creates (root and DynamicUser need none). */
export function serviceUsers(model: FabricModel, node: NodeModel): string[] {
  const services = [
    ...(node.roles.includes('application-server') ? [model.applicationServers.service] : []),
    ...(model.monitoring.members.includes(node.name) ? [model.monitoring.service] : []),
  ];
  return [...new Set(services.map((s) => s.user).filter((u): u is string => u !== undefined && u !== 'root'))].sort();
}

export function applicationServiceFiles(model: FabricModel, node: NodeModel): RenderedFile[] {
  if (!node.roles.includes('application-server')) return [];
  const service = model.applicationServers.service;
  const env = model.database ? [DATABASE_CLIENT_ENV] : [];
  const files: RenderedFile[] = [
    { path: `/etc/systemd/system/${service.name}.service`, content: renderServiceUnit(model, node, service, 'Application service', node.managementAddress, env), permissions: '0644' },
  ];
  if (!service.execStart) files.push(demoServiceFile(model, node));
  return files;
}

/** The demo service script: the same file for every service that uses it. */
export function demoServiceFile(model: FabricModel, node: NodeModel): RenderedFile {
  return { path: DEMO_SERVICE_SCRIPT, content: renderDemoServiceScript(model, node), permissions: '0755' };
}
