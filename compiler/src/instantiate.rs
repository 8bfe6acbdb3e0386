//! Instantiation: expands a validated network's connectivity rules, distributions and inputs into concrete
//! neurons and synapses (`soma_isa::instance::Instance`), deterministically from one seed.
