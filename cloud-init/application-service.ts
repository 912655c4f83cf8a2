import { FabricModel, NodeModel } from '../model/fabric-model';
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--node", required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "fabric-demo-app"

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

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer((args.address, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
`;
}

export function applicationServiceUnit(model: FabricModel, node: NodeModel): string {
  const service = model.applicationServers.service;
  const execStart =
    service.execStart ??
    `/usr/bin/python3 ${DEMO_SERVICE_SCRIPT} --node ${node.name} --address ${node.managementAddress} --port ${service.port}`;
  return [
    generatedHeader(model, node, 'Application service unit'),
    '[Unit]',
    `Description=appliance-fabric application service (${service.name})`,
    'After=network-online.target',
    'Wants=network-online.target',
    'StartLimitIntervalSec=60',
    'StartLimitBurst=10',
    '',
    '[Service]',
    `ExecStart=${execStart}`,
    'Restart=always',
    'RestartSec=1',
    'TimeoutStopSec=10',
    ...(service.execStart ? [] : ['DynamicUser=yes']),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export function applicationServiceFiles(model: FabricModel, node: NodeModel): RenderedFile[] {
  if (!node.roles.includes('application-server')) return [];
  const service = model.applicationServers.service;
  const files: RenderedFile[] = [
    { path: `/etc/systemd/system/${service.name}.service`, content: applicationServiceUnit(model, node), permissions: '0644' },
  ];
  if (!service.execStart) files.push({ path: DEMO_SERVICE_SCRIPT, content: renderDemoServiceScript(model, node), permissions: '0755' });
  return files;
}
