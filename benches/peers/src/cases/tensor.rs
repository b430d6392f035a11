//! The tensor cases T1..T4 of the main repo, with the tape they expect beside them.

#[allow(dead_code)]
#[path = "../../../tensor/cases.rs"]
pub mod cases;

#[allow(dead_code)]
#[path = "../../../tensor/tape.rs"]
pub mod tape;
