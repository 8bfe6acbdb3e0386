//! Instantiation: every connector makes exactly the synapses its rule says, deterministically per seed.

use proptest::prelude::*;
use soma_compiler::front::snn::{Overrides, parse};
use soma_compiler::instantiate::instantiate;
use soma_compiler::valid::validate;
use soma_isa::instance::{Instance, Rows, SourceKind};

fn build(body: &str, seed: u64) -> Instance {
    let text = format!(
        "timestep 0.1 ms\npopulation a[50] : integrator {{ r = 1 }}\npopulation b[40] : integrator {{ r = 1 }}\n{body}"
    );
    let net = parse(&text, &Overrides::new()).unwrap_or_else(|e| panic!("{:?}", e.diagnostics(&text)));
    instantiate(&validate(&net).unwrap_or_else(|e| panic!("{e:?}")), seed).expect("instantiates")
}

fn well_formed(rows: &Rows, pre: usize, post: usize) {
    assert_eq!(rows.offsets.len(), pre + 1);
    assert_eq!(rows.offsets[0], 0);
    assert!(rows.offsets.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(*rows.offsets.last().expect("offsets") as usize, rows.len());
    assert_eq!(rows.weights.len(), rows.len());
    assert_eq!(rows.delays.len(), rows.len());
    assert!(rows.targets.iter().all(|&t| (t as usize) < post));
    assert!(rows.delays.iter().all(|&d| d >= 1));
}

fn in_degrees(rows: &Rows, post: usize) -> Vec<usize> {
    let mut d = vec![0; post];
    for &t in &rows.targets {
        d[t as usize] += 1;
    }
    d
}

#[test]
fn rule_based_connectors() {
    let inst = build(
        "projection a -> b : fixed_total_number(1234) { weight = 1 }
         projection a -> b : fixed_indegree(7) { weight = 1 }
         projection a -> a : one_to_one { weight = 1 }
         projection a -> a : all_to_all(autapses = false) { weight = 1 }
         projection a -> a : fixed_probability(0.3, autapses = false) { weight = 1 }",
        3,
    );
    let p = &inst.projections;
    for (k, (pre, post)) in [(50, 40), (50, 40), (50, 50), (50, 50), (50, 50)].into_iter().enumerate() {
        well_formed(&p[k].rows, pre, post);
    }
    assert_eq!(p[0].rows.len(), 1234);
    assert!(in_degrees(&p[1].rows, 40).iter().all(|&d| d == 7));
    assert_eq!(p[2].rows.targets, (0..50).collect::<Vec<u32>>());
    assert_eq!(p[3].rows.len(), 50 * 49);
    for (k, proj) in p.iter().enumerate().skip(3) {
        for i in 0..50 {
            assert!(!proj.rows.targets[proj.rows.row(i)].contains(&(i as u32)), "projection {k}: autapse at {i}");
        }
    }
    // Binomial(2450, 0.3): mean 735, sd 22.7.
    let n = p[4].rows.len() as f64;
    assert!((n - 735.0).abs() < 5.0 * 22.7, "{n} synapses");
}

#[test]
fn explicit_connectors_keep_their_weights() {
    let mut matrix = String::from("[");
    for post in 0..40 {
        let row: Vec<String> = (0..50)
            .map(|pre| if (pre + post) % 7 == 0 { format!("{}", pre * 100 + post) } else { "0".into() })
            .collect();
        matrix += &format!("[{}],", row.join(","));
    }
    matrix += "]";
    let inst = build(&format!("projection a -> b : dense({matrix}) {{ delay = 0.25 ms }}"), 1);
    let rows = &inst.projections[0].rows;
    well_formed(rows, 50, 40);
    for pre in 0..50usize {
        for s in rows.row(pre) {
            let post = rows.targets[s] as usize;
            assert_eq!((pre + post) % 7, 0);
            assert_eq!(rows.weights[s], (pre * 100 + post) as f32);
        }
    }
    assert_eq!(
        rows.len(),
        (0..50)
            .flat_map(|a| (0..40).map(move |b| (a, b)))
            .filter(|(a, b)| (a + b) % 7 == 0 && a * 100 + b != 0)
            .count()
    );
    assert!(rows.delays.iter().all(|&d| d == 3), "0.25 ms rounds to 3 steps of 0.1 ms (2.5 -> 3)");
}

#[test]
fn distributions_are_clipped_and_streams_are_separate() {
    let a = build(
        "projection a -> b : fixed_probability(0.2) { weight = normal(mean = 1, sd = 2, min = 0, max = 2), delay = uniform(0.1 ms, 3 ms) }",
        9,
    );
    let rows = &a.projections[0].rows;
    assert!(rows.weights.iter().all(|&w| (0.0..=2.0).contains(&w)));
    assert!(rows.weights.contains(&0.0) && rows.weights.contains(&2.0), "clipping happens");
    assert!(rows.delays.iter().all(|&d| (1..=30).contains(&d)));
    let b = build("projection a -> b : fixed_probability(0.2) { weight = 5 }", 9);
    assert_eq!(rows.targets, b.projections[0].rows.targets, "weights do not change the wiring");
    let c = build("projection a -> b : fixed_probability(0.2) { weight = 5 }", 10);
    assert_ne!(c.projections[0].rows.targets, b.projections[0].rows.targets, "the seed does");
}

#[test]
fn spike_times_map_to_stamps() {
    let inst = build("source s[2] : spikes { times = [[0.1 ms, 1 ms, 0.3 ms, 0 ms], [2.5 ms]] }", 1);
    let SourceKind::SpikeArray { steps } = &inst.sources[0].kind else { panic!() };
    // A spike at time t has the stamp round(t / dt) (2.5 rounds away from zero).
    assert_eq!(steps, &vec![vec![0, 1, 3, 10], vec![25]]);
}

/// A direct 2-D convolution, written plainly, as the reference for the conv2d connector.
#[allow(clippy::too_many_arguments)]
fn convolve(
    x: &[f64],
    c: usize,
    h: usize,
    w: usize,
    k: &[f64],
    oc: usize,
    kh: usize,
    kw: usize,
    stride: usize,
    pad: usize,
) -> Vec<f64> {
    let oh = (h + 2 * pad - kh) / stride + 1;
    let ow = (w + 2 * pad - kw) / stride + 1;
    let mut y = vec![0.0; oc * oh * ow];
    for o in 0..oc {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = 0.0;
                for i in 0..c {
                    for dy in 0..kh {
                        for dx in 0..kw {
                            let (iy, ix) = (
                                (oy * stride + dy) as isize - pad as isize,
                                (ox * stride + dx) as isize - pad as isize,
                            );
                            if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                                acc +=
                                    k[((o * c + i) * kh + dy) * kw + dx] * x[(i * h + iy as usize) * w + ix as usize];
                            }
                        }
                    }
                }
                y[(o * oh + oy) * ow + ox] = acc;
            }
        }
    }
    y
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn conv2d_synapses_compute_the_convolution(stride in 1usize..3, pad in 0usize..2, seed in 0u64..1000) {
        let (c, h, w, oc, kh, kw) = (2, 6, 5, 3, 3, 2);
        let kernel: Vec<f64> = (0..oc * c * kh * kw).map(|i| ((i as u64 * 7919 + seed) % 11) as f64 - 5.0).collect();
        let oh = (h + 2 * pad - kh) / stride + 1;
        let ow = (w + 2 * pad - kw) / stride + 1;
        let list: Vec<String> = kernel.iter().map(|k| k.to_string()).collect();
        let text = format!(
            "timestep 1 ms\npopulation x[{}] : integrator {{ r = 1 }}\npopulation y[{}] : integrator {{ r = 1 }}\n\
             projection x -> y : conv2d(input = [{c}, {h}, {w}], out_channels = {oc}, kernel = [{kh}, {kw}], stride = [{stride}, {stride}], padding = [{pad}, {pad}], weights = [{}]) {{ }}",
            c * h * w, oc * oh * ow, list.join(", "));
        let net = parse(&text, &Overrides::new()).map_err(|e| TestCaseError::fail(format!("{:?}", e.diagnostics(&text))))?;
        let valid = validate(&net).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let inst = instantiate(&valid, seed).map_err(|e| TestCaseError::fail(e.message))?;
        let x: Vec<f64> = (0..c * h * w).map(|i| ((i as u64 * 31 + seed) % 13) as f64).collect();
        let rows = &inst.projections[0].rows;
        let mut y = vec![0.0; oc * oh * ow];
        for (pre, xv) in x.iter().enumerate() {
            for s in rows.row(pre) {
                y[rows.targets[s] as usize] += rows.weights[s] as f64 * xv;
            }
        }
        prop_assert_eq!(y, convolve(&x, c, h, w, &kernel, oc, kh, kw, stride, pad));
    }

    #[test]
    fn fixed_total_number_rows_are_well_formed(n in 0u64..3000, seed in any::<u64>()) {
        let inst = build(&format!("projection a -> b : fixed_total_number({n}) {{ weight = 1 }}"), seed);
        let rows = &inst.projections[0].rows;
        well_formed(rows, 50, 40);
        prop_assert_eq!(rows.len() as u64, n);
    }
}
