//! The `.snn` frontend never panics: random bytes, random token soups and mutated examples all end in a
//! network or in diagnostics that point inside the text.

use proptest::prelude::*;
use soma_compiler::diag::render;
use soma_compiler::front::snn::{Overrides, eval_quantity, parse};
use soma_compiler::instantiate::{instantiate, synapse_count};
use soma_compiler::ir::{Network, Node};
use soma_compiler::valid::validate;

fn small(net: &Network) -> bool {
    let synapses: f64 = net
        .projections
        .iter()
        .map(|(_, p)| {
            synapse_count(
                &p.connector,
                net.node_size(p.pre),
                net.populations[p.post].size,
                p.pre == Node::Population(p.post),
            )
            .0
        })
        .sum();
    net.neuron_count() + net.sources.iter().map(|(_, s)| s.size).sum::<usize>() < 100_000 && synapses < 1e6
}

const TOKENS: &[&str] = &[
    "timestep",
    "const",
    "def",
    "population",
    "projection",
    "gap",
    "source",
    "current",
    "probe",
    "->",
    ":",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    ",",
    "=",
    "..",
    "+",
    "-",
    "*",
    "/",
    "^",
    "0",
    "1",
    "0.1",
    "1e-3",
    "1e999",
    "-5",
    "ms",
    "mV",
    "nA",
    "pF",
    "Hz",
    "Ohm",
    "x",
    "p",
    "q",
    "lif",
    "if_curr_exp",
    "izhikevich",
    "cuba_lif",
    "threshold",
    "tau",
    "r",
    "v_leak",
    "v_threshold",
    "weight",
    "delay",
    "receptor",
    "inhibitory",
    "one_to_one",
    "all_to_all",
    "fixed_probability",
    "fixed_indegree",
    "fixed_total_number",
    "dense",
    "sparse",
    "conv2d",
    "normal",
    "uniform",
    "sqrt",
    "ln",
    "round",
    "poisson",
    "spikes",
    "v",
    "dc",
    "step",
    "times",
    "rate",
    "amplitude",
    "#",
    "\n",
    " ",
];

fn exercise(text: &str) {
    match parse(text, &Overrides::new()) {
        Ok(net) => match validate(&net) {
            Err(errors) => {
                for e in errors {
                    let _ = render(&e.diagnostic(), "fuzz.snn", text);
                }
            }
            // Small valid networks go all the way through instantiation.
            Ok(valid) if small(&net) => {
                let _ = instantiate(&valid, 1);
            }
            Ok(_) => {}
        },
        Err(e) => {
            for d in e.diagnostics(text) {
                if d.span.is_known() {
                    assert!(
                        d.span.start as usize <= text.len(),
                        "span {:?} outside a {}-byte text",
                        d.span,
                        text.len()
                    );
                }
                let _ = render(&d, "fuzz.snn", text);
            }
        }
    }
    let _ = eval_quantity(text);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        exercise(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn token_soups_never_panic(tokens in proptest::collection::vec(proptest::sample::select(TOKENS), 0..60)) {
        exercise(&tokens.join(" "));
    }

    #[test]
    fn truncated_and_spliced_examples_never_panic(cut in 0usize..4000, splice in 0usize..4000, token in proptest::sample::select(TOKENS)) {
        let text = include_str!("../../examples/cuba.snn");
        let cut = cut.min(text.len());
        let splice = splice.min(text.len());
        let (cut, splice) = (floor(text, cut), floor(text, splice));
        exercise(&text[..cut]);
        exercise(&format!("{}{token}{}", &text[..splice], &text[splice..]));
    }
}

fn floor(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

const STACK: usize = 512 << 10;

/// Parses `text` on a thread with a small stack (512 KiB, a sixteenth of the CLI's main thread): deep input must be
/// refused by the nesting limit, not by the stack.
fn parse_on_a_small_stack(text: String) -> Result<(), String> {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || match parse(&text, &Overrides::new()) {
            Ok(_) => Ok(()),
            Err(e) => Err(e.diagnostics(&text).iter().map(|d| d.message.clone()).collect::<Vec<_>>().join("; ")),
        })
        .expect("thread")
        .join()
        .expect("the parse returns instead of overflowing the stack")
}

#[test]
fn deep_nesting_and_long_chains_are_refused_not_stack_overflows() {
    let deep = |open: &str, close: &str, n: usize| {
        format!("timestep 0.1 ms\nconst x = {}1{}\n", open.repeat(n), close.repeat(n))
    };
    for (what, text) in [
        ("parentheses", deep("(", ")", 8_000)),
        ("calls", deep("abs(", ")", 4_000)),
        ("signs", deep("-", "", 50_000)),
        ("powers", deep("2^", "", 20_000)),
        ("lists", deep("[", "]", 8_000)),
        ("a flat sum", format!("timestep 0.1 ms\nconst x = 1{}\n", " + 1".repeat(20_000))),
        ("a flat product", format!("timestep 0.1 ms\nconst x = 1{}\n", " * 1".repeat(20_000))),
    ] {
        let message = parse_on_a_small_stack(text).expect_err(what);
        assert!(message.contains("nested at most 256 deep"), "{what}: {message}");
    }
    // What real files write is far inside the limit.
    assert_eq!(parse_on_a_small_stack(deep("(", ")", 100)), Ok(()));
    assert_eq!(parse_on_a_small_stack(format!("timestep 0.1 ms\nconst x = 1{}\n", " + 1".repeat(200))), Ok(()));
    // The same through --set.
    let o = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(|| eval_quantity(&"(".repeat(8_000)).is_err())
        .expect("thread")
        .join()
        .expect("returns");
    assert!(o);
}

#[test]
fn exponential_def_expansion_is_cut_off() {
    // f0(x) = x, f(k)(x) = f(k-1)(x) + f(k-1)(x): f40 would take 2^40 calls.
    let mut text = String::from("timestep 0.1 ms\ndef f0(x) = x\n");
    for k in 1..=40 {
        text += &format!("def f{k}(x) = f{}(x) + f{}(x)\n", k - 1, k - 1);
    }
    text += "const y = f40(1)\n";
    let started = std::time::Instant::now();
    let e = parse(&text, &Overrides::new()).map(|_| ()).expect_err("refused");
    let message: Vec<String> = e.diagnostics(&text).iter().map(|d| d.message.clone()).collect();
    assert!(message.iter().any(|m| m.contains("function calls")), "{message:?}");
    // Not a timed assertion on speed: the budget bounds the work, this only keeps a regression from hanging CI.
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}
