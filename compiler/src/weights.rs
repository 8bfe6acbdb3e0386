//! How far quantised weights are from the network's: the per-projection error every backend reports.

/// Quantisation error of one projection.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct WeightError {
    /// Projection name.
    pub projection: String,
    /// Synapses.
    pub synapses: u64,
    /// Largest relative error |w_q - w| / |w|.
    pub max_relative: f64,
    /// RMS relative error.
    pub rms_relative: f64,
}

/// Accumulates relative errors of weight magnitudes, synapse by synapse.
#[derive(Clone, Copy, Debug, Default)]
pub struct ErrorTally {
    sum_sq: f64,
    max: f64,
}

impl ErrorTally {
    /// Records a weight magnitude `m` stored as `q` (zero weights have no relative error and are skipped).
    pub fn record(&mut self, m: f64, q: f64) {
        if m > 0.0 {
            let rel = (q - m).abs() / m;
            self.sum_sq += rel * rel;
            self.max = self.max.max(rel);
        }
    }

    /// The error of `projection`'s `synapses` synapses.
    pub fn finish(self, projection: &str, synapses: usize) -> WeightError {
        WeightError {
            projection: projection.to_string(),
            synapses: synapses as u64,
            max_relative: self.max,
            rms_relative: if synapses == 0 { 0.0 } else { (self.sum_sq / synapses as f64).sqrt() },
        }
    }
}

/// The RMS relative error over all projections, weighted by their synapses.
pub fn overall_rms(errors: &[WeightError]) -> f64 {
    let n: u64 = errors.iter().map(|e| e.synapses).sum();
    if n == 0 {
        return 0.0;
    }
    (errors.iter().map(|e| e.rms_relative.powi(2) * e.synapses as f64).sum::<f64>() / n as f64).sqrt()
}

/// The quantisation error as text: overall, and per projection with synapses.
pub fn weight_error_text(rms: f64, errors: &[WeightError]) -> String {
    use soma_isa::report::percent;
    let mut s = format!("weight quantisation error: RMS {} of the weight\n", percent(rms));
    for e in errors.iter().filter(|e| e.synapses > 0) {
        s += &format!(
            "  {:<24} max {}, RMS {} over {} synapses\n",
            e.projection,
            percent(e.max_relative),
            percent(e.rms_relative),
            soma_isa::report::thousands(e.synapses)
        );
    }
    s
}
