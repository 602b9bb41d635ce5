//! Who is at the other end of a loopback TCP connection (Linux): the owner of the
//! client's socket, as `/proc/net/tcp` lists it.
//!
//! TCP carries no credentials, but on one machine both ends are in the kernel's table:
//! the client's socket is the row whose local address is the connection's peer and whose
//! remote address is the endpoint, and the row names the user that owns it.

#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

use std::net::{IpAddr, SocketAddr};

/// The owner of a connection's other end.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Owner {
    /// This user id.
    Uid(u32),
    /// The table was read and the connection is not in it.
    Absent,
    /// The table could not be read (no `/proc`, another network namespace's view).
    Unknown(String),
}

/// The owner of the client socket at `peer` connected to 127.0.0.1:`port`.
pub(super) fn owner(peer: SocketAddr, port: u16) -> Owner {
    match std::fs::read_to_string("/proc/net/tcp") {
        Ok(table) => owner_in(&table, peer, port),
        Err(e) => Owner::Unknown(e.to_string()),
    }
}

/// [`owner`], from the text of the table.
fn owner_in(table: &str, peer: SocketAddr, port: u16) -> Owner {
    let IpAddr::V4(ip) = peer.ip() else {
        return Owner::Absent;
    };
    // The kernel prints each address as its 32 bits in the machine's byte order, then
    // the port: the same formatting here matches whatever the machine is.
    let local = format!(
        "{:08X}:{:04X}",
        u32::from_ne_bytes(ip.octets()),
        peer.port()
    );
    let remote = format!(
        "{:08X}:{port:04X}",
        u32::from_ne_bytes(std::net::Ipv4Addr::LOCALHOST.octets())
    );
    for row in table.lines().skip(1) {
        // sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
        let fields: Vec<&str> = row.split_whitespace().collect();
        if fields.len() > 7 && fields[1] == local && fields[2] == remote {
            return fields[7].parse().map_or(
                Owner::Unknown(format!("a uid of {:?}", fields[7])),
                Owner::Uid,
            );
        }
    }
    Owner::Absent
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:A1B2 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0 100 0 0 10 0
   1: 0100007F:D431 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000  1001        0 2 1 0 20 4 30 10 -1
   2: 0100007F:A1B2 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 3 1 0 20 4 30 10 -1
";

    #[cfg(target_endian = "little")]
    #[test]
    fn the_client_row_names_its_owner() {
        let peer: SocketAddr = "127.0.0.1:54321".parse().expect("addr");
        assert_eq!(owner_in(TABLE, peer, 0xA1B2), Owner::Uid(1001));
        let other: SocketAddr = "127.0.0.1:54322".parse().expect("addr");
        assert_eq!(owner_in(TABLE, other, 0xA1B2), Owner::Absent);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_owns_its_own_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let (_, peer) = listener.accept().expect("accept");
        assert_eq!(peer, client.local_addr().expect("addr"));
        let uid = crate::atomic_file::own_uid().expect("uid");
        assert_eq!(owner(peer, port), Owner::Uid(uid));
    }
}
