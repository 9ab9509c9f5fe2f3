//! Placeholder until the marshal reader lands.
