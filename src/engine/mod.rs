//! The reliable-session engine: WCF's RM source and destination as pure state machines.
//!
//! No clock, no sockets, no tokio: every call takes `now`, transmissions leave through
//! `poll_transmit`, deadlines through `poll_timeout` (quinn-proto style), so the virtual-time
//! simulator and the real-time driver run the same code.

pub mod binding;
mod destination;
mod event;
mod listener;
pub mod messages;
pub mod replies;
pub mod rtt;
pub mod settings;
mod shape;
mod source;
pub mod transmission;

pub use destination::{AckPolicy, Destination, DestinationState, MAX_SEQUENCE_RANGES};
pub use event::{EngineEvent, SendError};
pub use listener::Listener;
pub use messages::Dialect;
pub use settings::{BindingTimeouts, Settings, SettingsError};
pub use shape::Shape;
pub use source::{Sent, Source, SourceConfig, SourceState, UNKNOWN_INITIATION_TIME};

use crate::trace::{Time, Timer};
use std::time::Duration;

/// CreateSequence, CloseSequence and TerminateSequence are resent every 10 s until their
/// timeout (ReliableMessagingConstants.RequestorIterationTime).
pub const HANDSHAKE_RETRY: Duration = Duration::from_secs(10);

/// One deadline per timer kind.
#[derive(Clone, Debug, Default)]
pub(crate) struct Timers {
    at: [Option<Time>; 5],
}

impl Timers {
    fn slot(t: Timer) -> usize {
        Timer::ALL.iter().position(|x| *x == t).expect("known timer")
    }
    pub fn set(&mut self, t: Timer, at: Time) {
        self.at[Self::slot(t)] = Some(at);
    }
    pub fn clear(&mut self, t: Timer) {
        self.at[Self::slot(t)] = None;
    }
    pub fn get(&self, t: Timer) -> Option<Time> {
        self.at[Self::slot(t)]
    }
    pub fn next(&self) -> Option<Time> {
        self.at.iter().flatten().min().copied()
    }
    /// The earliest timer due at `now` (ties in `Timer::ALL` order), cleared.
    pub fn expired(&mut self, now: Time) -> Option<Timer> {
        let (i, _) = self
            .at
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.filter(|t| *t <= now).map(|t| (i, t)))
            .min_by_key(|&(i, t)| (t, i))?;
        self.at[i] = None;
        Some(Timer::ALL[i])
    }
}
