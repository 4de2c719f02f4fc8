//! WCF's bindings as the session shape and transport they give a reliable session: what a user
//! picks ("wsHttpBinding"), what a config file names (a standard binding, or a customBinding's
//! elements), and the binding element a settings snippet is written as.

use super::shape::Shape;
use crate::wsrm::RmVersion;

/// A binding with a reliable session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binding {
    /// Request-reply over HTTP, WS-RM 2005/02 (IRequestSessionChannel).
    WsHttp,
    /// The same with WS-RM 1.1.
    Ws2007Http,
    /// Duplex over TCP (IDuplexSessionChannel on a net.tcp connection).
    NetTcp,
    /// Duplex over two one-way HTTP channels: the client listens on its own address
    /// (ClientBaseAddress) and the service POSTs to it.
    WsDualHttp,
    /// A customBinding: reliableSession over the transport and channel shape its elements say.
    Custom(Shape),
}

impl Binding {
    pub const STANDARD: [Binding; 4] = [
        Binding::WsHttp,
        Binding::Ws2007Http,
        Binding::NetTcp,
        Binding::WsDualHttp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Binding::WsHttp => "wsHttpBinding",
            Binding::Ws2007Http => "ws2007HttpBinding",
            Binding::NetTcp => "netTcpBinding",
            Binding::WsDualHttp => "wsDualHttpBinding",
            Binding::Custom(_) => "customBinding",
        }
    }

    /// The channel shape a reliable session of this binding runs (for its default contract: a
    /// request-reply one over HTTP, duplex over net.tcp and dual HTTP).
    pub fn shape(self) -> Shape {
        match self {
            Binding::WsHttp | Binding::Ws2007Http => Shape::RequestReply,
            Binding::NetTcp | Binding::WsDualHttp => Shape::Duplex,
            Binding::Custom(shape) => shape,
        }
    }

    /// The WS-RM version the binding uses unless its config says otherwise.
    pub fn version(self) -> RmVersion {
        match self {
            Binding::Ws2007Http => RmVersion::V1_1,
            _ => RmVersion::Feb2005,
        }
    }

    /// A standard binding by name (case-insensitive).
    pub fn parse(name: &str) -> Option<Binding> {
        Binding::STANDARD
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(name))
    }

    /// The shape a config's binding element gives: a standard binding by its kind; a
    /// customBinding by its elements — compositeDuplex, or a TCP transport, make it duplex
    /// (oneWay with it: one-way calls over the duplex pair); HTTP alone request-reply, and
    /// oneWay over HTTP the one-way pair over request-reply.
    pub fn from_config(kind: &str, elements: &[String]) -> Option<Binding> {
        if kind != "customBinding" {
            return Binding::parse(kind).or(match kind {
                // Same shapes as their plain counterparts.
                "wsFederationHttpBinding" => Some(Binding::WsHttp),
                "ws2007FederationHttpBinding" => Some(Binding::Ws2007Http),
                "netHttpBinding" => Some(Binding::WsHttp),
                _ => None,
            });
        }
        let has = |e: &str| elements.iter().any(|x| x == e);
        let duplex = has("compositeDuplex") || has("tcpTransport") || has("namedPipeTransport");
        let one_way = has("oneWay");
        Some(Binding::Custom(match (duplex, one_way) {
            (true, true) => Shape::OneWayOverDuplex,
            (true, false) => Shape::Duplex,
            (false, true) => Shape::OneWayOverRequest,
            (false, false) => Shape::RequestReply,
        }))
    }

    /// The customBinding element that runs `shape`, around a `<reliableSession/>` element
    /// (element order as WCF requires: reliableSession, compositeDuplex, oneWay, encoding,
    /// transport).
    pub fn custom_binding_snippet(shape: Shape, reliable_session: &str) -> String {
        let elements: &[&str] = match shape {
            Shape::RequestReply => &["<textMessageEncoding />", "<httpTransport />"],
            Shape::OneWayOverRequest => &["<oneWay />", "<textMessageEncoding />", "<httpTransport />"],
            Shape::Duplex => &["<binaryMessageEncoding />", "<tcpTransport />"],
            Shape::OneWayOverDuplex => &["<oneWay />", "<binaryMessageEncoding />", "<tcpTransport />"],
        };
        let mut s = String::from("<customBinding>\n  <binding name=\"rmscope\">\n    ");
        s.push_str(reliable_session.trim());
        for e in elements {
            s.push_str("\n    ");
            s.push_str(e);
        }
        s.push_str("\n  </binding>\n</customBinding>\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_bindings_and_custom_elements_give_wcfs_shapes() {
        assert_eq!(
            Binding::parse("wshttpbinding").map(Binding::shape),
            Some(Shape::RequestReply)
        );
        assert_eq!(
            Binding::parse("netTcpBinding").map(Binding::shape),
            Some(Shape::Duplex)
        );
        assert_eq!(Binding::Ws2007Http.version(), RmVersion::V1_1);
        let els = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // The <reliableSession> documentation's example: compositeDuplex + oneWay over HTTP.
        let docs = els(&["reliableSession", "compositeDuplex", "oneWay", "httpTransport"]);
        assert_eq!(
            Binding::from_config("customBinding", &docs).map(Binding::shape),
            Some(Shape::OneWayOverDuplex)
        );
        let rr = els(&["reliableSession", "textMessageEncoding", "httpTransport"]);
        assert_eq!(
            Binding::from_config("customBinding", &rr).map(Binding::shape),
            Some(Shape::RequestReply)
        );
        let tcp = els(&["reliableSession", "tcpTransport"]);
        assert_eq!(
            Binding::from_config("customBinding", &tcp).map(Binding::shape),
            Some(Shape::Duplex)
        );
        assert_eq!(Binding::from_config("basicHttpBinding", &[]), None);
        let snippet = Binding::custom_binding_snippet(Shape::Duplex, "<reliableSession ordered=\"true\" />");
        assert!(snippet.contains(
            "<reliableSession ordered=\"true\" />\n    <binaryMessageEncoding />\n    <tcpTransport />"
        ));
        // What we write, we read back as the same shape.
        for shape in Shape::ALL {
            let s = Binding::custom_binding_snippet(shape, "<reliableSession />");
            let names: Vec<String> = s
                .lines()
                .filter_map(|l| l.trim().strip_prefix('<'))
                .filter(|l| !l.starts_with('/'))
                .map(|l| l.split([' ', '>', '/']).next().unwrap().to_string())
                .collect();
            assert_eq!(
                Binding::from_config("customBinding", &names).map(Binding::shape),
                Some(shape),
                "{s}"
            );
        }
    }
}
