//! Who is at the other end of a loopback TCP connection (Linux): the owner of the
//! client's socket.
//!
//! TCP carries no credentials, but on one machine both ends are the kernel's: the
//! client's socket is the one whose local address is the connection's peer and whose
//! remote address is the endpoint, and the kernel knows the user that owns it. It is
//! asked for that one socket over netlink (`sock_diag`, as `ss` asks: a lookup, some
//! microseconds); where netlink is not there, the table `/proc/net/tcp` is read instead
//! (milliseconds on a machine with many sockets, so off the async threads).

#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

use std::net::{IpAddr, SocketAddr};

/// The owner of a connection's other end.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Owner {
    /// This user id.
    Uid(u32),
    /// The kernel was asked and the connection is not there.
    Absent,
    /// Nobody could say (no `/proc`, another network namespace's view).
    Unknown(String),
}

/// The owner of the client socket at `peer` connected to 127.0.0.1:`port`, from the
/// kernel over netlink; `Err` where netlink cannot be asked (then [`owner`]).
#[cfg(target_os = "linux")]
pub(super) fn owner_by_diag(peer: SocketAddr, port: u16) -> Result<Owner, String> {
    diag::owner(peer, port)
}

/// The owner of the client socket at `peer` connected to 127.0.0.1:`port`, from the
/// table of TCP sockets (a blocking read).
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

/// `sock_diag` over netlink: one request for one socket, one answer.
#[cfg(target_os = "linux")]
mod diag {
    use super::Owner;
    use nix::sys::socket::{
        recv, sendto, setsockopt, socket, sockopt, AddressFamily, MsgFlags, NetlinkAddr, SockFlag,
        SockProtocol, SockType,
    };
    use nix::sys::time::TimeVal;
    use std::net::{IpAddr, SocketAddr};
    use std::os::fd::AsRawFd;

    const SOCK_DIAG_BY_FAMILY: u16 = 20;
    const NLM_F_REQUEST: u16 = 1;
    const NLMSG_ERROR: u16 = 2;
    const AF_INET: u8 = 2;
    const IPPROTO_TCP: u8 = 6;
    /// `nlmsghdr` (16 bytes), then `inet_diag_req_v2` (56).
    const REQUEST_LEN: usize = 16 + 56;
    /// In an answer: `nlmsghdr`, then `inet_diag_msg`, whose `idiag_uid` follows its
    /// four one-byte fields, the 48-byte socket id and three 32-bit counters.
    const UID_AT: usize = 16 + 4 + 48 + 12;

    pub(super) fn owner(peer: SocketAddr, port: u16) -> Result<Owner, String> {
        let IpAddr::V4(ip) = peer.ip() else {
            return Ok(Owner::Absent);
        };
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkSockDiag,
        )
        .map_err(|e| e.to_string())?;
        // The kernel answers at once; a wait is a broken netlink, not a slow one.
        setsockopt(&fd, sockopt::ReceiveTimeout, &TimeVal::new(1, 0)).map_err(|e| e.to_string())?;
        let request = request(ip.octets(), peer.port(), port);
        sendto(
            fd.as_raw_fd(),
            &request,
            &NetlinkAddr::new(0, 0),
            MsgFlags::empty(),
        )
        .map_err(|e| e.to_string())?;
        let mut answer = [0u8; 512];
        let n = recv(fd.as_raw_fd(), &mut answer, MsgFlags::empty()).map_err(|e| e.to_string())?;
        read_answer(&answer[..n])
    }

    /// The request for the TCP socket whose local end is `ip`:`local_port` and whose
    /// remote end is 127.0.0.1:`remote_port`.
    pub(super) fn request(ip: [u8; 4], local_port: u16, remote_port: u16) -> [u8; REQUEST_LEN] {
        let mut r = [0u8; REQUEST_LEN];
        r[0..4].copy_from_slice(&u32::try_from(REQUEST_LEN).unwrap_or(0).to_ne_bytes());
        r[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        r[6..8].copy_from_slice(&NLM_F_REQUEST.to_ne_bytes());
        // seq and pid: 0.
        r[16] = AF_INET;
        r[17] = IPPROTO_TCP;
        // idiag_ext, pad: 0; idiag_states: every state.
        r[20..24].copy_from_slice(&u32::MAX.to_ne_bytes());
        // inet_diag_sockid: ports and addresses in network order.
        r[24..26].copy_from_slice(&local_port.to_be_bytes());
        r[26..28].copy_from_slice(&remote_port.to_be_bytes());
        r[28..32].copy_from_slice(&ip);
        r[44..48].copy_from_slice(&std::net::Ipv4Addr::LOCALHOST.octets());
        // idiag_if: 0; idiag_cookie: none (INET_DIAG_NOCOOKIE).
        r[64..72].fill(0xff);
        r
    }

    /// The owner in an answer: a socket's `inet_diag_msg`, or an error (`ENOENT`: there
    /// is no such socket).
    pub(super) fn read_answer(answer: &[u8]) -> Result<Owner, String> {
        let u16_at = |i: usize| {
            answer
                .get(i..i + 2)
                .map(|b| u16::from_ne_bytes([b[0], b[1]]))
        };
        let u32_at = |i: usize| {
            answer
                .get(i..i + 4)
                .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        };
        match u16_at(4) {
            Some(SOCK_DIAG_BY_FAMILY) => u32_at(UID_AT)
                .map(Owner::Uid)
                .ok_or_else(|| "a short sock_diag answer".to_owned()),
            Some(NLMSG_ERROR) => match u32_at(16).map(|e| i32::from_ne_bytes(e.to_ne_bytes())) {
                // -ENOENT
                Some(-2) => Ok(Owner::Absent),
                Some(e) => Err(format!("sock_diag error {e}")),
                None => Err("a short sock_diag error".to_owned()),
            },
            other => Err(format!("an unexpected sock_diag answer: {other:?}")),
        }
    }
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
        assert_eq!(owner_by_diag(peer, port), Ok(Owner::Uid(uid)));
        // The listening end is not a client of the endpoint.
        let other: SocketAddr = ("127.0.0.1".parse::<std::net::Ipv4Addr>().expect("ip"), 1).into();
        assert_eq!(owner_by_diag(other, port), Ok(Owner::Absent));
        drop(client);
    }
}
