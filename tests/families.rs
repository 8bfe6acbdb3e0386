//! The family contract through its registries, in process: every preset has a backend and an engine; each
//! backend's artifact, encoded and found again by its codec tag alone, decodes to an image that runs to the same
//! spikes and report as the artifact handed over in memory; and a backend or engine given another family's target
//! or artifact refuses it instead of misreading it.

mod common;

use soma_compiler::backend::{self, BACKENDS};
use soma_runtime::engine::{self, ENGINES, Job};

fn job<'a>(
    artifact: &'a dyn soma_isa::codec::AnyArtifact,
    target: &'a soma_targets::Target,
    inst: &'a soma_isa::instance::Instance,
) -> Job<'a> {
    Job {
        artifact,
        target,
        network: "cuba_small",
        duration_s: 0.02,
        steps: 200,
        instance: Some(inst),
        compare: true,
        mapping: None,
        devices: None,
        weight_probes: &[],
        weight_every: 1,
        progress: &|_| {},
        stop: None,
    }
}

#[test]
fn every_preset_has_a_backend_and_an_engine_of_its_family() {
    assert_eq!(BACKENDS.len(), ENGINES.len());
    for (b, e) in BACKENDS.iter().zip(ENGINES) {
        assert_eq!(b.family(), e.family(), "the registries list the families in one order");
    }
    for (name, _) in soma_targets::presets() {
        let target = soma_targets::lookup(name).expect("preset");
        assert_eq!(backend::for_target(&target).expect("backend").family(), target.family_name(), "{name}");
        assert_eq!(engine::for_target(&target).expect("engine").family(), target.family_name(), "{name}");
    }
}

#[test]
fn an_encoded_artifact_found_by_its_tag_runs_like_the_one_in_memory() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/in/cuba_small.snn")).expect("read");
    let inst = common::instance(&text, 3);
    for name in ["spinnaker1", "reram_128", "sfq_mitll"] {
        let target = soma_targets::lookup(name).expect("preset");
        let compiled =
            backend::for_target(&target).expect("backend").compile(&inst, &target, None, &|_| {}).expect("compiles");
        let bytes = compiled.artifact.encode().expect("encodes");
        let engine = engine::for_image(&bytes).expect("a family reads its own tag");
        assert_eq!(engine.family(), target.family_name(), "{name}");
        let decoded = engine.decode(&bytes).expect("decodes");
        assert_eq!(
            engine::target_of(&*decoded, None, engine.family()).expect("its target").fingerprint,
            target.fingerprint
        );
        let direct = engine.run(&job(&*compiled.artifact, &target, &inst)).expect("runs");
        let reread = engine.run(&job(&*decoded, &target, &inst)).expect("runs");
        assert_eq!(direct.spikes, reread.spikes, "{name}");
        assert!(!direct.spikes.is_empty(), "{name}: the network is active");
        assert_eq!(direct.figures.energy_j, reread.figures.energy_j, "{name}");
        assert!(direct.figures.rate_error.is_finite(), "{name}: compared with the reference");
    }
}

#[test]
fn a_family_refuses_another_familys_target_and_artifact() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/in/cuba_small.snn")).expect("read");
    let inst = common::instance(&text, 3);
    let spinnaker = soma_targets::lookup("spinnaker1").expect("preset");
    let crossbar = soma_targets::lookup("reram_128").expect("preset");
    let sfq = backend::lookup("sfq").expect("sfq backend");
    let e = sfq.compile(&inst, &spinnaker, None, &|_| {}).err().expect("refused");
    assert!(e.to_string().contains("spinnaker1 is a spinnaker target, not a sfq one"), "{e}");
    let image =
        backend::for_target(&crossbar).expect("backend").compile(&inst, &crossbar, None, &|_| {}).expect("compiles");
    let e = engine::lookup("spinnaker").expect("engine").run(&job(&*image.artifact, &spinnaker, &inst)).err();
    assert!(e.expect("refused").to_string().contains("crossbar image is not a spinnaker image"));
    // A family that does not sample weights refuses a job that asks for weight samples.
    let sfq_target = soma_targets::lookup("sfq_mitll").expect("preset");
    let image = sfq.compile(&inst, &sfq_target, None, &|_| {}).expect("compiles");
    let probes = [soma_runtime::reference::WeightProbe { projection: 0, synapses: 0..1 }];
    let e = engine::lookup("sfq")
        .expect("engine")
        .run(&Job { weight_probes: &probes, ..job(&*image.artifact, &sfq_target, &inst) });
    assert!(e.err().expect("refused").to_string().contains("does not sample weights"));
    let e = backend::for_target(&crossbar).expect("backend").compile(
        &inst,
        &crossbar,
        Some(backend::Boards::Count(3)),
        &|_| {},
    );
    assert!(e.err().expect("refused").to_string().contains("which has no boards"));
}

#[test]
fn a_backend_names_each_pass_to_its_watcher_as_it_starts() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/in/cuba_small.snn")).expect("read");
    let inst = common::instance(&text, 3);
    for (name, expected) in [
        ("spinnaker1", &["partition", "quantize+synapses", "place", "route", "assemble"][..]),
        ("reram_128", &["map"][..]),
        ("sfq_mitll", &["lower"][..]),
    ] {
        let target = soma_targets::lookup(name).expect("preset");
        let announced = std::sync::Mutex::new(Vec::new());
        let watch = |pass: &'static str| announced.lock().expect("unpoisoned").push(pass);
        let compiled = backend::for_target(&target)
            .expect("backend")
            .compile(&inst, &target, Some(backend::Boards::Smallest).filter(|_| name == "spinnaker1"), &watch)
            .expect("compiles");
        assert_eq!(announced.into_inner().expect("unpoisoned"), expected, "{name}: announced as they start");
        let timed: Vec<&str> = compiled.passes.iter().map(|p| p.name).collect();
        assert_eq!(timed, expected, "{name}: each pass timed once");
    }
}
