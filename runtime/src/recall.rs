//! Pattern completion: how well an associative memory recalls a stored pattern from a cue, scored from a run's
//! spikes (any engine's). A test names a population, the neurons of a pattern, the part of it that was cued, and
//! a time window; the score is the share of the pattern's uncued neurons that fired in the window (recall) and the
//! share of the population's neurons outside the pattern that fired in it (intrusion).
//!
//! Tests are read from CSV, one per line after the header `test,population,pattern,cue,from_s,to_s`, neurons
//! as half-open ranges `a..b` and times in seconds; a spike of step `t` happens at `(t + 1) dt`.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::fidelity::Spikes;

/// One pattern-completion test.
#[derive(Clone, Debug, PartialEq)]
pub struct RecallTest {
    /// Its name.
    pub name: String,
    /// The population holding the pattern.
    pub population: String,
    /// The pattern's neurons.
    pub pattern: Range<u32>,
    /// The neurons the cue drove.
    pub cue: Range<u32>,
    /// The window in which the pattern should come back, seconds: `[from_s, to_s)`.
    pub from_s: f64,
    /// See `from_s`.
    pub to_s: f64,
}

/// How a test went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecallScore {
    /// The test.
    pub test: String,
    /// Its population.
    pub population: String,
    /// Uncued neurons of the pattern that fired in the window.
    pub completed: u64,
    /// Uncued neurons of the pattern.
    pub uncued: u64,
    /// `completed / uncued` (1 without uncued neurons).
    pub recall: f64,
    /// Neurons outside the pattern that fired in the window.
    pub intrusions: u64,
    /// Neurons outside the pattern.
    pub outside: u64,
    /// `intrusions / outside` (0 without any outside).
    pub intrusion: f64,
}

/// `a..b` as a range of neurons.
fn range(text: &str) -> Option<Range<u32>> {
    let (a, b) = text.trim().split_once("..")?;
    let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a <= b).then_some(a..b)
}

/// Reads tests from CSV text (`what` names it in errors, e.g. the file).
pub fn read_tests(text: &str, what: &str) -> Result<Vec<RecallTest>, String> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    const HEADER: &str = "test,population,pattern,cue,from_s,to_s";
    match lines.next() {
        Some((_, h)) if h.trim().replace(' ', "") == HEADER => {}
        _ => return Err(format!("{what}: line 1: expected the header `{HEADER}`")),
    }
    lines
        .map(|(i, line)| {
            let at = |problem: String| format!("{what}: line {}: {problem}", i + 1);
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            let [name, population, pattern, cue, from, to] = f[..] else {
                return Err(at(format!("6 fields expected ({HEADER}), found {}", f.len())));
            };
            let neurons = |field: &str, text: &str| {
                range(text).ok_or_else(|| at(format!("{field} `{text}` is not a range of neurons a..b")))
            };
            let time = |field: &str, text: &str| {
                text.parse::<f64>()
                    .ok()
                    .filter(|t| t.is_finite() && *t >= 0.0)
                    .ok_or_else(|| at(format!("{field} `{text}` is not a time in seconds")))
            };
            let test = RecallTest {
                name: name.to_string(),
                population: population.to_string(),
                pattern: neurons("pattern", pattern)?,
                cue: neurons("cue", cue)?,
                from_s: time("from_s", from)?,
                to_s: time("to_s", to)?,
            };
            if test.to_s <= test.from_s {
                return Err(at(format!("the window {} .. {} s is empty", test.from_s, test.to_s)));
            }
            Ok(test)
        })
        .collect()
}

