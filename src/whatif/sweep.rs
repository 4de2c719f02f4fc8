//! Sweeps: the embedded pair over a grid of settings (one or two parameters), loss rates and
//! seeds, every point a virtual-time run, on every core. Same grid and seeds ⇒ same numbers.

use super::{Cancelled, par_map};
use crate::engine::settings::{parse_duration, timespan};
use crate::sim::{SimConfig, Simulation};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::time::Duration;

/// A setting (or the link's delay) a sweep varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Param {
    AckInterval,
    MaxTransferWindowSize,
    MaxRetryCount,
    InactivityTimeout,
    FlowControl,
    Delay,
}

impl Param {
    pub const ALL: [Param; 6] = [
        Param::MaxTransferWindowSize,
        Param::AckInterval,
        Param::MaxRetryCount,
        Param::InactivityTimeout,
        Param::FlowControl,
        Param::Delay,
    ];

    /// The name on the command line (`rmscope simulate`'s flag).
    pub fn name(self) -> &'static str {
        match self {
            Param::AckInterval => "ack-interval",
            Param::MaxTransferWindowSize => "max-transfer-window-size",
            Param::MaxRetryCount => "max-retry-count",
            Param::InactivityTimeout => "inactivity-timeout",
            Param::FlowControl => "flow-control",
            Param::Delay => "delay",
        }
    }

    /// The `<reliableSession>` attribute, or the link's delay.
    pub fn label(self) -> &'static str {
        match self {
            Param::AckInterval => "acknowledgementInterval [s]",
            Param::MaxTransferWindowSize => "maxTransferWindowSize",
            Param::MaxRetryCount => "maxRetryCount",
            Param::InactivityTimeout => "inactivityTimeout [s]",
            Param::FlowControl => "flowControlEnabled (0/1)",
            Param::Delay => "one-way delay [s]",
        }
    }

    pub fn parse(name: &str) -> Result<Param, String> {
        Param::ALL.into_iter().find(|p| p.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Param::ALL.iter().map(|p| p.name()).collect();
            format!("unknown sweep parameter '{name}' (one of {})", names.join(", "))
        })
    }

    fn is_duration(self) -> bool {
        matches!(self, Param::AckInterval | Param::InactivityTimeout | Param::Delay)
    }

    fn is_count(self) -> bool {
        matches!(self, Param::MaxTransferWindowSize | Param::MaxRetryCount)
    }

    /// One value: a duration in seconds, a count, or a bool as 0/1.
    fn value(self, text: &str) -> Result<f64, String> {
        let text = text.trim();
        if self.is_duration() {
            return parse_duration(text).map(|d| d.as_secs_f64());
        }
        if self == Param::FlowControl {
            return match text {
                "true" | "1" => Ok(1.0),
                "false" | "0" => Ok(0.0),
                _ => Err(format!("flow-control takes true or false, not '{text}'")),
            };
        }
        text.parse::<u32>()
            .map(f64::from)
            .map_err(|_| format!("{}: '{text}' is not a whole number", self.name()))
    }

    /// Sets the parameter in `cfg`.
    pub fn apply(self, cfg: &mut SimConfig, v: f64) {
        let d = Duration::from_secs_f64(v.max(0.0));
        match self {
            Param::AckInterval => cfg.settings.acknowledgement_interval = d,
            Param::InactivityTimeout => cfg.settings.inactivity_timeout = d,
            Param::MaxTransferWindowSize => cfg.settings.max_transfer_window_size = v.round() as u32,
            Param::MaxRetryCount => cfg.settings.max_retry_count = v.round() as u32,
            Param::FlowControl => cfg.settings.flow_control_enabled = v != 0.0,
            Param::Delay => {
                cfg.forward.delay = d;
                cfg.backward.delay = d;
            }
        }
    }

    /// A value as the command line writes it.
    pub fn show(self, v: f64) -> String {
        match self {
            _ if self.is_duration() => {
                let d = Duration::from_secs_f64(v);
                if v < 60.0 {
                    format!("{}ms", d.as_millis())
                } else {
                    timespan(d)
                }
            }
            Param::FlowControl => (v != 0.0).to_string(),
            _ => format!("{v:.0}"),
        }
    }
}

/// One parameter's values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Axis {
    pub param: Param,
    pub values: Vec<f64>,
}

/// The most values one axis takes, and the most runs a sweep makes.
pub const MAX_VALUES: usize = 1000;
pub const MAX_RUNS: usize = 100_000;

