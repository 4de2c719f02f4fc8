//! Property: for any model value, decode(encode(m)) == m.

use proptest::prelude::*;
use rmscope::wsrm::*;
use std::time::Duration;

fn text() -> impl Strategy<Value = Text> {
    // Any printable text, including XML specials and non-ASCII; trimmed values are canonical.
    "[a-zA-Z0-9:/._&<>\"' =?#é€-]{0,24}".prop_map(|s| Text::from(format!("urn:{}x", s.trim())))
}

fn number() -> impl Strategy<Value = MessageNumber> {
    prop_oneof![1u64..100, 1u64..=MessageNumber::MAX].prop_map(|n| MessageNumber::new(n).unwrap())
}

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    prop::option::of(s).boxed()
}

fn duration() -> impl Strategy<Value = Duration> {
    (0u64..10_000_000, 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n))
}

fn epr() -> impl Strategy<Value = EndpointReference> {
    text().prop_map(EndpointReference::new)
}

fn isb() -> impl Strategy<Value = IncompleteSequenceBehavior> {
    prop::sample::select(IncompleteSequenceBehavior::ALL.to_vec())
}

fn ack_content(v: RmVersion) -> BoxedStrategy<AckContent> {
    let ranges = prop::collection::vec((1u64..5, 0u64..5), 1..6).prop_map(|steps| {
        let mut next = 1u64;
        let mut out = Vec::new();
        for (gap, len) in steps {
            let lower = next + gap - 1;
            out.push(AckRange::new(lower, lower + len).unwrap());
            next = lower + len + 2;
        }
        AckContent::Ranges(out)
    });
    let nacks = prop::collection::vec(number(), 1..5).prop_map(AckContent::Nacks);
    let _ = v;
    prop_oneof![ranges, nacks, Just(AckContent::None)].boxed()
}

fn ack(v: RmVersion) -> impl Strategy<Value = SequenceAcknowledgement> {
    let is11 = v == RmVersion::V1_1;
    (text(), ack_content(v), any::<bool>(), opt(any::<u32>())).prop_map(move |(identifier, content, f, b)| {
        SequenceAcknowledgement {
            identifier,
            content,
            final_ack: f && is11,
            buffer_remaining: b,
        }
    })
}

fn rm_body(v: RmVersion) -> BoxedStrategy<Body> {
    let is11 = v == RmVersion::V1_1;
    let offer =
        (text(), opt(epr()), opt(duration()), opt(isb())).prop_map(move |(identifier, e, x, b)| Offer {
            identifier,
            endpoint: if is11 { e } else { None },
            expires: x,
            incomplete_sequence_behavior: if is11 { b } else { None },
        });
    let cs = (epr(), opt(duration()), opt(offer)).prop_map(|(acks_to, expires, offer)| {
        Body::CreateSequence(CreateSequence {
            acks_to,
            expires,
            offer,
        })
    });
    let csr = (text(), opt(duration()), opt(isb()), opt(epr())).prop_map(
        move |(identifier, expires, b, accept)| {
            Body::CreateSequenceResponse(CreateSequenceResponse {
                identifier,
                expires,
                incomplete_sequence_behavior: if is11 { b } else { None },
                accept,
            })
        },
    );
    let end = move || {
        (text(), opt(number())).prop_map(move |(identifier, n)| SequenceEnd {
            identifier,
            last_msg_number: if is11 { n } else { None },
        })
    };
    let terminate = end().prop_map(Body::TerminateSequence);
    if is11 {
        prop_oneof![
            cs,
            csr,
            terminate,
            end().prop_map(Body::CloseSequence),
            text().prop_map(|identifier| Body::CloseSequenceResponse { identifier }),
            text().prop_map(|identifier| Body::TerminateSequenceResponse { identifier }),
        ]
        .boxed()
    } else {
        prop_oneof![cs, csr, terminate].boxed()
    }
}

fn fault(v: RmVersion, soap: SoapVersion) -> impl Strategy<Value = Fault> {
    let code = prop_oneof![
        Just(FaultCode::Sender),
        Just(FaultCode::Receiver),
        Just(FaultCode::VersionMismatch),
        Just(FaultCode::MustUnderstand),
        Just(FaultCode::DataEncodingUnknown),
        "[a-z]{1,8}".prop_map(|l| FaultCode::Other(format!("{{urn:codes}}{l}").into())),
    ];
    let rm = prop::sample::select(
        RmFault::ALL
            .iter()
            .copied()
            .filter(|f| f.exists_in(v))
            .collect::<Vec<_>>(),
    );
    (code, opt(rm), any::<bool>(), "[a-zA-Z .&<>']{0,30}", opt(text())).prop_map(
        move |(code, rm_fault, net, reason, identifier)| Fault {
            code,
            rm_fault,
            netrm_fault: (net && soap == SoapVersion::V1_2).then_some(NetRmFault::ConnectionLimitReached),
            reason: reason.trim().into(),
            identifier,
        },
    )
}

fn app_body() -> impl Strategy<Value = Body> {
    // The body's namespace is declared either on its root or outside it (inherited from the
    // envelope, which the encoder must then declare again).
    (
        "[a-zA-Z][a-zA-Z0-9]{0,10}",
        "[a-zA-Z0-9 &<>]{0,40}",
        any::<bool>(),
        prop::sample::select(vec!["p", "s", "a", "r", ""]),
    )
        .prop_map(|(local, content, inherited, prefix)| {
            let qname = if prefix.is_empty() {
                local.clone()
            } else {
                format!("{prefix}:{local}")
            };
            let decl = if prefix.is_empty() {
                "xmlns".to_string()
            } else {
                format!("xmlns:{prefix}")
            };
            let content = quick_xml::escape::escape(content.as_str()).into_owned();
            let (xml, ns_context) = if inherited {
                (
                    format!("<{qname}>{content}</{qname}>"),
                    vec![(Text::from(prefix), Text::from("urn:app"))],
                )
            } else {
                (
                    format!("<{qname} {decl}=\"urn:app\">{content}</{qname}>"),
                    Vec::new(),
                )
            };
            Body::Application(AppBody::new(
                ExpandedName {
                    namespace: Some("urn:app".into()),
                    local: local.into(),
                },
                xml.into_bytes().into(),
                ns_context,
            ))
        })
}

