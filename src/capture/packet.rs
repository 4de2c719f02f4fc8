//! Link layer → IP → TCP, with etherparse. Ethernet (VLAN tags too), Linux cooked SLL and SLL2,
//! raw IP, BSD loopback/NULL; IPv4 and IPv6. Anything else is skipped and counted.

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};
use std::net::{IpAddr, SocketAddr};

/// libpcap link-layer header types (LINKTYPE_* in the tcpdump.org registry).
pub mod linktype {
    pub const NULL: i32 = 0;
    pub const ETHERNET: i32 = 1;
    pub const RAW_OPENBSD: i32 = 12;
    pub const RAW_BSDOS: i32 = 14;
    pub const RAW: i32 = 101;
    pub const LOOP: i32 = 108;
    pub const LINUX_SLL: i32 = 113;
    pub const IPV4: i32 = 228;
    pub const IPV6: i32 = 229;
    pub const LINUX_SLL2: i32 = 276;
}

/// Whether this reader understands a link type at all.
pub fn supported(link: i32) -> bool {
    use linktype::*;
    matches!(
        link,
        NULL | ETHERNET | RAW_OPENBSD | RAW_BSDOS | RAW | LOOP | LINUX_SLL | IPV4 | IPV6 | LINUX_SLL2
    )
}

/// One TCP segment, borrowed from the frame.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    /// The payload as captured (may be shorter than on the wire, see `missing`).
    pub payload: &'a [u8],
    /// Payload bytes the snap length cut off (set by the reader from the frame lengths).
    pub missing: u32,
    /// IPv4 identification (0 for IPv6): tells a resent segment from the same one seen twice.
    pub ip_id: u16,
}

/// Why a frame carried no TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Not IP, or an IP protocol other than TCP.
    NotTcp,
    /// An IP fragment (not reassembled).
    Fragment,
    /// Too short or malformed to read.
    Malformed,
}

/// Address-family values of a NULL/LOOP header: AF_INET is 2 everywhere; AF_INET6 is 10
/// (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS).
fn family_to_ether_type(family: u32) -> Option<EtherType> {
    match family {
        2 => Some(EtherType::IPV4),
        10 | 24 | 28 | 30 => Some(EtherType::IPV6),
        _ => None,
    }
}

/// Decodes a frame of the given link type down to its TCP segment.
pub fn tcp_segment(link: i32, data: &[u8]) -> Result<Segment<'_>, Skip> {
    use linktype::*;
    let sliced = match link {
        ETHERNET => LaxSlicedPacket::from_ethernet(data).map_err(|_| Skip::Malformed)?,
        LINUX_SLL => {
            // 16-byte cooked header; protocol type at 14..16 (big endian).
            let proto = u16::from_be_bytes(data.get(14..16).ok_or(Skip::Malformed)?.try_into().unwrap());
            LaxSlicedPacket::from_ether_type(EtherType(proto), &data[16..])
        }
        LINUX_SLL2 => {
            // 20-byte cooked header v2; protocol type first.
            let proto = u16::from_be_bytes(data.get(0..2).ok_or(Skip::Malformed)?.try_into().unwrap());
            if data.len() < 20 {
                return Err(Skip::Malformed);
            }
            LaxSlicedPacket::from_ether_type(EtherType(proto), &data[20..])
        }
        NULL | LOOP => {
            let raw: [u8; 4] = data.get(0..4).ok_or(Skip::Malformed)?.try_into().unwrap();
            // NULL is in the capturing host's byte order, LOOP in network order.
            let family = if link == LOOP {
                u32::from_be_bytes(raw)
            } else {
                let le = u32::from_le_bytes(raw);
                if le < 256 { le } else { u32::from_be_bytes(raw) }
            };
            let et = family_to_ether_type(family).ok_or(Skip::NotTcp)?;
            LaxSlicedPacket::from_ether_type(et, &data[4..])
        }
        RAW | RAW_OPENBSD | RAW_BSDOS | IPV4 | IPV6 => {
            LaxSlicedPacket::from_ip(data).map_err(|_| Skip::Malformed)?
        }
        _ => return Err(Skip::NotTcp),
    };
    let (src_ip, dst_ip, payload, ip_id) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(v4)) => {
            let h = v4.header();
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                v4.payload(),
                h.identification(),
            )
        }
        Some(LaxNetSlice::Ipv6(v6)) => {
            let h = v6.header();
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                v6.payload(),
                0,
            )
        }
        _ => return Err(Skip::NotTcp),
    };
    if payload.fragmented {
        return Err(Skip::Fragment);
    }
    let Some(TransportSlice::Tcp(tcp)) = &sliced.transport else {
        return Err(if payload.ip_number == etherparse::IpNumber::TCP {
            Skip::Malformed
        } else {
            Skip::NotTcp
        });
    };
    Ok(Segment {
        src: SocketAddr::new(src_ip, tcp.source_port()),
        dst: SocketAddr::new(dst_ip, tcp.destination_port()),
        seq: tcp.sequence_number(),
        syn: tcp.syn(),
        fin: tcp.fin(),
        rst: tcp.rst(),
        payload: tcp.payload(),
        missing: 0,
        ip_id,
    })
}