/// `name=v1,v2,…` or `name=FROM..TO/N` (N values evenly from FROM to TO; counts rounded).
pub fn parse_axis(spec: &str) -> Result<Axis, String> {
    let (name, values) = spec
        .split_once('=')
        .ok_or_else(|| format!("'{spec}': give name=v1,v2,… or name=FROM..TO/N"))?;
    let param = Param::parse(name.trim())?;
    let mut out = Vec::new();
    if let Some((range, n)) = values.split_once('/')
        && let Some((from, to)) = range.split_once("..")
    {
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("'{n}' in {spec} is not a count of values"))?;
        if !(1..=MAX_VALUES).contains(&n) {
            return Err(format!("{spec}: 1 to {MAX_VALUES} values"));
        }
        let (a, b) = (param.value(from)?, param.value(to)?);
        for i in 0..n {
            let v = if n == 1 {
                a
            } else {
                a + (b - a) * i as f64 / (n - 1) as f64
            };
            out.push(if param.is_count() { v.round() } else { v });
        }
        out.dedup();
    } else {
        for v in values.split(',') {
            out.push(param.value(v)?);
        }
        if out.len() > MAX_VALUES {
            return Err(format!("{spec}: at most {MAX_VALUES} values"));
        }
    }
    // Every value must make a valid configuration (WCF's setters refuse the rest, e.g. an
    // acknowledgementInterval of 0: ReliableSessionBindingElement requires it > 0).
    for &v in &out {
        let mut c = SimConfig::default();
        param.apply(&mut c, v);
        c.settings
            .validate()
            .map_err(|e| format!("{} {}: {e}", param.name(), param.show(v)))?;
    }
    Ok(Axis { param, values: out })
}

