//! WCF configuration files (app.config / web.config): read the `<reliableSession>` settings of
//! the bindings, and write them back as a snippet.

use crate::engine::Settings;
use crate::engine::binding::Binding;
use crate::engine::settings::parse_timespan;
use crate::wsrm::RmVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// The reliable-session settings found in one binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindingSettings {
    /// `customBinding/binding@name`, `wsHttpBinding/binding@name`, ...
    pub name: String,
    /// The binding element kind (`customBinding`, `wsHttpBinding`, `netTcpBinding`, ...).
    pub kind: String,
    pub settings: Settings,
    /// Standard bindings: `<reliableSession enabled="false">` (or absent) means no WS-RM.
    pub enabled: bool,
    /// 1-based line of the `<reliableSession>` element.
    pub line: usize,
    /// The binding as a session shape and transport (from the standard binding's kind, or the
    /// customBinding's elements).
    pub binding: Option<Binding>,
}

/// A config problem, naming the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Standard bindings that have a `<reliableSession>` child, and the WS-RM version each uses
/// (ws2007* bindings default to WS-RM 1.1, the others to February 2005).
const STANDARD: &[(&str, RmVersion)] = &[
    ("wsHttpBinding", RmVersion::Feb2005),
    ("ws2007HttpBinding", RmVersion::V1_1),
    ("wsDualHttpBinding", RmVersion::Feb2005),
    ("wsFederationHttpBinding", RmVersion::Feb2005),
    ("ws2007FederationHttpBinding", RmVersion::V1_1),
    ("netTcpBinding", RmVersion::Feb2005),
    ("netHttpBinding", RmVersion::Feb2005),
];

const MAX_CONFIG: usize = 8 * 1024 * 1024;

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Reads every binding with reliable-session settings.
pub fn parse(text: &str) -> Result<Vec<BindingSettings>, ConfigError> {
    if text.len() > MAX_CONFIG {
        return Err(ConfigError {
            line: 1,
            message: format!("file larger than {MAX_CONFIG} bytes"),
        });
    }
    let mut reader = Reader::from_str(text);
    reader.config_mut().expand_empty_elements = false;
    // Open elements: (name, binding name attribute)
    let mut stack: Vec<(String, Option<String>)> = Vec::new();
    let mut out: Vec<BindingSettings> = Vec::new();
    // The elements of the <binding> being read, and how many results it had when it began.
    let mut elements: Vec<String> = Vec::new();
    let mut found_before = 0;
    loop {
        let offset = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| ConfigError {
            line: line_of(text, reader.error_position() as usize),
            message: format!("not well-formed XML: {e}"),
        })?;
        match event {
            Event::Start(e) | Event::Empty(e) if stack.len() > 256 => {
                let _ = e;
                return Err(ConfigError {
                    line: line_of(text, offset),
                    message: "elements nested too deeply".into(),
                });
            }
            Event::Start(e) => {
                note_element(&stack, &e, &mut elements);
                if e.name().0 == "binding" {
                    elements.clear();
                    found_before = out.len();
                }
                if e.name().0 == "reliableSession" {
                    out.extend(reliable_session(text, offset, &e, &stack)?);
                }
                let name = attr(&e, "name").map_err(|m| ConfigError {
                    line: line_of(text, offset),
                    message: m,
                })?;
                stack.push((e.name().0.to_string(), name));
            }
            Event::Empty(e) => {
                note_element(&stack, &e, &mut elements);
                if e.name().0 == "reliableSession" {
                    out.extend(reliable_session(text, offset, &e, &stack)?);
                }
            }
            Event::End(_) => {
                if let Some((name, _)) = stack.pop()
                    && name == "binding"
                    && out.len() > found_before
                    && let Some(found) = out.last_mut()
                {
                    found.binding = Binding::from_config(&found.kind, &elements);
                }
            }
            Event::DocType(_) => {
                return Err(ConfigError {
                    line: line_of(text, offset),
                    message: "DOCTYPE is not allowed".into(),
                });
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// Remembers the binding elements of the `<binding>` being read (its direct children).
fn note_element(stack: &[(String, Option<String>)], e: &BytesStart<'_>, elements: &mut Vec<String>) {
    if stack.last().is_some_and(|(n, _)| n == "binding") && elements.len() < 64 {
        elements.push(e.name().0.to_string());
    }
}

fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|err| format!("bad attribute: {err}"))?;
        if a.key.0 == name {
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| format!("bad value of {name}: {err}"))?;
            return Ok(Some(v.trim().to_string()));
        }
    }
    Ok(None)
}

