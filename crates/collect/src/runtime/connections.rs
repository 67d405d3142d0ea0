//! Listening sockets and TCP connections of one sample, with their direction.
//!
//! Why it exists: the client- and server-protocol rules and the unused-port
//! rule need to know which sockets listen, and which connections this host
//! made (outbound) or accepted (inbound). The socket tables are parsed by
//! [`crate::live`] (the snapshot's listening sockets use the same code).
//!
//! Semantics:
//! - a connection is a TCP socket in any state but LISTEN, SYN_SENT,
//!   SYN_RECV and CLOSE: ESTABLISHED, FIN_WAIT1/2, TIME_WAIT, CLOSE_WAIT,
//!   LAST_ACK, CLOSING. A socket in TIME_WAIT stays in the table for 60 s
//!   after the side that closed first closed it, so a connection shorter
//!   than the sampling interval is still seen when that side is this host
//!   and the interval is under a minute;
//! - inbound when its local port is the port of a TCP listener of the same
//!   sample whose address is the connection's local address or a wildcard
//!   (`0.0.0.0`, `::`); otherwise outbound;
//! - a loopback connection has both ends on this host and is seen twice:
//!   the client's socket is outbound (its local port is ephemeral), the
//!   server's is inbound;
//! - IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are shown as IPv4.

use std::net::IpAddr;

use warden_model::Transport;
use warden_model::runtime::Direction;

use crate::live::ProcNetSocket;

const TCP_ESTABLISHED: u8 = 0x01;
const TCP_FIN_WAIT1: u8 = 0x04;
const TCP_FIN_WAIT2: u8 = 0x05;
const TCP_TIME_WAIT: u8 = 0x06;
const TCP_CLOSE_WAIT: u8 = 0x08;
const TCP_LAST_ACK: u8 = 0x09;
const TCP_CLOSING: u8 = 0x0B;

/// Whether a socket is a TCP connection that was accepted or established.
pub fn is_connection(s: &ProcNetSocket) -> bool {
    s.transport == Transport::Tcp
        && matches!(
            s.state,
            TCP_ESTABLISHED
                | TCP_FIN_WAIT1
                | TCP_FIN_WAIT2
                | TCP_TIME_WAIT
                | TCP_CLOSE_WAIT
                | TCP_LAST_ACK
                | TCP_CLOSING
        )
}

/// The address as shown: IPv4-mapped IPv6 as IPv4.
pub fn show(ip: IpAddr) -> String {
    ip.to_canonical().to_string()
}

/// Inbound when a TCP listener of `listeners` has the connection's local
/// port and its local address (or a wildcard).
pub fn direction(connection: &ProcNetSocket, listeners: &[&ProcNetSocket]) -> Direction {
    let local = connection.local.to_canonical();
    let accepted = listeners.iter().any(|l| {
        l.transport == Transport::Tcp
            && l.port == connection.port
            && (l.local.is_unspecified() || l.local.to_canonical() == local)
    });
    if accepted { Direction::Inbound } else { Direction::Outbound }
}

/// A connection's four-tuple, to count distinct connections across samples.
pub type Tuple = (IpAddr, u16, IpAddr, u16);

