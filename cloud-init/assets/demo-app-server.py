#!/usr/bin/python3
# demo-app-server.py: the built-in demo application service,
# shipped by appliance-fabric as cloud-init/assets/demo-app-server.py.
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
            body = b"ok\n" if self.path == "/healthz" else (args.node + "\n").encode()
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