fn reliable_session(
    text: &str,
    offset: usize,
    e: &BytesStart<'_>,
    stack: &[(String, Option<String>)],
) -> Result<Option<BindingSettings>, ConfigError> {
    let line = line_of(text, offset);
    let err = |message: String| ConfigError { line, message };
    // Parent: <binding name=..> inside <customBinding> or a standard binding collection.
    let n = stack.len();
    if n < 2 || stack[n - 1].0 != "binding" {
        return Ok(None);
    }
    let kind = stack[n - 2].0.clone();
    let name = stack[n - 1].1.clone().unwrap_or_default();
    let standard = STANDARD.iter().find(|(k, _)| *k == kind);
    if kind != "customBinding" && standard.is_none() {
        return Ok(None);
    }
    let mut s = Settings::default();
    if let Some((_, version)) = standard {
        s.reliable_messaging_version = *version;
    }
    let mut enabled = kind == "customBinding";
    let get = |a: &str| attr(e, a).map_err(err);
    let boolean = |a: &str, v: &str| match v.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(err(format!("{a}=\"{v}\" is not true or false"))),
    };
    let number = |a: &str, v: &str| {
        v.parse::<u32>()
            .map_err(|_| err(format!("{a}=\"{v}\" is not a whole number")))
    };
    let span = |a: &str, v: &str| parse_timespan(v).map_err(|m| err(format!("{a}: {m}")));
    if let Some(v) = get("enabled")? {
        enabled = boolean("enabled", &v)?;
    }
    if let Some(v) = get("ordered")? {
        s.ordered = boolean("ordered", &v)?;
    }
    if let Some(v) = get("inactivityTimeout")? {
        s.inactivity_timeout = span("inactivityTimeout", &v)?;
    }
    if kind == "customBinding" {
        if let Some(v) = get("acknowledgementInterval")? {
            s.acknowledgement_interval = span("acknowledgementInterval", &v)?;
        }
        if let Some(v) = get("flowControlEnabled")? {
            s.flow_control_enabled = boolean("flowControlEnabled", &v)?;
        }
        if let Some(v) = get("maxPendingChannels")? {
            s.max_pending_channels = number("maxPendingChannels", &v)?;
        }
        if let Some(v) = get("maxRetryCount")? {
            s.max_retry_count = number("maxRetryCount", &v)?;
        }
        if let Some(v) = get("maxTransferWindowSize")? {
            s.max_transfer_window_size = number("maxTransferWindowSize", &v)?;
        }
        if let Some(v) = get("reliableMessagingVersion")? {
            s.reliable_messaging_version = match v.as_str() {
                "Default" | "WSReliableMessagingFebruary2005" => RmVersion::Feb2005,
                "WSReliableMessaging11" => RmVersion::V1_1,
                other => {
                    return Err(err(format!(
                        "reliableMessagingVersion=\"{other}\" is not Default, WSReliableMessagingFebruary2005 or WSReliableMessaging11"
                    )));
                }
            };
        }
    }
    if let Err(problem) = s.validate() {
        return Err(err(problem.to_string()));
    }
    Ok(Some(BindingSettings {
        name,
        kind,
        settings: s,
        enabled,
        line,
        binding: None,
    }))
}