/// Scores `tests` on the spikes of a run (`(step, population, neuron)`) of populations `names` with `sizes`
/// neurons, stepped every `dt`.
pub fn score(
    tests: &[RecallTest],
    spikes: &Spikes,
    names: &[String],
    sizes: &[u32],
    dt: f64,
) -> Result<Vec<RecallScore>, String> {
    tests
        .iter()
        .map(|t| {
            let p = names.iter().position(|n| *n == t.population).ok_or_else(|| {
                format!("recall test {}: no population `{}` (there are {})", t.name, t.population, names.join(", "))
            })?;
            let size = sizes[p];
            if t.pattern.end > size || t.cue.end > size {
                return Err(format!(
                    "recall test {}: neurons {:?} and {:?} are not all among the {size} of `{}`",
                    t.name, t.pattern, t.cue, t.population
                ));
            }
            let mut fired = vec![false; size as usize];
            for &(step, q, n) in spikes {
                let time = soma_isa::report::step_end_s(step.into(), dt);
                if q as usize == p && time >= t.from_s && time < t.to_s {
                    fired[n as usize] = true;
                }
            }
            let uncued: Vec<u32> = t.pattern.clone().filter(|n| !t.cue.contains(n)).collect();
            let completed = uncued.iter().filter(|&&n| fired[n as usize]).count() as u64;
            let outside = size as u64 - t.pattern.len() as u64;
            let intrusions = (0..size).filter(|n| !t.pattern.contains(n) && fired[*n as usize]).count() as u64;
            Ok(RecallScore {
                test: t.name.clone(),
                population: t.population.clone(),
                completed,
                uncued: uncued.len() as u64,
                recall: if uncued.is_empty() { 1.0 } else { completed as f64 / uncued.len() as f64 },
                intrusions,
                outside,
                intrusion: if outside == 0 { 0.0 } else { intrusions as f64 / outside as f64 },
            })
        })
        .collect()
}

/// The scores as text: one line per test and the means.
pub fn text(scores: &[RecallScore]) -> String {
    if scores.is_empty() {
        return String::new();
    }
    let mut s = String::from("recall (pattern completion):\n");
    for r in scores {
        s += &format!(
            "  {:<12} {}/{} of the uncued pattern fired ({:.0}%), {}/{} outside it ({:.1}%)\n",
            r.test,
            r.completed,
            r.uncued,
            r.recall * 100.0,
            r.intrusions,
            r.outside,
            r.intrusion * 100.0
        );
    }
    let n = scores.len() as f64;
    s += &format!(
        "  mean recall {:.1}%, mean intrusion {:.1}% over {} tests\n",
        scores.iter().map(|r| r.recall).sum::<f64>() / n * 100.0,
        scores.iter().map(|r| r.intrusion).sum::<f64>() / n * 100.0,
        scores.len()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const TESTS: &str = "test,population,pattern,cue,from_s,to_s\nA,p,0..4,0..2,0.010,0.020\n";

    #[test]
    fn a_test_scores_completion_and_intrusion_in_its_window() {
        let tests = read_tests(TESTS, "t.csv").expect("reads");
        let names = vec!["q".to_string(), "p".to_string()];
        // dt = 1 ms: step 9 is at 10 ms (in the window), step 19 at 20 ms (out).
        let spikes = vec![(9, 1, 0), (9, 1, 2), (12, 1, 7), (19, 1, 3), (12, 0, 3)];
        let s = score(&tests, &spikes, &names, &[8, 8], 1e-3).expect("scores");
        assert_eq!((s[0].completed, s[0].uncued, s[0].intrusions, s[0].outside), (1, 2, 1, 4));
        assert_eq!((s[0].recall, s[0].intrusion), (0.5, 0.25));
        assert!(text(&s).contains("mean recall 50.0%"));
    }

    #[test]
    fn bad_tests_are_named_with_their_line() {
        let bad = |text: &str| read_tests(text, "t.csv").expect_err("refused");
        assert!(bad("x\n").contains("line 1: expected the header"));
        assert!(bad(&format!("{TESTS}B,p,4,0..2,0,1\n")).contains("line 3: pattern `4`"));
        assert!(bad(&format!("{TESTS}B,p,0..4,0..2,1,1\n")).contains("line 3: the window"));
        assert!(bad(&format!("{TESTS}B,p,0..4\n")).contains("6 fields"));
        let tests = read_tests(TESTS, "t.csv").expect("reads");
        let names = ["p".to_string()];
        assert!(score(&tests, &Vec::new(), &names, &[2], 1e-3).is_err_and(|e| e.contains("not all among the 2")));
        assert!(score(&tests, &Vec::new(), &["r".to_string()], &[8], 1e-3).is_err_and(|e| e.contains("no population")));
    }
}
