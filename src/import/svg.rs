//! Placeholder until the importer lands.

use super::{ParseError, Sniff};
use crate::profile::ProfileSet;

pub fn sniff(_head: &[u8]) -> Sniff {
    Sniff::No
}

pub fn parse(_bytes: &[u8], _warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
    Err(ParseError::at_byte(0, "not implemented yet"))
}