fn action(v: RmVersion) -> impl Strategy<Value = Action> {
    let rm = prop::sample::select(
        RmAction::ALL
            .iter()
            .copied()
            .filter(|a| a.exists_in(v))
            .collect::<Vec<_>>(),
    )
    .prop_map(move |a| Action::Rm(v, a));
    prop_oneof![
        rm,
        "[a-z]{1,10}".prop_map(|s| Action::Other(format!("urn:app:{s}").into())),
        prop::sample::select(vec![AddressingVersion::Aug2004, AddressingVersion::V1_0])
            .prop_map(Action::AddressingFault),
    ]
}

fn envelope() -> impl Strategy<Value = Envelope> {
    let versions = (
        prop::sample::select(vec![RmVersion::Feb2005, RmVersion::V1_1]),
        prop::sample::select(vec![SoapVersion::V1_1, SoapVersion::V1_2]),
        prop::sample::select(vec![AddressingVersion::Aug2004, AddressingVersion::V1_0]),
        prop::bool::weighted(0.15),
    );
    versions
        .prop_flat_map(|(v, soap, wsa, fragment)| {
            let is10 = v == RmVersion::Feb2005;
            let addressing = (
                opt(action(v)),
                opt(text()),
                opt(
                    (text(), opt(text())).prop_map(|(message_id, relationship)| RelatesTo {
                        message_id,
                        relationship,
                    }),
                ),
                opt(text()),
                opt(epr()),
                opt(epr()),
                opt(epr()),
            )
                .prop_map(
                    move |(action, message_id, relates_to, to, reply_to, from, fault_to)| Addressing {
                        version: Some(wsa),
                        action,
                        message_id,
                        relates_to,
                        to,
                        reply_to,
                        from,
                        fault_to,
                    },
                );
            let sequence = opt((text(), number(), any::<bool>()).prop_map(
                move |(identifier, message_number, last)| Sequence {
                    identifier,
                    message_number,
                    last_message: last && is10,
                },
            ));
            let ack_requested = prop::collection::vec(
                (text(), opt(number())).prop_map(move |(identifier, n)| AckRequested {
                    identifier,
                    message_number: if is10 { n } else { None },
                }),
                0..3,
            );
            let acks = prop::collection::vec(ack(v), 0..3);
            let body = if fragment {
                prop_oneof![Just(Body::Empty), rm_body(v)].boxed()
            } else {
                prop_oneof![
                    Just(Body::Empty),
                    rm_body(v),
                    fault(v, soap).prop_map(Body::Fault),
                    app_body()
                ]
                .boxed()
            };
            (addressing, sequence, ack_requested, acks, body).prop_map(
                move |(mut addressing, sequence, ack_requested, acks, body)| {
                    let any_wsa = addressing.action.is_some()
                        || addressing.message_id.is_some()
                        || addressing.relates_to.is_some()
                        || addressing.to.is_some()
                        || addressing.reply_to.is_some()
                        || addressing.from.is_some()
                        || addressing.fault_to.is_some();
                    if !any_wsa {
                        addressing.version = None;
                    }
                    let rm_fault =
                        matches!(&body, Body::Fault(f) if f.rm_fault.is_some() || f.identifier.is_some());
                    let any_rm = sequence.is_some()
                        || !ack_requested.is_empty()
                        || !acks.is_empty()
                        || body.is_rm()
                        || rm_fault
                        || matches!(addressing.action, Some(Action::Rm(..)));
                    Envelope {
                        soap: (!fragment).then_some(soap),
                        rm_version: any_rm.then_some(v),
                        addressing,
                        sequence,
                        ack_requested,
                        acks,
                        body,
                    }
                },
            )
        })
        .prop_filter("a fragment needs at least one element", |e| {
            e.soap.is_some() || e.addressing.version.is_some() || e.rm_version.is_some()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decode_encode_round_trip(m in envelope()) {
        let bytes = encode(&m);
        let opts = Options { lenient: m.soap.is_none(), ..Options::default() };
        let decoded = decode_with(&bytes, &opts)
            .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&bytes)));
        prop_assert_eq!(&decoded.envelope, &m, "{}", String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn located_body_matches_kept_body(m in envelope()) {
        // The capture decoder only locates application bodies (keep_body = false); it must
        // find the same span and the same headers as a full decode.
        prop_assume!(m.soap.is_some());
        let bytes = encode(&m);
        let kept = decode_with(&bytes, &Options::default()).unwrap();
        let located = decode_with(&bytes, &Options { keep_body: false, ..Options::default() }).unwrap();
        prop_assert_eq!(&kept.body_span, &located.body_span);
        let mut a = kept.envelope.clone();
        if let Body::Application(app) = &mut a.body {
            let d = app.make_mut();
            d.xml = Default::default();
            d.ns_context.clear();
        }
        prop_assert_eq!(a, located.envelope);
    }

    #[test]
    fn decode_never_panics_on_mutations(m in envelope(), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = encode(&m);
        let i = cut.index(bytes.len());
        bytes[i] = byte;
        let _ = decode_with(&bytes, &Options::lenient());
        bytes.truncate(i);
        let _ = decode(&bytes);
    }
}