/// The four-tuple of a socket.
pub fn tuple(s: &ProcNetSocket) -> Tuple {
    (s.local.to_canonical(), s.port, s.remote.to_canonical(), s.remote_port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::parse_proc_net;

    // Loopback: a listener on 127.0.0.1:21, a client 127.0.0.1:40000 -> :21
    // (both ends), an outbound connection to 192.0.2.7:80 in TIME_WAIT, and a
    // SYN_SENT attempt, which is not a connection.
    #[cfg(target_endian = "little")]
    const TCP: &str = "\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0015 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0 100 0 0 10 0
   1: 0100007F:9C40 0100007F:0015 01 00000000:00000000 00:00000000 00000000  1000        0 1002 1 0 20 4 30 10 -1
   2: 0100007F:0015 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 1003 1 0 20 4 30 10 -1
   3: 0200000A:A000 070200C0:0050 06 00000000:00000000 03:00001000 00000000     0        0 0 3 0
   4: 0200000A:A001 080200C0:0017 02 00000000:00000000 01:00000100 00000000     0        0 1005 1 0
";

    #[cfg(target_endian = "little")]
    #[test]
    fn loopback_connections_are_seen_from_both_ends() {
        let sockets = parse_proc_net(TCP, Transport::Tcp);
        let listeners: Vec<&ProcNetSocket> = sockets.iter().filter(|s| s.is_listening()).collect();
        let seen: Vec<(u64, Direction, String)> = sockets
            .iter()
            .filter(|s| is_connection(s))
            .map(|s| (s.inode, direction(s, &listeners), format!("{}:{}", show(s.remote), s.remote_port)))
            .collect();
        assert_eq!(
            seen,
            [
                (1002, Direction::Outbound, "127.0.0.1:21".to_string()),
                (1003, Direction::Inbound, "127.0.0.1:40000".to_string()),
                (0, Direction::Outbound, "192.0.2.7:80".to_string()),
            ]
        );
    }

    proptest::proptest! {
        /// A socket line as the kernel prints it parses back to its fields,
        /// and classification never panics.
        #[test]
        fn tcp_lines_round_trip(
            local in proptest::prelude::any::<[u8; 4]>(),
            remote in proptest::prelude::any::<[u8; 16]>(),
            port in proptest::prelude::any::<u16>(),
            remote_port in proptest::prelude::any::<u16>(),
            state in 1u8..=0x0B,
            uid in proptest::prelude::any::<u32>(),
            inode in proptest::prelude::any::<u64>(),
        ) {
            let v4 = |b: [u8; 4]| format!("{:08X}", u32::from_ne_bytes(b));
            let v6: String = remote.chunks(4).map(|c| v4([c[0], c[1], c[2], c[3]])).collect();
            let line4 = format!("   7: {}:{port:04X} {}:{remote_port:04X} {state:02X} 00000000:00000000 00:00000000 00000000 {uid:>5} 0 {inode} 1 0 20 4 30 10 -1", v4(local), v4(local));
            let line6 = format!("   7: {v6}:{port:04X} {v6}:{remote_port:04X} {state:02X} 00000000:00000000 00:00000000 00000000 {uid:>5} 0 {inode} 1 0", );
            let s4 = crate::live::parse_proc_net_line(&line4, Transport::Tcp).unwrap();
            proptest::prop_assert_eq!((s4.local, s4.port, s4.remote_port, s4.state, s4.uid, s4.inode), (IpAddr::from(local), port, remote_port, state, uid, inode));
            let s6 = crate::live::parse_proc_net_line(&line6, Transport::Tcp).unwrap();
            proptest::prop_assert_eq!(s6.remote, IpAddr::from(remote));
            let _ = (direction(&s4, &[&s6]), direction(&s6, &[&s4]), is_connection(&s4), show(s6.local));
        }
    }

    #[test]
    fn mapped_addresses_show_as_ipv4_and_wildcards_accept() {
        let ip: IpAddr = "::ffff:10.0.0.2".parse().unwrap();
        assert_eq!(show(ip), "10.0.0.2");
        let wildcard = ProcNetSocket {
            transport: Transport::Tcp,
            local: "::".parse().unwrap(),
            port: 23,
            remote: "::".parse().unwrap(),
            remote_port: 0,
            state: 0x0A,
            uid: 0,
            inode: 1,
        };
        let accepted = ProcNetSocket {
            local: ip,
            remote: "::ffff:10.0.0.9".parse().unwrap(),
            remote_port: 5000,
            state: TCP_ESTABLISHED,
            inode: 2,
            ..wildcard.clone()
        };
        assert_eq!(direction(&accepted, &[&wildcard]), Direction::Inbound);
        let elsewhere = ProcNetSocket { port: 24, ..accepted.clone() };
        assert_eq!(direction(&elsewhere, &[&wildcard]), Direction::Outbound);
        let specific = ProcNetSocket { local: "127.0.0.1".parse().unwrap(), ..wildcard };
        assert_eq!(direction(&accepted, &[&specific]), Direction::Outbound, "listener bound to another address");
    }
}
