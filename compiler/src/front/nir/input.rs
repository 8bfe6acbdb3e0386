//! Spike inputs for NIR graphs, from a small CSV format (documented in `docs/nir.md`):
//! - a 0/1 (or spike-count) matrix: one row per time step, one column per input channel, row `k` delivered in
//!   step `k`;
//! - or an event list with the header `time_s,index`: one spike per line, at `time_s` seconds on channel `index`.
//!
//! Channels of several Input nodes are numbered one after the other, in the order of the nodes' names.

/// A malformed spike-input file: the line (1-based) and what is wrong.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct InputError {
    /// The line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Spike times (seconds) per channel.
pub type SpikeTimes = Vec<Vec<f64>>;

/// Parses spike input text for `channels` input channels at time step `dt`. Errors name the line.
pub fn parse(text: &str, channels: usize, dt: f64) -> Result<SpikeTimes, InputError> {
    let mut times = vec![Vec::new(); channels];
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((first_no, first)) = lines.next() else { return Ok(times) };
    let header: Vec<&str> = first.split(',').map(str::trim).collect();
    if header == ["time_s", "index"] || header == ["time", "index"] {
        for (no, line) in lines {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let [t, i] = fields.as_slice() else {
                return Err(InputError { line: no + 1, message: format!("expected `time_s,index`, got `{line}`") });
            };
            let t: f64 = t
                .parse()
                .map_err(|_| InputError { line: no + 1, message: format!("`{t}` is not a time in seconds") })?;
            let i: usize =
                i.parse().map_err(|_| InputError { line: no + 1, message: format!("`{i}` is not a channel index") })?;
            if !(t.is_finite() && t >= 0.0) {
                return Err(InputError { line: no + 1, message: format!("time {t} must be finite and not negative") });
            }
            let channel = times
                .get_mut(i)
                .ok_or_else(|| InputError { line: no + 1, message: format!("channel {i} is outside 0..{channels}") })?;
            channel.push(t);
        }
    } else {
        for (step, (no, line)) in std::iter::once((first_no, first)).chain(lines).enumerate() {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let counts = fields
                .iter()
                .map(|f| {
                    f.parse().map_err(|_| InputError { line: no + 1, message: format!("`{f}` is not a spike count") })
                })
                .collect::<Result<Vec<f64>, _>>()?;
            add_counts(&mut times, step, &counts, dt)
                .map_err(|e| InputError { line: no + 1, message: e.to_string() })?;
        }
    }
    for t in &mut times {
        t.sort_by(f64::total_cmp);
    }
    Ok(times)
}

/// A row of a spike matrix that is not one.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CountError {
    /// Not one count per channel.
    #[error("{found} columns, but the graph has {channels} input channels")]
    Columns {
        /// Counts in the row.
        found: usize,
        /// The graph's input channels.
        channels: usize,
    },
    /// A count that is not whole and non-negative (at most 1e6).
    #[error("`{0}` is not a whole, non-negative spike count")]
    NotACount(f64),
}

/// Adds step `step`'s spike counts (one per channel, whole and non-negative: the matrix form's row `step`) to
/// `times`; the one rule for a spike matrix, whether it comes from a file or from an array.
pub fn add_counts(times: &mut SpikeTimes, step: usize, counts: &[f64], dt: f64) -> Result<(), CountError> {
    if counts.len() != times.len() {
        return Err(CountError::Columns { found: counts.len(), channels: times.len() });
    }
    for (ch, &count) in counts.iter().enumerate() {
        if !(count >= 0.0 && count.fract() == 0.0 && count <= 1e6) {
            return Err(CountError::NotACount(count));
        }
        for _ in 0..count as usize {
            times[ch].push(step as f64 * dt);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_rows_are_steps() {
        let t = parse("0,1\n1,0\n\n0,2\n", 2, 0.5).expect("parses");
        assert_eq!(t, vec![vec![0.5], vec![0.0, 1.0, 1.0]]);
    }

    #[test]
    fn event_lists_and_errors() {
        assert_eq!(
            parse("time_s,index\n0.002,1\n0.001,1\n", 2, 1e-3).expect("parses"),
            vec![vec![], vec![0.001, 0.002]]
        );
        assert!(
            parse("time_s,index\n0.1,5\n", 2, 1e-3).expect_err("must fail").to_string().contains("line 2: channel 5")
        );
        assert!(parse("0,1,0\n", 2, 1e-3).expect_err("must fail").to_string().contains("3 columns"));
        assert!(parse("0,x\n", 2, 1e-3).expect_err("must fail").to_string().contains("`x`"));
    }
}
