//! `soma compile`: instantiate a network and compile it for a target through its family's backend (found by the
//! target's `family`): report the mapping, and write the image (or another form the family writes, `--emit`).

use std::io::Write;
use std::time::Instant;

use soma_compiler::backend::{self, PassTime};
use soma_isa::report::Json;

use crate::output::{self, thousands};
use crate::pipeline::{self, Built};
use crate::{CompileArgs, Failure};

/// Runs the command.
pub fn run(args: &CompileArgs) -> Result<(), Failure> {
    let wall = Instant::now();
    output::check_outputs(&[&args.input.file], &[("-o", args.output.as_deref(), output::Output::File)])?;
    let target = pipeline::target(&args.target, &args.target_set)?;
    let backend = backend::for_target(&target).map_err(|e| Failure::Internal(e.into()))?;
    let form = (args.emit != "image").then_some(args.emit.as_str());
    if let Some(form) = form
        && !backend.forms().contains(&form)
    {
        return Err(Failure::User(format!(
            "error: --emit {form}: {} is a {} target, whose backend writes {}\n",
            target.name,
            target.family_name(),
            match backend.forms() {
                [] => "only images".to_string(),
                forms => format!("images and {}", forms.join(", ")),
            }
        )));
    }
    let boards = pipeline::boards(args.boards.as_deref(), backend)?;
    let network = pipeline::Network { input: &args.input, spike_input: None, probes: &[] };
    let Built { inst, compiled, mut passes, loaded } =
        pipeline::build(&network, &target, backend, None, (boards, args.boards.as_deref()), args.seed, args.quiet)?;
    let (neurons, synapses) = (inst.neuron_count(), inst.synapse_count());
    drop(inst);
    let t0 = Instant::now();
    let spinner = pipeline::spinner(args.quiet);
    let clear = pipeline::ClearOnDrop(&spinner);
    spinner.set_message(match &args.output {
        Some(path) => format!("writing {}", path.display()),
        None => "encoding the image".to_string(),
    });
    let write = |path: &std::path::Path, fill: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>| {
        output::write_atomic(path, |w: &mut dyn Write| fill(w)).map_err(|e| Failure::User(format!("error: {e:#}\n")))
    };
    let (written, image_bytes) = match form {
        Some(form) => {
            let text = backend
                .emit(&*compiled.artifact, form)
                .map_err(|e| pipeline::compile_error(e, &loaded.name, None, None))?;
            let Some(path) = &args.output else { return output::stdout(&text) };
            write(path, &mut |w| w.write_all(text.as_bytes()))?;
            (format!("{form} {}", path.display()), None)
        }
        None => {
            // Streamed into the file: a full-scale image is gigabytes, and is never held as bytes.
            let mut len = 0;
            let mut encode = |w: &mut dyn Write| {
                len = compiled.artifact.encode_into(w).map_err(std::io::Error::other)?;
                Ok(())
            };
            match &args.output {
                Some(path) => write(path, &mut encode)?,
                None => encode(&mut std::io::sink()).map_err(|e| Failure::Internal(e.into()))?,
            }
            let written = args.output.as_ref().map_or_else(
                || "(no image written: no -o)".to_string(),
                |p| format!("{} ({:.1} MB)", p.display(), len as f64 / 1e6),
            );
            (written, Some(len as usize))
        }
    };
    drop(clear);
    passes.push(PassTime { name: "encode+write", wall_s: t0.elapsed().as_secs_f64() });
    let wall_s = wall.elapsed().as_secs_f64();
    let name = &loaded.name;
    let mut text = format!(
        "compiled {name} for {} -> {written}\nneurons {}, synapses {}\n",
        target.name,
        thousands(neurons as u64),
        thousands(synapses as u64)
    );
    text += &compiled.mapping.text();
    text += "passes:";
    for p in &passes {
        text += &format!(" {} {:.3} s;", p.name, p.wall_s);
    }
    text += &format!(" total {wall_s:.3} s\n");
    let mut json = compiled.mapping.json();
    if let Json::Object(map) = &mut json {
        map.insert("target".into(), target.name.clone().into());
        map.insert("neurons".into(), neurons.into());
        map.insert("synapses".into(), synapses.into());
        map.insert("image_bytes".into(), image_bytes.into());
        let passes: Vec<Json> =
            passes.iter().map(|p| serde_json::json!({ "name": p.name, "wall_s": p.wall_s })).collect();
        map.insert("passes".into(), passes.into());
        map.insert("wall_s".into(), wall_s.into());
    }
    output::emit(&text, args.json, &json)
}
