//! Multicast routing: one tree per sending core (breadth-first shortest paths over the chip graph, so paths are
//! shortest on the triangular torus and avoid missing chips), one table entry per tree per chip, removal of
//! entries the default route already covers (a packet with no match goes straight through), and compression by
//! merging entries with the same route whose keys are buddies (`key` and `key | bit` under the same mask).

use std::collections::{HashMap, VecDeque};

use soma_isa::spinnaker::{KEY_MASK, Route, RouteEntry};
use soma_targets::spinnaker::Geometry;

use crate::backend::CompileError;

/// A chip's coordinates.
pub type Chip = (usize, usize);

/// A sending core: its key, its chip, and the `(chip, core)` of every core that must receive its packets.
pub struct Sender {
    /// Key base.
    pub key: u32,
    /// Where it sits.
    pub chip: Chip,
    /// Who receives its packets.
    pub destinations: Vec<(Chip, usize)>,
}

/// Tables per chip, before and after compression.
pub struct Tables {
    /// Entries per chip, compressed, in match order.
    pub tables: HashMap<Chip, Vec<RouteEntry>>,
    /// Largest table before compression (after default-route removal).
    pub max_uncompressed: usize,
    /// Largest table after compression.
    pub max_compressed: usize,
    /// Mean table size after compression over chips with entries.
    pub mean_compressed: f64,
}

/// Routes every sender's packets to the cores that hold its targets. Fails with the chip and table size when a
/// compressed table exceeds `limit` entries.
pub fn route(geometry: &Geometry, senders: &[Sender], limit: usize) -> Result<Tables, CompileError> {
    let mut raw: HashMap<Chip, Vec<RouteEntry>> = HashMap::new();
    let index = |(x, y): Chip| y * geometry.width + x;
    let mut parent: Vec<Option<(usize, usize)>> = vec![None; geometry.width * geometry.height]; // (parent index, link from parent)
    let mut seen = vec![u32::MAX; geometry.width * geometry.height];
    for (k, Sender { key, chip: source, destinations }) in senders.iter().enumerate() {
        if destinations.is_empty() {
            continue;
        }
        // Breadth-first tree from the source chip (links in a fixed order: deterministic).
        let stamp = k as u32;
        seen[index(*source)] = stamp;
        parent[index(*source)] = None;
        let mut queue = VecDeque::from([*source]);
        let mut wanted: HashMap<Chip, Route> = HashMap::new();
        for &(chip, core) in destinations {
            wanted.entry(chip).or_default().add_core(core);
        }
        let mut remaining = wanted.len() - usize::from(wanted.contains_key(source));
        while let Some(c) = queue.pop_front() {
            if remaining == 0 {
                break;
            }
            for link in 0..6 {
                if let Some(n) = geometry.neighbour(c, link)
                    && seen[index(n)] != stamp
                {
                    seen[index(n)] = stamp;
                    parent[index(n)] = Some((index(c), link));
                    if wanted.contains_key(&n) {
                        remaining -= 1;
                    }
                    queue.push_back(n);
                }
            }
        }
        // Route bits per chip on the tree: links towards children, cores at destinations.
        let mut bits: HashMap<Chip, Route> = wanted.clone();
        let mut arrival: HashMap<Chip, usize> = HashMap::new();
        for &chip in wanted.keys() {
            let mut c = chip;
            while c != *source {
                let Some((p, link)) = parent[index(c)].filter(|_| seen[index(c)] == stamp) else {
                    return Err(CompileError::Routing(format!(
                        "chip ({}, {}) cannot be reached from chip ({}, {})",
                        chip.0, chip.1, source.0, source.1
                    )));
                };
                arrival.insert(c, link);
                let pc = (p % geometry.width, p / geometry.width);
                let entry = bits.entry(pc).or_default();
                if entry.has_link(link) {
                    break; // the rest of the path is already on the tree
                }
                entry.add_link(link);
                c = pc;
            }
        }
        for (chip, route) in bits {
            // Default routing: a packet arriving on link (l + 3) % 6 with no match leaves on link l.
            let straight = arrival.get(&chip).is_some_and(|&l| route.is_only_link(l));
            if !straight {
                raw.entry(chip).or_default().push(RouteEntry { key: *key, mask: KEY_MASK, route });
            }
        }
    }
    let max_uncompressed = raw.values().map(Vec::len).max().unwrap_or(0);
    let mut tables = HashMap::new();
    for (chip, entries) in raw {
        let compressed = compress(entries);
        if compressed.len() > limit {
            return Err(CompileError::Routing(format!(
                "the routing table of chip ({}, {}) needs {} entries after compression, the router holds {limit}",
                chip.0,
                chip.1,
                compressed.len()
            )));
        }
        tables.insert(chip, compressed);
    }
    let max_compressed = tables.values().map(Vec::len).max().unwrap_or(0);
    let mean_compressed =
        if tables.is_empty() { 0.0 } else { tables.values().map(Vec::len).sum::<usize>() as f64 / tables.len() as f64 };
    Ok(Tables { tables, max_uncompressed, max_compressed, mean_compressed })
}

