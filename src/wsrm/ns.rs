//! Namespace URIs and action URIs. Versions are recognised by namespace URI, never by prefix.

use serde::Serialize;

/// SOAP 1.1 envelope namespace (SOAP 1.1 §4).
pub const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// SOAP 1.2 envelope namespace (SOAP 1.2 part 1 §5).
pub const SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";
/// WS-ReliableMessaging February 2005 (WCF's `WSReliableMessagingFebruary2005`).
pub const RM_2005_02: &str = "http://schemas.xmlsoap.org/ws/2005/02/rm";
/// WS-ReliableMessaging 1.1 / 1.2 (OASIS, WCF's `WSReliableMessaging11`).
pub const RM_1_1: &str = "http://docs.oasis-open.org/ws-rx/wsrm/200702";
/// Microsoft's reliable-messaging extensions: `netrm:BufferRemaining`, `netrm:ConnectionLimitReached`.
pub const NETRM: &str = "http://schemas.microsoft.com/ws/2006/05/rm";
/// WS-Addressing August 2004 (member submission).
pub const WSA_2004_08: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
/// WS-Addressing 1.0 (W3C, 2005/08).
pub const WSA_1_0: &str = "http://www.w3.org/2005/08/addressing";
/// WS-MakeConnection 1.1: seen next to WS-RM 1.1 but not part of it.
pub const WSMC: &str = "http://docs.oasis-open.org/ws-rx/wsmc/200702";
/// The `xml:` prefix namespace (always bound).
pub const XML: &str = "http://www.w3.org/XML/1998/namespace";

/// WS-RM protocol version, as WCF's `reliableMessagingVersion` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RmVersion {
    /// `WSReliableMessagingFebruary2005`: the 2005/02 submission (WCF's default).
    Feb2005,
    /// `WSReliableMessaging11`: the OASIS standard (1.1; 1.2 uses the same namespace).
    V1_1,
}

/// Versions serialise as their labels ("2005/02", "1.2", ...): the same JSON as renamed unit
/// variants, and valid in formats whose variant names must be identifiers (RON, eframe's store).
macro_rules! label_serde {
    ($t:ty, [$($v:expr),+]) => {
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.label())
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                [$($v),+]
                    .into_iter()
                    .find(|v| v.label() == text)
                    .ok_or_else(|| serde::de::Error::custom(format!("unknown version {text:?}")))
            }
        }
    };
}

label_serde!(RmVersion, [RmVersion::Feb2005, RmVersion::V1_1]);
label_serde!(SoapVersion, [SoapVersion::V1_1, SoapVersion::V1_2]);
label_serde!(
    AddressingVersion,
    [AddressingVersion::Aug2004, AddressingVersion::V1_0]
);

impl RmVersion {
    pub const fn namespace(self) -> &'static str {
        match self {
            RmVersion::Feb2005 => RM_2005_02,
            RmVersion::V1_1 => RM_1_1,
        }
    }
    /// The short label used in summaries and JSON (`"2005/02"` or `"1.1"`).
    pub const fn label(self) -> &'static str {
        match self {
            RmVersion::Feb2005 => "2005/02",
            RmVersion::V1_1 => "1.1",
        }
    }
    /// WCF's configuration name for the version.
    pub const fn wcf_name(self) -> &'static str {
        match self {
            RmVersion::Feb2005 => "WSReliableMessagingFebruary2005",
            RmVersion::V1_1 => "WSReliableMessaging11",
        }
    }
    pub fn from_namespace(ns: &str) -> Option<Self> {
        match ns {
            RM_2005_02 => Some(RmVersion::Feb2005),
            RM_1_1 => Some(RmVersion::V1_1),
            _ => None,
        }
    }
}

impl std::fmt::Display for RmVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// SOAP envelope version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SoapVersion {
    V1_1,
    V1_2,
}

impl SoapVersion {
    pub const fn namespace(self) -> &'static str {
        match self {
            SoapVersion::V1_1 => SOAP11,
            SoapVersion::V1_2 => SOAP12,
        }
    }
    pub const fn label(self) -> &'static str {
        match self {
            SoapVersion::V1_1 => "1.1",
            SoapVersion::V1_2 => "1.2",
        }
    }
    pub fn from_namespace(ns: &str) -> Option<Self> {
        match ns {
            SOAP11 => Some(SoapVersion::V1_1),
            SOAP12 => Some(SoapVersion::V1_2),
            _ => None,
        }
    }
}

impl std::fmt::Display for SoapVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// WS-Addressing version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddressingVersion {
    Aug2004,
    V1_0,
}

impl AddressingVersion {
    pub const fn namespace(self) -> &'static str {
        match self {
            AddressingVersion::Aug2004 => WSA_2004_08,
            AddressingVersion::V1_0 => WSA_1_0,
        }
    }
    pub const fn label(self) -> &'static str {
        match self {
            AddressingVersion::Aug2004 => "2004/08",
            AddressingVersion::V1_0 => "1.0",
        }
    }
    pub fn from_namespace(ns: &str) -> Option<Self> {
        match ns {
            WSA_2004_08 => Some(AddressingVersion::Aug2004),
            WSA_1_0 => Some(AddressingVersion::V1_0),
            _ => None,
        }
    }
    /// The anonymous address of this version (WS-Addressing 1.0 §2.1; 2004/08 §2.3).
    pub const fn anonymous(self) -> &'static str {
        match self {
            AddressingVersion::Aug2004 => "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous",
            AddressingVersion::V1_0 => "http://www.w3.org/2005/08/addressing/anonymous",
        }
    }
    /// The generic fault action (WS-Addressing 1.0 SOAP binding §6; 2004/08 §5).
    pub const fn fault_action(self) -> &'static str {
        match self {
            AddressingVersion::Aug2004 => "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault",
            AddressingVersion::V1_0 => "http://www.w3.org/2005/08/addressing/fault",
        }
    }
}

impl std::fmt::Display for AddressingVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// The namespaces the decoder tells apart; everything else is `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KnownNs {
    Soap(SoapVersion),
    Rm(RmVersion),
    NetRm,
    Wsa(AddressingVersion),
    Wsmc,
    Xml,
    Other,
    /// The element or attribute is in no namespace.
    None,
}

impl KnownNs {
    pub fn classify(ns: Option<&str>) -> KnownNs {
        let Some(ns) = ns else { return KnownNs::None };
        if let Some(v) = RmVersion::from_namespace(ns) {
            return KnownNs::Rm(v);
        }
        if let Some(v) = SoapVersion::from_namespace(ns) {
            return KnownNs::Soap(v);
        }
        if let Some(v) = AddressingVersion::from_namespace(ns) {
            return KnownNs::Wsa(v);
        }
        match ns {
            NETRM => KnownNs::NetRm,
            WSMC => KnownNs::Wsmc,
            XML => KnownNs::Xml,
            _ => KnownNs::Other,
        }
    }
}
