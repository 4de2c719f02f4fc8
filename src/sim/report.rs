//! What a simulated run did, in numbers.

use crate::trace::{FaultCause, Side};
use crate::wsrm::RmFault;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultReport {
    pub time: f64,
    pub side: Side,
    pub sequence: Option<String>,
    pub code: RmFault,
    pub cause: FaultCause,
    pub text: &'static str,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Report {
    /// Distinct application messages handed to the receiving application.
    pub delivered: u64,
    /// Messages handed over a second time (must be 0).
    pub delivered_twice: u64,
    /// Deliveries out of order in ordered mode (must be 0 when ordered).
    pub out_of_order: u64,
    /// Sequence messages put on the wire by sources, retransmissions included.
    pub transmissions: u64,
    pub retransmissions: u64,
    /// Messages carrying a SequenceAcknowledgement sent by destinations.
    pub acks: u64,
    /// Largest transfer window any source reached.
    pub max_window: u32,
    /// Messages the link dropped / duplicated (both directions).
    pub lost_on_link: u64,
    pub duplicated_on_link: u64,
    pub sessions_opened: u32,
    pub sessions_refused: u32,
    /// Sends that waited sendTimeout for room in the window and failed with a
    /// TimeoutException (the message was never sent).
    pub send_timeouts: u64,
    pub faults: Vec<FaultReport>,
    /// Virtual seconds until the last source finished (or the time limit).
    pub completion_time: f64,
    /// Delivered messages per virtual second.
    pub goodput: f64,
    /// Delivered application bytes per virtual second.
    pub goodput_bytes: f64,
    /// Whether every source closed or faulted before the time limit.
    pub finished: bool,
    /// Replies (request-reply, duplex) handed to the calling application: distinct, and a
    /// second time (must be 0).
    #[serde(default)]
    pub replies: u64,
    #[serde(default)]
    pub replies_twice: u64,
    /// Messages of the return sequence the service put on the wire, and how many of those
    /// were copies sent again (resent replies, duplex retransmissions).
    #[serde(default)]
    pub reply_transmissions: u64,
    #[serde(default)]
    pub reply_retransmissions: u64,
    /// Duplex callbacks handed to the client application.
    #[serde(default)]
    pub callbacks: u64,
    /// Median seconds from a client message's first send to the first ack covering it (once
    /// the run has finished).
    #[serde(default)]
    pub ack_latency_median: Option<f64>,
}

impl Report {
    /// The human-readable summary printed by `rmscope simulate`.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "delivered            {}\n\
             delivered twice      {}\n\
             out of order         {}\n\
             transmissions        {}\n\
             retransmissions      {}\n\
             acks                 {}\n\
             max window           {}\n\
             lost on link         {}\n\
             duplicated on link   {}\n\
             sessions opened      {}\n\
             sessions refused     {}\n\
             send timeouts        {}\n\
             virtual time         {:.3} s{}\n\
             goodput              {:.1} msg/s ({:.0} B/s)\n\
             faults               {}\n",
            self.delivered,
            self.delivered_twice,
            self.out_of_order,
            self.transmissions,
            self.retransmissions,
            self.acks,
            self.max_window,
            self.lost_on_link,
            self.duplicated_on_link,
            self.sessions_opened,
            self.sessions_refused,
            self.send_timeouts,
            self.completion_time,
            if self.finished {
                ""
            } else {
                " (time limit reached)"
            },
            self.goodput,
            self.goodput_bytes,
            self.faults.len()
        );
        if self.reply_transmissions > 0 {
            s.push_str(&format!(
                "replies              {}\n\
                 replies twice        {}\n\
                 reply transmissions  {}\n\
                 reply resends        {}\n\
                 callbacks            {}\n",
                self.replies,
                self.replies_twice,
                self.reply_transmissions,
                self.reply_retransmissions,
                self.callbacks
            ));
        }
        for f in &self.faults {
            s.push_str(&format!(
                "  {:.3} s  {} {:?}: {}\n",
                f.time,
                f.side.label(),
                f.code,
                f.text
            ));
        }
        s
    }
}