/// Merges buddy entries (same route and mask, keys differing in one masked bit) until none are left. The merged
/// entry matches exactly the keys of the two it replaces, so the order of entries stays irrelevant.
pub fn compress(entries: Vec<RouteEntry>) -> Vec<RouteEntry> {
    let mut by_route: HashMap<Route, Vec<(u32, u32)>> = HashMap::new();
    for e in entries {
        by_route.entry(e.route).or_default().push((e.key, e.mask));
    }
    let mut out = Vec::new();
    let mut routes: Vec<Route> = by_route.keys().copied().collect();
    routes.sort_unstable();
    for route in routes {
        let mut set: Vec<(u32, u32)> = by_route.remove(&route).unwrap_or_default();
        loop {
            set.sort_unstable();
            set.dedup();
            let present: std::collections::HashSet<(u32, u32)> = set.iter().copied().collect();
            let mut merged = Vec::with_capacity(set.len());
            let mut used = std::collections::HashSet::new();
            for &(key, mask) in &set {
                if used.contains(&(key, mask)) {
                    continue;
                }
                // The lowest masked bit above the atom field that is set in neither... try every masked bit.
                let mut partner = None;
                let mut bits = mask;
                while bits != 0 {
                    let bit = bits & bits.wrapping_neg();
                    bits &= bits - 1;
                    let other = (key ^ bit, mask);
                    if present.contains(&other) && !used.contains(&other) {
                        partner = Some((other, bit));
                        break;
                    }
                }
                match partner {
                    Some((other, bit)) => {
                        used.insert((key, mask));
                        used.insert(other);
                        merged.push((key & !bit, mask & !bit));
                    }
                    None => {
                        used.insert((key, mask));
                        merged.push((key, mask));
                    }
                }
            }
            let done = merged.len() == set.len();
            set = merged;
            if done {
                break;
            }
        }
        set.sort_unstable();
        out.extend(set.into_iter().map(|(key, mask)| RouteEntry { key, mask, route }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buddies_merge_and_strangers_do_not() {
        let r = |link: usize| {
            let mut r = Route::default();
            r.add_link(link);
            r
        };
        let e = |key: u32, link: usize| RouteEntry { key, mask: KEY_MASK, route: r(link) };
        let entries = vec![e(0x1000, 0), e(0x2000, 0), e(0x3000, 0), e(0x4000, 1), e(0x5000, 0)];
        let c = compress(entries.clone());
        assert!(c.len() < entries.len(), "{c:?}");
        for original in &entries {
            let matches: Vec<_> = c.iter().filter(|x| original.key & x.mask == x.key).collect();
            assert_eq!(matches.len(), 1, "key {:#x} matches exactly one entry", original.key);
            assert_eq!(matches[0].route, original.route);
        }
        // Keys outside the originals stay unmatched except inside merged buddies (here: none beyond them).
        let covered: usize = c.iter().map(|x| 1usize << (!x.mask).count_ones().saturating_sub(12)).sum();
        assert_eq!(covered, entries.len());
    }
}
