//! Prometheus metrics: requests by protocol, method and status, bytes served, latency,
//! and the bundle's size (measured when scraped, at most once per ten seconds).

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    bytes: IntCounterVec,
    latency: HistogramVec,
    bundle_bytes: IntGauge,
    bundle_blobs: IntGauge,
    measured: Mutex<Option<Instant>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("nora_http_requests_total", "HTTP requests answered"),
            &["protocol", "method", "status"],
        )
        .expect("metric");
        let bytes = IntCounterVec::new(
            Opts::new(
                "nora_http_response_bytes_total",
                "Response body bytes sent, by declared length",
            ),
            &["protocol"],
        )
        .expect("metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "nora_http_request_duration_seconds",
                "Time to produce response headers",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ]),
            &["protocol"],
        )
        .expect("metric");
        let bundle_bytes =
            IntGauge::new("nora_bundle_size_bytes", "Bytes held in the bundle's blobs")
                .expect("metric");
        let bundle_blobs =
            IntGauge::new("nora_bundle_blobs", "Blobs held in the bundle").expect("metric");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(bytes.clone()),
            Box::new(latency.clone()),
            Box::new(bundle_bytes.clone()),
            Box::new(bundle_blobs.clone()),
        ] {
            registry.register(c).expect("unique metric");
        }
        Metrics {
            registry,
            requests,
            bytes,
            latency,
            bundle_bytes,
            bundle_blobs,
            measured: Mutex::new(None),
        }
    }

    /// Adds metrics kept elsewhere (pull-through counters).
    pub fn register(&self, c: Box<dyn prometheus::core::Collector>) {
        self.registry.register(c).expect("unique metric");
    }

    /// Counts one answered request.
    pub fn observe(&self, protocol: &str, method: &str, status: u16, bytes: u64, took: Duration) {
        self.requests
            .with_label_values(&[protocol, method, &status.to_string()])
            .inc();
        self.bytes.with_label_values(&[protocol]).inc_by(bytes);
        self.latency
            .with_label_values(&[protocol])
            .observe(took.as_secs_f64());
    }

    /// True when the bundle size is due to be measured again.
    pub fn bundle_size_due(&self) -> bool {
        let mut m = self.measured.lock().expect("metrics lock");
        match *m {
            Some(t) if t.elapsed() < Duration::from_secs(10) => false,
            _ => {
                *m = Some(Instant::now());
                true
            }
        }
    }

    /// Records the bundle's size.
    pub fn set_bundle_size(&self, blobs: u64, bytes: u64) {
        self.bundle_blobs.set(blobs as i64);
        self.bundle_bytes.set(bytes as i64);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding");
        String::from_utf8(out).expect("utf-8 metrics")
    }
}

/// Counts blobs and their bytes in a blob directory.
pub fn measure_blobs(dir: &std::path::Path) -> (u64, u64) {
    let mut n = 0;
    let mut bytes = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if let Ok(m) = e.metadata() {
                if m.is_file() {
                    n += 1;
                    bytes += m.len();
                }
            }
        }
    }
    (n, bytes)
}