/// Picks one binding: the named one, or the only one.
pub fn choose(bindings: &[BindingSettings], name: Option<&str>) -> Result<BindingSettings, String> {
    let candidates: Vec<&BindingSettings> = match name {
        Some(n) => bindings.iter().filter(|b| b.name == n).collect(),
        None => bindings.iter().collect(),
    };
    match candidates.as_slice() {
        [one] => {
            if one.enabled {
                Ok((*one).clone())
            } else {
                Err(format!(
                    "binding '{}' ({}, line {}) has reliableSession disabled",
                    one.name, one.kind, one.line
                ))
            }
        }
        [] => Err(match name {
            Some(n) => format!("no binding named '{n}' with a reliableSession"),
            None => "no binding with a <reliableSession> element".to_string(),
        }),
        many => Err(format!(
            "several bindings have a reliableSession; pick one: {}",
            many.iter()
                .map(|b| format!("'{}' ({})", b.name, b.kind))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const CONFIG: &str = r#"<?xml version="1.0"?>
<configuration>
  <system.serviceModel>
    <bindings>
      <customBinding>
        <binding name="rmCustom">
          <reliableSession acknowledgementInterval="00:00:00.5" flowControlEnabled="false"
             inactivityTimeout="00:05:00" maxPendingChannels="16" maxRetryCount="3"
             maxTransferWindowSize="32" ordered="false" reliableMessagingVersion="WSReliableMessaging11" />
          <textMessageEncoding />
          <httpTransport />
        </binding>
      </customBinding>
      <wsHttpBinding>
        <binding name="wsRm">
          <reliableSession enabled="true" ordered="true" inactivityTimeout="00:20:00" />
        </binding>
      </wsHttpBinding>
      <netTcpBinding>
        <binding name="tcpOff"><reliableSession enabled="false"/></binding>
      </netTcpBinding>
    </bindings>
  </system.serviceModel>
</configuration>"#;

    #[test]
    fn reads_custom_and_standard_bindings() {
        let b = parse(CONFIG).unwrap();
        assert_eq!(b.len(), 3);
        let c = &b[0];
        assert_eq!(
            (c.name.as_str(), c.kind.as_str(), c.line),
            ("rmCustom", "customBinding", 7)
        );
        assert_eq!(c.settings.acknowledgement_interval, Duration::from_millis(500));
        assert!(!c.settings.flow_control_enabled && !c.settings.ordered);
        assert_eq!(c.settings.inactivity_timeout, Duration::from_secs(300));
        assert_eq!(
            (
                c.settings.max_pending_channels,
                c.settings.max_retry_count,
                c.settings.max_transfer_window_size
            ),
            (16, 3, 32)
        );
        assert_eq!(c.settings.reliable_messaging_version, RmVersion::V1_1);
        let w = &b[1];
        assert!(w.enabled);
        assert_eq!(w.settings.inactivity_timeout, Duration::from_secs(1200));
        assert_eq!(w.settings.max_transfer_window_size, 8);
        assert!(!b[2].enabled);
        assert!(choose(&b, None).unwrap_err().contains("pick one"));
        assert_eq!(choose(&b, Some("wsRm")).unwrap().name, "wsRm");
        assert!(choose(&b, Some("tcpOff")).unwrap_err().contains("disabled"));
    }

    #[test]
    fn errors_name_the_line() {
        let bad = CONFIG.replace("maxTransferWindowSize=\"32\"", "maxTransferWindowSize=\"5000\"");
        let e = parse(&bad).unwrap_err();
        assert_eq!(e.line, 7);
        assert!(e.message.contains("maxTransferWindowSize"), "{e}");
        let bad = CONFIG.replace("00:05:00", "five minutes");
        assert!(
            parse(&bad)
                .unwrap_err()
                .to_string()
                .starts_with("line 7: inactivityTimeout")
        );
        let e = parse("<configuration>\n<a>\n</b>").unwrap_err();
        assert_eq!(e.line, 3);
    }
}