/// Loss rates: `0,0.01,0.05`.
pub fn parse_losses(s: &str) -> Result<Vec<f64>, String> {
    s.split(',')
        .map(|v| {
            let p: f64 = v
                .trim()
                .parse()
                .map_err(|_| format!("loss '{v}' is not a number"))?;
            if (0.0..1.0).contains(&p) {
                Ok(p)
            } else {
                Err(format!("loss {p} must be at least 0 and below 1"))
            }
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Spec {
    pub base: SimConfig,
    /// One or two parameters.
    pub axes: Vec<Axis>,
    /// Each direction's loss probability.
    pub losses: Vec<f64>,
    pub seeds: u32,
}

/// One run of the grid.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Run {
    /// The axes' values, in axis order.
    pub values: Vec<f64>,
    pub loss: f64,
    pub seed: u64,
    pub delivered: u64,
    pub completion_time: f64,
    /// Delivered messages per virtual second.
    pub goodput: f64,
    pub ack_latency_median: Option<f64>,
    pub retransmissions: u64,
    pub faults: u64,
    pub finished: bool,
}

/// A grid point: the mean over its seeds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cell {
    pub values: Vec<f64>,
    pub loss: f64,
    pub runs: u32,
    pub goodput: f64,
    pub ack_latency_median: Option<f64>,
    pub retransmissions: f64,
    pub completion_time: f64,
    /// Runs that faulted or did not finish.
    pub failed: u32,
}

impl Spec {
    pub fn validate(&self) -> Result<(), String> {
        if self.axes.is_empty() || self.axes.len() > 2 {
            return Err("a sweep takes one or two --param".into());
        }
        if self.losses.is_empty() || self.seeds == 0 {
            return Err("a sweep needs at least one loss rate and one seed".into());
        }
        if self.runs() > MAX_RUNS {
            return Err(format!(
                "{} runs is more than the {MAX_RUNS} a sweep makes",
                self.runs()
            ));
        }
        self.base.validate()
    }

    pub fn runs(&self) -> usize {
        self.points().len() * self.losses.len() * self.seeds as usize
    }

    /// Every combination of the axes' values, first axis slowest.
    pub fn points(&self) -> Vec<Vec<f64>> {
        let mut out = vec![Vec::new()];
        for axis in &self.axes {
            out = out
                .into_iter()
                .flat_map(|p| {
                    axis.values.iter().map(move |&v| {
                        let mut q = p.clone();
                        q.push(v);
                        q
                    })
                })
                .collect();
        }
        out
    }

    /// The configuration of one run.
    pub fn config(&self, values: &[f64], loss: f64, seed: u64) -> SimConfig {
        let mut c = self.base.clone();
        for (axis, &v) in self.axes.iter().zip(values) {
            axis.param.apply(&mut c, v);
        }
        c.forward.loss = loss;
        c.backward.loss = loss;
        c.seed = seed;
        c
    }
}

fn one(spec: &Spec, values: &[f64], loss: f64, seed: u64) -> Run {
    let mut c = spec.config(values, loss, seed);
    // The numbers come from the report; a timeline would only cost time.
    c.record = false;
    let report = Simulation::new(c).map(|mut s| s.run());
    let r = report.unwrap_or_default();
    Run {
        values: values.to_vec(),
        loss,
        seed,
        delivered: r.delivered,
        completion_time: r.completion_time,
        goodput: r.goodput,
        ack_latency_median: r.ack_latency_median,
        retransmissions: r.retransmissions,
        faults: r.faults.len() as u64,
        finished: r.finished,
    }
}

/// Runs the grid on every core. `done` counts finished runs; `cancel` stops it.
pub fn run(spec: &Spec, done: &AtomicUsize, cancel: &AtomicBool) -> Result<Vec<Run>, Cancelled> {
    let mut jobs = Vec::new();
    for p in spec.points() {
        for &loss in &spec.losses {
            for k in 0..u64::from(spec.seeds) {
                jobs.push((p.clone(), loss, spec.base.seed.wrapping_add(k)));
            }
        }
    }
    par_map(&jobs, |(p, loss, seed)| one(spec, p, *loss, *seed), done, cancel)
}

/// The grid points' means, in run order.
pub fn cells(runs: &[Run]) -> Vec<Cell> {
    let mut out: Vec<(Cell, Vec<f64>)> = Vec::new();
    for r in runs {
        let fresh = out
            .last()
            .is_none_or(|(c, _)| c.values != r.values || c.loss != r.loss);
        if fresh {
            out.push((
                Cell {
                    values: r.values.clone(),
                    loss: r.loss,
                    runs: 0,
                    goodput: 0.0,
                    ack_latency_median: None,
                    retransmissions: 0.0,
                    completion_time: 0.0,
                    failed: 0,
                },
                Vec::new(),
            ));
        }
        let (c, lat) = out.last_mut().expect("pushed");
        c.runs += 1;
        c.goodput += r.goodput;
        c.retransmissions += r.retransmissions as f64;
        c.completion_time += r.completion_time;
        c.failed += u32::from(r.faults > 0 || !r.finished);
        lat.extend(r.ack_latency_median);
    }
    out.into_iter()
        .map(|(mut c, lat)| {
            let n = f64::from(c.runs.max(1));
            c.goodput /= n;
            c.retransmissions /= n;
            c.completion_time /= n;
            c.ack_latency_median = (!lat.is_empty()).then(|| lat.iter().sum::<f64>() / lat.len() as f64);
            c
        })
        .collect()
}

/// The runs as CSV: a row per run.
pub fn to_csv(spec: &Spec, runs: &[Run]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<String> = spec.axes.iter().map(|a| a.param.name().to_string()).collect();
    head.extend(
        [
            "loss",
            "seed",
            "delivered",
            "completion_s",
            "goodput_msg_s",
            "ack_latency_median_ms",
            "retransmissions",
            "faults",
            "finished",
        ]
        .map(String::from),
    );
    let _ = w.write_record(&head);
    for r in runs {
        let mut row: Vec<String> = spec
            .axes
            .iter()
            .zip(&r.values)
            .map(|(a, &v)| a.param.show(v))
            .collect();
        row.extend([
            r.loss.to_string(),
            r.seed.to_string(),
            r.delivered.to_string(),
            format!("{:.6}", r.completion_time),
            format!("{:.3}", r.goodput),
            r.ack_latency_median
                .map_or(String::new(), |l| format!("{:.3}", l * 1e3)),
            r.retransmissions.to_string(),
            r.faults.to_string(),
            r.finished.to_string(),
        ]);
        let _ = w.write_record(&row);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_parse_lists_and_ranges_and_refuse_what_wcf_refuses() {
        let a = parse_axis("max-transfer-window-size=1,2,4").unwrap();
        assert_eq!(a.values, vec![1.0, 2.0, 4.0]);
        let a = parse_axis("ack-interval=100ms..500ms/5").unwrap();
        assert_eq!(a.values.len(), 5);
        assert!((a.values[1] - 0.2).abs() < 1e-9);
        assert!(
            parse_axis("ack-interval=0ms..500ms/6")
                .unwrap_err()
                .contains("acknowledgementInterval")
        );
        assert!(parse_axis("max-transfer-window-size=0").is_err());
        assert!(
            parse_axis("window=1")
                .unwrap_err()
                .contains("unknown sweep parameter")
        );
        assert!(parse_losses("0,0.01,1.5").is_err());
    }

    #[test]
    fn a_small_grid_is_the_same_twice_and_a_wider_window_is_faster() {
        let mut base = SimConfig::default();
        base.workload.messages = 200;
        let spec = Spec {
            base,
            axes: vec![parse_axis("max-transfer-window-size=1,8").unwrap()],
            losses: vec![0.0, 0.05],
            seeds: 2,
        };
        let go = || run(&spec, &AtomicUsize::new(0), &AtomicBool::new(false)).unwrap();
        let (a, b) = (go(), go());
        assert_eq!(a, b);
        assert_eq!(a.len(), 8);
        let c = cells(&a);
        assert_eq!(c.len(), 4);
        // window 1 at loss 0 vs window 8 at loss 0.
        assert!(c[2].goodput > 3.0 * c[0].goodput, "{c:?}");
        assert_eq!(c[0].retransmissions, 0.0);
        assert!(c[1].retransmissions > 0.0);
        assert!(c.iter().all(|c| c.ack_latency_median.is_some() && c.failed == 0));
        let csv = to_csv(&spec, &a);
        assert_eq!(csv.lines().count(), 9);
        assert!(csv.starts_with("max-transfer-window-size,loss,seed,"));
    }
}
