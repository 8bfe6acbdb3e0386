//! Memory: what the host machine has available now, bytes as text, and what a piece of work needs, so that work
//! that cannot fit is refused before it starts, with the estimate (the CLI and the Python package alike).

/// Memory this machine has available now (Linux `MemAvailable`), or `None` where it cannot tell.
pub fn available() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// Bytes as text with a binary prefix (`3.2 GiB`).
pub fn bytes_text(bytes: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let k = if bytes >= 1.0 { ((bytes.log2() / 10.0).floor() as usize).min(units.len() - 1) } else { 0 };
    format!("{:.1} {}", bytes / 1024f64.powi(k as i32), units[k])
}

/// The memory a step of some work needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Need {
    /// Bytes at the step's peak.
    pub bytes: f64,
    /// What the step is: `to instantiate`, `to compile for sfq_mitll`, ...
    pub step: String,
    /// For an estimate (`about`), its basis, said after it: `about 410 bytes a synapse, an estimate`; `None` for a
    /// floor (`at least`).
    pub basis: Option<String>,
}

impl Need {
    /// `at least 11.2 GiB to instantiate`, `about 382 GiB to compile for sfq_mitll (about 410 bytes a synapse, ...)`.
    pub fn text(&self) -> String {
        let bytes = bytes_text(self.bytes);
        match &self.basis {
            Some(basis) => format!("about {bytes} {} ({basis})", self.step),
            None => format!("at least {bytes} {}", self.step),
        }
    }

    /// The need that is larger.
    pub fn max(self, other: Need) -> Need {
        if other.bytes > self.bytes { other } else { self }
    }

    /// Why the work cannot start here, where it needs more than `available` bytes (`None`: it fits, or the
    /// machine cannot tell what it has).
    pub fn refusal(&self, available: Option<f64>) -> Option<String> {
        let available = available.filter(|&a| self.bytes > a)?;
        Some(format!("need {}, and this machine has {} available", self.text(), bytes_text(available)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_need_is_refused_only_beyond_what_is_available() {
        let need = Need { bytes: 3.0 * 1024f64.powi(3), step: "to run".into(), basis: Some("x".into()) };
        assert_eq!(need.refusal(Some(4e9)), None);
        assert_eq!(need.refusal(None), None, "a machine that cannot tell is not refused");
        assert_eq!(
            need.refusal(Some(1024f64.powi(3))).as_deref(),
            Some("need about 3.0 GiB to run (x), and this machine has 1.0 GiB available")
        );
        assert_eq!(bytes_text(512.0), "512.0 B");
        assert_eq!(bytes_text(1.5 * 1024f64.powi(4)), "1.5 TiB");
    }
}
